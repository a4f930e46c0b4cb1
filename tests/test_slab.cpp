// SPDX-License-Identifier: MIT OR Apache-2.0
// Unit tests for nexus::slab and nexus::key: every API item, allocation
// errors, element-type corner cases and exception safety.
#include <nexus/heap_region.hpp>
#include <nexus/mmap_region.hpp>
#include <nexus/slab.hpp>

#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "catch_shim.hpp"
#include "slab_test_types.hpp"

using nexus::key;
using slab_test::counted;

// ---- compile-time properties ---------------------------------------------

static_assert(std::is_trivially_copyable_v<key>);
static_assert(!std::is_convertible_v<std::size_t, key>, "explicit key(size_t)");
static_assert(std::is_nothrow_move_constructible_v<nexus::slab<int>>);
static_assert(std::is_nothrow_move_assignable_v<nexus::slab<int>>);
static_assert(!std::is_copy_constructible_v<nexus::slab<int>>);
static_assert(!std::is_copy_assignable_v<nexus::slab<int>>);
static_assert(std::is_nothrow_swappable_v<nexus::slab<int>>);
static_assert(std::forward_iterator<nexus::slab<int>::iterator>);
static_assert(std::forward_iterator<nexus::slab<int>::const_iterator>);
static_assert(std::is_convertible_v<nexus::slab<int>::iterator,
                                    nexus::slab<int>::const_iterator>);
static_assert(!std::is_convertible_v<nexus::slab<int>::const_iterator,
                                     nexus::slab<int>::iterator>);
static_assert(std::is_base_of_v<std::length_error, nexus::slab_full>);
static_assert(std::is_same_v<
              decltype(std::declval<nexus::slab<int>&>().get(key(0))), int*>);
static_assert(std::is_same_v<
              decltype(std::declval<const nexus::slab<int>&>().get(key(0))),
              const int*>);
// Slot sizes: max(sizeof T, 4) rounded up to alignof T.
static_assert(nexus::slab<char>::slot_size == 4);
static_assert(nexus::slab<std::uint64_t>::slot_size == 8);
static_assert(nexus::slab<slab_test::blob64>::slot_size == 64);
static_assert(nexus::slab<slab_test::aligned64>::slot_size == 64);
static_assert(nexus::slab<slab_test::aligned256>::slot_size == 512);

// ---- key ---------------------------------------------------------------

TEST_CASE("key holds an index, compares and hashes by it", "[key]") {
  const key a(3);
  const key b(7);
  CHECK(a.index() == 3);
  CHECK(a == key(3));
  CHECK(a != b);
  CHECK(a < b);
  CHECK((b <=> a) == std::strong_ordering::greater);
  CHECK(std::hash<key>{}(a) == std::hash<key>{}(key(3)));
  CHECK(key().index() == key::max_index);
  std::unordered_set<key> set{a, b, key(3)};
  CHECK(set.size() == 2);
}

// ---- unallocated -------------------------------------------------------

TEST_CASE("an unallocated slab owns nothing and behaves as full", "[slab]") {
  counted::reset();
  {
    nexus::slab<counted> s;
    CHECK(s.capacity() == 0);
    CHECK(s.size() == 0);
    CHECK(s.empty());
    CHECK(s.full());
    CHECK(s.memory_size() == 0);
    CHECK_FALSE(s.locked());
    CHECK(s.begin() == s.end());
    CHECK(s.get(key(0)) == nullptr);
    CHECK_FALSE(s.contains(key(0)));
    CHECK_FALSE(s.remove(key(0)).has_value());
    CHECK_FALSE(s.erase(key(0)));
    CHECK_FALSE(s.vacant_entry());
    counted c(1);
    CHECK_FALSE(s.try_insert(std::move(c)).has_value());
    CHECK_FALSE(c.moved_from);
    CHECK_FALSE(s.try_emplace(5).has_value());
    REQUIRE_THROWS_AS(s.insert(counted(2)), nexus::slab_full);
    REQUIRE_THROWS_AS(s.emplace(2), std::length_error);
    CHECK(s.mlock() == std::errc::invalid_argument);
    CHECK(s.munlock() == std::errc::invalid_argument);
    CHECK(s.try_collapse() == std::errc::invalid_argument);
    s.clear();
    CHECK(s.size() == 0);
  }
  CHECK(counted::live() == 0);
}

// ---- allocation ----------------------------------------------------------

TEMPLATE_TEST_CASE("alloc gives at least n slots and uses the page slack",
                   "[slab][alloc]", nexus::mmap_region, nexus::heap_region) {
  nexus::slab<std::uint64_t, TestType> s;
  REQUIRE_FALSE(s.alloc(1));
  // One 4 KiB page: 448 * 8 bytes of slots + 448 map bytes = 4032; 449
  // would need 3648 (slots, padded to a line) + 512 (map) = 4160.
  CHECK(s.memory_size() == 4096);
  CHECK(s.capacity() == 448);
  CHECK(s.empty());
  CHECK_FALSE(s.full());

  nexus::slab<std::uint64_t, TestType> big;
  REQUIRE_FALSE(big.alloc(10'000));
  CHECK(big.capacity() >= 10'000);
  CHECK(big.memory_size() % 4096 == 0);
  // As many as fit: slots + map of capacity() fit, one more would not.
  const std::size_t cap = big.capacity();
  const auto need = [](std::size_t c) {
    return (c * 8 + 63) / 64 * 64 + (c + 63) / 64 * 64;
  };
  CHECK(need(cap) <= big.memory_size());
  CHECK(need(cap + 1) > big.memory_size());
}

TEMPLATE_TEST_CASE("alloc_bytes stays within the byte budget", "[slab][alloc]",
                   nexus::mmap_region, nexus::heap_region) {
  nexus::slab<slab_test::blob64, TestType> s;
  REQUIRE_FALSE(s.alloc_bytes(3 * 4096 + 100));
  CHECK(s.memory_size() == 3 * 4096);
  // 189 * 64 + 192 map bytes = 12288; 190 would need 12352.
  CHECK(s.capacity() == 189);

  nexus::slab<slab_test::blob64, TestType> tiny;
  CHECK(tiny.alloc_bytes(100) == std::errc::invalid_argument);
  CHECK(tiny.alloc_bytes(0) == std::errc::invalid_argument);
  CHECK(tiny.capacity() == 0);
  CHECK(tiny.memory_size() == 0);

  struct huge_t {
    char bytes[8192];
  };
  nexus::slab<huge_t, TestType> one_page;
  // Two pages cannot hold one 8 KiB slot plus its map bytes.
  CHECK(one_page.alloc_bytes(8192) == std::errc::invalid_argument);
  REQUIRE_FALSE(one_page.alloc_bytes(3 * 4096));
  CHECK(one_page.capacity() == 1);
}

TEST_CASE("alloc rejects zero, oversized and repeated requests unchanged",
          "[slab][alloc]") {
  nexus::slab<std::uint64_t> s;
  CHECK(s.alloc(0) == std::errc::invalid_argument);
  CHECK(s.alloc(SIZE_MAX) == std::errc::value_too_large);
  CHECK(s.alloc(std::size_t{1} << 32) == std::errc::value_too_large);
  CHECK(s.alloc_hugetlb(0) == std::errc::invalid_argument);
  CHECK(s.alloc_hugetlb(SIZE_MAX) == std::errc::value_too_large);
  CHECK(s.alloc_bytes(SIZE_MAX) == std::errc::value_too_large);
  CHECK(s.capacity() == 0);
  CHECK(s.memory_size() == 0);

  REQUIRE_FALSE(s.alloc(100));
  const key k = s.insert(42);
  const std::size_t cap = s.capacity();
  const std::size_t bytes = s.memory_size();
  CHECK(s.alloc(100) == std::errc::device_or_resource_busy);
  CHECK(s.alloc_bytes(1 << 20) == std::errc::device_or_resource_busy);
  CHECK(s.alloc_hugetlb(100) == std::errc::device_or_resource_busy);
  CHECK(s.capacity() == cap);
  CHECK(s.memory_size() == bytes);
  CHECK(s.size() == 1);
  CHECK(s[k] == 42);

  struct big_t {
    char bytes[1 << 20];
  };
  nexus::slab<big_t> b;
  // 2^31 slots of 1 MiB overflow no counter but exceed any address space.
  CHECK(b.alloc(std::size_t{1} << 31));
  CHECK(b.capacity() == 0);
}

TEST_CASE("alloc_hugetlb on a heap region fails and leaves the slab empty",
          "[slab][alloc]") {
  nexus::slab<int, nexus::heap_region> s;
  CHECK(s.alloc_hugetlb(10));
  CHECK(s.capacity() == 0);
  CHECK(s.memory_size() == 0);
  REQUIRE_FALSE(s.alloc(10));  // still usable afterwards
  CHECK(s.capacity() >= 10);
}

TEST_CASE("large slabs ask for transparent huge pages", "[slab][alloc]") {
  nexus::slab<std::uint64_t> small;
  REQUIRE_FALSE(small.alloc(1000));
  CHECK(small.region().huge() == nexus::huge_pages::none);
  nexus::slab<std::uint64_t> large;
  REQUIRE_FALSE(large.alloc(1'000'000));
  CHECK(large.region().huge() == nexus::huge_pages::transparent);
#if defined(__linux__)
  // THP blocks are whole huge pages; Windows has no THP and does not round.
  CHECK(large.memory_size() % (2u << 20) == 0);
#endif
  CHECK(large.capacity() >= 1'000'000);
}

// ---- insertion and access -------------------------------------------------

TEMPLATE_TEST_CASE("first fill hands out keys in order, then reuses LIFO",
                   "[slab]", nexus::mmap_region, nexus::heap_region) {
  nexus::slab<std::uint64_t, TestType> s;
  REQUIRE_FALSE(s.alloc(1));
  const std::size_t cap = s.capacity();
  for (std::size_t i = 0; i < cap; ++i) {
    const auto k = s.try_insert(std::uint64_t{i * 10});
    REQUIRE(k);
    REQUIRE(k->index() == i);
  }
  CHECK(s.full());
  CHECK(s.size() == cap);
  CHECK_FALSE(s.try_insert(std::uint64_t{1}).has_value());
  REQUIRE_THROWS_AS(s.insert(std::uint64_t{1}), nexus::slab_full);
  CHECK(s.size() == cap);

  CHECK(s.remove(key(5)) == std::optional<std::uint64_t>(50));
  CHECK(s.erase(key(100)));
  CHECK(s.erase(key(7)));
  CHECK(s.size() == cap - 3);
  // Most recently freed first.
  CHECK(s.insert(std::uint64_t{1}) == key(7));
  CHECK(s.insert(std::uint64_t{2}) == key(100));
  CHECK(s.insert(std::uint64_t{3}) == key(5));
  CHECK(s.full());
  CHECK(s[key(7)] == 1);
  CHECK(s[key(100)] == 2);
  CHECK(s[key(5)] == 3);
  CHECK(s[key(6)] == 60);
}

TEST_CASE("try_insert, insert, try_emplace and emplace store values",
          "[slab]") {
  nexus::slab<std::string> s;
  REQUIRE_FALSE(s.alloc(16));
  const std::string copy_me = "copied";
  std::string move_me = "moved, and long enough to live on the heap";
  const auto k1 = s.try_insert(copy_me);
  const auto k2 = s.try_insert(std::move(move_me));
  const auto k3 = s.try_emplace(3u, 'x');
  const key k4 = s.insert(copy_me);
  const key k5 = s.insert(std::string("temp"));
  const key k6 = s.emplace("literal");
  REQUIRE(k1);
  REQUIRE(k2);
  REQUIRE(k3);
  CHECK(copy_me == "copied");
  CHECK(s[*k1] == "copied");
  CHECK(s[*k2] == "moved, and long enough to live on the heap");
  CHECK(s[*k3] == "xxx");
  CHECK(s[k4] == "copied");
  CHECK(s[k5] == "temp");
  CHECK(s[k6] == "literal");
  CHECK(s.size() == 6);
  *s.get(k6) += "!";
  const auto& cs = s;
  CHECK(*cs.get(k6) == "literal!");
  CHECK(cs[k6] == "literal!");
}

TEST_CASE("get and contains reject vacant and out-of-range keys", "[slab]") {
  nexus::slab<int> s;
  REQUIRE_FALSE(s.alloc(10));
  const key k = s.insert(1);
  s.insert(2);
  CHECK(s.contains(k));
  CHECK(s.get(k) != nullptr);
  CHECK_FALSE(s.contains(key(2)));  // never used
  CHECK(s.get(key(2)) == nullptr);
  CHECK_FALSE(s.contains(key(s.capacity())));
  CHECK(s.get(key(s.capacity() + 1000)) == nullptr);
  CHECK(s.get(key()) == nullptr);
  CHECK(s.erase(k));
  CHECK_FALSE(s.contains(k));  // freed
  CHECK(s.get(k) == nullptr);
  CHECK_FALSE(s.erase(k));
  CHECK_FALSE(s.remove(k).has_value());
  CHECK_FALSE(s.remove(key(999999)).has_value());
}

TEST_CASE("key_of recovers the key of a stored value", "[slab]") {
  nexus::slab<slab_test::point> s;
  REQUIRE_FALSE(s.alloc(200));
  std::vector<key> keys;
  for (int i = 0; i < 150; ++i) keys.push_back(s.emplace(i, -i));
  for (int i = 0; i < 150; i += 3) s.erase(keys[static_cast<std::size_t>(i)]);
  for (int i = 1; i < 150; i += 3) {
    const key k = keys[static_cast<std::size_t>(i)];
    CHECK(s.key_of(s[k]) == k);
    CHECK(s.key_of(*s.get(k)) == k);
  }
}

TEST_CASE("full slab: try_* do not move from or construct the argument",
          "[slab]") {
  counted::reset();
  {
    nexus::slab<counted> s;
    REQUIRE_FALSE(s.alloc(1));
    while (!s.full()) s.emplace(7);
    const long built = counted::constructed;
    counted c(1);
    CHECK_FALSE(s.try_insert(std::move(c)).has_value());
    CHECK_FALSE(c.moved_from);
    CHECK_FALSE(s.try_insert(c).has_value());
    CHECK_FALSE(s.try_emplace(3).has_value());
    CHECK(counted::constructed == built + 1);  // just `c`
    REQUIRE_THROWS_AS(s.insert(std::move(c)), nexus::slab_full);
    CHECK_FALSE(c.moved_from);
    REQUIRE_THROWS_AS(s.emplace(9), nexus::slab_full);
    CHECK(counted::constructed == built + 1);

    nexus::slab<std::unique_ptr<int>> u;
    REQUIRE_FALSE(u.alloc(1));
    while (!u.full()) u.insert(std::make_unique<int>(1));
    auto p = std::make_unique<int>(5);
    CHECK_FALSE(u.try_insert(std::move(p)).has_value());
    REQUIRE(p != nullptr);
    CHECK(*p == 5);
  }
  CHECK(counted::live() == 0);
}

// ---- vacant entry ----------------------------------------------------------

TEST_CASE("vacant_entry reveals the key before insertion", "[slab][entry]") {
  struct node {
    key self;
    int payload;
  };
  nexus::slab<node> s;
  REQUIRE_FALSE(s.alloc(4));
  s.emplace(key(), 0);
  s.emplace(key(), 1);
  s.erase(key(0));

  SECTION("insert stores the value at the promised key") {
    auto e = s.vacant_entry();
    REQUIRE(e);
    const key k = e->key();
    CHECK(k == key(0));  // the recycled slot comes first
    node& n = e->insert(node{k, 42});
    CHECK(&n == s.get(k));
    CHECK(s[k].self == k);
    CHECK(s[k].payload == 42);
    CHECK(s.size() == 2);
    auto e2 = s.vacant_entry();
    REQUIRE(e2);
    CHECK(e2->key() == key(2));  // then the bump cursor
    node& m = e2->emplace(e2->key(), 7);
    CHECK(s.key_of(m) == key(2));
  }
  SECTION("dropping the entry leaves the slab unchanged") {
    {
      auto e = s.vacant_entry();
      REQUIRE(e);
      CHECK(e->key() == key(0));
    }
    CHECK(s.size() == 1);
    CHECK_FALSE(s.contains(key(0)));
    CHECK(s.emplace(key(), 5) == key(0));
  }
  SECTION("a full slab has no vacant entry") {
    while (!s.full()) s.emplace(key(), 9);
    CHECK_FALSE(s.vacant_entry());
    CHECK_FALSE(s.vacant_entry().has_value());
  }
}

TEST_CASE("vacant_entry insert copies or moves", "[slab][entry]") {
  nexus::slab<std::unique_ptr<int>> s;
  REQUIRE_FALSE(s.alloc(4));
  auto e = s.vacant_entry();
  REQUIRE(e);
  std::unique_ptr<int>& p = e->insert(std::make_unique<int>(3));
  CHECK(*p == 3);
  nexus::slab<std::string> t;
  REQUIRE_FALSE(t.alloc(4));
  const std::string v = "copy";
  auto f = t.vacant_entry();
  REQUIRE(f);
  CHECK(f->insert(v) == "copy");
  CHECK(v == "copy");
}

// ---- removal -------------------------------------------------------------

TEST_CASE("remove moves the value out; erase destroys in place",
          "[slab][remove]") {
  counted::reset();
  {
    nexus::slab<counted> s;
    REQUIRE_FALSE(s.alloc(8));
    const key a = s.emplace(1);
    const key b = s.emplace(2);
    const std::optional<counted> out = s.remove(a);
    REQUIRE(out.has_value());
    CHECK(out->value == 1);
    CHECK(s.size() == 1);
    CHECK(counted::live() == 2);  // `out` and b
    CHECK(s.erase(b));
    CHECK(counted::live() == 1);
    CHECK(s.empty());
  }
  CHECK(counted::live() == 0);

  nexus::slab<slab_test::immovable> im;
  REQUIRE_FALSE(im.alloc(4));
  const key k = im.emplace(5);
  CHECK(im[k].value == 5);
  CHECK(im.erase(k));
  CHECK(im.empty());
}

TEST_CASE("clear destroys every value and keeps the memory", "[slab]") {
  counted::reset();
  nexus::slab<counted> s;
  REQUIRE_FALSE(s.alloc(300));
  for (int i = 0; i < 300; ++i) s.emplace(i);
  for (std::uint32_t i = 0; i < 300; i += 2) s.erase(key(i));
  const std::size_t cap = s.capacity();
  const std::size_t bytes = s.memory_size();
  const void* first = s.get(key(1));
  s.clear();
  CHECK(counted::live() == 0);
  CHECK(s.empty());
  CHECK(s.size() == 0);
  CHECK(s.capacity() == cap);
  CHECK(s.memory_size() == bytes);
  CHECK(s.begin() == s.end());
  for (std::uint32_t i = 0; i < 300; ++i) CHECK_FALSE(s.contains(key(i)));
  // Refills from slot 0 in order, not through the old free list.
  CHECK(s.emplace(100) == key(0));
  CHECK(s.emplace(101) == key(1));
  CHECK(static_cast<const void*>(s.get(key(1))) == first);
  s.clear();
  s.clear();
  CHECK(counted::live() == 0);
}

// ---- iteration -------------------------------------------------------------

TEMPLATE_TEST_CASE("iteration visits live slots in key order", "[slab][iter]",
                   nexus::mmap_region, nexus::heap_region) {
  nexus::slab<std::uint64_t, TestType> s;
  REQUIRE_FALSE(s.alloc(1000));
  CHECK(s.begin() == s.end());
  for (std::uint64_t i = 0; i < 1000; ++i) s.insert(i * 3);
  // Keep a sparse set straddling many 64-slot words (and whole empty words).
  std::vector<std::uint64_t> kept;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    if (i % 97 == 5 || i == 63 || i == 64 || i == 999) {
      kept.push_back(i);
    } else {
      s.erase(key(i));
    }
  }
  std::vector<std::uint64_t> seen;
  for (auto [k, v] : s) {
    CHECK(v == k.index() * 3);
    seen.push_back(k.index());
  }
  CHECK(seen == kept);

  // Mutation through the non-const iterator; const iteration sees it.
  for (auto [k, v] : s) v += 1;
  const auto& cs = s;
  std::size_t n = 0;
  for (auto [k, v] : cs) {
    static_assert(std::is_same_v<decltype(v), const std::uint64_t&>);
    CHECK(v == k.index() * 3 + 1);
    ++n;
  }
  CHECK(n == kept.size());
  CHECK(static_cast<std::size_t>(std::distance(s.cbegin(), s.cend())) ==
        s.size());

  auto it = s.begin();
  CHECK(it->first == key(5));
  CHECK(it->second == 16);
  auto old = it++;
  CHECK(old->first == key(5));
  CHECK((*it).first == key(63));
  typename nexus::slab<std::uint64_t, TestType>::const_iterator cit = it;
  CHECK(cit->first == key(63));
  CHECK(cit != s.cbegin());
}

TEST_CASE("iteration matches a model at every fill level and vacancy pattern",
          "[slab][iter]") {
  // The vacancy map is scanned 8 slots per load: cover every offset of a
  // live slot inside a group, runs of vacant groups, fills that stop
  // mid-group (map bytes past the cursor read as live and must be cut off),
  // a cleared slab refilled part way, and the const and non-const paths.
  std::mt19937_64 rng(7);
  nexus::slab<std::uint64_t, nexus::heap_region> s;
  REQUIRE_FALSE(s.alloc(300));
  for (int trial = 0; trial < 400; ++trial) {
    s.clear();
    const std::size_t used = rng() % 80 + 1;
    for (std::size_t i = 0; i < used; ++i) s.insert(i + 1000);
    std::vector<std::size_t> model;
    const unsigned keep_one_in = static_cast<unsigned>(rng() % 6) + 1;
    for (std::size_t i = 0; i < used; ++i) {
      if (rng() % keep_one_in == 0) {
        model.push_back(i);
      } else {
        REQUIRE(s.erase(key(i)));
      }
    }
    std::vector<std::size_t> seen;
    for (auto [k, v] : s) {
      REQUIRE(v == k.index() + 1000);
      seen.push_back(k.index());
    }
    REQUIRE(seen == model);
    const auto& cs = s;
    seen.clear();
    for (auto it = cs.begin(); it != cs.end(); ++it) {
      seen.push_back(it->first.index());
    }
    REQUIRE(seen == model);
    REQUIRE(s.size() == model.size());
    REQUIRE(s.check_invariants());
  }
}

TEST_CASE("erasing the current element while iterating is safe",
          "[slab][iter]") {
  counted::reset();
  {
    nexus::slab<counted> s;
    REQUIRE_FALSE(s.alloc(200));
    for (int i = 0; i < 200; ++i) s.emplace(i);
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it->second.value % 3 != 0) s.erase(it->first);
    }
    std::size_t n = 0;
    for (auto [k, v] : s) {
      CHECK(v.value % 3 == 0);
      CHECK(static_cast<std::int64_t>(k.index()) == v.value);
      ++n;
    }
    CHECK(n == 67);
    CHECK(s.size() == 67);
  }
  CHECK(counted::live() == 0);
}

// ---- moves -----------------------------------------------------------------

TEST_CASE("moves transfer the memory and values; swap exchanges them",
          "[slab]") {
  counted::reset();
  {
    nexus::slab<counted> a;
    REQUIRE_FALSE(a.alloc(10));
    const key k = a.emplace(11);
    const counted* where = a.get(k);
    const std::size_t bytes = a.memory_size();

    nexus::slab<counted> b(std::move(a));
    CHECK(a.capacity() == 0);  // NOLINT(bugprone-use-after-move)
    CHECK(a.memory_size() == 0);
    CHECK(a.empty());
    CHECK(b.get(k) == where);
    CHECK(b.memory_size() == bytes);
    CHECK(counted::live() == 1);

    nexus::slab<counted> c;
    REQUIRE_FALSE(c.alloc(10));
    c.emplace(22);
    c.emplace(23);
    c = std::move(b);  // destroys c's two values
    CHECK(counted::live() == 1);
    CHECK(c[k].value == 11);
    CHECK(b.capacity() == 0);  // NOLINT(bugprone-use-after-move)

    REQUIRE_FALSE(a.alloc(5));  // a moved-from slab is reusable
    a.emplace(33);
    swap(a, c);
    CHECK(a[k].value == 11);
    CHECK(c[key(0)].value == 33);
    a.swap(c);
    CHECK(c[k].value == 11);
    auto& alias = c;
    c = std::move(alias);  // self-move is a no-op
    CHECK(c[k].value == 11);
  }
  CHECK(counted::live() == 0);
}

// ---- element types -------------------------------------------------------

TEST_CASE("move-only, non-default-constructible and small types work",
          "[slab][types]") {
  nexus::slab<std::unique_ptr<int>> u;
  REQUIRE_FALSE(u.alloc(10));
  const key k = u.insert(std::make_unique<int>(4));
  auto out = u.remove(k);
  REQUIRE(out.has_value());
  CHECK(**out == 4);

  nexus::slab<slab_test::point> p;
  REQUIRE_FALSE(p.alloc(10));
  const key pk = p.emplace(1, 2);
  CHECK(p[pk].x == 1);
  CHECK(p[pk].y == 2);
  CHECK(p.try_emplace(3, 4).has_value());

  nexus::slab<char> c;
  REQUIRE_FALSE(c.alloc(1));
  CHECK(c.capacity() == 816);  // 4-byte slots: 816 * 4 + 832 map bytes
  for (char ch = 'a'; ch <= 'z'; ++ch) c.insert(ch);
  CHECK(c[key(25)] == 'z');
  c.erase(key(3));
  CHECK(c.insert('!') == key(3));
}

TEST_CASE("over-aligned values are stored at their alignment",
          "[slab][types]") {
  nexus::slab<slab_test::aligned64> s;
  REQUIRE_FALSE(s.alloc(100));
  for (std::uint64_t i = 0; i < 100; ++i) {
    const key k = s.emplace(i);
    CHECK(reinterpret_cast<std::uintptr_t>(s.get(k)) % 64 == 0);
    CHECK(s[k].value == i);
  }
  nexus::slab<slab_test::aligned256, nexus::heap_region> t;
  REQUIRE_FALSE(t.alloc(20));
  for (std::uint64_t i = 0; i < 20; ++i) {
    const key k = t.emplace(i);
    CHECK(reinterpret_cast<std::uintptr_t>(t.get(k)) % 256 == 0);
    CHECK(t.key_of(t[k]) == k);
  }
}

// ---- exception safety --------------------------------------------------

TEST_CASE("a throwing constructor leaves the slab unchanged",
          "[slab][exceptions]") {
  counted::reset();
  {
    nexus::slab<counted> s;
    REQUIRE_FALSE(s.alloc(8));
    for (int i = 0; i < 6; ++i) s.emplace(i);
    s.erase(key(1));
    s.erase(key(4));  // free list: 4 -> 1 -> bump (6)

    SECTION("on a recycled slot, whose free-list link it scribbles over") {
      counted::throw_countdown = 0;
      REQUIRE_THROWS_AS(s.emplace(100), std::runtime_error);
      counted::throw_countdown = 0;
      REQUIRE_THROWS_AS(static_cast<void>(s.try_emplace(100)),
                        std::runtime_error);
    }
    SECTION("through insert(const T&) and vacant entries") {
      const counted c(5);
      counted::throw_countdown = 0;
      REQUIRE_THROWS_AS(s.insert(c), std::runtime_error);
      auto e = s.vacant_entry();
      REQUIRE(e);
      counted::throw_countdown = 0;
      REQUIRE_THROWS_AS(e->emplace(1), std::runtime_error);
    }
    SECTION("on a never-used slot") {
      CHECK(s.emplace(4) == key(4));
      CHECK(s.emplace(1) == key(1));
      counted::throw_countdown = 0;
      REQUIRE_THROWS_AS(s.emplace(100), std::runtime_error);
      CHECK(s.size() == 6);
      CHECK_FALSE(s.contains(key(6)));
      CHECK(s.erase(key(1)));
      CHECK(s.erase(key(4)));
    }
    // Same size, same live keys, same free-list order as before.
    CHECK(s.check_invariants());
    CHECK(counted::live() == 4);
    CHECK(s.size() == 4);
    CHECK_FALSE(s.contains(key(1)));
    CHECK_FALSE(s.contains(key(4)));
    CHECK(s.emplace(-4) == key(4));
    CHECK(s.emplace(-1) == key(1));
    CHECK(s.emplace(-6) == key(6));
    for (auto [k, v] : s) {
      const auto i = static_cast<std::int64_t>(k.index());
      const bool refilled = i == 1 || i == 4 || i == 6;
      CHECK(v.value == (refilled ? -i : i));
    }
  }
  CHECK(counted::live() == 0);
}

// A node whose destructor erases its child from the same slab.
struct chain_node {
  static inline nexus::slab<chain_node>* owner = nullptr;
  std::uint32_t child;  // key index, or no_child
  static constexpr std::uint32_t no_child = 0xFFFFFFFFu;
  explicit chain_node(std::uint32_t c) : child(c) {}
  chain_node(const chain_node&) = delete;
  chain_node& operator=(const chain_node&) = delete;
  ~chain_node() {
    if (child != no_child && owner != nullptr) {
      static_cast<void>(owner->erase(key(child)));
    }
  }
};

TEST_CASE("a destructor run by erase may erase other keys of its slab",
          "[slab]") {
  nexus::slab<chain_node> s;
  REQUIRE_FALSE(s.alloc(16));
  chain_node::owner = &s;
  // Chain 0 <- 1 <- 2 <- 3 (3 owns 2 owns 1 owns 0), plus a bystander.
  std::uint32_t child = chain_node::no_child;
  for (int i = 0; i < 4; ++i)
    child = static_cast<std::uint32_t>(s.emplace(child).index());
  const key bystander = s.emplace(chain_node::no_child);
  s.erase(key(1));  // also erases 0
  CHECK(s.size() == 3);
  CHECK(s.check_invariants());
  CHECK_FALSE(s.contains(key(0)));
  s[key(2)].child = chain_node::no_child;  // 1 is gone: drop the link
  s.erase(key(3));                         // also erases 2
  CHECK(s.size() == 1);
  CHECK(s.contains(bystander));
  CHECK(s.check_invariants());
  // Each child went on the free list before its parent: LIFO gives
  // 3, 2, 1, 0.
  CHECK(s.emplace(chain_node::no_child) == key(3));
  CHECK(s.emplace(chain_node::no_child) == key(2));
  CHECK(s.emplace(chain_node::no_child) == key(1));
  CHECK(s.emplace(chain_node::no_child) == key(0));
  CHECK(s.check_invariants());
  s.clear();
  chain_node::owner = nullptr;
}

TEST_CASE("a throwing constructor restores a recycled slot's skip link",
          "[slab][exceptions]") {
  // counted is 24 bytes: a vacant slot keeps the head word and, after it,
  // the entry two below, which the constructor scribbles over first.
  static_assert(sizeof(counted) == 24 && alignof(counted) == 8);
  counted::reset();
  {
    nexus::slab<counted> s;
    REQUIRE_FALSE(s.alloc(8));
    for (int i = 0; i < 6; ++i) s.emplace(i);
    s.erase(key(1));
    s.erase(key(2));
    s.erase(key(4));  // free list: 4 -> 2 -> 1, 4's skip link names 1
    counted::throw_countdown = 0;
    REQUIRE_THROWS_AS(s.emplace(100), std::runtime_error);
    CHECK(s.check_invariants());
    CHECK(s.size() == 3);
    CHECK(s.emplace(-4) == key(4));
    CHECK(s.emplace(-2) == key(2));
    CHECK(s.emplace(-1) == key(1));
    CHECK(s.emplace(-6) == key(6));
    CHECK(s.check_invariants());
    CHECK(counted::live() == 7);
  }
  CHECK(counted::live() == 0);
}

// 4 bytes: its slot keeps a 4-byte free-list link, not the 8-byte head word
// of `counted`'s slots, and the constructor scribbles over that link first.
struct small_thrower {
  std::int32_t v;
  small_thrower(std::int32_t x, bool fail) : v(~x) {
    if (fail) throw std::runtime_error("small_thrower: deliberate throw");
    v = x;
  }
};

TEST_CASE("a throwing constructor of a 4-byte value restores its link",
          "[slab][exceptions]") {
  static_assert(sizeof(small_thrower) == 4);
  nexus::slab<small_thrower> s;
  REQUIRE_FALSE(s.alloc(8));
  for (int i = 0; i < 6; ++i) s.emplace(i, false);
  s.erase(key(1));
  s.erase(key(4));  // free list: 4 -> 1 -> bump (6)
  REQUIRE_THROWS_AS(s.emplace(100, true), std::runtime_error);
  CHECK(s.check_invariants());
  CHECK(s.size() == 4);
  CHECK(s.emplace(-4, false) == key(4));
  CHECK(s.emplace(-1, false) == key(1));
  CHECK(s.emplace(-6, false) == key(6));
  CHECK(s.size() == 7);
  CHECK(s.check_invariants());
}

TEST_CASE("a throwing move in remove leaves the value in place",
          "[slab][exceptions]") {
  counted::reset();
  {
    nexus::slab<counted> s;
    REQUIRE_FALSE(s.alloc(4));
    const key k = s.emplace(9);
    counted::throw_countdown = 0;
    REQUIRE_THROWS_AS(static_cast<void>(s.remove(k)), std::runtime_error);
    CHECK(s.contains(k));
    CHECK(s[k].value == 9);
    CHECK(s.size() == 1);
    const auto out = s.remove(k);
    REQUIRE(out.has_value());
    CHECK(out->value == 9);
  }
  CHECK(counted::live() == 0);
}

TEST_CASE("slab_full carries a message", "[slab][exceptions]") {
  nexus::slab<int> s;
  try {
    s.insert(1);
    FAIL("insert into an unallocated slab must throw");
  } catch (const nexus::slab_full& e) {
    CHECK(std::string(e.what()).find("full") != std::string::npos);
  }
}
