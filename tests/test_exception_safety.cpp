// SPDX-License-Identifier: MIT OR Apache-2.0
// Exception safety: element types whose copy (or move) constructor or
// assignment throws on the k-th call, for every k along a workload. Where
// the headers promise the strong guarantee (slab insert/emplace/remove,
// slab_list insert/emplace/insert_or_replace, list copy construction and
// copy assignment, the ordered list's copying inserts) the container must be
// exactly as before; elsewhere it must stay valid (check_invariants()) and
// destructible. Always: every constructed object is destroyed exactly once (a
// canary catches double destruction, a live counter catches leaks).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <nexus/heap_region.hpp>
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "catch_shim.hpp"
#include "slab_test_types.hpp"

namespace {

using u64 = std::uint64_t;
using slab_test::counted;

// Nothrow moves (slab_list requires them); copy construction and copy
// assignment throw when the shared countdown reaches zero.
struct copy_thrower {
  static constexpr u64 alive_mark = 0xA11CEA11CEA11CE0;
  static inline long live = 0;
  static inline long countdown = -1;
  static inline long double_destroys = 0;

  std::int64_t v;
  u64 canary = alive_mark;

  static void reset() {
    live = 0;
    countdown = -1;
    double_destroys = 0;
  }
  static void maybe_throw() {
    if (countdown >= 0 && countdown-- == 0) {
      throw std::runtime_error("copy_thrower: deliberate throw");
    }
  }

  explicit copy_thrower(std::int64_t x) noexcept : v(x) { ++live; }
  copy_thrower(const copy_thrower& o) : v(o.v) {
    maybe_throw();
    ++live;
  }
  copy_thrower(copy_thrower&& o) noexcept : v(o.v) { ++live; }
  copy_thrower& operator=(const copy_thrower& o) {
    maybe_throw();
    v = o.v;
    return *this;
  }
  copy_thrower& operator=(copy_thrower&& o) noexcept {
    v = o.v;
    return *this;
  }
  ~copy_thrower() {
    if (canary != alive_mark) ++double_destroys;
    canary = 0;
    --live;
  }
};

struct by_v {
  bool operator()(const copy_thrower& a, const copy_thrower& b) const noexcept {
    return a.v < b.v;
  }
};

nexus::slab_list_options deep_options() {
  nexus::slab_list_options o;
  o.sublayer_threshold = 2;
  o.sublayer_fanout = 4;
  o.name = "exception_safety";
  return o;
}

template <class L>
std::vector<std::int64_t> values(const L& l) {
  std::vector<std::int64_t> out;
  for (const auto& x : l) out.push_back(x.v);
  return out;
}

template <class S>
std::vector<std::pair<std::size_t, std::int64_t>> slab_contents(const S& s) {
  std::vector<std::pair<std::size_t, std::int64_t>> out;
  for (auto [k, v] : s) out.emplace_back(k.index(), v.value);
  return out;
}

using cset = nexus::slab_list<copy_thrower, by_v, nexus::heap_region>;
using cmulti = nexus::slab_multilist<copy_thrower, by_v, nexus::heap_region>;

template <class L>
constexpr bool is_multi_v = std::is_same_v<decltype(std::declval<L&>().insert(
                                               std::declval<copy_thrower>())),
                                           typename L::iterator>;

}  // namespace

// ---- nexus::slab ----------------------------------------------------------

TEST_CASE(
    "slab insert, emplace and remove keep the strong guarantee at every k",
    "[exceptions][slab]") {
  counted::reset();
  long throws = 0;
  for (long k = 0; k < 250; ++k) {
    CAPTURE(k);
    counted::reset();
    {
      nexus::slab<counted, nexus::heap_region> s;
      REQUIRE_FALSE(s.alloc(64));
      std::unordered_map<std::size_t, std::int64_t> model;
      std::mt19937_64 rng(static_cast<u64>(k));
      counted::throw_countdown = k;
      bool fired = false;
      for (int i = 0; i < 300 && !fired; ++i) {
        const auto before = slab_contents(s);
        const auto next = s.vacant_entry();
        const std::size_t next_key = next ? next->key().index() : SIZE_MAX;
        const long live_before = counted::live();
        const int op = static_cast<int>(rng() % 5);
        const auto v = static_cast<std::int64_t>(rng() % 1000);
        try {
          switch (op) {
            case 0: {  // copy in
              const long saved = counted::throw_countdown;
              counted::throw_countdown = -1;
              const counted arg(v);
              counted::throw_countdown = saved;
              if (!s.full()) model[s.insert(arg).index()] = v;
              break;
            }
            case 1: {  // move in: the argument survives a throw
              const long saved = counted::throw_countdown;
              counted::throw_countdown = -1;
              counted arg(v);
              counted::throw_countdown = saved;
              try {
                if (auto key = s.try_insert(std::move(arg)))
                  model[key->index()] = v;
              } catch (const std::runtime_error&) {
                REQUIRE_FALSE(arg.moved_from);
                REQUIRE(arg.value == v);
                throw;
              }
              break;
            }
            case 2:  // construct in place
              if (!s.full()) model[s.emplace(v).index()] = v;
              break;
            default: {  // move out
              if (model.empty()) break;
              const std::size_t key = model.begin()->first;
              std::optional<counted> out = s.remove(nexus::key(key));
              REQUIRE(out.has_value());
              REQUIRE(out->value == model.begin()->second);
              model.erase(model.begin());
            }
          }
        } catch (const std::runtime_error&) {
          fired = true;
          ++throws;
          // Strong: same keys, same values, same next key, nothing leaked.
          REQUIRE(slab_contents(s) == before);
          REQUIRE(s.size() == model.size());
          REQUIRE(counted::live() == live_before);
          const auto again = s.vacant_entry();
          REQUIRE((again ? again->key().index() : SIZE_MAX) == next_key);
        }
        // The key the entry predicted is the key the free list hands out.
        REQUIRE(s.size() == model.size());
      }
      counted::throw_countdown = -1;
      // Still fully usable: refill to capacity.
      while (!s.full()) static_cast<void>(s.insert(counted(1)));
    }
    REQUIRE(counted::live() == 0);
  }
  REQUIRE(throws > 150);
}

TEST_CASE("slab vacant_entry insert that throws leaves the entry's slot free",
          "[exceptions][slab]") {
  counted::reset();
  {
    nexus::slab<counted, nexus::heap_region> s;
    REQUIRE_FALSE(s.alloc(8));
    const nexus::key a = s.insert(counted(1));
    static_cast<void>(s.insert(counted(2)));
    REQUIRE(s.erase(a));
    auto e = s.vacant_entry();
    REQUIRE(e);
    REQUIRE(e->key() == a);
    counted::throw_countdown = 0;
    REQUIRE_THROWS_AS(e->emplace(5), std::runtime_error);
    REQUIRE(s.size() == 1);
    REQUIRE_FALSE(s.contains(a));
    REQUIRE(s.insert(counted(3)) == a);  // the free list is intact
  }
  REQUIRE(counted::live() == 0);
}

// ---- sorted lists
// ------------------------------------------------------------

namespace {

// For every k: a workload of copying inserts (plus erasures to exercise
// merges and separator rewrites) in which the k-th copy of a T throws.
template <class L>
void run_list_copy_faults(std::int64_t key_space, int ops, long max_k,
                          long min_throws) {
  long throws = 0;
  // Every k up to 16, then a growing stride (each run is O(k n)).
  for (long k = 0; k < max_k; k += 1 + k / 16) {
    CAPTURE(k);
    copy_thrower::reset();
    {
      L l(deep_options());
      std::multiset<std::int64_t> model;
      std::mt19937_64 rng(static_cast<u64>(k) * 7 + 1);
      // Start from a list with sublayers attached (when key_space allows).
      for (std::int64_t v = 0; v < key_space; v += 2) {
        static_cast<void>(l.insert(copy_thrower(v)));
        model.insert(v);
      }
      copy_thrower::countdown = k;
      int left = 50;  // ops to run after the throw
      for (int i = 0; i < ops && left > 0; ++i) {
        if (copy_thrower::countdown < 0) --left;
        const auto v =
            static_cast<std::int64_t>(rng() % static_cast<u64>(key_space));
        const int op = static_cast<int>(rng() % 8);
        CAPTURE(i, op, v);
        const bool absent = model.count(v) == 0;
        // Snapshot only while a throw is still to come (keeps this O(k n)).
        const bool armed = copy_thrower::countdown >= 0;
        const auto before = armed ? values(l) : std::vector<std::int64_t>{};
        const std::size_t size_before = l.size();
        try {
          switch (op) {
            case 0:
            case 1: {  // insert(const T&)
              const long saved = copy_thrower::countdown;
              copy_thrower::countdown = -1;
              const copy_thrower arg(v);
              copy_thrower::countdown = saved;
              static_cast<void>(l.insert(arg));
              break;
            }
            case 2:  // insert(T&&): separator copies may still throw
              static_cast<void>(l.insert(copy_thrower(v)));
              break;
            case 3:
              static_cast<void>(l.emplace(v));
              break;
            case 4: {
              std::optional<copy_thrower> old =
                  l.insert_or_replace(copy_thrower(v));
              REQUIRE(old.has_value() == !absent);
              if (old) {
                REQUIRE(old->v == v);
                continue;
              }
              break;
            }
            case 5: {  // try_insert: only OOM is reported by an empty result
              auto r = l.try_insert(copy_thrower(v));
              REQUIRE(r.has_value());
              break;
            }
            default: {  // erase: the basic guarantee
              const std::size_t n = l.erase(copy_thrower(v));
              REQUIRE(n == model.erase(v));
              continue;
            }
          }
          if (absent || is_multi_v<L>) model.insert(v);
        } catch (const std::runtime_error&) {
          ++throws;
          INFO((l.violation() ? l.violation() : "no violation"));
          REQUIRE(l.check_invariants());
          REQUIRE(armed);
          if (op < 6) {
            // Strong guarantee for every kind of insert.
            REQUIRE(l.size() == size_before);
            REQUIRE(values(l) == before);
          } else {
            // Basic guarantee: valid; keep the model in step with the list.
            model.clear();
            for (std::int64_t x : values(l)) model.insert(x);
          }
        }
        REQUIRE(l.size() == model.size());
      }
      copy_thrower::countdown = -1;
      REQUIRE(l.check_invariants());
      REQUIRE(values(l) ==
              std::vector<std::int64_t>(model.begin(), model.end()));
    }
    REQUIRE(copy_thrower::double_destroys == 0);
    REQUIRE(copy_thrower::live == 0);
  }
  REQUIRE(throws >= min_throws);
}

}  // namespace

TEST_CASE("slab_list inserts keep the strong guarantee when a copy throws",
          "[exceptions][slab_list]") {
  SECTION("small list") { run_list_copy_faults<cset>(50, 200, 200, 15); }
  SECTION("deep sublayers") { run_list_copy_faults<cset>(1200, 3000, 150, 25); }
}

TEST_CASE("slab_multilist inserts keep the strong guarantee when a copy throws",
          "[exceptions][slab_list]") {
  SECTION("small list") { run_list_copy_faults<cmulti>(20, 200, 200, 25); }
  SECTION("deep sublayers") {
    run_list_copy_faults<cmulti>(600, 3000, 150, 25);
  }
}

TEST_CASE("slab_list copy construction and assignment are all-or-nothing",
          "[exceptions][slab_list]") {
  for (const int n : {10, 40, 2000}) {
    CAPTURE(n);
    copy_thrower::reset();
    {
      cmulti src(deep_options());
      for (int i = 0; i < n; ++i)
        static_cast<void>(src.insert(copy_thrower(i % 97)));
      const auto src_values = values(src);
      cmulti dst(deep_options());
      for (int i = 0; i < 300; ++i)
        static_cast<void>(dst.insert(copy_thrower(-i)));
      const auto dst_values = values(dst);
      const long live_before = copy_thrower::live;
      long throws = 0;
      for (long k = 0;; ++k) {
        CAPTURE(k);
        copy_thrower::countdown = k;
        bool threw = false;
        try {
          cmulti copy(src);
          copy_thrower::countdown = -1;
          REQUIRE(values(copy) == src_values);
          REQUIRE(copy.check_invariants());
        } catch (const std::runtime_error&) {
          threw = true;
        }
        copy_thrower::countdown = -1;
        REQUIRE(copy_thrower::live == live_before);
        REQUIRE(values(src) == src_values);
        if (!threw) break;
        ++throws;
        copy_thrower::countdown = k;
        try {
          dst = src;
        } catch (const std::runtime_error&) {
        }
        copy_thrower::countdown = -1;
        // The countdown hits the same copy: assignment threw too.
        REQUIRE(values(dst) == dst_values);
        REQUIRE(dst.check_invariants());
        REQUIRE(copy_thrower::live == live_before);
      }
      REQUIRE(throws >= n);
      dst = src;
      REQUIRE(values(dst) == src_values);
    }
    REQUIRE(copy_thrower::double_destroys == 0);
    REQUIRE(copy_thrower::live == 0);
  }
}

TEST_CASE("ordered list insert of a throwing copy leaves the list unchanged",
          "[exceptions][ordered_list]") {
  using list = nexus::slab_list<copy_thrower, nexus::insertion_order,
                                nexus::heap_region>;
  copy_thrower::reset();
  {
    list l(deep_options());
    std::vector<std::int64_t> m;
    std::mt19937_64 rng(3);
    long throws = 0;
    for (int i = 0; i < 3000; ++i) {
      const auto v = static_cast<std::int64_t>(i);
      const std::size_t pos = m.empty() ? 0 : rng() % (m.size() + 1);
      const copy_thrower arg(v);
      // The first, second or third copy from here throws.
      copy_thrower::countdown = static_cast<long>(rng() % 3);
      try {
        switch (rng() % 3) {
          case 0:
            static_cast<void>(l.insert(l.nth(pos), arg));
            break;
          case 1:
            l.push_back(arg);
            m.push_back(v);
            copy_thrower::countdown = -1;
            continue;
          default:
            l.push_front(arg);
            m.insert(m.begin(), v);
            copy_thrower::countdown = -1;
            continue;
        }
        m.insert(m.begin() + static_cast<std::ptrdiff_t>(pos), v);
      } catch (const std::runtime_error&) {
        ++throws;
        REQUIRE(l.check_invariants());
        REQUIRE(l.size() == m.size());
      }
      copy_thrower::countdown = -1;
    }
    REQUIRE(throws > 100);
    std::vector<std::int64_t> got;
    for (const copy_thrower& x : l) got.push_back(x.v);
    REQUIRE(got == m);
  }
  REQUIRE(copy_thrower::double_destroys == 0);
  REQUIRE(copy_thrower::live == 0);
}
