// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus::slab_list::reserve: after reserve(n), inserting up to n elements
// makes no heap allocation (counted by a replaced global operator new) and
// takes no page fault (getrusage minor faults; skipped under sanitizers).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <nexus/slab_list.hpp>
#include <optional>
#include <random>
#include <vector>

#include "catch_shim.hpp"
#include "os_probe.hpp"

namespace {
std::atomic<long> g_news{0};
}

// Sanitizer runtimes own operator new/delete (and check their pairing), so
// allocations are only counted in plain builds.
#if !NEXUS_TEST_SANITIZED
// The replacements pair malloc/aligned_alloc with free, which GCC cannot see
// through once it inlines them into callers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a,
                   const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
#endif

namespace {

using u64 = std::uint64_t;

std::vector<u64> random_keys(std::size_t n, u64 seed) {
  std::mt19937_64 rng(seed);
  std::vector<u64> v(n);
  for (u64& k : v) k = rng();
  return v;
}

}  // namespace

TEST_CASE(
    "inserting after reserve(n) allocates nothing and takes no page fault") {
  const std::size_t n = 300000;
  const auto keys = random_keys(n, 42);
  {
    // Warm-up: rebalancing uses a stack buffer of a few KiB; touch those
    // stack pages once so the measured run sees only the list's own memory.
    nexus::slab_list<u64> warm;
    for (std::size_t i = 0; i < 20000; ++i) warm.insert(keys[i]);
  }
  nexus::slab_list<u64> l;
  l.reserve(n);
  const auto mapped = l.memory_size();
  CHECK(mapped >= n * sizeof(u64));
  const long news0 = g_news.load();
  const long faults0 = nexus::test::minor_faults();
  for (u64 k : keys) l.insert(k);
  const long faults = nexus::test::minor_faults() - faults0;
  const long news = g_news.load() - news0;
  CHECK(l.size() == n);
  CHECK(l.memory_size() == mapped);  // no chunk mapped after reserve
  if (nexus::test::fault_counts_are_exact) {
    CHECK(news == 0);
    CHECK(faults == 0);
  } else {
    (void)news;
    (void)faults;
    WARN("allocations and page faults are not counted under sanitizers");
  }
  CHECK(l.check_invariants());
}

TEST_CASE("reserve above half a slab keeps the list in slab mode") {
  nexus::slab_list<u64> l;
  l.reserve(1000);
  CHECK(l.memory_size() > 0);
  l.insert(1);
  CHECK(l.slab_count() == 1);
  l.erase(1);
  CHECK(l.empty());
  l.insert(2);  // slab mode, starting from no slab at all
  CHECK(l.slab_count() == 1);
  for (u64 k = 0; k < 500; ++k) l.insert(k);
  CHECK(nexus::erase_if(l, [](u64) { return true; }) == 500);
  CHECK(l.empty());
  CHECK(l.check_invariants());
  l.clear();  // ends the reservation
  l.insert(3);
  CHECK(l.slab_count() == 0);  // small-list mode again
  CHECK(l.check_invariants());
}

TEST_CASE("erase_if in small-list mode keeps the survivors in order") {
  nexus::slab_list<u64> l;
  for (u64 k = 0; k < 40; ++k) l.insert(k);
  REQUIRE(l.slab_count() == 0);
  CHECK(nexus::erase_if(l, [](u64 x) { return x % 2 == 1; }) == 20);
  u64 expect = 0;
  for (u64 x : l) {
    REQUIRE(x == expect);
    expect += 2;
  }
  CHECK(l.check_invariants());
  CHECK(l.memory_size() <= 2 * l.size() * sizeof(u64) + 64);
}

// The THP growth of this process while `n` ascending keys go into a list
// built with `o` (the list is destroyed before returning).
static std::optional<std::size_t> thp_growth_of_list(
    const nexus::slab_list_options& o, u64 n) {
  const auto before = nexus::test::anon_huge_bytes_total();
  if (!before) return std::nullopt;
  nexus::slab_list<u64> l(o);
  for (u64 k = 0; k < n; ++k) l.insert(k);
  REQUIRE(l.check_invariants());
  const auto after = nexus::test::anon_huge_bytes_total();
  if (!after) return std::nullopt;
  return *after > *before ? *after - *before : 0;
}

TEST_CASE("slab_list asks for transparent huge pages by default") {
  const auto mode = nexus::test::thp_mode();
  if (!mode || *mode == "never" ||
      !nexus::test::anon_huge_bytes_total().has_value()) {
    WARN("transparent huge pages unavailable here; skipped");
    return;
  }
  // ~13 MB of slabs: the node pool's chunks reach 2 MiB above ~4 MiB.
  constexpr u64 n = 1'500'000;
  const nexus::slab_list_options defaults;
  CHECK(defaults.huge_pages == nexus::huge_pages::transparent);
  const auto with_thp = thp_growth_of_list(defaults, n);
  REQUIRE(with_thp.has_value());
  CHECK(*with_thp >= std::size_t{2} << 20);

  if (*mode == "madvise") {
    // Without the advice the kernel never backs these chunks with THP.
    nexus::slab_list_options none;
    none.huge_pages = nexus::huge_pages::none;
    const auto without = thp_growth_of_list(none, n);
    REQUIRE(without.has_value());
    CHECK(*without == 0);
  }
}

TEST_CASE("shrink_to_fit with huge pages wastes no part of a huge page") {
  // 4 MB of elements after the erasures: an exact-size repack on THP alone
  // would round up to 6 MiB (12.6 B/element); bulk on THP plus a
  // plain-page tail keeps it exact.
  nexus::slab_list<u64> l;  // default options: transparent huge pages
  for (u64 k = 0; k < 1'000'000; ++k) l.insert(k);
  CHECK(nexus::erase_if(l, [](u64 k) { return k % 2 == 1; }) == 500'000);
  l.shrink_to_fit();
  REQUIRE(l.check_invariants());
  const double per_elem =
      static_cast<double>(l.memory_size()) / static_cast<double>(l.size());
  INFO("bytes per element after shrink_to_fit: " << per_elem);
  CHECK(per_elem < 8.6);
  // reserve(n) on THP maps what it maps on plain pages, to the page.
  nexus::slab_list_options plain;
  plain.huge_pages = nexus::huge_pages::none;
  nexus::slab_list<u64> r;
  nexus::slab_list<u64> r_plain(plain);
  r.reserve(600'000);
  r_plain.reserve(600'000);
  CHECK(r.memory_size() == r_plain.memory_size());
  for (u64 k = 0; k < 600'000; ++k) r.insert(k);
  CHECK(r.check_invariants());
}

TEST_CASE("copies start unlocked; moves and swap carry the lock") {
  nexus::slab_list<u64> l;
  for (u64 k = 0; k < 20'000; ++k) l.insert(k);
  if (l.mlock()) {
    WARN("mlock() refused here (RLIMIT_MEMLOCK); skipped");
    return;
  }
  REQUIRE(l.stats().bytes_locked == l.memory_size());
  const nexus::slab_list<u64> copy(l);
  CHECK(copy == l);
  CHECK(copy.stats().bytes_locked == 0);
  nexus::slab_list<u64> moved(std::move(l));
  CHECK(moved.stats().bytes_locked == moved.memory_size());
  nexus::slab_list<u64> other;
  other.swap(moved);
  CHECK(other.stats().bytes_locked == other.memory_size());
  CHECK(moved.stats().bytes_locked == 0);

  nexus::slab_list<u64, nexus::insertion_order> o;
  for (u64 k = 0; k < 20'000; ++k) o.push_back(k);
  REQUIRE_FALSE(o.mlock());
  o.assign(30'000, u64{7});
  CHECK(o.size() == 30'000);
  CHECK(o.stats().bytes_locked == 0);
  CHECK(o.check_invariants());
}
