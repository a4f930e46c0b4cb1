// SPDX-License-Identifier: MIT OR Apache-2.0
// Bad input: every misuse the headers document gets its documented answer.
// nexus::slab: alloc(0), alloc(SIZE_MAX), byte budgets below one slot, a
// second alloc, out-of-range / default / stale keys, double remove, and every
// operation on an unallocated slab. Sorted lists: absent keys (including a
// slab's former maximum), nth(size()), index_of(end()), empty ranges;
// the ordered list's at() out of range (std::out_of_range).
// Debug-build assertions (erase(end()), operator[] on a vacant key or out of
// range, pop on an empty list, keys above 32 bits) run as death tests: a forked
// child must die of SIGABRT with the documented message on stderr.
#include <nexus/heap_region.hpp>
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "catch_shim.hpp"
#include "slab_test_types.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#define NEXUS_TEST_HAVE_FORK 1
#else
#define NEXUS_TEST_HAVE_FORK 0
#endif

namespace {

using u64 = std::uint64_t;
using slab_test::counted;

// What happened to a child process that ran one function.
struct death {
  bool aborted = false;  // killed by SIGABRT
  int status = 0;
  std::string err;  // everything it wrote to stderr
};

#if NEXUS_TEST_HAVE_FORK
// Runs f in a forked child with stderr captured; the child exits 0 if f
// returns. Only async-signal-safe work happens between fork and f.
death run_in_child(const std::function<void()>& f) {
  death d;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 2);
    // The test framework catches SIGABRT to report it; the child must die.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGABRT, &dfl, nullptr);
    f();
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    d.err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  REQUIRE(::waitpid(pid, &d.status, 0) == pid);
  d.aborted = WIFSIGNALED(d.status) && WTERMSIG(d.status) == SIGABRT;
  return d;
}
#endif

bool asserts_enabled() {
#if !defined(NDEBUG) || defined(NEXUS_ENABLE_ASSERTS)
  return true;
#else
  return false;
#endif
}

// Requires that f aborts with `message` on stderr (debug builds only).
void require_assert_death(const std::function<void()>& f, const char* message) {
#if NEXUS_TEST_HAVE_FORK
  if (!asserts_enabled()) {
    WARN("assertions are compiled out (NDEBUG): death test skipped");
    return;
  }
  const death d = run_in_child(f);
  INFO("child stderr: " << d.err);
  REQUIRE(d.aborted);
  REQUIRE(d.err.find("nexus: assertion failed: ") != std::string::npos);
  REQUIRE(d.err.find(message) != std::string::npos);
#else
  (void)f;
  (void)message;
  WARN("no fork() on this platform: death test skipped");
#endif
}

using slab_u64 = nexus::slab<u64, nexus::heap_region>;

// A value whose constructor erases key 0 of the slab it is being built in,
// once, when reach_back is set: forbidden, and asserted.
struct reentrant {
  static inline nexus::slab<reentrant, nexus::heap_region>* owner = nullptr;
  static inline bool reach_back = false;
  static void erase_key0() {
    if (reach_back && owner != nullptr) {
      reach_back = false;
      static_cast<void>(owner->erase(nexus::key(0)));
    }
  }
  int v;
  explicit reentrant(int x) : v(x) { erase_key0(); }
  reentrant(const reentrant&) = delete;
  reentrant& operator=(const reentrant&) = delete;
  ~reentrant() = default;
};
using reentrant_slab = nexus::slab<reentrant, nexus::heap_region>;

}  // namespace

// ---- nexus::slab: allocation errors
// -------------------------------------------

TEST_CASE("slab alloc(0) is invalid_argument and changes nothing",
          "[bad_input][slab]") {
  slab_u64 s;
  REQUIRE(s.alloc(0) == std::errc::invalid_argument);
  REQUIRE(s.alloc_hugetlb(0) == std::errc::invalid_argument);
  REQUIRE(s.capacity() == 0);
  REQUIRE(s.memory_size() == 0);
  REQUIRE_FALSE(s.alloc(1));  // still allocatable afterwards
  REQUIRE(s.capacity() >= 1);
}

TEST_CASE("slab alloc(SIZE_MAX) and other huge sizes are value_too_large",
          "[bad_input][slab]") {
  slab_u64 s;
  REQUIRE(s.alloc(SIZE_MAX) == std::errc::value_too_large);
  REQUIRE(s.alloc(SIZE_MAX / 8 + 1) == std::errc::value_too_large);
  // Keys are 32-bit: more than 2^32 - 1 slots cannot be addressed.
  REQUIRE(s.alloc(std::size_t{1} << 32) == std::errc::value_too_large);
  REQUIRE(s.alloc_hugetlb(SIZE_MAX) == std::errc::value_too_large);
  REQUIRE(s.alloc_bytes(SIZE_MAX) == std::errc::value_too_large);
  REQUIRE(s.capacity() == 0);
  REQUIRE(s.memory_size() == 0);
  nexus::slab<slab_test::blob64, nexus::heap_region> big;
  REQUIRE(big.alloc(SIZE_MAX / 64) == std::errc::value_too_large);
}

TEST_CASE("slab alloc_bytes below one page or one slot is invalid_argument",
          "[bad_input][slab]") {
  slab_u64 s;
  REQUIRE(s.alloc_bytes(0) == std::errc::invalid_argument);
  REQUIRE(s.alloc_bytes(1) == std::errc::invalid_argument);
  REQUIRE(s.alloc_bytes(4095) == std::errc::invalid_argument);
  REQUIRE(s.capacity() == 0);
  // A slot larger than the whole budget.
  struct huge_value {
    char bytes[8192];
  };
  nexus::slab<huge_value, nexus::heap_region> h;
  REQUIRE(h.alloc_bytes(4096) == std::errc::invalid_argument);
  REQUIRE(h.alloc_bytes(8192) == std::errc::invalid_argument);  // + map
  REQUIRE(h.capacity() == 0);
  REQUIRE_FALSE(h.alloc_bytes(3 * 4096));
  REQUIRE(h.capacity() == 1);
  REQUIRE(h.memory_size() <= 3 * 4096);
}

TEST_CASE("slab second alloc is device_or_resource_busy and keeps contents",
          "[bad_input][slab]") {
  slab_u64 s;
  REQUIRE_FALSE(s.alloc(10));
  const nexus::key k = s.insert(42);
  const auto cap = s.capacity();
  const auto mem = s.memory_size();
  REQUIRE(s.alloc(10) == std::errc::device_or_resource_busy);
  REQUIRE(s.alloc(0) == std::errc::device_or_resource_busy);
  REQUIRE(s.alloc_bytes(1 << 20) == std::errc::device_or_resource_busy);
  REQUIRE(s.alloc_hugetlb(10) == std::errc::device_or_resource_busy);
  REQUIRE(s.capacity() == cap);
  REQUIRE(s.memory_size() == mem);
  REQUIRE(s.size() == 1);
  REQUIRE(s[k] == 42);
}

// ---- nexus::slab: keys
// ------------------------------------------------------------

TEST_CASE("slab out-of-range and default keys find nothing",
          "[bad_input][slab]") {
  slab_u64 s;
  REQUIRE_FALSE(s.alloc(16));
  static_cast<void>(s.insert(1));
  const std::vector<nexus::key> bad = {
      nexus::key(s.capacity()), nexus::key(s.capacity() + 1000),
      nexus::key(nexus::key::max_index), nexus::key(),
      nexus::key(1)};  // in range, never used
  for (const nexus::key k : bad) {
    CAPTURE(k.index());
    REQUIRE_FALSE(s.contains(k));
    REQUIRE(s.get(k) == nullptr);
    REQUIRE(std::as_const(s).get(k) == nullptr);
    REQUIRE_FALSE(s.remove(k).has_value());
    REQUIRE_FALSE(s.erase(k));
  }
  REQUIRE(s.size() == 1);
}

TEST_CASE("slab stale keys: vacant finds nothing, reused reaches the new value",
          "[bad_input][slab]") {
  counted::reset();
  {
    nexus::slab<counted, nexus::heap_region> s;
    REQUIRE_FALSE(s.alloc(4));
    const nexus::key a = s.insert(counted(1));
    const nexus::key b = s.insert(counted(2));
    REQUIRE(s.remove(a)->value == 1);
    // Double remove / erase of the same key: empty, false, nothing touched.
    REQUIRE_FALSE(s.remove(a).has_value());
    REQUIRE_FALSE(s.erase(a));
    REQUIRE(s.get(a) == nullptr);
    REQUIRE(s.size() == 1);
    REQUIRE(counted::live() == 1);
    // Documented: no generation counter, so the stale key sees the new value.
    const nexus::key c = s.insert(counted(3));
    REQUIRE(c == a);
    REQUIRE(s.get(a)->value == 3);
    REQUIRE(s.erase(b));
    REQUIRE_FALSE(s.erase(b));
  }
  REQUIRE(counted::live() == 0);
}

// ---- nexus::slab: unallocated
// ---------------------------------------------------

TEST_CASE("slab operations on an unallocated slab", "[bad_input][slab]") {
  counted::reset();
  {
    nexus::slab<counted, nexus::heap_region> s;
    REQUIRE(s.capacity() == 0);
    REQUIRE(s.size() == 0);
    REQUIRE(s.empty());
    REQUIRE(s.full());  // documented: inserting into it is "full"
    REQUIRE(s.memory_size() == 0);
    REQUIRE_FALSE(s.locked());
    REQUIRE(s.begin() == s.end());
    REQUIRE(std::as_const(s).begin() == std::as_const(s).end());
    counted arg(5);
    REQUIRE_FALSE(s.try_insert(std::move(arg)).has_value());
    REQUIRE_FALSE(arg.moved_from);
    REQUIRE_FALSE(s.try_emplace(6).has_value());
    REQUIRE_THROWS_AS(s.insert(counted(7)), nexus::slab_full);
    REQUIRE_THROWS_AS(s.emplace(8), std::length_error);
    REQUIRE_FALSE(s.vacant_entry());
    REQUIRE(s.get(nexus::key(0)) == nullptr);
    REQUIRE_FALSE(s.contains(nexus::key(0)));
    REQUIRE_FALSE(s.remove(nexus::key(0)).has_value());
    REQUIRE_FALSE(s.erase(nexus::key(0)));
    REQUIRE(s.mlock() == std::errc::invalid_argument);
    REQUIRE(s.munlock() == std::errc::invalid_argument);
    REQUIRE(s.try_collapse() == std::errc::invalid_argument);
    s.clear();
    slab_test::counted::throw_countdown = -1;
    nexus::slab<counted, nexus::heap_region> moved(std::move(s));
    REQUIRE(moved.capacity() == 0);
    REQUIRE(counted::live() == 1);  // only `arg`
  }
  REQUIRE(counted::live() == 0);
}

TEST_CASE("slab insert into a full slab throws slab_full and changes nothing",
          "[bad_input][slab]") {
  counted::reset();
  {
    nexus::slab<counted, nexus::heap_region> s;
    REQUIRE_FALSE(s.alloc(1));
    while (!s.full()) static_cast<void>(s.insert(counted(1)));
    const auto n = s.size();
    counted arg(2);
    try {
      static_cast<void>(s.insert(std::move(arg)));
      FAIL("insert into a full slab returned");
    } catch (const nexus::slab_full& e) {
      REQUIRE(std::string(e.what()).find("full") != std::string::npos);
    }
    REQUIRE_FALSE(arg.moved_from);
    REQUIRE(s.size() == n);
    REQUIRE(counted::live() == static_cast<long>(n) + 1);
  }
  REQUIRE(counted::live() == 0);
}

TEST_CASE("slab debug assertions abort with their message",
          "[bad_input][slab][death]") {
  SECTION("operator[] on a vacant key") {
    require_assert_death(
        [] {
          slab_u64 s;
          if (s.alloc(4)) return;
          const nexus::key k = s.insert(1);
          static_cast<void>(s.erase(k));
          static_cast<void>(s[k]);
        },
        "nexus::slab::operator[]: vacant key");
  }
  SECTION("operator[] on an unallocated slab") {
    require_assert_death(
        [] {
          const slab_u64 s;
          static_cast<void>(s[nexus::key(0)]);
        },
        "nexus::slab::operator[]: vacant key");
  }
  SECTION("a key above 32 bits") {
    require_assert_death(
        [] {
          volatile std::size_t big = std::size_t{1} << 33;
          static_cast<void>(nexus::key(big));
        },
        "nexus::key index exceeds 32 bits");
  }
  SECTION("a vacant entry used twice") {
    require_assert_death(
        [] {
          slab_u64 s;
          if (s.alloc(4)) return;
          auto e = s.vacant_entry();
          e->insert(1);
          e->insert(2);
        },
        "nexus::slab::vacant_entry used twice");
  }
  SECTION("a constructor that removes from its own slab") {
    require_assert_death(
        [] {
          reentrant_slab s;
          if (s.alloc(4)) return;
          reentrant::owner = &s;
          for (int i = 0; i < 3; ++i) s.emplace(i);
          static_cast<void>(s.erase(nexus::key(1)));
          reentrant::reach_back = true;
          s.emplace(7);  // recycles slot 1, erases key 0 meanwhile
        },
        "nexus::slab: T's constructor changed the slab");
  }
}

// ---- sorted lists
// ---------------------------------------------------------------

namespace {

nexus::slab_list_options deep_options() {
  nexus::slab_list_options o;
  o.sublayer_threshold = 2;
  o.sublayer_fanout = 4;
  o.name = "bad_input";
  return o;
}

template <class L>
void fill(L& l, u64 from, u64 to, u64 step) {
  for (u64 v = from; v < to; v += step) static_cast<void>(l.insert(v));
}

}  // namespace

TEMPLATE_TEST_CASE(
    "slab list erase of absent keys returns 0 and changes nothing",
    "[bad_input][slab_list]", nexus::slab_list<u64>,
    nexus::slab_multilist<u64>) {
  for (const u64 n : {u64{0}, u64{10}, u64{5000}}) {
    CAPTURE(n);
    TestType l(deep_options());
    fill(l, 0, 2 * n, 2);  // even keys
    const std::vector<u64> before(l.begin(), l.end());
    for (const u64 absent : {u64{1}, n | 1, 2 * n + 1, 2 * n + 100, ~u64{0}}) {
      REQUIRE(l.erase(absent) == 0);
    }
    REQUIRE(std::vector<u64>(l.begin(), l.end()) == before);
    REQUIRE(l.check_invariants());
  }
}

TEMPLATE_TEST_CASE("slab list erase of a slab's former maximum finds nothing",
                   "[bad_input][slab_list]", nexus::slab_list<u64>,
                   nexus::slab_multilist<u64>) {
  // libslablist crashed here: erasing an absent key equal to a slab's
  // former maximum read a stale slot.
  TestType l(deep_options());
  fill(l, 0, 20000, 1);
  std::set<u64> model;
  for (u64 v = 0; v < 20000; ++v) model.insert(v);
  // Erase the last element of every slab, then erase each one again.
  std::vector<u64> maxima;
  u64 seen = 0;
  for (auto it = l.begin(); it != l.end(); ++it, ++seen) {
    auto nx = std::next(it);
    // Slab boundaries are not public: take every slab_capacity-th element
    // and every element that was a slab's last when inserted ascending.
    if (nx == l.end() || (seen + 1) % TestType::slab_capacity == 0) {
      maxima.push_back(*it);
    }
  }
  for (const u64 m : maxima) {
    REQUIRE(l.erase(m) == 1);
    model.erase(m);
  }
  for (const u64 m : maxima) {
    CAPTURE(m);
    REQUIRE(l.erase(m) == 0);
    REQUIRE_FALSE(l.contains(m));
    REQUIRE(l.find(m) == l.end());
    REQUIRE(l.count(m) == 0);
  }
  REQUIRE(l.check_invariants());
  REQUIRE(std::equal(l.begin(), l.end(), model.begin(), model.end()));
}

TEMPLATE_TEST_CASE("slab list nth(size()) is end() and index_of(end()) size()",
                   "[bad_input][slab_list]", nexus::slab_list<u64>,
                   nexus::slab_multilist<u64>) {
  for (const u64 n : {u64{0}, u64{1}, u64{30}, u64{3000}}) {
    CAPTURE(n);
    TestType l(deep_options());
    fill(l, 0, n, 1);
    REQUIRE(l.nth(l.size()) == l.end());
    REQUIRE(l.nth(l.size() + 1) == l.end());
    REQUIRE(l.nth(SIZE_MAX) == l.end());
    REQUIRE(l.index_of(l.end()) == l.size());
    if (n > 0) {
      REQUIRE(*l.nth(l.size() - 1) == n - 1);
      REQUIRE(l.index_of(l.nth(l.size() - 1)) == n - 1);
    }
    // Empty and out-of-range searches.
    REQUIRE(l.lower_bound(n + 5) == l.end());
    REQUIRE(l.upper_bound(n + 5) == l.end());
    REQUIRE(l.find(n + 5) == l.end());
    const auto [a, b] = l.equal_range(n + 5);
    REQUIRE(a == b);
    // An empty range erases nothing and returns an iterator at that position.
    const auto first = l.nth(n / 2);
    REQUIRE(l.erase(first, first) == l.nth(n / 2));
    REQUIRE(l.erase(l.end(), l.end()) == l.end());
    REQUIRE(l.size() == n);
    REQUIRE(l.check_invariants());
  }
}

TEST_CASE("slab list debug assertions abort with their message",
          "[bad_input][slab_list][death]") {
  SECTION("erase(end()) on an empty list") {
    require_assert_death(
        [] {
          nexus::slab_list<u64> l;
          static_cast<void>(l.erase(l.end()));
        },
        "erase(end())");
  }
  SECTION("erase(end()) on a list with sublayers") {
    require_assert_death(
        [] {
          nexus::slab_list<u64> l(deep_options());
          fill(l, 0, 3000, 1);
          static_cast<void>(l.erase(l.end()));
        },
        "erase(end())");
  }
  SECTION("pop_front() on an empty list") {
    require_assert_death(
        [] {
          nexus::slab_multilist<u64> l;
          l.pop_front();
        },
        "pop_front() on an empty slab_list");
  }
  SECTION("pop_back() on an empty list") {
    require_assert_death(
        [] {
          nexus::slab_list<u64> l;
          l.pop_back();
        },
        "pop_back() on an empty slab_list");
  }
  SECTION("front() on an empty list") {
    require_assert_death(
        [] {
          const nexus::slab_list<u64> l;
          static_cast<void>(l.front());
        },
        "front() on an empty slab_list");
  }
}

// ---- ordered list
// ---------------------------------------------------------------

TEST_CASE("ordered list at() out of range throws std::out_of_range",
          "[bad_input][ordered_list]") {
  using list = nexus::slab_list<u64, nexus::insertion_order>;
  for (const u64 n : {u64{0}, u64{1}, u64{40}, u64{3000}}) {
    CAPTURE(n);
    list l(deep_options());
    for (u64 v = 0; v < n; ++v) l.push_back(v);
    REQUIRE_THROWS_AS(l.at(n), std::out_of_range);
    REQUIRE_THROWS_AS(std::as_const(l).at(n + 1), std::out_of_range);
    REQUIRE_THROWS_AS(l.at(SIZE_MAX), std::out_of_range);
    REQUIRE(l.nth(n) == l.end());
    REQUIRE(l.index_of(l.end()) == n);
    if (n > 0) REQUIRE(l.at(n - 1) == n - 1);
    REQUIRE(l.size() == n);
    REQUIRE(l.check_invariants());
  }
}

TEST_CASE("ordered list debug assertions abort with their message",
          "[bad_input][ordered_list][death]") {
  using list = nexus::slab_list<u64, nexus::insertion_order>;
  SECTION("operator[] out of range") {
    require_assert_death(
        [] {
          list l;
          l.push_back(1);
          static_cast<void>(l[1]);
        },
        "slab_list::operator[]: index out of range");
  }
  SECTION("erase(end())") {
    require_assert_death(
        [] {
          list l;
          l.push_back(1);
          static_cast<void>(l.erase(l.end()));
        },
        "erase(end())");
  }
  SECTION("pop_back() on an empty list") {
    require_assert_death(
        [] {
          list l;
          l.pop_back();
        },
        "pop_back() on an empty slab_list");
  }
}
