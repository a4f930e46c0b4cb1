// SPDX-License-Identifier: MIT OR Apache-2.0
// Fault injection: nexus::slab, the sorted slab lists and the ordered list
// over a region that fails its k-th map() or lock() (tests/fault_region.hpp).
// For every k along an insert-heavy workload the failing call reports the
// error, the container is exactly as before (contents against a model,
// check_invariants()), it keeps working afterwards, and at the end every
// element and every mapped block has been released.
#include <cstdint>
#include <functional>
#include <iterator>
#include <new>
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <type_traits>
#include <vector>

#include "catch_shim.hpp"
#include "fault_region.hpp"
#include "slab_test_types.hpp"

namespace {

using u64 = std::uint64_t;
using slab_test::counted;

// A nothrow-movable counting value for the lists (slab_list requires
// nothrow moves); records whether it was moved from.
struct tracked {
  static inline long live = 0;
  std::int64_t v;
  bool moved_from = false;

  explicit tracked(std::int64_t x) noexcept : v(x) { ++live; }
  tracked(const tracked& o) noexcept : v(o.v) { ++live; }
  tracked(tracked&& o) noexcept : v(o.v) {
    o.moved_from = true;
    ++live;
  }
  tracked& operator=(const tracked& o) noexcept {
    v = o.v;
    moved_from = false;
    return *this;
  }
  tracked& operator=(tracked&& o) noexcept {
    v = o.v;
    moved_from = false;
    o.moved_from = true;
    return *this;
  }
  ~tracked() { --live; }
  friend bool operator==(const tracked& a, const tracked& b) noexcept {
    return a.v == b.v;
  }
};

struct by_value {
  bool operator()(const tracked& a, const tracked& b) const noexcept {
    return a.v < b.v;
  }
};

std::int64_t value_of(const tracked& t) { return t.v; }
std::int64_t value_of(u64 x) { return static_cast<std::int64_t>(x); }

// Small sublayer fanout and threshold: a few thousand elements build three
// or more sublayers, so failures hit every code path that maps nodes.
nexus::slab_list_options deep_options() {
  nexus::slab_list_options o;
  o.sublayer_threshold = 2;
  o.sublayer_fanout = 4;
  o.name = "fault_injection";
  return o;
}

template <class L>
constexpr bool is_multi_v =
    std::is_same_v<decltype(std::declval<L&>().insert(
                       std::declval<typename L::value_type>())),
                   typename L::iterator>;

template <class L>
using model_t = std::conditional_t<is_multi_v<L>, std::multiset<std::int64_t>,
                                   std::set<std::int64_t>>;

template <class L>
bool same_contents(const L& l, const model_t<L>& m) {
  if (l.size() != m.size()) return false;
  auto it = m.begin();
  for (const auto& x : l) {
    if (value_of(x) != *it++) return false;
  }
  return true;
}

template <class T>
T make_value(std::int64_t v) {
  if constexpr (std::is_same_v<T, tracked>) {
    return tracked(v);
  } else {
    return static_cast<T>(v);
  }
}

// The ways an insert can be spelled; each reports OOM differently.
enum class insert_kind { insert, try_insert, emplace, insert_or_replace };

// Runs one insert of v; returns true if it reported out-of-memory, and checks
// that the report has the documented form.
template <class L>
bool insert_one(L& l, model_t<L>& m, std::int64_t v, insert_kind kind) {
  using T = typename L::value_type;
  const bool absent = m.count(v) == 0;
  switch (kind) {
    case insert_kind::try_insert: {
      T arg = make_value<T>(v);
      auto r = l.try_insert(std::move(arg));
      if (!r) {
        if constexpr (std::is_same_v<T, tracked>) {
          REQUIRE_FALSE(arg.moved_from);  // argument untouched
          REQUIRE(arg.v == v);
        }
        return true;
      }
      REQUIRE(r->second == (absent || is_multi_v<L>));
      REQUIRE(value_of(*r->first) == v);
      break;
    }
    case insert_kind::insert_or_replace: {
      std::optional<T> old;
      try {
        old = l.insert_or_replace(make_value<T>(v));
      } catch (const std::bad_alloc&) {
        REQUIRE(absent);  // a replacement never needs memory
        return true;
      }
      REQUIRE(old.has_value() == !absent);
      if (!absent) return false;  // replaced an equal value: same contents
      break;
    }
    case insert_kind::insert:
    case insert_kind::emplace: {
      try {
        if (kind == insert_kind::insert) {
          static_cast<void>(l.insert(make_value<T>(v)));
        } else {
          static_cast<void>(l.emplace(make_value<T>(v)));
        }
      } catch (const std::bad_alloc&) {
        return true;
      }
      break;
    }
  }
  if (absent || is_multi_v<L>) m.insert(v);
  return false;
}

// For k = 0, 1, 2, ...: the k-th chunk map of an insert-heavy workload
// fails. Stops at the first k the workload no longer reaches.
template <class L>
void run_map_faults(insert_kind kind, int n, std::int64_t key_space) {
  using T = typename L::value_type;
  long k = 0;
  for (;; ++k) {
    CAPTURE(k);
    fault::plan::reset();
    tracked::live = 0;
    bool fired = false;
    {
      L l(deep_options());
      model_t<L> m;
      std::mt19937_64 rng(1234 + static_cast<u64>(k));
      fault::plan::fail_map_after(k);
      for (int i = 0; i < n; ++i) {
        const auto v =
            static_cast<std::int64_t>(rng() % static_cast<u64>(key_space));
        const long before = fault::plan::failures;
        const bool oom = insert_one(l, m, v, kind);
        const bool injected = fault::plan::failures != before;
        CAPTURE(i, v);
        REQUIRE(oom == injected);  // reported iff a map failed
        if (injected) {
          fired = true;
          // Exactly as before: contents and structure.
          REQUIRE(same_contents(l, m));
          REQUIRE(l.check_invariants());
          // The same insert succeeds once memory is available again.
          REQUIRE_FALSE(insert_one(l, m, v, kind));
        }
      }
      REQUIRE(same_contents(l, m));
      REQUIRE(l.check_invariants());
      REQUIRE(fault::plan::live_maps() > 0);
      if constexpr (std::is_same_v<T, tracked>) {
        REQUIRE(tracked::live >= static_cast<long>(l.size()));
      }
    }
    // Every element (and separator copy) destroyed, every block released.
    REQUIRE(tracked::live == 0);
    REQUIRE(fault::plan::live_maps() == 0);
    if (!fired) break;
  }
  REQUIRE(k >= 3);  // the workload did map several chunks
}

using u64_set = nexus::slab_list<u64, std::less<u64>, fault::region<>>;
using u64_multi = nexus::slab_multilist<u64, std::less<u64>, fault::region<>>;
using tracked_set = nexus::slab_list<tracked, by_value, fault::region<>>;
using tracked_multi = nexus::slab_multilist<tracked, by_value, fault::region<>>;

}  // namespace

// ---- nexus::slab ----------------------------------------------------------

TEST_CASE("slab alloc reports a failing map and stays unallocated",
          "[fault][slab]") {
  fault::plan::reset();
  counted::reset();
  {
    nexus::slab<counted, fault::region<>> s;
    fault::plan::fail_map_after(0);
    const std::error_code ec = s.alloc(1000);
    REQUIRE(ec == std::errc::not_enough_memory);
    REQUIRE(s.capacity() == 0);
    REQUIRE(s.memory_size() == 0);
    REQUIRE(s.region().empty());
    REQUIRE_FALSE(s.try_insert(counted(1)).has_value());
    REQUIRE(fault::plan::live_maps() == 0);

    fault::plan::fail_map_after(0);
    REQUIRE(s.alloc_bytes(1 << 20) == std::errc::not_enough_memory);
    REQUIRE(s.capacity() == 0);

    // A different error is passed through unchanged.
    fault::plan::map_error = std::make_error_code(std::errc::permission_denied);
    fault::plan::fail_map_after(0);
    REQUIRE(s.alloc(10) == std::errc::permission_denied);

    // Once the region cooperates, the same slab allocates normally.
    REQUIRE_FALSE(s.alloc(1000));
    REQUIRE(s.capacity() >= 1000);
    REQUIRE(fault::plan::live_maps() == 1);
  }
  REQUIRE(fault::plan::live_maps() == 0);
  REQUIRE(counted::live() == 0);
}

TEST_CASE("slab inserts until full make no map or lock call", "[fault][slab]") {
  fault::plan::reset();
  counted::reset();
  {
    nexus::slab<counted, fault::region<>> s;
    REQUIRE_FALSE(s.alloc(3000));
    REQUIRE_FALSE(s.mlock());
    const long maps = fault::plan::map_calls;
    const long locks = fault::plan::lock_calls;
    // Any further map or lock would fail: the workload must not need one.
    fault::plan::fail_map_after(0);
    fault::plan::fail_lock_after(0);
    std::vector<nexus::key> keys;
    while (!s.full()) keys.push_back(s.insert(counted(7)));
    for (std::size_t i = 0; i < keys.size(); i += 2) REQUIRE(s.erase(keys[i]));
    while (auto k = s.try_insert(counted(8))) keys.push_back(*k);
    s.clear();
    REQUIRE(fault::plan::map_calls == maps);
    REQUIRE(fault::plan::lock_calls == locks);
    REQUIRE(s.locked());
  }
  REQUIRE(counted::live() == 0);
  REQUIRE(fault::plan::live_maps() == 0);
  REQUIRE(fault::plan::live_locks() == 0);
}

TEST_CASE("slab mlock failure reports the error and changes nothing",
          "[fault][slab]") {
  fault::plan::reset();
  counted::reset();
  {
    nexus::slab<counted, fault::region<>> s;
    REQUIRE_FALSE(s.alloc(100));
    for (int i = 0; i < 50; ++i) static_cast<void>(s.insert(counted(i)));
    fault::plan::fail_lock_after(0);
    REQUIRE(s.mlock() == std::errc::resource_unavailable_try_again);
    REQUIRE_FALSE(s.locked());
    REQUIRE(fault::plan::live_locks() == 0);
    REQUIRE(s.size() == 50);
    int expect = 0;
    for (auto [k, v] : s) REQUIRE(v.value == expect++);
    REQUIRE_FALSE(s.mlock());
    REQUIRE(s.locked());
    REQUIRE_FALSE(s.munlock());
    REQUIRE_FALSE(s.locked());
  }
  REQUIRE(counted::live() == 0);
  REQUIRE(fault::plan::live_maps() == 0);
  REQUIRE(fault::plan::live_locks() == 0);
}

// ---- sorted lists: chunk maps during inserts --------------------------------

TEST_CASE("slab_list insert reports every failing chunk map, list unchanged",
          "[fault][slab_list]") {
  SECTION("insert, uint64_t") {
    run_map_faults<u64_set>(insert_kind::insert, 6000, 1 << 20);
  }
  SECTION("try_insert, tracked (argument untouched)") {
    run_map_faults<tracked_set>(insert_kind::try_insert, 6000, 1 << 20);
  }
  SECTION("emplace, tracked, many duplicates") {
    run_map_faults<tracked_set>(insert_kind::emplace, 6000, 4000);
  }
  SECTION("insert_or_replace, uint64_t") {
    run_map_faults<u64_set>(insert_kind::insert_or_replace, 6000, 5000);
  }
}

TEST_CASE("slab_multilist insert reports every failing chunk map",
          "[fault][slab_list]") {
  SECTION("insert, uint64_t") {
    run_map_faults<u64_multi>(insert_kind::insert, 6000, 3000);
  }
  SECTION("try_insert, tracked") {
    run_map_faults<tracked_multi>(insert_kind::try_insert, 6000, 100);
  }
}

TEST_CASE("slab_list ascending inserts report every failing chunk map",
          "[fault][slab_list]") {
  long k = 0;
  for (bool fired = true; fired; ++k) {
    CAPTURE(k);
    fault::plan::reset();
    fired = false;
    {
      u64_set l(deep_options());
      fault::plan::fail_map_after(k);
      u64 next = 0;
      for (int i = 0; i < 8000; ++i) {
        auto r = l.try_insert(u64{next});
        if (!r) {
          REQUIRE_FALSE(fired);
          fired = true;
          REQUIRE(l.size() == next);
          REQUIRE(l.check_invariants());
          continue;  // retried by the next iteration
        }
        REQUIRE(r->second);
        ++next;
      }
      REQUIRE(l.check_invariants());
      REQUIRE(static_cast<u64>(std::distance(l.begin(), l.end())) == next);
    }
    REQUIRE(fault::plan::live_maps() == 0);
  }
  REQUIRE(k >= 4);
}

TEST_CASE("slab_list reserve reports a failing map and changes nothing",
          "[fault][slab_list]") {
  for (const std::size_t start :
       {std::size_t{0}, std::size_t{10}, std::size_t{3000}}) {
    CAPTURE(start);
    fault::plan::reset();
    tracked::live = 0;
    {
      tracked_set l(deep_options());
      std::set<std::int64_t> m;
      for (std::size_t i = 0; i < start; ++i) {
        REQUIRE(l.insert(tracked(static_cast<std::int64_t>(i * 3))).second);
        m.insert(static_cast<std::int64_t>(i * 3));
      }
      const auto mem = l.memory_size();
      const auto slabs = l.slab_count();
      fault::plan::fail_map_after(0);
      bool threw = false;
      try {
        l.reserve(50000);
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      REQUIRE(threw);
      REQUIRE(same_contents(l, m));
      REQUIRE(l.check_invariants());
      REQUIRE(l.memory_size() == mem);
      REQUIRE(l.slab_count() == slabs);
      // With memory, reserve works and the list keeps its contents.
      l.reserve(50000);
      REQUIRE(same_contents(l, m));
      const long maps = fault::plan::map_calls;
      fault::plan::fail_map_after(0);  // nothing more may be mapped
      for (std::int64_t v = 0; v < 20000; ++v) {
        if (m.insert(v).second) REQUIRE(l.insert(tracked(v)).second);
      }
      REQUIRE(fault::plan::map_calls == maps);
      REQUIRE(same_contents(l, m));
      REQUIRE(l.check_invariants());
    }
    REQUIRE(tracked::live == 0);
    REQUIRE(fault::plan::live_maps() == 0);
  }
}

TEST_CASE("slab_list copy reports a failing map and leaks nothing",
          "[fault][slab_list]") {
  fault::plan::reset();
  tracked::live = 0;
  {
    tracked_multi src(deep_options());
    for (int i = 0; i < 3000; ++i)
      static_cast<void>(src.insert(tracked(i % 700)));
    const long live_before = tracked::live;
    const long maps_before = fault::plan::live_maps();
    fault::plan::fail_map_after(0);
    bool threw = false;
    try {
      tracked_multi copy(src);
      FAIL("copy succeeded without memory");
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    REQUIRE(threw);
    REQUIRE(tracked::live == live_before);
    REQUIRE(fault::plan::live_maps() == maps_before);

    // Copy assignment: the target keeps its old contents.
    tracked_multi dst(deep_options());
    for (int i = 0; i < 500; ++i) static_cast<void>(dst.insert(tracked(-i)));
    const tracked_multi dst_before = dst;
    fault::plan::fail_map_after(0);
    threw = false;
    try {
      dst = src;
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    REQUIRE(threw);
    REQUIRE(dst == dst_before);
    REQUIRE(dst.check_invariants());
    dst = src;
    REQUIRE(dst == src);
  }
  REQUIRE(tracked::live == 0);
  REQUIRE(fault::plan::live_maps() == 0);
}

// ---- sorted lists: locking -------------------------------------------------

TEST_CASE("slab_list mlock fails at every chunk and unpins what it pinned",
          "[fault][slab_list]") {
  fault::plan::reset();
  {
    u64_set l(deep_options());
    std::set<std::int64_t> m;
    std::mt19937_64 rng(99);
    for (int i = 0; i < 6000; ++i) {
      const auto v = static_cast<std::int64_t>(rng() % 100000);
      if (m.insert(v).second) REQUIRE(l.insert(static_cast<u64>(v)).second);
    }
    const long chunks = fault::plan::live_maps();
    REQUIRE(chunks >= 3);
    for (long k = 0; k < chunks; ++k) {
      CAPTURE(k);
      fault::plan::fail_lock_after(k);
      REQUIRE(l.mlock() == std::errc::resource_unavailable_try_again);
      REQUIRE(fault::plan::live_locks() == 0);  // partial locks undone
      REQUIRE(same_contents(l, m));
    }
    fault::plan::disarm();
    REQUIRE_FALSE(l.mlock());
    REQUIRE(fault::plan::live_locks() == chunks);

    // Chunks mapped after mlock are locked as they are mapped; a lock that
    // fails then fails the insert, with the list unchanged.
    fault::plan::fail_lock_after(0);
    bool fired = false;
    for (std::int64_t v = 100000; v < 130000 && !fired; ++v) {
      const long before = fault::plan::failures;
      auto r = l.try_insert(static_cast<u64>(v));
      if (fault::plan::failures != before) {
        fired = true;
        REQUIRE_FALSE(r.has_value());
        REQUIRE(same_contents(l, m));
        REQUIRE(l.check_invariants());
      } else {
        REQUIRE(r.has_value());
        m.insert(v);
      }
    }
    REQUIRE(fired);
    REQUIRE(fault::plan::live_locks() == fault::plan::live_maps());
    REQUIRE_FALSE(l.munlock());
    REQUIRE(fault::plan::live_locks() == 0);
  }
  REQUIRE(fault::plan::live_maps() == 0);
  REQUIRE(fault::plan::live_locks() == 0);
}

TEST_CASE("slab_list erasures never need memory", "[fault][slab_list]") {
  fault::plan::reset();
  tracked::live = 0;
  {
    tracked_multi l(deep_options());
    std::multiset<std::int64_t> m;
    std::mt19937_64 rng(5);
    for (int i = 0; i < 8000; ++i) {
      const auto v = static_cast<std::int64_t>(rng() % 2000);
      static_cast<void>(l.insert(tracked(v)));
      m.insert(v);
    }
    fault::plan::fail_map_after(0);
    // Every map from here on fails: erase in all its forms must not care.
    const auto on_fail = [] { fault::plan::fail_map_after(0); };
    while (!m.empty()) {
      on_fail();
      const auto v = static_cast<std::int64_t>(rng() % 2000);
      switch (rng() % 4) {
        case 0:
          REQUIRE(l.erase(tracked(v)) == m.erase(v));
          break;
        case 1:
          l.pop_front();
          m.erase(m.begin());
          break;
        case 2:
          l.pop_back();
          m.erase(std::prev(m.end()));
          break;
        default: {
          const auto lo = l.lower_bound(tracked(v));
          const auto hi = l.upper_bound(tracked(v + 20));
          static_cast<void>(l.erase(lo, hi));
          m.erase(m.lower_bound(v), m.upper_bound(v + 20));
        }
      }
      REQUIRE(l.size() == m.size());
    }
    REQUIRE(same_contents(l, m));
    REQUIRE(l.check_invariants());
  }
  REQUIRE(tracked::live == 0);
  REQUIRE(fault::plan::live_maps() == 0);
}

// ---- ordered list
// ------------------------------------------------------------

TEST_CASE("ordered list inserts report every failing chunk map, list unchanged",
          "[fault][ordered_list]") {
  using list =
      nexus::slab_list<tracked, nexus::insertion_order, fault::region<>>;
  long k = 0;
  for (bool fired = true; fired; ++k) {
    CAPTURE(k);
    fault::plan::reset();
    tracked::live = 0;
    fired = false;
    {
      list l(deep_options());
      std::vector<std::int64_t> m;
      std::mt19937_64 rng(77 + static_cast<u64>(k));
      fault::plan::fail_map_after(k);
      for (int i = 0; i < 5000; ++i) {
        const auto v = static_cast<std::int64_t>(i);
        const std::size_t pos = m.empty() ? 0 : rng() % (m.size() + 1);
        const int how = static_cast<int>(rng() % 4);
        const long before = fault::plan::failures;
        bool oom = false;
        CAPTURE(i, how, pos);
        if (how == 0) {  // try_insert: argument untouched
          tracked arg(v);
          auto it = l.try_insert(l.nth(pos), std::move(arg));
          oom = !it.has_value();
          if (oom) REQUIRE_FALSE(arg.moved_from);
        } else if (how == 1) {
          tracked arg(v);
          oom = !l.try_push_back(std::move(arg));
          if (oom) REQUIRE_FALSE(arg.moved_from);
        } else {
          try {
            if (how == 2) {
              static_cast<void>(l.insert(l.nth(pos), tracked(v)));
            } else {
              l.push_front(tracked(v));
            }
          } catch (const std::bad_alloc&) {
            oom = true;
          }
        }
        REQUIRE(oom == (fault::plan::failures != before));
        if (oom) {
          fired = true;
          REQUIRE(l.check_invariants());
          REQUIRE(l.size() == m.size());
          std::size_t j = 0;
          for (const tracked& x : l) REQUIRE(x.v == m[j++]);
          continue;
        }
        const std::size_t at = how == 1 ? m.size() : how == 3 ? 0 : pos;
        m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), v);
      }
      REQUIRE(l.check_invariants());
      REQUIRE(l.size() == m.size());
      std::size_t j = 0;
      for (const tracked& x : l) REQUIRE(x.v == m[j++]);
    }
    REQUIRE(tracked::live == 0);
    REQUIRE(fault::plan::live_maps() == 0);
  }
  REQUIRE(k >= 4);
}
