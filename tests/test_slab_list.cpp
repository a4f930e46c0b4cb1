// SPDX-License-Identifier: MIT OR Apache-2.0
// Unit tests for nexus::slab_list / nexus::slab_multilist: every operation of
// the API, element lifetimes, move-only T, stateful comparators, memory
// bounds in small-list mode, out-of-memory behaviour, mlock and shrink.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <nexus/heap_region.hpp>
#include <nexus/slab_list.hpp>
#include <random>
#include <ranges>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "catch_shim.hpp"
#include "move_counted.hpp"
#include "os_probe.hpp"

namespace {

using nexus_test::move_counted;

using u64 = std::uint64_t;
using list_u64 = nexus::slab_list<u64>;

static_assert(list_u64::slab_capacity >= 119);
static_assert(std::is_nothrow_move_constructible_v<list_u64>);
static_assert(std::is_nothrow_move_assignable_v<list_u64>);
static_assert(std::bidirectional_iterator<list_u64::const_iterator>);
static_assert(std::is_same_v<decltype(std::declval<list_u64&>().insert(u64{})),
                             std::pair<list_u64::iterator, bool>>);
static_assert(
    std::is_same_v<
        decltype(std::declval<nexus::slab_multilist<u64>&>().insert(u64{})),
        nexus::slab_multilist<u64>::iterator>);

template <class L>
std::vector<typename L::value_type> contents(const L& l) {
  return {l.begin(), l.end()};
}

// A shuffled 0..n-1 (times `stride`) so inserts land all over the list.
std::vector<u64> shuffled(std::size_t n, u64 stride = 1, u64 seed = 7) {
  std::vector<u64> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i * stride;
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  return v;
}

// Counts live objects so tests can prove each element is destroyed once.
struct counted {
  static inline long live = 0;
  static inline long destroyed_twice = 0;
  u64 v;
  bool alive = true;
  explicit counted(u64 x) : v(x) { ++live; }
  counted(const counted& o) : v(o.v) { ++live; }
  counted(counted&& o) noexcept : v(o.v) { ++live; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() {
    if (!alive) ++destroyed_twice;
    alive = false;
    --live;
  }
  friend bool operator<(const counted& a, const counted& b) {
    return a.v < b.v;
  }
};

// Move-only element ordered by its pointee.
struct by_pointee {
  bool operator()(const std::unique_ptr<int>& a,
                  const std::unique_ptr<int>& b) const {
    return *a < *b;
  }
};

// A comparator with state: sorts ascending or descending.
struct directed {
  bool descending = false;
  bool operator()(u64 a, u64 b) const { return descending ? b < a : a < b; }
};

// A region that refuses the k-th and later maps (fault injection).
struct fault_plan {
  static inline long maps_left = LONG_MAX;
};
class faulty_region {
 public:
  faulty_region() = default;
  faulty_region(faulty_region&&) noexcept = default;
  faulty_region& operator=(faulty_region&&) noexcept = default;
  std::error_code map(std::size_t n, const nexus::region_options& o) {
    if (fault_plan::maps_left <= 0)
      return std::make_error_code(std::errc::not_enough_memory);
    --fault_plan::maps_left;
    return r_.map(n,
                  nexus::region_options{nexus::huge_pages::none, o.prefault});
  }
  void unmap() noexcept { r_.unmap(); }
  void* data() const noexcept { return r_.data(); }
  std::size_t size() const noexcept { return r_.size(); }
  bool empty() const noexcept { return r_.empty(); }
  std::error_code lock() { return r_.lock(); }
  std::error_code unlock() { return r_.unlock(); }
  bool locked() const noexcept { return r_.locked(); }
  std::error_code collapse() { return r_.collapse(); }
  static std::size_t granularity(nexus::huge_pages) noexcept { return 4096; }

 private:
  nexus::heap_region r_;
};
static_assert(nexus::region<faulty_region>);

}  // namespace

TEST_CASE("empty slab_list has no elements and no memory") {
  list_u64 l;
  CHECK(l.empty());
  CHECK(l.size() == 0);
  CHECK(l.begin() == l.end());
  CHECK(l.rbegin() == l.rend());
  CHECK(l.find(3) == l.end());
  CHECK_FALSE(l.contains(3));
  CHECK(l.count(3) == 0);
  CHECK(l.erase(3) == 0);
  CHECK(l.lower_bound(3) == l.end());
  CHECK(l.nth(0) == l.end());
  CHECK(l.memory_size() == 0);
  CHECK(l.slab_count() == 0);
  CHECK(l.sublayer_count() == 0);
  CHECK(l.check_invariants());
}

TEST_CASE("insert keeps elements sorted and unique") {
  list_u64 l;
  for (u64 k : shuffled(5000, 3)) {
    auto [it, inserted] = l.insert(k);
    REQUIRE(inserted);
    REQUIRE(*it == k);
  }
  REQUIRE(l.size() == 5000);
  REQUIRE(l.check_invariants());
  auto [it, inserted] = l.insert(u64{300});
  CHECK_FALSE(inserted);
  CHECK(*it == 300);
  CHECK(l.size() == 5000);
  CHECK(std::is_sorted(l.begin(), l.end()));
  CHECK(std::adjacent_find(l.begin(), l.end()) == l.end());
  CHECK(l.front() == 0);
  CHECK(l.back() == 4999 * 3);
  CHECK(l.slab_count() > 1);
}

TEST_CASE("emplace, rvalue insert and insert_or_replace") {
  nexus::slab_list<std::string> l;
  auto [a, ins_a] = l.emplace(5, 'x');
  CHECK(ins_a);
  CHECK(*a == "xxxxx");
  std::string s = "hello";
  auto [b, ins_b] = l.insert(std::move(s));
  CHECK(ins_b);
  CHECK(*b == "hello");
  // Replacing returns the old element; equivalence is by the comparator, so
  // use one that only looks at the first character.
  struct first_char {
    bool operator()(const std::string& x, const std::string& y) const {
      return x[0] < y[0];
    }
  };
  nexus::slab_list<std::string, first_char> f;
  CHECK_FALSE(f.insert_or_replace("apple").has_value());
  auto old = f.insert_or_replace("avocado");
  REQUIRE(old.has_value());
  CHECK(*old == "apple");
  CHECK(f.size() == 1);
  CHECK(*f.begin() == "avocado");
}

TEST_CASE("lookups: find, contains, count, bounds, equal_range") {
  list_u64 l;
  for (u64 k : shuffled(20000, 2)) l.insert(k);  // even numbers 0..39998
  for (u64 q = 0; q < 40010; q += 7) {
    INFO("q = " << q);
    const bool present = q % 2 == 0 && q < 40000;
    REQUIRE(l.contains(q) == present);
    REQUIRE(l.count(q) == (present ? 1u : 0u));
    auto lb = l.lower_bound(q);
    auto ub = l.upper_bound(q);
    const u64 want_lb = (q + 1) / 2 * 2;
    const u64 want_ub = q / 2 * 2 + 2;
    if (want_lb < 40000)
      REQUIRE(*lb == want_lb);
    else
      REQUIRE(lb == l.end());
    if (want_ub < 40000)
      REQUIRE(*ub == want_ub);
    else
      REQUIRE(ub == l.end());
    auto [a, b] = l.equal_range(q);
    REQUIRE(a == lb);
    REQUIRE(b == ub);
  }
}

TEST_CASE("heterogeneous lookup with a transparent comparator") {
  nexus::slab_list<std::string, std::less<>> l;
  for (int i = 0; i < 500; ++i) l.insert("key" + std::to_string(i));
  std::string_view k = "key42";
  CHECK(l.contains(k));
  CHECK(*l.find(k) == "key42");
  CHECK(l.count(std::string_view("nope")) == 0);
  CHECK(*l.lower_bound(std::string_view("key420")) == "key420");
  CHECK(l.erase(std::string_view("key42")) == 1);
  CHECK_FALSE(l.contains(k));
  CHECK(l.check_invariants());
}

TEST_CASE("erase by key, iterator and range") {
  list_u64 l;
  std::set<u64> ref;
  for (u64 k : shuffled(30000)) {
    l.insert(k);
    ref.insert(k);
  }
  // erase(iterator) returns the following element.
  auto it = l.find(1000);
  auto next = l.erase(it);
  ref.erase(1000);
  REQUIRE(next != l.end());
  CHECK(*next == 1001);
  // erase(range) over many slabs.
  auto first = l.lower_bound(5000), last = l.lower_bound(17000);
  auto after = l.erase(first, last);
  ref.erase(ref.lower_bound(5000), ref.lower_bound(17000));
  CHECK(*after == 17000);
  CHECK(l.size() == ref.size());
  CHECK(contents(l) == std::vector<u64>(ref.begin(), ref.end()));
  // Erase every remaining key twice: the second time it is absent (and it
  // may have been a slab's maximum).
  for (u64 k : shuffled(30000)) {
    REQUIRE(l.erase(k) == ref.erase(k));
    REQUIRE(l.erase(k) == 0);
  }
  CHECK(l.empty());
  CHECK(l.check_invariants());
  CHECK(l.erase(l.begin(), l.end()) == l.end());
}

TEST_CASE("erase of an absent key equal to a slab's former maximum") {
  list_u64 l;
  for (u64 k = 0; k < 4000; ++k) l.insert(k);
  // The last element of every slab is the element before each slab start;
  // find slab boundaries through iteration of nth over capacity multiples.
  std::vector<u64> maxima;
  for (auto it = l.begin(); it != l.end();) {
    auto nx = std::next(it);
    if (nx == l.end() || &*nx != &*it + 1) maxima.push_back(*it);  // slab ends
    it = nx;
  }
  REQUIRE(maxima.size() == l.slab_count());
  for (u64 m : maxima) {
    REQUIRE(l.erase(m) == 1);
    REQUIRE(l.erase(m) == 0);
    REQUIRE_FALSE(l.contains(m));
    REQUIRE(l.check_invariants());
  }
}

TEST_CASE("nexus::erase_if removes matching elements") {
  list_u64 l;
  for (u64 k : shuffled(50000)) l.insert(k);
  const auto removed = nexus::erase_if(l, [](u64 x) { return x % 3 != 0; });
  CHECK(removed == 50000 - 16667);
  CHECK(l.size() == 16667);
  CHECK(l.check_invariants());
  u64 expect = 0;
  for (u64 x : l) {
    REQUIRE(x == expect);
    expect += 3;
  }
  nexus::slab_multilist<u64> m;
  for (int i = 0; i < 100; ++i) m.insert(u64(i % 10));
  CHECK(nexus::erase_if(m, [](u64 x) { return x == 4; }) == 10);
  CHECK(m.count(4) == 0);
  CHECK(m.size() == 90);
}

TEST_CASE("front, back, pop_front, pop_back") {
  list_u64 l;
  for (u64 k : shuffled(1000)) l.insert(k);
  for (u64 i = 0; i < 400; ++i) {
    REQUIRE(l.front() == i);
    REQUIRE(l.back() == 999 - i);
    l.pop_front();
    l.pop_back();
  }
  CHECK(l.size() == 200);
  CHECK(l.front() == 400);
  CHECK(l.back() == 599);
  CHECK(l.check_invariants());
}

TEST_CASE("erasing at a slab's front shifts nothing") {
  nexus::slab_list<move_counted> l;
  for (u64 i = 0; i < 20000; ++i) l.insert(move_counted(i));
  REQUIRE(l.check_invariants());
  // Ascending inserts leave full slabs: popping the smallest key used to
  // shift a whole slab (~124 moves) each time.
  // What still moves: when an emptied slab leaves its parent node, the
  // node's separator keys after it shift (under 40 per 124 erasures).
  move_counted::moves = 0;
  for (u64 i = 0; i < 5000; ++i) {
    REQUIRE(l.front().v == i);
    l.pop_front();
  }
  CHECK(move_counted::moves < 5000 / 2);
  move_counted::moves = 0;
  for (u64 i = 5000; i < 10000; ++i) REQUIRE(l.erase(move_counted(i)) == 1);
  CHECK(move_counted::moves < 5000 / 2);
  REQUIRE(l.check_invariants());
  CHECK(l.size() == 10000);
  CHECK(l.front().v == 10000);
}

TEST_CASE("inserting into a slab's front half shifts only the front part") {
  nexus::slab_list<move_counted> l;
  for (u64 i = 0; i < 4000; ++i) l.insert(move_counted(2 * i + 100));
  // Make room at the front of the first slab, then insert just after its
  // first element: the moves are the elements before the position (one)
  // plus the inserted value, not the ~120 after it.
  l.pop_front();
  l.pop_front();
  const std::size_t slabs = l.slab_count();
  move_counted::moves = 0;
  REQUIRE(l.insert(move_counted(105)).second);
  CHECK(move_counted::moves <= 3);
  CHECK(l.slab_count() == slabs);
  REQUIRE(l.check_invariants());
  std::vector<u64> got;
  for (const auto& x : l) got.push_back(x.v);
  CHECK(std::is_sorted(got.begin(), got.end()));
  CHECK(got[0] == 104);
  CHECK(got[1] == 105);
  CHECK(got[2] == 106);
}

TEST_CASE("a sorted list used as a FIFO keeps its slabs and its order") {
  // Keys arrive ascending and leave from the front (timestamps, sequence
  // numbers): each slab's front gap grows until the slab empties.
  nexus::slab_list<u64> l;
  std::set<u64> model;
  u64 next = 0;
  for (; next < 3000; ++next) {
    l.insert(next);
    model.insert(next);
  }
  std::mt19937_64 rng(11);
  for (int step = 0; step < 200000; ++step) {
    if (rng() % 2 != 0 || model.size() < 600) {
      l.insert(next);
      model.insert(next++);
    } else {
      REQUIRE(l.front() == *model.begin());
      l.pop_front();
      model.erase(model.begin());
    }
    if (step % 4096 == 0) {
      REQUIRE(l.check_invariants());
      REQUIRE(l.size() == model.size());
      REQUIRE(std::equal(l.begin(), l.end(), model.begin(), model.end()));
    }
  }
  REQUIRE(l.check_invariants());
  CHECK(std::equal(l.begin(), l.end(), model.begin(), model.end()));
}

TEST_CASE("keys at either end of every slab and node: ascending, descending") {
  // Inserts and erases check a slab's (and a node's) two ends before
  // searching it; this drives every operation through those ends, with
  // duplicates at the ends for the multilist.
  nexus::slab_list_options o;
  o.sublayer_threshold = 4;
  o.sublayer_fanout = 8;
  nexus::slab_list<u64> l(o);
  nexus::slab_multilist<u64> m(o);
  std::set<u64> ls;
  std::multiset<u64> ms;
  auto same = [&] {
    REQUIRE(l.check_invariants());
    REQUIRE(m.check_invariants());
    REQUIRE(std::equal(l.begin(), l.end(), ls.begin(), ls.end()));
    REQUIRE(std::equal(m.begin(), m.end(), ms.begin(), ms.end()));
  };
  for (u64 i = 0; i < 6000; ++i) {  // ascending, then descending below 0
    const u64 up = 1'000'000 + i, down = 999'999 - i;
    REQUIRE(l.insert(up).second == ls.insert(up).second);
    REQUIRE(l.insert(down).second == ls.insert(down).second);
    REQUIRE_FALSE(l.insert(up).second);  // equal to the current maximum
    m.insert(up);
    m.insert(up);
    m.insert(down);
    ms.insert(up);
    ms.insert(up);
    ms.insert(down);
    if (i % 997 == 0) same();
  }
  same();
  CHECK(l.sublayer_count() >= 3);
  // Erase from both ends by key, including keys just past each end.
  for (int i = 0; i < 5000; ++i) {
    const u64 lo = *ls.begin(), hi = *ls.rbegin();
    REQUIRE(l.erase(lo - 1) == 0);
    REQUIRE(l.erase(hi + 1) == 0);
    REQUIRE(l.erase(lo) == 1);
    REQUIRE(l.erase(hi) == 1);
    ls.erase(lo);
    ls.erase(hi);
    const u64 mlo = *ms.begin(), mhi = *ms.rbegin();
    REQUIRE(m.erase(mlo) == ms.erase(mlo));
    REQUIRE(m.erase(mhi) == ms.erase(mhi));
    if (i % 499 == 0) same();
  }
  same();
}

TEST_CASE("nth and index_of are consistent over 10^5+ elements") {
  list_u64 l;
  const std::size_t n = 150000;
  for (u64 k : shuffled(n, 5)) l.insert(k);
  REQUIRE(l.sublayer_count() >= 1);
  REQUIRE(l.check_invariants());
  for (std::size_t i = 0; i < n; i += 13) {
    auto it = l.nth(i);
    REQUIRE(*it == i * 5);
    REQUIRE(l.index_of(it) == i);
  }
  CHECK(l.nth(n) == l.end());
  CHECK(l.index_of(l.end()) == n);
  CHECK(l.index_of(l.begin()) == 0);
}

TEST_CASE("iterators walk both ways and reverse iterators mirror them") {
  list_u64 l;
  for (u64 k : shuffled(3000)) l.insert(k);
  std::vector<u64> fwd(l.begin(), l.end());
  std::vector<u64> rev(l.rbegin(), l.rend());
  std::reverse(rev.begin(), rev.end());
  CHECK(fwd == rev);
  auto it = l.end();
  for (u64 i = 3000; i-- > 0;) {
    --it;
    REQUIRE(*it == i);
  }
  CHECK(it == l.begin());
}

TEST_CASE("copies are deep, moves and swaps transfer contents, == compares") {
  list_u64 a;
  for (u64 k : shuffled(10000)) a.insert(k);
  list_u64 b(a);
  CHECK(a == b);
  CHECK(b.check_invariants());
  b.erase(5);
  CHECK(a.contains(5));
  CHECK_FALSE(a == b);
  list_u64 c(std::move(b));
  CHECK(c.size() == 9999);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(b.check_invariants());
  b.insert(1);  // moved-from list is usable
  CHECK(b.size() == 1);
  swap(b, c);
  CHECK(b.size() == 9999);
  CHECK(c.size() == 1);
  list_u64 d;
  d = a;
  CHECK(d == a);
  d = std::move(c);
  CHECK(d.size() == 1);
  nexus::slab_list<std::string> s1{"a", "bb", "ccc"};
  nexus::slab_list<std::string> s2 = s1;
  CHECK(s1 == s2);
}

TEST_CASE("every element is destroyed exactly once") {
  counted::live = 0;
  counted::destroyed_twice = 0;
  {
    nexus::slab_list<counted> l;
    for (u64 k : shuffled(20000)) l.emplace(k);
    for (u64 k : shuffled(20000)) l.insert(counted(k));  // duplicates
    // Sublayers hold copies of some elements as separators, so live objects
    // are the elements plus a few hundred keys.
    CHECK(counted::live >= 20000);
    CHECK(counted::live < 21000);
    for (u64 k = 0; k < 20000; k += 2) l.erase(counted(k));
    CHECK(counted::live >= 10000);
    CHECK(counted::live < 11000);
    nexus::slab_list<counted> copy(l);
    CHECK(counted::live >= 20000);
    nexus::erase_if(copy, [](const counted& c) { return c.v % 4 == 1; });
    copy.shrink_to_fit();
    CHECK(copy.check_invariants());
    l.clear();
    CHECK(counted::live >= 5000);
    CHECK(counted::live < 5500);
    auto old = copy.insert_or_replace(counted(3));
    CHECK(old.has_value());
  }
  CHECK(counted::live == 0);
  CHECK(counted::destroyed_twice == 0);
}

TEST_CASE("move-only elements work (separators are not copied)") {
  nexus::slab_list<std::unique_ptr<int>, by_pointee> l;
  for (u64 k : shuffled(20000))
    l.insert(std::make_unique<int>(static_cast<int>(k)));
  CHECK(l.size() == 20000);
  CHECK(l.sublayer_count() >= 1);
  CHECK(l.check_invariants());
  auto probe = std::make_unique<int>(777);
  CHECK(l.contains(probe));
  CHECK(l.erase(probe) == 1);
  CHECK_FALSE(l.contains(probe));
  int expect = 0;
  for (const auto& p : l) {
    if (expect == 777) ++expect;
    REQUIRE(*p == expect++);
  }
  for (u64 k : shuffled(20000)) {
    auto q = std::make_unique<int>(static_cast<int>(k));
    l.erase(q);
  }
  CHECK(l.empty());
  CHECK(l.check_invariants());
}

TEST_CASE("large elements: few per slab and no inline separators") {
  struct big {
    u64 key;
    u64 pad[23];
  };
  struct by_key {
    bool operator()(const big& a, const big& b) const { return a.key < b.key; }
  };
  using big_list = nexus::slab_list<big, by_key>;
  static_assert(big_list::slab_capacity == (1024 - 24) / sizeof(big));
  big_list l;
  std::set<u64> ref;
  std::mt19937_64 rng(99);
  for (int i = 0; i < 6000; ++i) {
    const u64 k = rng() % 5000;
    big b{};
    b.key = k;
    b.pad[22] = k;
    if (rng() % 3 != 0) {
      REQUIRE(l.insert(b).second == ref.insert(k).second);
    } else {
      REQUIRE(l.erase(b) == ref.erase(k));
    }
    if (i % 50 == 0) REQUIRE(l.check_invariants());
  }
  REQUIRE(l.check_invariants());
  CHECK(l.sublayer_count() >= 1);
  REQUIRE(l.size() == ref.size());
  auto it = ref.begin();
  for (const big& b : l) {
    REQUIRE(b.key == *it++);
    REQUIRE(b.pad[22] == b.key);
  }
}

TEST_CASE("a stateful comparator orders the list and is copied with it") {
  nexus::slab_list<u64, directed> l(nexus::slab_list_options{}, directed{true});
  for (u64 k : shuffled(5000)) l.insert(k);
  CHECK(l.front() == 4999);
  CHECK(l.back() == 0);
  CHECK(std::is_sorted(l.begin(), l.end(), std::greater<u64>()));
  auto copy = l;
  CHECK(copy.key_comp().descending);
  copy.insert(10000);
  CHECK(copy.front() == 10000);
  CHECK(l.check_invariants());
}

namespace {
// A key with a tag recording insertion order, compared by key only.
struct tagged {
  u64 key;
  int tag;
};
struct by_key {
  bool operator()(const tagged& a, const tagged& b) const {
    return a.key < b.key;
  }
};
}  // namespace

TEST_CASE("multilist keeps duplicates in insertion order") {
  nexus::slab_multilist<tagged, by_key> m;
  for (int i = 0; i < 3000; ++i) m.insert(tagged{u64(i % 7), i});
  CHECK(m.size() == 3000);
  CHECK(m.check_invariants());
  CHECK(m.count(tagged{3, 0}) == 3000 / 7 + (3 < 3000 % 7 ? 1 : 0));
  int last_tag = -1;
  auto [a, b] = m.equal_range(tagged{5, 0});
  for (auto it = a; it != b; ++it) {
    REQUIRE(it->key == 5);
    REQUIRE(it->tag > last_tag);
    last_tag = it->tag;
  }
  CHECK(m.erase(tagged{5, 0}) == 3000 / 7);
  CHECK(m.count(tagged{5, 0}) == 0);
  CHECK(m.check_invariants());
}

TEST_CASE("small-list mode stays within twice the element bytes") {
  list_u64 l;
  constexpr std::size_t small = list_u64::small_list_max;
  STATIC_REQUIRE(small >= list_u64::slab_capacity / 2);
  const std::size_t constant = 64;  // buffer header
  std::size_t n = 0;
  for (u64 k : shuffled(small, 1, 3)) {
    l.insert(k);
    ++n;
    INFO("size " << n);
    CHECK((l.slab_count() == 0) == (n < small));
    REQUIRE(l.memory_size() <= 2 * n * sizeof(u64) + constant);
    REQUIRE(l.check_invariants());
  }
  CHECK(l.slab_count() > 0);  // converted once it reached small_list_max
  // Shrinking converts back (with hysteresis) and keeps the bound.
  for (u64 k : shuffled(small, 1, 4)) {
    l.erase(k);
    --n;
    if (n == 0) break;
    INFO("size " << n);
    if (l.slab_count() == 0) {
      REQUIRE(l.memory_size() <= 2 * n * sizeof(u64) + constant);
    }
    REQUIRE(l.check_invariants());
  }
  CHECK(l.slab_count() == 0);
  CHECK(l.memory_size() == 0);
}

// Small-list mode covers the sizes where a page would be too much; the node
// pool's growth (each chunk half of what is mapped) covers the rest.
TEST_CASE("memory stays within twice the element bytes at every size") {
  const std::size_t constant = 64;
  for (int ascending = 0; ascending < 2; ++ascending) {
    INFO((ascending ? "ascending" : "random") << " inserts");
    list_u64 l;
    std::mt19937_64 rng(11);
    std::size_t worst_n = 0, over = 0;
    while (l.size() < 300'000) {  // past the first 2 MiB chunks
      l.insert(ascending ? l.size() : rng());
      if (l.memory_size() > 2 * l.size() * sizeof(u64) + constant) {
        if (over++ == 0) worst_n = l.size();
      }
    }
    CAPTURE(worst_n);
    CHECK(over == 0);
    CHECK(l.check_invariants());
  }
}

TEST_CASE(
    "alternating insert and erase at the small-list boundary does not thrash") {
  list_u64 l;
  const u64 small = list_u64::small_list_max;
  for (u64 k = 0; k < small; ++k) l.insert(k);
  const std::size_t slabs = l.slab_count();
  REQUIRE(slabs > 0);
  for (int i = 0; i < 100; ++i) {
    l.erase(0);
    REQUIRE(l.slab_count() == slabs);
    l.insert(0);
  }
  CHECK(l.check_invariants());
}

TEST_CASE("sublayers attach above the threshold and detach below half of it") {
  nexus::slab_list_options o;
  o.sublayer_threshold = 6;
  list_u64 l(o);
  u64 k = 0;
  while (l.sublayer_count() == 0) {
    l.insert(k++);
    REQUIRE(l.slab_count() <= 7);
  }
  CHECK(l.slab_count() == 7);
  REQUIRE(l.check_invariants());
  while (l.sublayer_count() != 0) l.erase(--k);
  CHECK(l.slab_count() <= 3);
  CHECK(l.check_invariants());
}

TEST_CASE("small fanout builds at least three sublayers") {
  nexus::slab_list_options o;
  o.sublayer_threshold = 2;
  o.sublayer_fanout = 4;
  o.min_capacity_ratio = 0.5;
  list_u64 l(o);
  for (u64 k : shuffled(20000)) l.insert(k);
  CHECK(l.sublayer_count() >= 3);
  CHECK(l.sublayer_count() <= list_u64::max_sublayers);
  CHECK(l.check_invariants());
  for (std::size_t i = 0; i < 20000; i += 101) REQUIRE(*l.nth(i) == i);
}

TEST_CASE("sublayers stop at 8: a ninth is refused and the list is unchanged") {
#if NEXUS_HAS_EXCEPTIONS
  nexus::slab_list_options o;
  o.sublayer_threshold = 1;
  o.sublayer_fanout = 4;
  o.min_capacity_ratio = 0.5;
  list_u64 l(o);
  std::mt19937_64 rng(8);
  bool refused = false;
  for (int i = 0; i < 3000000 && !refused; ++i) {
    const u64 k = rng();
    const auto before = l.size();
    try {
      l.insert(k);
    } catch (const std::length_error&) {
      refused = true;
      CHECK(l.size() == before);
      CHECK_FALSE(l.contains(k));
    }
  }
  CHECK(refused);
  CHECK(l.sublayer_count() == list_u64::max_sublayers);
  CHECK(l.check_invariants());
#else
  NEXUS_SKIP("needs exceptions");
#endif
}

TEST_CASE("the minimum capacity ratio holds after erasing most elements") {
  list_u64 l;
  for (u64 k : shuffled(100000)) l.insert(k);
  const auto slabs_full = l.slab_count();
  std::mt19937_64 rng(11);
  for (u64 k : shuffled(100000, 1, 5))
    if (rng() % 4 != 0) l.erase(k);
  REQUIRE(l.check_invariants());
  const double fill =
      double(l.size()) / double(l.slab_count() * list_u64::slab_capacity);
  CHECK(fill >= l.options().min_capacity_ratio);
  CHECK(l.slab_count() < slabs_full / 2);
}

TEST_CASE("shrink_to_fit returns memory and keeps the elements") {
  list_u64 l;
  for (u64 k : shuffled(200000)) l.insert(k);
  for (u64 k = 0; k < 200000; ++k)
    if (k % 10 != 0) l.erase(k);
  const auto before = l.memory_size();
  l.shrink_to_fit();
  CHECK(l.memory_size() < before / 4);
  CHECK(l.size() == 20000);
  CHECK(l.check_invariants());
  u64 expect = 0;
  for (u64 x : l) {
    REQUIRE(x == expect);
    expect += 10;
  }
  l.insert(5);  // still usable
  CHECK(l.check_invariants());
}

TEST_CASE("erasing most of a large list returns memory without shrink_to_fit") {
  list_u64 l;
  const std::size_t n = 1000000;
  for (u64 k : shuffled(n)) l.insert(k);
  const auto peak = l.memory_size();
  REQUIRE(peak >= n * sizeof(u64));
  for (u64 k : shuffled(n, 1, 9))
    if (k % 10 < 7) l.erase(k);
  CHECK(l.memory_size() < peak * 6 / 10);
  CHECK(l.size() == n * 3 / 10);
  CHECK(l.check_invariants());
  // reserve() pins the memory: no automatic trimming then.
  list_u64 r;
  r.reserve(n);
  const auto reserved = r.memory_size();
  for (u64 k : shuffled(n)) r.insert(k);
  for (u64 k = 0; k < n; ++k)
    if (k % 10 < 7) r.erase(k);
  CHECK(r.memory_size() == reserved);
}

TEST_CASE("erasing in key order unmaps whole chunks instead of repacking") {
  // Ascending inserts fill chunks in key order, so erasing the smallest keys
  // empties whole chunks: they are unmapped as they empty out, and nothing
  // is moved into a fresh mapping.
  list_u64 l;
  const u64 n = 2000000;
  for (u64 k = 0; k < n; ++k) l.insert(k * 3);
  const auto peak = l.memory_size();
  REQUIRE(peak >= 8u << 20);  // large enough for automatic trimming
  const u64 erased = n * 7 / 10;
  for (u64 k = 0; k < erased; ++k) REQUIRE(l.erase(k * 3) == 1);
  const auto st = l.stats();
  CHECK(st.repacks == 0);
  CHECK(st.chunk_releases >= 1);
  // At most 40% of what stays mapped is free.
  const std::size_t live = (st.slabs + st.sublayer_nodes) * 1024;
  CHECK(l.memory_size() * 6 <= live * 10);
  CHECK(l.memory_size() < peak * 6 / 10);
  REQUIRE(l.size() == n - erased);
  REQUIRE(l.check_invariants());
  u64 want = erased * 3;
  for (u64 v : l) {
    REQUIRE(v == want);
    want += 3;
  }
  // The list keeps working on the chunks that are left (and maps new ones).
  for (u64 k = 0; k < erased; ++k) l.insert(k * 3 + 1);
  CHECK(l.size() == n);
  CHECK(l.check_invariants());
  CHECK(l.find(1) != l.end());
  CHECK(l.find(erased * 3) != l.end());
}

TEST_CASE(
    "node pool: wholly free chunks are unmapped, every other node stays "
    "usable") {
  nexus::detail::node_pool<nexus::mmap_region> pool;
  std::vector<unsigned char*> nodes;
  while (pool.mapped_bytes() < (std::size_t{16} << 20)) {
    REQUIRE(pool.ensure(1));
    auto* p = static_cast<unsigned char*>(pool.allocate());
    p[0] = static_cast<unsigned char>(nodes.size());
    nodes.push_back(p);
  }
  // Free the older half: their chunks empty out (the newest never does).
  const std::size_t half = nodes.size() / 2;
  for (std::size_t i = 0; i < half; ++i) pool.deallocate(nodes[i]);
  const std::size_t mapped = pool.mapped_bytes();
  const std::size_t released = pool.release_free_chunks();
  REQUIRE(released > 0);
  CHECK(pool.mapped_bytes() == mapped - released);
  CHECK(pool.in_use() == nodes.size() - half);
  CHECK(pool.release_free_chunks() == 0);  // nothing more to give back
  // Every node still handed out is intact; every node the pool can hand out
  // without mapping is writable and distinct from them.
  std::set<unsigned char*> live(
      nodes.begin() + static_cast<std::ptrdiff_t>(half), nodes.end());
  for (std::size_t i = half; i < nodes.size(); ++i)
    REQUIRE(nodes[i][0] == static_cast<unsigned char>(i));
  const std::size_t avail = pool.available();
  for (std::size_t i = 0; i < avail; ++i) {
    auto* p = static_cast<unsigned char*>(pool.allocate());
    REQUIRE(live.insert(p).second);
    std::fill(p, p + 1024, static_cast<unsigned char>(0xab));
  }
  CHECK(pool.mapped_bytes() == mapped - released);
  for (std::size_t i = half; i < nodes.size(); ++i)
    REQUIRE(nodes[i][0] == static_cast<unsigned char>(i));
}

TEST_CASE("a locked list unmaps freed chunks and stays fully locked") {
  list_u64 l;
  REQUIRE_FALSE(l.mlock());
  const u64 n = 2000000;
  for (u64 k = 0; k < n; ++k) l.insert(k);
  for (u64 k = 0; k < n * 7 / 10; ++k) REQUIRE(l.erase(k) == 1);
  const auto st = l.stats();
  CHECK(st.chunk_releases >= 1);
  CHECK(st.bytes_locked == st.bytes_mapped);
  CHECK(l.check_invariants());
  // Chunks mapped later are locked as well.
  for (u64 k = 0; k < n * 7 / 10; ++k) l.insert(n + k);
  CHECK(l.stats().bytes_locked == l.memory_size());
  CHECK(l.check_invariants());
}

TEST_CASE("erasing at random still repacks when no chunk empties") {
  list_u64 l;
  const std::size_t n = 1000000;
  for (u64 k : shuffled(n)) l.insert(k);
  for (u64 k : shuffled(n, 1, 9))
    if (k % 10 < 7) REQUIRE(l.erase(k) == 1);
  CHECK(l.stats().repacks >= 1);
  CHECK(l.check_invariants());
}

TEST_CASE("out of memory during insert leaves the list unchanged") {
  using flist = nexus::slab_list<std::string, std::less<>, faulty_region>;
  // Chunks double in size, so 40000 strings need about 8 maps.
  for (long budget = 0; budget < 8; ++budget) {
    INFO("maps allowed: " << budget);
    fault_plan::maps_left = budget;
    flist l;
    std::vector<std::string> seen;
    std::mt19937_64 rng(static_cast<u64>(budget));
    bool failed = false;
    for (int i = 0; i < 40000 && !failed; ++i) {
      std::string v = "value-" + std::to_string(rng() % 1000000);
      std::vector<std::string> before(l.begin(), l.end());
      const std::string copy = v;
      auto r = l.try_insert(std::move(v));
      if (!r) {
        failed = true;
        REQUIRE(v == copy);  // argument untouched
        REQUIRE(std::vector<std::string>(l.begin(), l.end()) == before);
        REQUIRE(l.check_invariants());
#if NEXUS_HAS_EXCEPTIONS
        REQUIRE_THROWS_AS(l.insert(copy), std::bad_alloc);
        REQUIRE(std::vector<std::string>(l.begin(), l.end()) == before);
        REQUIRE(l.check_invariants());
#endif
      }
    }
    CHECK(failed);
    fault_plan::maps_left = LONG_MAX;
    // Memory is back: the list keeps working.
    for (int i = 0; i < 2000; ++i) l.insert("more-" + std::to_string(i));
    CHECK(l.check_invariants());
  }
}

TEST_CASE("mlock pins every chunk, including chunks mapped later") {
  if (NEXUS_TEST_SANITIZED) NEXUS_SKIP("sanitizer runtimes make mlock a no-op");
  list_u64 l;
  l.insert(1);
  for (u64 k = 0; k < 200; ++k) l.insert(k);
  const auto before = nexus::test::locked_bytes();
  if (!before) NEXUS_SKIP("VmLck not available");
  if (std::error_code ec = l.mlock())
    NEXUS_SKIP("mlock refused: " << ec.message());
  for (u64 k : shuffled(300000)) l.insert(k);
  const auto after = nexus::test::locked_bytes();
  REQUIRE(after);
  CHECK(*after >= *before + l.memory_size() - 4096);
  CHECK_FALSE(l.munlock());
  const auto unlocked = nexus::test::locked_bytes();
  REQUIRE(unlocked);
  CHECK(*unlocked + l.memory_size() <= *after + 4096);
}

TEST_CASE("huge page option maps chunks that can be backed by THP") {
  nexus::slab_list_options o;
  o.huge_pages = nexus::huge_pages::transparent;
  list_u64 l(o);
  for (u64 k : shuffled(100000)) l.insert(k);
  CHECK(l.size() == 100000);
  CHECK(l.check_invariants());
}

// ---- range insert, range constructor and hinted insert ----

namespace {

nexus::slab_list_options deep_options() {
  nexus::slab_list_options o;
  o.sublayer_fanout = 4;
  o.sublayer_threshold = 2;
  return o;
}

// The same keys (with duplicates) a std::set / std::multiset is checked on.
std::vector<u64> with_duplicates(std::size_t n, u64 seed) {
  std::vector<u64> v = shuffled(n, 1, seed);
  for (std::size_t i = 0; i < n; i += 3) v[i] = v[i] % (n / 4 + 1);
  return v;
}

using multi_u64 = nexus::slab_multilist<u64>;

// The ordered list keeps its positional API only.
template <class L>
concept has_emplace_hint =
    requires(L& l) { l.emplace_hint(l.cbegin(), u64{1}); };
template <class L>
concept has_range_insert =
    requires(L& l, std::vector<u64>& v) { l.insert(v.begin(), v.end()); };
static_assert(has_emplace_hint<list_u64> && has_emplace_hint<multi_u64>);
static_assert(has_range_insert<list_u64> && has_range_insert<multi_u64>);
using ordered_u64 = nexus::slab_list<u64, nexus::insertion_order>;
static_assert(!has_emplace_hint<ordered_u64>);
static_assert(!has_range_insert<ordered_u64>);
static_assert(
    std::is_same_v<decltype(std::declval<list_u64&>().insert(
                       std::declval<list_u64::const_iterator>(), u64{})),
                   list_u64::iterator>);
static_assert(
    std::is_same_v<decltype(std::declval<multi_u64&>().emplace_hint(
                       std::declval<multi_u64::const_iterator>(), u64{})),
                   multi_u64::iterator>);

}  // namespace

TEST_CASE("range insert matches std::set and std::multiset") {
  for (std::size_t start : {0u, 10u, 3000u}) {
    for (std::size_t k : {0u, 1u, 100u, 700u, 5000u}) {
      INFO("start " << start << ", inserting " << k);
      const std::vector<u64> first = with_duplicates(start, 1);
      const std::vector<u64> src = with_duplicates(k, 2);
      list_u64 l(deep_options());
      multi_u64 m(deep_options());
      std::set<u64> ss(first.begin(), first.end());
      std::multiset<u64> ms(first.begin(), first.end());
      for (u64 x : first) {
        l.insert(x);
        m.insert(x);
      }
      l.insert(src.begin(), src.end());
      m.insert(src.begin(), src.end());
      ss.insert(src.begin(), src.end());
      ms.insert(src.begin(), src.end());
      REQUIRE(l.check_invariants());
      REQUIRE(m.check_invariants());
      REQUIRE(contents(l) == std::vector<u64>(ss.begin(), ss.end()));
      REQUIRE(contents(m) == std::vector<u64>(ms.begin(), ms.end()));
      if (m.size() >= 5000) REQUIRE(m.sublayer_count() >= 2);
    }
  }
  // initializer_list, an empty one, and another list as the source.
  list_u64 l{5, 1};
  l.insert({4, 2, 4, 3});
  l.insert(std::initializer_list<u64>{});
  CHECK(contents(l) == std::vector<u64>{1, 2, 3, 4, 5});
  multi_u64 m{2, 2};
  m.insert({2, 1});
  m.insert(l.begin(), l.end());
  CHECK(contents(m) == std::vector<u64>{1, 1, 2, 2, 2, 2, 3, 4, 5});
  CHECK(l.check_invariants());
  CHECK(m.check_invariants());
  // A sentinel of another type: iota | take.
  auto taken = std::views::iota(u64{100}) | std::views::take(50);
  l.insert(taken.begin(), taken.end());
  CHECK(l.size() == 55);
  CHECK(l.back() == 149);
  CHECK(l.check_invariants());
}

TEST_CASE("range insert and constructor take input-only iterators") {
  std::string text;
  std::multiset<u64> ms;
  for (u64 k : with_duplicates(3000, 4)) {
    text += std::to_string(k) + ' ';
    ms.insert(k);
  }
  std::istringstream in(text);
  multi_u64 m(std::istream_iterator<u64>(in), std::istream_iterator<u64>(),
              deep_options());
  CHECK(contents(m) == std::vector<u64>(ms.begin(), ms.end()));
  CHECK(m.sublayer_count() >= 2);
  CHECK(m.check_invariants());
  std::istringstream in2(text);
  list_u64 l;
  l.insert(std::istream_iterator<u64>(in2), std::istream_iterator<u64>());
  const std::set<u64> ss(ms.begin(), ms.end());
  CHECK(contents(l) == std::vector<u64>(ss.begin(), ss.end()));
  CHECK(l.check_invariants());
  std::istringstream empty;
  l.insert(std::istream_iterator<u64>(empty), std::istream_iterator<u64>());
  CHECK(l.size() == ss.size());
}

TEST_CASE("range constructor matches std::set, with options and comparator") {
  const std::vector<u64> src = with_duplicates(5000, 5);
  list_u64 l(src.begin(), src.end(), deep_options());
  const std::set<u64> ss(src.begin(), src.end());
  CHECK(contents(l) == std::vector<u64>(ss.begin(), ss.end()));
  CHECK(l.options().sublayer_fanout == 4);
  CHECK(l.sublayer_count() >= 2);
  CHECK(l.check_invariants());
  const list_u64 none(src.begin(), src.begin());
  CHECK(none.empty());
  nexus::slab_list<u64, directed> d(src.begin(), src.end(),
                                    nexus::slab_list_options{}, directed{true});
  CHECK(contents(d) == std::vector<u64>(ss.rbegin(), ss.rend()));
  CHECK(d.check_invariants());
  multi_u64 m(src.begin(), src.end());
  const std::multiset<u64> ms(src.begin(), src.end());
  CHECK(contents(m) == std::vector<u64>(ms.begin(), ms.end()));
  CHECK(m.check_invariants());
}

TEST_CASE("range insert moves move-only elements from std::move_iterator") {
  using up = std::unique_ptr<int>;
  std::vector<up> src;
  for (u64 k : shuffled(5000)) src.push_back(std::make_unique<int>(int(k)));
  src.push_back(std::make_unique<int>(7));  // a duplicate: stays in src
  nexus::slab_list<up, by_pointee> l(deep_options());
  l.insert(std::make_move_iterator(src.begin()),
           std::make_move_iterator(src.end()));
  CHECK(l.size() == 5000);
  CHECK(l.sublayer_count() >= 2);
  CHECK(l.check_invariants());
  CHECK(std::none_of(src.begin(), src.end() - 1,
                     [](const up& p) { return p != nullptr; }));
  CHECK(*src.back() == 7);  // not inserted, so not moved from
  int expect = 0;
  for (const up& p : l) REQUIRE(*p == expect++);
  std::vector<up> more;
  for (int i = 0; i < 3; ++i) more.push_back(std::make_unique<int>(-1 - i));
  nexus::slab_multilist<up, by_pointee> m(std::make_move_iterator(more.begin()),
                                          std::make_move_iterator(more.end()));
  CHECK(m.size() == 3);
  CHECK(*m.front() == -3);
  CHECK(m.check_invariants());
}

TEST_CASE("hinted insert and emplace_hint return what std::set returns") {
  list_u64 l(deep_options());
  std::set<u64> ss;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 6000; ++i) {
    const u64 x = rng() % 4000;
    // Hints anywhere, right or wrong: begin, end, a random element.
    const std::size_t pick = l.empty() ? 0 : rng() % l.size();
    const auto hint = i % 3 == 0   ? l.cbegin()
                      : i % 3 == 1 ? l.cend()
                                   : l.nth(pick);
    const bool was_there = ss.count(x) != 0;
    const auto sit = ss.insert(ss.end(), x);
    const auto it = i % 2 ? l.insert(hint, x) : l.emplace_hint(hint, x);
    REQUIRE(it != l.end());
    REQUIRE(*it == *sit);
    REQUIRE(l.size() == ss.size());
    REQUIRE(l.index_of(it) ==
            static_cast<std::size_t>(std::distance(ss.begin(), sit)));
    if (was_there) REQUIRE(l.find(x) == it);
  }
  CHECK(l.sublayer_count() >= 2);
  CHECK(l.check_invariants());
  // An equivalent element keeps the new one out (its value is untouched).
  nexus::slab_list<std::string> s{"b"};
  std::string v = "b";
  auto it = s.insert(s.cend(), std::move(v));
  CHECK(it == s.begin());
  CHECK(s.size() == 1);
  it = s.emplace_hint(s.cbegin(), 3, 'z');
  CHECK(*it == "zzz");
  it = s.insert(s.cbegin(), std::string("a"));
  CHECK(it == s.begin());
  const std::string c = "c";
  it = s.insert(s.cend(), c);
  CHECK(*it == "c");
  CHECK(contents(s) == std::vector<std::string>{"a", "b", "c", "zzz"});
  CHECK(s.check_invariants());
}

TEST_CASE("multilist hinted insert places the element after its equals") {
  nexus::slab_multilist<tagged, by_key> m(deep_options());
  std::multiset<u64> ms;
  for (int i = 0; i < 4000; ++i) {
    const u64 key = u64(i % 13);
    const auto hint = i % 2 ? m.cbegin() : m.cend();
    const auto it = i % 3 ? m.insert(hint, tagged{key, i})
                          : m.emplace_hint(hint, tagged{key, i});
    ms.insert(key);
    REQUIRE(it->tag == i);
    // Last of its equals, wherever the hint pointed.
    REQUIRE(std::next(it) == m.upper_bound(tagged{key, 0}));
  }
  CHECK(m.size() == ms.size());
  CHECK(m.sublayer_count() >= 2);
  CHECK(m.check_invariants());
  int last = -1;
  for (auto it = m.lower_bound(tagged{4, 0}); it != m.upper_bound(tagged{4, 0});
       ++it) {
    REQUIRE(it->tag > last);
    last = it->tag;
  }
}

#if NEXUS_HAS_EXCEPTIONS
TEST_CASE("a failed range insert keeps the elements inserted before it") {
  using flist = nexus::slab_list<std::string, std::less<>, faulty_region>;
  std::vector<std::string> src;
  for (u64 k : shuffled(20000)) src.push_back("value-" + std::to_string(k));
  int failures = 0;
  for (long budget = 0; budget < 6; ++budget) {
    INFO("maps allowed: " << budget);
    fault_plan::maps_left = LONG_MAX;
    flist l{"value-5", "zz"};
    fault_plan::maps_left = budget;
    bool failed = false;
    try {
      l.insert(src.begin(), src.end());
    } catch (const std::bad_alloc&) {
      failed = true;
      ++failures;
    }
    fault_plan::maps_left = LONG_MAX;
    REQUIRE(l.check_invariants());
    // Basic guarantee: the list holds its old elements plus a prefix of src.
    std::set<std::string> want{"value-5", "zz"};
    std::size_t j = 0;
    while (j < src.size() && want.size() < l.size()) want.insert(src[j++]);
    REQUIRE(contents(l) == std::vector<std::string>(want.begin(), want.end()));
    CHECK(failed == (l.size() != src.size() + 1));
    l.insert(src.begin(), src.end());  // memory is back: completes the set
    CHECK(l.size() == src.size() + 1);
    CHECK(l.check_invariants());
  }
  CHECK(failures >= 3);
}
// A T whose copy throws on request (its move never throws).
struct fragile {
  static inline long countdown = -1;  // the copy that throws: 0 = the next
  u64 v;
  explicit fragile(u64 x) : v(x) {}
  fragile(const fragile& o) : v(o.v) {
    if (countdown >= 0 && countdown-- == 0)
      throw std::runtime_error("fragile: copy");
  }
  fragile(fragile&&) noexcept = default;
  fragile& operator=(const fragile&) = default;
  fragile& operator=(fragile&&) noexcept = default;
  friend bool operator<(const fragile& a, const fragile& b) {
    return a.v < b.v;
  }
};

TEST_CASE("a throwing copy stops a range insert after the earlier elements") {
  std::vector<fragile> src;
  for (u64 k : shuffled(3000, 2)) src.emplace_back(k + 1);
  for (long k : {0L, 1L, 50L, 600L, 2999L}) {
    INFO("the copy that throws: " << k);
    nexus::slab_list<fragile> l(deep_options());
    for (u64 i = 0; i < 100; ++i) l.emplace(2 * i + 1000001);
    std::set<u64> want;
    for (const fragile& f : l) want.insert(f.v);
    for (long i = 0; i < k; ++i) want.insert(src[std::size_t(i)].v);
    fragile::countdown = k;
    CHECK_THROWS_AS(l.insert(src.begin(), src.end()), std::runtime_error);
    fragile::countdown = -1;
    REQUIRE(l.check_invariants());
    std::vector<u64> got;
    for (const fragile& f : l) got.push_back(f.v);
    REQUIRE(got == std::vector<u64>(want.begin(), want.end()));
  }
}
#endif

TEST_CASE("range insert destroys every element exactly once") {
  counted::live = 0;
  counted::destroyed_twice = 0;
  {
    std::vector<counted> src;
    for (u64 k : shuffled(6000)) src.emplace_back(k % 4000);
    nexus::slab_multilist<counted> m(src.begin(), src.end(), deep_options());
    nexus::slab_list<counted> l(deep_options());
    l.insert(src.begin(), src.end());
    l.insert(src.begin(), src.end());  // all duplicates now
    CHECK(m.size() == 6000);
    CHECK(l.size() == 4000);
    CHECK(m.check_invariants());
    CHECK(l.check_invariants());
    // Elements, the source, and the separator copies the sublayers keep.
    CHECK(counted::live >= 16000);
    CHECK(counted::live < 17000);
  }
  CHECK(counted::live == 0);
  CHECK(counted::destroyed_twice == 0);
}
