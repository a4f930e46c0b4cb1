// SPDX-License-Identifier: MIT OR Apache-2.0
// Unit tests of the ordered slab list, nexus::slab_list<T,
// nexus::insertion_order>: every operation, element types (move-only,
// std::string, non-default-constructible, counting), out-of-memory, small-list
// mode, sublayers, sort stability and reverse.
#include <nexus/slab_list.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <numeric>
#include <random>
#include <ranges>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "catch_shim.hpp"
#include "fault_region.hpp"
#include "move_counted.hpp"
#include "slab_test_types.hpp"

namespace {

using nexus_test::move_counted;

using u64 = std::uint64_t;
template <class T, class Region = nexus::mmap_region>
using olist = nexus::slab_list<T, nexus::insertion_order, Region>;
using list_u64 = olist<u64>;

static_assert(std::bidirectional_iterator<list_u64::iterator>);
static_assert(std::bidirectional_iterator<list_u64::const_iterator>);
static_assert(std::ranges::bidirectional_range<list_u64>);
static_assert(std::ranges::bidirectional_range<const list_u64>);
static_assert(std::is_same_v<std::iter_reference_t<list_u64::iterator>, u64&>);
static_assert(std::is_same_v<std::iter_reference_t<list_u64::const_iterator>,
                             const u64&>);
static_assert(
    std::is_convertible_v<list_u64::iterator, list_u64::const_iterator>);
static_assert(
    !std::is_convertible_v<list_u64::const_iterator, list_u64::iterator>);
static_assert(std::is_nothrow_move_constructible_v<list_u64>);
static_assert(std::is_nothrow_move_assignable_v<list_u64>);
static_assert(list_u64::slab_capacity >= 119);

template <class L>
std::vector<typename L::value_type> contents(const L& l) {
  return {l.begin(), l.end()};
}

nexus::slab_list_options deep_options() {
  nexus::slab_list_options o;
  o.sublayer_fanout = 4;
  o.sublayer_threshold = 2;
  return o;
}

// Counts constructions and destructions and catches double destruction
// (slab_test::counted's move may throw, which the list does not accept). Its
// copy can be told to throw.
struct counted {
  static inline long constructed = 0;
  static inline long destroyed = 0;
  static inline long double_destroys = 0;
  static inline long throw_countdown = -1;
  static void reset() {
    constructed = destroyed = double_destroys = 0;
    throw_countdown = -1;
  }
  static long live() { return constructed - destroyed; }

  std::int64_t value;
  std::uint64_t alive = kAlive;
  static constexpr std::uint64_t kAlive = 0x600DF00D600DF00D;

  explicit counted(std::int64_t v) : value(v) { ++constructed; }
  counted(const counted& o) : value(o.value) {
    if (throw_countdown >= 0 && throw_countdown-- == 0) throw_or_abort();
    ++constructed;
  }
  counted(counted&& o) noexcept : value(o.value) { ++constructed; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() {
    if (alive != kAlive) ++double_destroys;
    alive = 0;
    ++destroyed;
  }

 private:
  [[noreturn]] static void throw_or_abort() {
    nexus::detail::throw_or_abort<std::runtime_error>("counted: copy");
  }
};

// Sorts by key only: sort stability shows in seq.
struct keyed {
  int key;
  int seq;
  bool operator==(const keyed&) const = default;
};

}  // namespace

TEST_CASE("ordered list: empty list has no elements and no memory") {
  list_u64 l;
  CHECK(l.empty());
  CHECK(l.size() == 0);
  CHECK(l.begin() == l.end());
  CHECK(l.cbegin() == l.cend());
  CHECK(l.rbegin() == l.rend());
  CHECK(l.nth(0) == l.end());
  CHECK(l.index_of(l.end()) == 0);
  CHECK(l.memory_size() == 0);
  CHECK(l.slab_count() == 0);
  CHECK(l.sublayer_count() == 0);
  CHECK(l.check_invariants());
  l.sort();
  l.reverse();
  CHECK(l.empty());
}

TEST_CASE("ordered list: push_back and push_front keep insertion order") {
  for (std::size_t n : {1u, 2u, 61u, 62u, 63u, 124u, 125u, 1000u, 20000u}) {
    INFO("n = " << n);
    list_u64 l;
    std::deque<u64> d;
    for (u64 i = 0; i < n; ++i) {
      if (i % 3 == 0) {
        l.push_front(i);
        d.push_front(i);
      } else {
        l.push_back(i);
        d.push_back(i);
      }
      REQUIRE(l.front() == d.front());
      REQUIRE(l.back() == d.back());
    }
    REQUIRE(l.size() == n);
    REQUIRE(l.check_invariants());
    REQUIRE(std::equal(l.begin(), l.end(), d.begin(), d.end()));
    REQUIRE(std::equal(l.rbegin(), l.rend(), d.rbegin(), d.rend()));
  }
}

TEST_CASE("ordered list: appending or prepending fills slabs completely") {
  const std::size_t n = 100000, cap = list_u64::slab_capacity;
  list_u64 back, front;
  for (u64 i = 0; i < n; ++i) back.push_back(i);
  for (u64 i = 0; i < n; ++i) front.push_front(i);
  CHECK(back.slab_count() <= n / cap + 2);
  CHECK(front.slab_count() <= n / cap + 2);
  CHECK(back.sublayer_count() >= 1);
  CHECK(back.check_invariants());
  CHECK(front.check_invariants());
  CHECK(back.front() == 0);
  CHECK(front.front() == n - 1);
  // bytes per element: a 1 KiB slab per ~124 elements plus chunk slack
  CHECK(static_cast<double>(back.memory_size()) / n < 12.5);
}

TEST_CASE("ordered list: insert before a position returns the new element") {
  list_u64 l;
  std::vector<u64> v;
  std::mt19937_64 rng(7);
  for (u64 i = 0; i < 5000; ++i) {
    const std::size_t pos = rng() % (v.size() + 1);
    auto it = l.insert(l.nth(pos), i);
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(pos), i);
    REQUIRE(*it == i);
    REQUIRE(l.index_of(it) == pos);
  }
  REQUIRE(contents(l) == v);
  REQUIRE(l.check_invariants());
  // insert(end()) appends, insert(begin()) prepends; copies and moves
  const u64 x = 77;
  CHECK(*l.insert(l.end(), x) == 77);
  CHECK(l.back() == 77);
  CHECK(*l.insert(l.begin(), u64{88}) == 88);
  CHECK(l.front() == 88);
}

TEST_CASE("ordered list: emplace with a non-default-constructible type") {
  olist<slab_test::point> l;
  auto& a = l.emplace_back(1, 2);
  CHECK(a.x == 1);
  auto& b = l.emplace_front(3, 4);
  CHECK(b.y == 4);
  auto it = l.emplace(l.nth(1), 5, 6);
  CHECK(it->x == 5);
  CHECK(l.index_of(it) == 1);
  REQUIRE(l.size() == 3);
  CHECK(l[0].x == 3);
  CHECK(l[1].x == 5);
  CHECK(l[2].x == 1);
  CHECK(l.check_invariants());
}

TEST_CASE("ordered list: erase returns the element after the erased ones") {
  for (std::size_t n : {10u, 300u, 5000u}) {
    INFO("n = " << n);
    list_u64 l(deep_options());
    std::vector<u64> v(n);
    std::iota(v.begin(), v.end(), 0);
    for (u64 x : v) l.push_back(x);
    // single erase in the middle
    auto it = l.erase(l.nth(n / 2));
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(n / 2));
    CHECK(*it == v[n / 2]);
    // range erase
    const std::size_t a = n / 5, b = n / 2;
    it = l.erase(l.nth(a), l.nth(b));
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(a),
            v.begin() + static_cast<std::ptrdiff_t>(b));
    CHECK(*it == v[a]);
    REQUIRE(contents(l) == v);
    REQUIRE(l.check_invariants());
    // empty range erases nothing
    it = l.erase(l.nth(3), l.nth(3));
    CHECK(l.index_of(it) == 3);
    CHECK(l.size() == v.size());
    // erasing the last element returns end()
    CHECK(l.erase(std::prev(l.end())) == l.end());
    v.pop_back();
    // erase everything
    CHECK(l.erase(l.begin(), l.end()) == l.end());
    CHECK(l.empty());
    CHECK(l.check_invariants());
  }
}

TEST_CASE("ordered list: pop_front and pop_back") {
  list_u64 l(deep_options());
  std::deque<u64> d;
  for (u64 i = 0; i < 3000; ++i) {
    l.push_back(i);
    d.push_back(i);
  }
  while (!d.empty()) {
    if (d.size() % 2) {
      l.pop_front();
      d.pop_front();
    } else {
      l.pop_back();
      d.pop_back();
    }
    if (!d.empty()) {
      REQUIRE(l.front() == d.front());
      REQUIRE(l.back() == d.back());
    }
    REQUIRE(l.check_invariants());
  }
  CHECK(l.empty());
  CHECK(l.memory_size() == 0);
}

TEST_CASE(
    "ordered list: push_back and pop_front make a queue that shifts little") {
  // pop_front leaves a gap at the front of the first slab instead of
  // shifting the slab; a queue's elements are then moved O(1) times each.
  nexus::slab_list<move_counted, nexus::insertion_order> q;
  std::deque<u64> model;
  u64 next = 0;
  for (; next < 5000; ++next) {
    q.push_back(move_counted(next));
    model.push_back(next);
  }
  move_counted::moves = 0;
  constexpr int ops = 100000;
  for (int i = 0; i < ops; ++i) {
    q.push_back(move_counted(next));
    model.push_back(next++);
    REQUIRE(q.front().v == model.front());
    q.pop_front();
    model.pop_front();
  }
  // One move per push_back (into the slab), plus a little for slab
  // creation; shifting a slab per pop_front would be ~60 per operation.
  CHECK(move_counted::moves < 2L * ops);
  REQUIRE(q.check_invariants());
  REQUIRE(q.size() == model.size());
  u64 i = 0;
  for (const move_counted& m : q) REQUIRE(m.v == model[i++]);
}

TEST_CASE("ordered list: operator[], at and nth agree with a vector") {
  list_u64 l;
  std::vector<u64> v;
  for (u64 i = 0; i < 2000; ++i) {
    l.push_back(i * 3);
    v.push_back(i * 3);
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    REQUIRE(l[i] == v[i]);
    REQUIRE(l.at(i) == v[i]);
    REQUIRE(*l.nth(i) == v[i]);
    REQUIRE(l.index_of(l.nth(i)) == i);
  }
  const list_u64& c = l;
  CHECK(c[5] == 15);
  CHECK(c.at(6) == 18);
  CHECK(l.nth(l.size()) == l.end());
#if NEXUS_HAS_EXCEPTIONS
  CHECK_THROWS_AS(l.at(l.size()), std::out_of_range);
  CHECK_THROWS_AS(c.at(l.size() + 100), std::out_of_range);
  list_u64 e;
  CHECK_THROWS_AS(e.at(0), std::out_of_range);
#endif
}

TEST_CASE("ordered list: iterators, references and operator[] are mutable") {
  list_u64 l;
  for (u64 i = 0; i < 1000; ++i) l.push_back(i);
  for (auto it = l.begin(); it != l.end(); ++it) *it *= 2;
  for (u64& x : l) x += 1;
  l[10] = 5;
  l.at(11) = 6;
  l.front() = 100;
  l.back() = 200;
  *l.nth(12) = 7;
  *l.rbegin() += 1;
  CHECK(l[0] == 100);
  CHECK(l[1] == 3);
  CHECK(l[10] == 5);
  CHECK(l[11] == 6);
  CHECK(l[12] == 7);
  CHECK(l[999] == 201);
  // mixed iterator / const_iterator comparisons and conversions
  list_u64::iterator it = l.nth(3);
  list_u64::const_iterator cit = it;
  CHECK(it == cit);
  CHECK(cit == it);
  CHECK_FALSE(it != cit);
  CHECK(std::next(it) != cit);
  CHECK(l.index_of(cit) == 3);
  list_u64::const_reverse_iterator crit = l.rbegin();
  CHECK(*crit == 201);
  // std algorithms through mutable iterators
  std::fill(l.nth(100), l.nth(200), u64{9});
  CHECK(std::count(l.begin(), l.end(), u64{9}) >= 100);
  auto r = std::ranges::find(l, u64{6});  // every other value is odd
  CHECK(l.index_of(r) == 11);
}

TEST_CASE("ordered list: sort is stable") {
  olist<keyed> l(deep_options());
  std::vector<keyed> v;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 4000; ++i) {
    keyed k{static_cast<int>(rng() % 50), i};
    if (i % 2) {
      l.push_back(k);
      v.push_back(k);
    } else {
      l.push_front(k);
      v.insert(v.begin(), k);
    }
  }
  auto by_key = [](const keyed& a, const keyed& b) { return a.key < b.key; };
  const std::size_t slabs = l.slab_count();
  auto third = l.nth(1234);
  l.sort(by_key);
  std::stable_sort(v.begin(), v.end(), by_key);
  REQUIRE(contents(l) == v);
  CHECK(l.check_invariants());
  CHECK(l.slab_count() == slabs);    // structure kept
  CHECK(l.index_of(third) == 1234);  // iterators keep their positions
  CHECK(*third == v[1234]);
  // descending, still stable
  auto desc = [](const keyed& a, const keyed& b) { return a.key > b.key; };
  l.sort(desc);
  std::stable_sort(v.begin(), v.end(), desc);
  REQUIRE(contents(l) == v);
  // default comparator
  list_u64 n;
  for (u64 x : {5u, 3u, 9u, 1u}) n.push_back(x);
  n.sort();
  CHECK(contents(n) == std::vector<u64>{1, 3, 5, 9});
  n.sort(std::greater<>{});
  CHECK(contents(n) == std::vector<u64>{9, 5, 3, 1});
}

#if NEXUS_HAS_EXCEPTIONS
TEST_CASE("ordered list: a throwing comparator leaves every element in") {
  list_u64 l;
  for (u64 i = 0; i < 3000; ++i) l.push_back((i * 7919) % 3001);
  int calls = 0;
  auto bad = [&](u64 a, u64 b) {
    if (++calls == 2000) throw std::runtime_error("cmp");
    return a < b;
  };
  CHECK_THROWS_AS(l.sort(bad), std::runtime_error);
  auto v = contents(l);
  std::sort(v.begin(), v.end());
  std::vector<u64> want(3000);
  for (u64 i = 0; i < 3000; ++i) want[i] = (i * 7919) % 3001;
  std::sort(want.begin(), want.end());
  CHECK(v == want);
  CHECK(l.check_invariants());
}
#endif

TEST_CASE("ordered list: reverse") {
  for (std::size_t n : {0u, 1u, 2u, 3u, 124u, 125u, 999u, 10000u}) {
    INFO("n = " << n);
    olist<std::string> l(deep_options());
    std::vector<std::string> v;
    for (std::size_t i = 0; i < n; ++i) {
      l.push_back(std::to_string(i));
      v.push_back(std::to_string(i));
    }
    l.reverse();
    std::reverse(v.begin(), v.end());
    REQUIRE(contents(l) == v);
    l.reverse();
    std::reverse(v.begin(), v.end());
    REQUIRE(contents(l) == v);
    REQUIRE(l.check_invariants());
  }
}

TEST_CASE("ordered list: move-only elements") {
  using up = std::unique_ptr<int>;
  olist<up> l(deep_options());
  for (int i = 0; i < 3000; ++i) {
    if (i % 2)
      l.push_back(std::make_unique<int>(i));
    else
      l.insert(l.nth(l.size() / 2), std::make_unique<int>(i));
  }
  l.emplace_front(new int(-1));
  l.emplace(l.nth(5), new int(-2));
  REQUIRE(l.size() == 3002);
  CHECK(*l.front() == -1);
  CHECK(*l[5] == -2);
  l.sort([](const up& a, const up& b) { return *a < *b; });
  CHECK(*l.front() == -2);
  CHECK(*l.back() == 2999);
  for (std::size_t i = 2; i < l.size(); ++i) REQUIRE(*l[i] == int(i) - 2);
  l.reverse();
  CHECK(*l.front() == 2999);
  l.erase(l.begin(), l.nth(1000));
  l.pop_back();
  CHECK(l.size() == 2001);
  olist<up> m(std::move(l));
  CHECK(m.size() == 2001);
  CHECK(l.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  m.push_back(std::make_unique<int>(42));
  up x = std::make_unique<int>(43);
  CHECK(m.try_push_back(std::move(x)));
  CHECK(*m.back() == 43);
  CHECK(m.check_invariants());
}

TEST_CASE("ordered list: std::string copy, move, swap and equality") {
  olist<std::string> a(deep_options());
  for (int i = 0; i < 2500; ++i)
    a.push_back(std::string(static_cast<std::size_t>(i % 40), 'x') +
                std::to_string(i));
  olist<std::string> b = a;
  CHECK(a == b);
  CHECK(b.check_invariants());
  b[100] += "!";
  CHECK_FALSE(a == b);  // deep copy
  CHECK(a[100].back() != '!');
  b = a;
  CHECK(a == b);
  olist<std::string> c;
  c.push_back("c");
  swap(b, c);
  CHECK(b.size() == 1);
  CHECK(c == a);
  olist<std::string> d(std::move(c));
  CHECK(d == a);
  c = std::move(d);
  CHECK(c == a);
  c.clear();
  CHECK(c.empty());
  CHECK(c.memory_size() == 0);
  c.push_back("again");
  CHECK(c.size() == 1);
  olist<std::string> il{"x", "y", "z"};
  CHECK(il.size() == 3);
  CHECK(il[1] == "y");
  std::vector<std::string> src{"p", "q"};
  olist<std::string> fr(src.begin(), src.end());
  CHECK(fr.back() == "q");
}

TEST_CASE("ordered list: counting T is destroyed exactly once") {
  counted::reset();
  {
    olist<counted> l(deep_options());
    std::mt19937_64 rng(5);
    for (int i = 0; i < 6000; ++i) {
      const std::size_t pos = rng() % (l.size() + 1);
      l.emplace(l.nth(pos), i);
      if (i % 3 == 0) l.erase(l.nth(rng() % l.size()));
    }
    REQUIRE(counted::live() == static_cast<long>(l.size()));
    {
      olist<counted> copy = l;
      REQUIRE(counted::live() == 2 * static_cast<long>(l.size()));
      copy.sort(
          [](const counted& a, const counted& b) { return a.value < b.value; });
      copy.reverse();
      copy.erase(copy.nth(10), copy.nth(500));
      copy.pop_front();
      copy.pop_back();
    }
    REQUIRE(counted::live() == static_cast<long>(l.size()));
    nexus::erase_if(l, [](const counted& c) { return c.value % 2 == 0; });
    REQUIRE(counted::live() == static_cast<long>(l.size()));
    l.shrink_to_fit();
    REQUIRE(counted::live() == static_cast<long>(l.size()));
    REQUIRE(l.check_invariants());
  }
  CHECK(counted::live() == 0);
  CHECK(counted::double_destroys == 0);
}

#if NEXUS_HAS_EXCEPTIONS
TEST_CASE("ordered list: a throwing copy leaves the list unchanged") {
  counted::reset();
  {
    olist<counted> l;
    for (int i = 0; i < 500; ++i) l.emplace_back(i);
    const counted c(-5);
    counted::throw_countdown = 0;
    CHECK_THROWS_AS(l.push_back(c), std::runtime_error);
    counted::throw_countdown = 0;
    CHECK_THROWS_AS(l.insert(l.nth(3), c), std::runtime_error);
    counted::throw_countdown = 0;
    CHECK_THROWS_AS(l.push_front(c), std::runtime_error);
    counted::throw_countdown = -1;
    CHECK(l.size() == 500);
    CHECK(l.check_invariants());
    for (int i = 0; i < 500; ++i)
      REQUIRE(l[static_cast<std::size_t>(i)].value == i);
  }
  CHECK(counted::live() == 0);
}
#endif

TEST_CASE("ordered list: out of memory leaves the list unchanged") {
  using flist = olist<std::string, fault::region<>>;
  // Chunks grow geometrically, so 40000 strings need about 8 maps.
  for (long k = 0; k < 8; ++k) {
    INFO("the map that fails: " << k);
    fault::plan::reset();
    {
      flist l;
      fault::plan::fail_map_after(k);
      std::mt19937_64 rng(static_cast<u64>(k));
      bool failed = false;
      for (int i = 0; i < 40000 && !failed; ++i) {
        std::string v = "value-" + std::to_string(rng() % 1000000);
        const std::string copy = v;
        const bool front = i % 4 == 0;
        const bool ok = front ? l.try_push_front(std::move(v))
                              : l.try_push_back(std::move(v));
        if (ok) continue;
        // The same insert fails the same way through every entry point.
        failed = true;
        const std::vector<std::string> before = contents(l);
        REQUIRE(v == copy);  // argument untouched
        REQUIRE(l.check_invariants());
        fault::plan::fail_map_after(0);
        REQUIRE_FALSE(
            l.try_insert(front ? l.cbegin() : l.cend(), std::move(v)));
        REQUIRE(v == copy);
#if NEXUS_HAS_EXCEPTIONS
        fault::plan::fail_map_after(0);
        if (front)
          REQUIRE_THROWS_AS(l.push_front(copy), std::bad_alloc);
        else
          REQUIRE_THROWS_AS(l.push_back(copy), std::bad_alloc);
        fault::plan::fail_map_after(0);
        if (front)
          REQUIRE_THROWS_AS(l.emplace_front(copy), std::bad_alloc);
        else
          REQUIRE_THROWS_AS(l.emplace_back(copy), std::bad_alloc);
        fault::plan::fail_map_after(0);
        REQUIRE_THROWS_AS(l.insert(front ? l.begin() : l.end(), copy),
                          std::bad_alloc);
#endif
        fault::plan::disarm();
        REQUIRE(contents(l) == before);
        REQUIRE(l.check_invariants());
        CHECK(l.stats().rejected_inserts >= 2);
      }
      CHECK(failed);
      // Memory is back: the list keeps working.
      for (int i = 0; i < 2000; ++i) l.push_back("more-" + std::to_string(i));
      CHECK(l.check_invariants());
    }
    CHECK(fault::plan::live_maps() == 0);  // every chunk went back
  }
}

TEST_CASE("ordered list: memory stays near 2x the element bytes") {
  list_u64 l;
  const std::size_t n = 3 * list_u64::small_list_max;
  for (u64 i = 0; i < n; ++i) {
    if (i % 2)
      l.push_back(i);
    else
      l.push_front(i);
    INFO("size " << l.size());
    const double bytes = static_cast<double>(l.size() * sizeof(u64));
    if (l.size() <= list_u64::small_list_max) {
      REQUIRE(l.memory_size() <= 2 * l.size() * sizeof(u64) + 64);
    } else {
      // Slab mode: a partial slab at each end, a sublayer node and the
      // pool's chunk slack reach 2.03x just after sublayers attach.
      REQUIRE(static_cast<double>(l.memory_size()) <= 2.1 * bytes + 64);
    }
    if (l.size() < list_u64::small_list_max) REQUIRE(l.slab_count() == 0);
  }
  CHECK(l.slab_count() >= 3);
  while (l.size() > 1) {
    l.pop_front();
    REQUIRE(l.check_invariants());
  }
  CHECK(l.slab_count() == 0);  // back in small-list mode
  CHECK(l.memory_size() <= 2 * sizeof(u64) + 64);
  CHECK(l.front() == n - 1);  // the last push_back
}

TEST_CASE("ordered list: sublayers attach and detach") {
  list_u64 l(deep_options());
  std::size_t most = 0;
  for (u64 i = 0; i < 20000; ++i) {
    l.insert(l.nth(static_cast<std::size_t>(i * 7 % (l.size() + 1))), i);
    most = std::max<std::size_t>(most, l.sublayer_count());
  }
  CHECK(most >= 3);
  REQUIRE(l.check_invariants());
  for (std::size_t i = 0; i < l.size(); i += 97)
    REQUIRE(l.index_of(l.nth(i)) == i);
  while (!l.empty()) {
    l.erase(l.nth(l.size() / 3));
    if (l.size() % 512 == 0) REQUIRE(l.check_invariants());
  }
  CHECK(l.sublayer_count() == 0);
  CHECK(l.check_invariants());
}

TEST_CASE("ordered list: reserve then fill maps nothing more") {
  list_u64 l;
  l.reserve(50000);
  const std::size_t mem = l.memory_size();
  CHECK(mem > 0);
  for (u64 i = 0; i < 50000; ++i) {
    if (i % 2)
      l.push_back(i);
    else
      l.insert(l.nth(l.size() / 2), i);
  }
  CHECK(l.memory_size() == mem);
  l.erase(l.nth(100), l.nth(40000));
  l.shrink_to_fit();
  CHECK(l.memory_size() < mem);
  CHECK(l.check_invariants());
  CHECK(l.size() == 10100);
}

TEST_CASE("ordered list: random edits keep the minimum capacity ratio") {
  nexus::slab_list_options o;
  o.min_capacity_ratio = 0.85;
  list_u64 l(o);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 60000; ++i)
    l.insert(l.nth(rng() % (l.size() + 1)), u64(i));
  for (int i = 0; i < 40000; ++i) l.erase(l.nth(rng() % l.size()));
  REQUIRE(l.check_invariants());     // includes the ratio
  CHECK(l.stats().compactions > 0);  // the erases did need compaction
  CHECK(l.stats().merges > 0);
  CHECK(static_cast<double>(l.size()) >=
        0.85 * static_cast<double>(l.slab_count() * list_u64::slab_capacity));
}

TEST_CASE("ordered list: for_each_slab visits every element in order") {
  list_u64 l(deep_options());
  for (u64 i = 0; i < 5000; ++i) l.push_back(i);
  std::size_t calls = 0;
  u64 expect = 0;
  bool in_order = true;
  const list_u64& c = l;
  c.for_each_slab([&](std::span<const u64> s) {
    ++calls;
    for (u64 x : s) in_order = in_order && x == expect++;
  });
  CHECK(in_order);
  CHECK(expect == 5000);
  CHECK(calls == l.slab_count());
  // the mutable form edits in place
  l.for_each_slab([](std::span<u64> s) {
    for (u64& x : s) x *= 2;
  });
  CHECK(l[4999] == 9998);
  CHECK(l.check_invariants());
}

TEST_CASE("ordered list: folds match std::accumulate in list order") {
  olist<std::string> l(deep_options());
  std::string want;
  for (int i = 0; i < 3000; ++i) {
    std::string s(1, static_cast<char>('a' + i % 26));
    if (i % 3 == 0) {
      l.push_front(s);
      want.insert(0, s);
    } else {
      l.push_back(s);
      want += s;
    }
  }
  auto cat = [](std::string a, const std::string& x) { return a + x; };
  CHECK(l.fold_left(std::string(), cat) == want);
  auto rcat = [](const std::string& x, std::string a) { return a + x; };
  CHECK(l.fold_right(std::string(), rcat) ==
        std::string(want.rbegin(), want.rend()));
  CHECK(l.fold_left(l.nth(10), l.nth(20), std::string(), cat) ==
        want.substr(10, 10));
  auto join = [](std::string a, const std::string& b) { return a + b; };
  CHECK(l.fold(nexus::parallel, std::string(), cat, join, 2) == want);
}

TEST_CASE("ordered list: stats count inserts, erases and sublayer changes") {
  list_u64 l(deep_options());
  for (u64 i = 0; i < 4000; ++i) l.push_back(i);
  for (u64 i = 0; i < 1000; ++i) l.pop_front();
  const auto st = l.stats();
  CHECK(st.size == 3000);
  CHECK(st.inserts == 4000);
  CHECK(st.erases == 1000);
  CHECK(st.slabs == l.slab_count());
  CHECK(st.sublayers == l.sublayer_count());
  CHECK(st.sublayer_attaches >= 1);
  CHECK(st.slab_creates >= st.slabs);
}

// ---- bulk insertion, assign and resize ----

namespace {

// Where a bulk insert is tried: the front, the middle and the end.
std::vector<std::size_t> probe_positions(std::size_t n) {
  return {0, n / 2, n};
}

// Appends 0..n-1 (plus `first`) to both a list and a reference vector.
template <class L>
void fill_both(L& l, std::vector<u64>& v, std::size_t n, u64 first = 0) {
  for (std::size_t i = 0; i < n; ++i) {
    l.push_back(first + i);
    v.push_back(first + i);
  }
}

template <class V>
auto vpos(V& v, std::size_t i) {
  return v.begin() + static_cast<std::ptrdiff_t>(i);
}

template <class L>
std::vector<std::int64_t> values(const L& l) {
  std::vector<std::int64_t> out;
  for (const counted& c : l) out.push_back(c.value);
  return out;
}

std::vector<u64> iota_vec(std::size_t n, u64 first) {
  std::vector<u64> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

// A starting size and the position a bulk insert goes to.
struct bulk_case {
  std::size_t size0;
  std::size_t at;
};

template <class F>
void for_each_bulk_case(std::initializer_list<std::size_t> sizes, F f) {
  for (std::size_t size0 : sizes)
    for (std::size_t at : probe_positions(size0)) f(bulk_case{size0, at});
}

// Sorted-list API must not leak into the ordered list.
template <class L>
concept has_emplace_hint =
    requires(L& l) { l.emplace_hint(l.cbegin(), u64{1}); };
template <class L>
concept has_unpositioned_range_insert =
    requires(L& l, std::vector<u64>& v) { l.insert(v.begin(), v.end()); };
static_assert(!has_emplace_hint<list_u64>);
static_assert(!has_unpositioned_range_insert<list_u64>);

}  // namespace

TEST_CASE("ordered list: insert(pos, n, v) matches std::vector") {
  for_each_bulk_case({0, 5, 300, 3000}, [](bulk_case c) {
    for (std::size_t n : {0u, 1u, 7u, 600u, 5000u}) {
      INFO("size " << c.size0 << ", at " << c.at << ", n " << n);
      list_u64 l(deep_options());
      std::vector<u64> v;
      fill_both(l, v, c.size0);
      const auto it = l.insert(l.nth(c.at), n, u64{77});
      v.insert(vpos(v, c.at), n, u64{77});
      REQUIRE(l.check_invariants());
      REQUIRE(contents(l) == v);
      REQUIRE(l.index_of(it) == c.at);
      if (n != 0) REQUIRE(*it == 77);
      if (l.size() >= 5000) REQUIRE(l.sublayer_count() >= 2);
    }
  });
  // v may be an element of the list itself (inserting moves elements).
  list_u64 l{1, 2, 3, 4};
  const auto it = l.insert(l.nth(1), 1000, l[2]);
  CHECK(l.index_of(it) == 1);
  CHECK(l.check_invariants());
  std::vector<u64> want{1};
  want.insert(want.end(), 1000, 3);
  want.insert(want.end(), {2, 3, 4});
  CHECK(contents(l) == want);
}

TEST_CASE("ordered list: insert(pos, first, last) keeps order") {
  for_each_bulk_case({0, 5, 300, 3000}, [](bulk_case c) {
    for (std::size_t k : {0u, 1u, 9u, 700u, 5000u}) {
      INFO("size " << c.size0 << ", at " << c.at << ", k " << k);
      list_u64 l(deep_options());
      std::vector<u64> v;
      fill_both(l, v, c.size0);
      const std::vector<u64> src = iota_vec(k, 100000);
      const auto it = l.insert(l.nth(c.at), src.begin(), src.end());
      v.insert(vpos(v, c.at), src.begin(), src.end());
      REQUIRE(l.check_invariants());
      REQUIRE(contents(l) == v);
      REQUIRE(l.index_of(it) == c.at);
      if (k != 0) REQUIRE(*it == 100000);
    }
  });
  // From another slab list (bidirectional const_iterators).
  list_u64 a(deep_options());
  for (u64 i = 0; i < 5000; ++i) a.push_back(i);
  list_u64 b(deep_options());
  b.push_back(9);
  b.push_back(10);
  auto it = b.insert(b.nth(1), a.cbegin(), a.cend());
  CHECK(b.index_of(it) == 1);
  CHECK(b.size() == 5002);
  CHECK(b.front() == 9);
  CHECK(b[1] == 0);
  CHECK(b[5000] == 4999);
  CHECK(b.back() == 10);
  CHECK(b.sublayer_count() >= 2);
  CHECK(b.check_invariants());
  // A sentinel of another type: iota | take gives a counted_iterator and
  // std::default_sentinel_t.
  auto taken = std::views::iota(u64{500}) | std::views::take(40);
  it = b.insert(b.cend(), taken.begin(), taken.end());
  CHECK(b.index_of(it) == 5002);
  CHECK(b.size() == 5042);
  CHECK(b.back() == 539);
  CHECK(b.check_invariants());
  // An empty range inserts nothing and returns pos.
  const std::vector<u64> none;
  it = b.insert(b.nth(17), none.begin(), none.end());
  CHECK(b.index_of(it) == 17);
  CHECK(b.size() == 5042);
  it = b.insert(b.cend(), none.begin(), none.end());
  CHECK(it == b.end());
}

TEST_CASE("ordered list: insert(pos, il) matches std::vector") {
  list_u64 l{10, 20, 30};
  std::vector<u64> v{10, 20, 30};
  auto it = l.insert(l.nth(1), {1, 2, 3});
  v.insert(vpos(v, 1), {1, 2, 3});
  CHECK(l.index_of(it) == 1);
  CHECK(contents(l) == v);
  it = l.insert(l.cbegin(), {7});
  v.insert(v.begin(), {7});
  CHECK(it == l.begin());
  it = l.insert(l.cend(), {8, 9});
  v.insert(v.end(), {8, 9});
  CHECK(*it == 8);
  it = l.insert(l.nth(2), std::initializer_list<u64>{});
  CHECK(l.index_of(it) == 2);
  CHECK(contents(l) == v);
  CHECK(l.check_invariants());
  olist<std::string> s{"a", "d"};
  s.insert(s.nth(1), {"b", "c"});
  CHECK(contents(s) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(s.check_invariants());
}

TEST_CASE("ordered list: range insert and assign take input-only iterators") {
  std::string text;
  std::vector<u64> src;
  for (u64 i = 0; i < 3000; ++i) {
    text += std::to_string(i * 3) + ' ';
    src.push_back(i * 3);
  }
  list_u64 l(deep_options());
  std::vector<u64> v;
  fill_both(l, v, 100);
  std::istringstream in(text);
  auto it = l.insert(l.nth(50), std::istream_iterator<u64>(in),
                     std::istream_iterator<u64>());
  v.insert(vpos(v, 50), src.begin(), src.end());
  CHECK(l.index_of(it) == 50);
  CHECK(contents(l) == v);
  CHECK(l.check_invariants());
  std::istringstream empty;
  it = l.insert(l.nth(7), std::istream_iterator<u64>(empty),
                std::istream_iterator<u64>());
  CHECK(l.index_of(it) == 7);
  CHECK(contents(l) == v);
  // istream_view: a move-only iterator and a sentinel of another type.
  std::istringstream in2(text);
  l.append_range(std::ranges::istream_view<u64>(in2));
  v.insert(v.end(), src.begin(), src.end());
  CHECK(contents(l) == v);
  CHECK(l.check_invariants());
  std::istringstream in3(text);
  l.assign(std::istream_iterator<u64>(in3), std::istream_iterator<u64>());
  CHECK(contents(l) == src);
  CHECK(l.check_invariants());
}

TEST_CASE("ordered list: range insert moves move-only elements") {
  using up = std::unique_ptr<int>;
  auto make = [](int first, int n) {
    std::vector<up> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<int>(first + i));
    return v;
  };
  olist<up> l(deep_options());
  for (int i = 0; i < 10; ++i) l.push_back(std::make_unique<int>(i));
  std::vector<up> src = make(1000, 5000);
  auto it = l.insert(l.nth(5), std::make_move_iterator(src.begin()),
                     std::make_move_iterator(src.end()));
  CHECK(l.index_of(it) == 5);
  CHECK(**it == 1000);
  REQUIRE(l.size() == 5010);
  CHECK(l.sublayer_count() >= 2);
  CHECK(l.check_invariants());
  CHECK(std::all_of(src.begin(), src.end(), [](const up& p) { return !p; }));
  for (std::size_t i = 0; i < 5; ++i) REQUIRE(*l[i] == int(i));
  for (std::size_t i = 0; i < 5000; ++i) REQUIRE(*l[5 + i] == 1000 + int(i));
  for (std::size_t i = 5; i < 10; ++i) REQUIRE(*l[5000 + i] == int(i));
  // prepend_range over a range of move_iterators.
  std::vector<up> more = make(-3, 3);
  l.prepend_range(std::ranges::subrange(std::make_move_iterator(more.begin()),
                                        std::make_move_iterator(more.end())));
  CHECK(*l.front() == -3);
  CHECK(*l[2] == -1);
  CHECK(*l[3] == 0);
  // resize appends null pointers (value-initialized) and truncates.
  l.resize(l.size() + 3);
  CHECK(l.size() == 5016);
  CHECK(!l.back());
  l.resize(4);
  CHECK(*l.back() == 0);
  // assign takes move_iterators too.
  std::vector<up> fresh = make(50, 700);
  l.assign(std::make_move_iterator(fresh.begin()),
           std::make_move_iterator(fresh.end()));
  CHECK(l.size() == 700);
  CHECK(*l.front() == 50);
  CHECK(*l.back() == 749);
  CHECK(l.check_invariants());
}

TEST_CASE(
    "ordered list: insert_range, append_range and prepend_range match "
    "std::vector") {
  list_u64 l(deep_options());
  std::vector<u64> v;
  const std::vector<u64> big = iota_vec(5000, 1);
  l.append_range(big);
  v.insert(v.end(), big.begin(), big.end());
  CHECK(contents(l) == v);
  CHECK(l.sublayer_count() >= 2);
  l.prepend_range(std::views::iota(u64{90000}, u64{90700}));
  const std::vector<u64> front = iota_vec(700, 90000);
  v.insert(v.begin(), front.begin(), front.end());
  CHECK(contents(l) == v);
  auto it = l.insert_range(l.nth(1234),
                           std::views::iota(u64{7}) | std::views::take(300));
  const std::vector<u64> mid = iota_vec(300, 7);
  v.insert(vpos(v, 1234), mid.begin(), mid.end());
  CHECK(l.index_of(it) == 1234);
  CHECK(contents(l) == v);
  it = l.insert_range(l.cend(), std::vector<u64>{});
  CHECK(it == l.end());
  l.append_range(std::vector<u64>{});
  l.prepend_range(std::vector<u64>{});
  CHECK(contents(l) == v);
  CHECK(l.check_invariants());
  // Copies from an lvalue range leave it intact.
  olist<std::string> s;
  const std::vector<std::string> words{"x", "y", "z"};
  s.append_range(words);
  s.prepend_range(words);
  s.insert_range(s.nth(3), words);
  CHECK(contents(s) ==
        std::vector<std::string>{"x", "y", "z", "x", "y", "z", "x", "y", "z"});
  CHECK(words.size() == 3);
  CHECK(s.check_invariants());
}

TEST_CASE("ordered list: assign replaces the contents and keeps the options") {
  list_u64 l(deep_options());
  for (u64 i = 0; i < 3000; ++i) l.push_back(i);
  l.assign(5000, u64{4});
  CHECK(contents(l) == std::vector<u64>(5000, 4));
  CHECK(l.options().sublayer_fanout == 4);
  CHECK(l.sublayer_count() >= 2);
  CHECK(l.check_invariants());
  l.assign(0, u64{1});
  CHECK(l.empty());
  CHECK(l.check_invariants());
  const std::vector<u64> src = iota_vec(700, 3);
  l.assign(src.begin(), src.end());
  CHECK(contents(l) == src);
  CHECK(l.check_invariants());
  l.assign(src.begin(), src.begin());
  CHECK(l.empty());
  l.assign({1, 2, 3});
  CHECK(contents(l) == std::vector<u64>{1, 2, 3});
  // The source may be the list itself.
  l.assign(l.nth(1), l.cend());
  CHECK(contents(l) == std::vector<u64>{2, 3});
  l.assign(4, l[1]);
  CHECK(contents(l) == std::vector<u64>{3, 3, 3, 3});
  l.assign(std::initializer_list<u64>{});
  CHECK(l.empty());
  CHECK(l.check_invariants());
}

TEST_CASE(
    "ordered list: resize appends T() or copies and erases from the back") {
  list_u64 l(deep_options());
  std::vector<u64> v;
  bool with_value = false;
  for (std::size_t n : {0u, 10u, 3u, 700u, 700u, 5000u, 128u, 0u, 5u, 600u}) {
    INFO("resize to " << n);
    if (with_value) {
      l.resize(n, u64{9});
      v.resize(n, u64{9});
    } else {
      l.resize(n);
      v.resize(n);
    }
    with_value = !with_value;
    REQUIRE(l.check_invariants());
    REQUIRE(contents(l) == v);
  }
  // v may be an element of the list itself.
  l[0] = 42;
  v[0] = 42;
  l.resize(l.size() + 600, l[0]);
  v.resize(v.size() + 600, u64{42});
  CHECK(contents(l) == v);
  CHECK(l.check_invariants());
  olist<std::string> s{"a"};
  s.resize(3);
  s.resize(5, "x");
  CHECK(contents(s) == std::vector<std::string>{"a", "", "", "x", "x"});
  s.resize(2);
  CHECK(contents(s) == std::vector<std::string>{"a", ""});
  CHECK(s.check_invariants());
}

#if NEXUS_HAS_EXCEPTIONS
namespace {

// The bulk operations whose failure must leave the list as it was.
enum class bulk_op { insert_n, insert_range, resize, append_range };
constexpr bulk_op kBulkOps[] = {bulk_op::insert_n, bulk_op::insert_range,
                                bulk_op::resize, bulk_op::append_range};

// Inserts src.size() elements (copies of src, or of c) in the middle or at
// the end of l; returns the position of the first.
template <class L>
std::size_t run_bulk(L& l, bulk_op op, const std::vector<counted>& src,
                     const counted& c) {
  const std::size_t mid = l.size() / 2, end = l.size();
  switch (op) {
    case bulk_op::insert_n:
      l.insert(l.nth(mid), src.size(), c);
      return mid;
    case bulk_op::insert_range:
      l.insert(l.nth(mid), src.begin(), src.end());
      return mid;
    case bulk_op::resize:
      l.resize(l.size() + src.size(), c);
      return end;
    case bulk_op::append_range:
      l.append_range(src);
      return end;
  }
  return end;
}

}  // namespace

TEST_CASE(
    "ordered list: out of memory undoes a range insert, n-insert or resize") {
  using flist = olist<counted, fault::region<>>;
  counted::reset();
  {
    std::vector<counted> src;
    for (int i = 0; i < 8000; ++i) src.emplace_back(1000000 + i);
    const counted c(-7);
    const long extra = static_cast<long>(src.size()) + 1;
    for (std::size_t size0 : {0u, 200u, 3000u}) {
      for (bulk_op op : kBulkOps) {
        bool succeeded = false;
        long failed_maps = 0;
        for (long k = 0; !succeeded; ++k) {
          INFO("size " << size0 << ", op " << static_cast<int>(op)
                       << ", the map that fails: " << k);
          REQUIRE(k < 64);
          fault::plan::reset();
          {
            flist l(deep_options());
            for (std::size_t i = 0; i < size0; ++i)
              l.emplace_back(static_cast<std::int64_t>(i));
            const std::vector<std::int64_t> before = values(l);
            fault::plan::fail_map_after(k);
            try {
              run_bulk(l, op, src, c);
              succeeded = true;
            } catch (const std::bad_alloc&) {
              REQUIRE(fault::plan::failures == 1);
              ++failed_maps;
            }
            fault::plan::disarm();
            REQUIRE(l.check_invariants());
            if (succeeded) {
              REQUIRE(l.size() == size0 + src.size());
            } else {
              REQUIRE(values(l) == before);
              REQUIRE(counted::live() == static_cast<long>(l.size()) + extra);
              // The list keeps working after the failure.
              l.emplace_back(-1);
              REQUIRE(l.back().value == -1);
              REQUIRE(l.check_invariants());
            }
          }
          REQUIRE(counted::live() == extra);
          REQUIRE(fault::plan::live_maps() == 0);
        }
        // Every map the operation makes was made to fail once.
        CHECK(failed_maps >= 3);
      }
    }
  }
  CHECK(counted::live() == 0);
  CHECK(counted::double_destroys == 0);
}

TEST_CASE(
    "ordered list: a throwing copy undoes a range insert, n-insert or resize") {
  counted::reset();
  {
    std::vector<counted> src;
    for (int i = 0; i < 600; ++i) src.emplace_back(1000 + i);
    const counted c(-7);
    const long extra = static_cast<long>(src.size()) + 1;
    std::vector<long> ks;
    for (long k = 0; k < 20; ++k) ks.push_back(k);
    for (long k = 20; k < 600; k += 37) ks.push_back(k);
    ks.push_back(599);
    ks.push_back(600);  // insert_n and resize copy c once more than src
    ks.push_back(601);  // nothing throws
    for (std::size_t size0 : {0u, 100u, 2000u}) {
      olist<counted> l(deep_options());
      for (std::size_t i = 0; i < size0; ++i)
        l.emplace_back(static_cast<std::int64_t>(i));
      const std::vector<std::int64_t> before = values(l);
      for (bulk_op op : kBulkOps) {
        for (long k : ks) {
          INFO("size " << size0 << ", op " << static_cast<int>(op)
                       << ", the copy that throws: " << k);
          counted::throw_countdown = k;
          bool threw = false;
          std::size_t at = 0;
          try {
            at = run_bulk(l, op, src, c);
          } catch (const std::runtime_error&) {
            threw = true;
          }
          counted::throw_countdown = -1;
          REQUIRE(l.check_invariants());
          if (!threw) {
            REQUIRE(k >= 600);
            REQUIRE(l.size() == size0 + src.size());
            // back to the old contents
            l.erase(l.nth(at), l.nth(at + src.size()));
          }
          REQUIRE(values(l) == before);
          REQUIRE(counted::live() == static_cast<long>(l.size()) + extra);
        }
      }
    }
  }
  CHECK(counted::live() == 0);
  CHECK(counted::double_destroys == 0);
}
#endif
