// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus::slab against the real kernel: no heap allocation and no page fault
// after alloc(), mlock/munlock (VmLck), guaranteed huge pages (hugetlb pool)
// and MADV_COLLAPSE. This file replaces the global operator new with a
// counting one.
#include <nexus/heap_region.hpp>
#include <nexus/mmap_region.hpp>
#include <nexus/slab.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <system_error>
#include <vector>

#include "catch_shim.hpp"
#include "os_probe.hpp"
#include "slab_test_types.hpp"

// ---- counting global allocator (this test executable only) ---------------

namespace {
std::atomic<long> g_heap_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(n);
  } else {
    p = std::aligned_alloc(align, (n + align - 1) / align * align);
  }
  return p;
}

// Out of line so GCC's -Wmismatched-new-delete does not pair the inlined
// operator new with free().
NEXUS_NOINLINE void counted_free(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a,
                   const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a,
                     const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::align_val_t,
                     const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::align_val_t,
                       const std::nothrow_t&) noexcept {
  counted_free(p);
}

namespace {

using nexus::key;

// Deterministic, allocation-free PRNG for the measured loop.
struct xorshift {
  std::uint64_t state;
  std::uint64_t operator()() noexcept {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

struct churn_result {
  long faults = 0;
  long allocations = 0;
  std::uint64_t checksum = 0;
  std::size_t full_hits = 0;
};

// 10^6 mixed operations on an allocated slab, counting minor faults and heap
// allocations around the loop only. `keys` is allocated and touched before.
template <class T, class Make>
churn_result churn(nexus::slab<T>& s, std::vector<key>& keys, Make make) {
  xorshift rng{0x9E3779B97F4A7C15ull};
  std::size_t live = 0;
  churn_result r;
  const long faults0 = nexus::test::minor_faults();
  const long allocs0 = g_heap_allocations.load();
  for (std::uint32_t op = 0; op < 1'000'000; ++op) {
    const std::uint64_t x = rng();
    switch (x % 8) {
      case 0:
      case 1:
      case 2: {  // insert (try_insert, emplace or a vacant entry)
        std::optional<key> k;
        if (x & 0x100) {
          k = s.try_insert(make(op));
        } else if (auto e = s.vacant_entry()) {
          k = e->key();
          e->insert(make(op));
        }
        if (k) {
          keys[live++] = *k;
        } else {
          ++r.full_hits;
        }
        break;
      }
      case 3:
      case 4: {  // remove or erase a random live key
        if (live == 0) break;
        const std::size_t j = (x >> 8) % live;
        if (x & 0x100) {
          r.checksum += s.remove(keys[j]).has_value() ? 1 : 0;
        } else {
          r.checksum += s.erase(keys[j]) ? 1 : 0;
        }
        keys[j] = keys[--live];
        break;
      }
      case 5:
      case 6: {  // get, live or not
        const key k = live != 0 && (x & 0x100) ? keys[(x >> 8) % live]
                                               : key((x >> 8) % s.capacity());
        if (const T* p = s.get(k)) r.checksum += s.key_of(*p).index();
        r.checksum += s.contains(k) ? 1 : 0;
        break;
      }
      default: {  // a short iteration, or rarely a clear
        if ((x >> 8) % 4096 == 0) {
          s.clear();
          live = 0;
          break;
        }
        std::size_t n = 0;
        for (auto [k, v] : s) {
          r.checksum += k.index();
          if (++n == 16) break;
        }
        break;
      }
    }
  }
  r.allocations = g_heap_allocations.load() - allocs0;
  r.faults = nexus::test::minor_faults() - faults0;
  return r;
}

}  // namespace

TEST_CASE("the allocation counter and fault counter can see events",
          "[slab][mem]") {
  // Guards against the zero-counts test passing vacuously.
  const long a0 = g_heap_allocations.load();
  {
    nexus::slab<std::uint64_t, nexus::heap_region> h;
    REQUIRE_FALSE(h.alloc(1000));
  }
  CHECK(g_heap_allocations.load() > a0);
  if (!nexus::test::fault_counts_are_exact) {
    NEXUS_SKIP("fault counts are meaningless under a sanitizer");
  }
  const long f0 = nexus::test::minor_faults();
  std::vector<char> fresh(std::size_t{8} << 20);
  for (std::size_t i = 0; i < fresh.size(); i += 4096) fresh[i] = 1;
  CHECK(nexus::test::minor_faults() - f0 > 0);
}

TEST_CASE("after alloc, 10^6 mixed operations allocate nothing and fault never",
          "[slab][mem]") {
  SECTION("uint64_t values, 100K slots") {
    const auto make = [](std::uint32_t i) { return std::uint64_t{i}; };
    {  // warm-up: faults in this code path's text and stack pages
      nexus::slab<std::uint64_t> warm;
      REQUIRE_FALSE(warm.alloc(100'000));
      std::vector<key> keys(warm.capacity());
      static_cast<void>(churn(warm, keys, make));
    }
    nexus::slab<std::uint64_t> s;
    REQUIRE_FALSE(s.alloc(100'000));
    std::vector<key> keys(s.capacity());
    const churn_result r = churn(s, keys, make);
    CAPTURE(r.checksum);
    CHECK(r.allocations == 0);
    if (!nexus::test::fault_counts_are_exact) {
      NEXUS_SKIP("fault counts are meaningless under a sanitizer");
    }
    CHECK(r.faults == 0);
  }
  SECTION("64-byte values, 1M slots on transparent huge pages, locked") {
    const auto make = [](std::uint32_t i) {
      slab_test::blob64 b{};
      b.words[0] = i;
      return b;
    };
    {
      nexus::slab<slab_test::blob64> warm;
      REQUIRE_FALSE(warm.alloc(1'000'000));
      std::vector<key> keys(warm.capacity());
      static_cast<void>(churn(warm, keys, make));
    }
    nexus::slab<slab_test::blob64> s;
    REQUIRE_FALSE(s.alloc(1'000'000));
    const bool locked = !s.mlock();
    CAPTURE(locked);
    std::vector<key> keys(s.capacity());
    const churn_result r = churn(s, keys, make);
    CAPTURE(r.checksum);
    CHECK(r.allocations == 0);
    if (!nexus::test::fault_counts_are_exact) {
      NEXUS_SKIP("fault counts are meaningless under a sanitizer");
    }
    CHECK(r.faults == 0);
  }
}

TEST_CASE("the no-fault test exercises full slabs too", "[slab][mem]") {
  // A small slab fills up during the churn, so the "full" paths are inside
  // the measured loop as well.
  const auto make = [](std::uint32_t i) { return std::uint64_t{i}; };
  {
    nexus::slab<std::uint64_t> warm;
    REQUIRE_FALSE(warm.alloc(100));
    std::vector<key> keys(warm.capacity());
    static_cast<void>(churn(warm, keys, make));
  }
  nexus::slab<std::uint64_t> s;
  REQUIRE_FALSE(s.alloc(100));
  std::vector<key> keys(s.capacity());
  const churn_result r = churn(s, keys, make);
  CHECK(r.full_hits > 0);
  CHECK(r.allocations == 0);
  if (!nexus::test::fault_counts_are_exact) {
    NEXUS_SKIP("fault counts are meaningless under a sanitizer");
  }
  CHECK(r.faults == 0);
}

TEST_CASE("mlock pins the slab in RAM, munlock and destruction release it",
          "[slab][mem]") {
  if (!nexus::test::is_linux()) NEXUS_SKIP("VmLck is Linux-only");
  if (!nexus::test::fault_counts_are_exact) {
    NEXUS_SKIP("sanitizer runtimes turn mlock into a no-op");
  }
  const auto before = nexus::test::locked_bytes();
  REQUIRE(before.has_value());
  {
    nexus::slab<slab_test::blob64> s;
    REQUIRE_FALSE(s.alloc(100'000));
    const std::error_code ec = s.mlock();
    if (ec && !nexus::test::is_root()) {
      NEXUS_SKIP("mlock needs CAP_IPC_LOCK or RLIMIT_MEMLOCK: " + ec.message());
    }
    REQUIRE_FALSE(ec);
    CHECK(s.locked());
    CHECK(*nexus::test::locked_bytes() >= *before + s.memory_size());
    REQUIRE_FALSE(s.mlock());  // idempotent

    // clear keeps the memory and its lock.
    s.emplace();
    s.clear();
    CHECK(s.locked());
    CHECK(*nexus::test::locked_bytes() >= *before + s.memory_size());

    REQUIRE_FALSE(s.munlock());
    CHECK_FALSE(s.locked());
    CHECK(*nexus::test::locked_bytes() == *before);

    REQUIRE_FALSE(s.mlock());
    CHECK(*nexus::test::locked_bytes() >= *before + s.memory_size());
  }
  // ~slab unmapped (and so unlocked) the block.
  CHECK(*nexus::test::locked_bytes() == *before);
}

TEST_CASE("mlock on a heap region reports not_supported", "[slab][mem]") {
  nexus::slab<int, nexus::heap_region> s;
  REQUIRE_FALSE(s.alloc(10));
  CHECK(s.mlock() == std::errc::not_supported);
  CHECK(s.munlock() == std::errc::not_supported);
  CHECK(s.try_collapse() == std::errc::not_supported);
  CHECK_FALSE(s.locked());
}

TEST_CASE("alloc_hugetlb fails cleanly when too few huge pages are reserved",
          "[slab][mem][hugetlb]") {
  if (!nexus::test::is_linux()) NEXUS_SKIP("hugetlb is Linux-only");
  const auto free_pages = nexus::test::huge_pages_free();
  REQUIRE(free_pages.has_value());
  // One more huge page than the pool has free can never be satisfied
  // (unless surplus pages are allowed, which Debian does not by default).
  std::FILE* f = std::fopen("/proc/sys/vm/nr_overcommit_hugepages", "r");
  unsigned long long surplus_allowed = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%llu", &surplus_allowed) != 1) surplus_allowed = 0;
    std::fclose(f);
  }
  if (surplus_allowed != 0) NEXUS_SKIP("surplus huge pages are allowed");
  const std::size_t huge = nexus::mmap_region::huge_page_size();
  const std::size_t n = (*free_pages + 1) * huge / sizeof(std::uint64_t);
  nexus::slab<std::uint64_t> s;
  const std::error_code ec = s.alloc_hugetlb(n);
  CAPTURE(ec.message());
  REQUIRE(ec);
  CHECK(ec == std::errc::not_enough_memory);
  CHECK(ec == nexus::errc::huge_pages_unavailable);
  CHECK(s.capacity() == 0);
  CHECK(s.memory_size() == 0);
  CHECK_FALSE(s.try_insert(std::uint64_t{1}).has_value());
  REQUIRE_FALSE(s.alloc(1000));  // still usable
  CHECK(s.capacity() >= 1000);
}

TEST_CASE("alloc_hugetlb maps reserved huge pages", "[slab][mem][hugetlb]") {
  if (!nexus::test::is_linux()) NEXUS_SKIP("hugetlb is Linux-only");
  if (!nexus::test::is_root()) {
    NEXUS_SKIP("reserving huge pages (/proc/sys/vm/nr_hugepages) needs root");
  }
  const std::size_t huge = nexus::mmap_region::huge_page_size();
  nexus::test::huge_page_reservation reservation(4);
  if (!reservation.ok())
    NEXUS_SKIP("the kernel could not reserve 4 huge pages");
  const std::size_t free_before = nexus::test::huge_pages_free().value_or(0);
  {
    nexus::slab<std::uint64_t> s;
    // 500K * 8 bytes + map bytes: just over 4 MB, so 2 or 3 huge pages.
    const std::error_code ec = s.alloc_hugetlb(500'000);
    CAPTURE(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(s.region().huge() == nexus::huge_pages::required);
    CHECK(s.memory_size() % huge == 0);
    CHECK(s.capacity() >= 500'000);
    // The slack of the last huge page is capacity, too.
    CHECK(s.capacity() * sizeof(std::uint64_t) > s.memory_size() - huge);
    const std::size_t pages = s.memory_size() / huge;
    CHECK(nexus::test::huge_pages_free().value_or(0) + pages <= free_before);
    for (std::uint64_t i = 0; i < 1000; ++i) s.insert(i);
    CHECK(s[key(999)] == 999);
    CHECK_FALSE(s.try_collapse());  // already huge
  }
  CHECK(nexus::test::huge_pages_free().value_or(0) == free_before);
}

TEST_CASE("try_collapse backs a large slab with huge pages or says why not",
          "[slab][mem]") {
  nexus::slab<std::uint64_t> s;
  REQUIRE_FALSE(s.alloc(1'000'000));
  const std::error_code ec = s.try_collapse();
  CAPTURE(ec.message());
  if (ec == std::errc::not_supported) NEXUS_SKIP("MADV_COLLAPSE unsupported");
  if (ec == std::errc::resource_unavailable_try_again ||
      ec == std::errc::not_enough_memory) {
    NEXUS_SKIP("the kernel could not collapse right now: " + ec.message());
  }
  REQUIRE_FALSE(ec);
  const auto huge_bytes = nexus::test::anon_huge_bytes_at(s.region().data());
  REQUIRE(huge_bytes.has_value());
  CHECK(*huge_bytes > 0);
  s.insert(std::uint64_t{5});
  CHECK(s[key(0)] == 5);
}
