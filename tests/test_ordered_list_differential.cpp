// SPDX-License-Identifier: MIT OR Apache-2.0
// Randomized differential tests of the ordered slab list against std::vector
// and std::deque: positional inserts and erases, range erases, index reads,
// push/pop at both ends and writes through iterators, with every invariant
// checked after every step, deep sublayers attaching and detaching, and index
// reads over lists of 10^5+ elements.
#include <nexus/slab_list.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "catch_shim.hpp"

namespace {

using u64 = std::uint64_t;
template <class T>
using olist = nexus::slab_list<T, nexus::insertion_order>;

// Variable-length strings, some past the small-string buffer.
std::string make_string(std::mt19937_64& rng) {
  const std::size_t len = rng() % 4 == 0 ? 20 + rng() % 40 : rng() % 12;
  std::string s(len, 'a');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

template <class T>
T make_value(std::mt19937_64& rng) {
  if constexpr (std::is_same_v<T, std::string>)
    return make_string(rng);
  else
    return static_cast<T>(rng());
}

// Runs `steps` random operations on a list and a model (vector or deque).
// The list grows towards `peak` elements, then drains to empty. Returns the
// most sublayers seen.
template <class T, class Model>
std::size_t run_differential(u64 seed, std::size_t steps, std::size_t peak,
                             const nexus::slab_list_options& opts) {
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  olist<T> l(opts);
  Model m;
  std::size_t most = 0, biggest = 0;
  bool grow = true;
  for (std::size_t step = 0; step < steps || !m.empty(); ++step) {
    INFO("step " << step << ", size " << m.size());
    if (step >= steps) grow = false;  // drain
    if (m.size() >= peak) grow = false;
    if (m.empty() && step < steps) grow = true;
    const unsigned dice = static_cast<unsigned>(rng() % 100);
    const unsigned insert_pct = grow ? 70 : 20;
    const unsigned erase_pct = grow ? 15 : 65;
    if (dice < insert_pct) {
      const unsigned kind = static_cast<unsigned>(rng() % 4);
      T v = make_value<T>(rng);
      if (kind == 0) {
        l.push_back(v);
        m.push_back(v);
      } else if (kind == 1) {
        l.push_front(v);
        m.insert(m.begin(), v);
      } else {
        const std::size_t pos = rng() % (m.size() + 1);
        auto it =
            kind == 2 ? l.insert(l.nth(pos), v) : l.emplace(l.nth(pos), v);
        REQUIRE(*it == v);
        REQUIRE(l.index_of(it) == pos);
        m.insert(m.begin() + static_cast<std::ptrdiff_t>(pos), v);
      }
    } else if (dice < insert_pct + erase_pct && !m.empty()) {
      const unsigned kind = static_cast<unsigned>(rng() % 16);
      if (kind == 0) {
        l.pop_back();
        m.pop_back();
      } else if (kind == 1) {
        l.pop_front();
        m.erase(m.begin());
      } else if (kind == 2) {
        // a range: usually a few elements, sometimes a few slabs
        const std::size_t a = rng() % m.size();
        const std::size_t span = rng() % 8 == 0 ? 3 * olist<T>::slab_capacity
                                                : olist<T>::slab_capacity / 4;
        const std::size_t b = std::min(m.size(), a + rng() % span);
        auto it = l.erase(l.nth(a), l.nth(b));
        m.erase(m.begin() + static_cast<std::ptrdiff_t>(a),
                m.begin() + static_cast<std::ptrdiff_t>(b));
        REQUIRE(l.index_of(it) == a);
      } else {
        const std::size_t pos = rng() % m.size();
        auto it = l.erase(l.nth(pos));
        m.erase(m.begin() + static_cast<std::ptrdiff_t>(pos));
        REQUIRE(l.index_of(it) == pos);
        if (pos < m.size()) REQUIRE(*it == m[pos]);
      }
    } else if (!m.empty()) {
      const unsigned kind = static_cast<unsigned>(rng() % 4);
      const std::size_t pos = rng() % m.size();
      if (kind == 0) {
        REQUIRE(l[pos] == m[pos]);
        REQUIRE(l.at(pos) == m[pos]);
      } else if (kind == 1) {
        T v = make_value<T>(rng);
        *l.nth(pos) = v;  // write through the iterator
        m[pos] = v;
      } else if (kind == 2) {
        REQUIRE(l.front() == m.front());
        REQUIRE(l.back() == m.back());
      } else {
        auto it = l.nth(pos);
        REQUIRE(l.index_of(it) == pos);
        if (pos > 0) REQUIRE(*std::prev(it) == m[pos - 1]);
        if (pos + 1 < m.size()) REQUIRE(*std::next(it) == m[pos + 1]);
      }
    }
    REQUIRE(l.size() == m.size());
    const char* broken = l.violation();
    INFO("violation: " << (broken ? broken : "none"));
    REQUIRE(l.check_invariants());
    most = std::max<std::size_t>(most, l.sublayer_count());
    biggest = std::max(biggest, m.size());
    if (step % 1024 == 0)
      REQUIRE(std::equal(l.begin(), l.end(), m.begin(), m.end()));
  }
  REQUIRE(l.empty());
  REQUIRE(l.sublayer_count() == 0);
  CHECK(biggest >= peak);  // the run did grow as planned
  return most;
}

nexus::slab_list_options deep() {
  nexus::slab_list_options o;
  o.sublayer_fanout = 4;
  o.sublayer_threshold = 2;
  o.name = "ordered-differential";
  return o;
}

}  // namespace

TEST_CASE("ordered list vs std::vector: uint64 with deep sublayers") {
  std::size_t most = 0;
  for (u64 seed : {1u, 2u, 3u}) {
    most = std::max(most, run_differential<u64, std::vector<u64>>(
                              seed, 12000, 2500, deep()));
  }
  CHECK(most >= 3);
}

TEST_CASE("ordered list vs std::deque: strings with deep sublayers") {
  std::size_t most = 0;
  for (u64 seed : {11u, 12u}) {
    most =
        std::max(most, run_differential<std::string, std::deque<std::string>>(
                           seed, 8000, 2000, deep()));
  }
  CHECK(most >= 3);
}

TEST_CASE("ordered list vs std::deque: default options, small and slab mode") {
  for (u64 seed : {21u, 22u}) {
    run_differential<u64, std::deque<u64>>(seed, 6000, 900,
                                           nexus::slab_list_options{});
  }
  nexus::slab_list_options o;
  o.min_capacity_ratio = 0.5;
  run_differential<std::string, std::vector<std::string>>(23, 4000, 600, o);
}

TEST_CASE("ordered list: index reads over 10^5+ elements agree with a vector") {
  for (u64 seed : {31u, 32u}) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    nexus::slab_list_options o;
    if (seed == 32) {
      o.sublayer_fanout = 8;  // more layers over the same elements
      o.sublayer_threshold = 4;
    }
    olist<u64> l(o);
    std::vector<u64> v;
    for (std::size_t i = 0; i < 150000; ++i) {
      const u64 x = rng();
      const unsigned kind = static_cast<unsigned>(rng() % 3);
      if (kind == 0) {
        l.push_back(x);
        v.push_back(x);
      } else {
        const std::size_t pos = rng() % (v.size() + 1);
        l.insert(l.nth(pos), x);
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(pos), x);
      }
    }
    REQUIRE(l.check_invariants());
    CHECK(l.sublayer_count() >= (seed == 32 ? 3u : 1u));
    for (int k = 0; k < 20000; ++k) {
      const std::size_t pos = rng() % v.size();
      REQUIRE(l[pos] == v[pos]);
      REQUIRE(l.index_of(l.nth(pos)) == pos);
    }
    REQUIRE(std::equal(l.begin(), l.end(), v.begin(), v.end()));
    REQUIRE(std::equal(l.rbegin(), l.rend(), v.rbegin(), v.rend()));
    // erase half at random positions, then read again
    for (int k = 0; k < 75000; ++k) {
      const std::size_t pos = rng() % v.size();
      l.erase(l.nth(pos));
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(pos));
    }
    REQUIRE(l.check_invariants());
    for (int k = 0; k < 20000; ++k) {
      const std::size_t pos = rng() % v.size();
      REQUIRE(l[pos] == v[pos]);
    }
    REQUIRE(std::equal(l.begin(), l.end(), v.begin(), v.end()));
    // sort and reverse against the model
    l.sort();
    std::stable_sort(v.begin(), v.end());
    REQUIRE(std::equal(l.begin(), l.end(), v.begin(), v.end()));
    l.reverse();
    std::reverse(v.begin(), v.end());
    REQUIRE(std::equal(l.begin(), l.end(), v.begin(), v.end()));
    REQUIRE(l.check_invariants());
  }
}
