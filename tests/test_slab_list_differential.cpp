// SPDX-License-Identifier: MIT OR Apache-2.0
// Randomized differential tests: nexus::slab_list / slab_multilist against
// std::set / std::multiset, with every structural invariant checked after
// every modification (NEXUS_SLAB_LIST_CHECK_INVARIANTS aborts naming the
// broken one). Key spaces and options are chosen so that slabs fill, spill,
// split, merge and compact, and sublayers attach, deepen and detach.
#define NEXUS_SLAB_LIST_CHECK_INVARIANTS 1

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <nexus/slab_list.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "catch_shim.hpp"

namespace {

using u64 = std::uint64_t;

struct config {
  const char* label;
  nexus::slab_list_options opts;
};

std::vector<config> configs() {
  std::vector<config> c;
  c.push_back({"default", {}});
  nexus::slab_list_options deep;
  deep.sublayer_threshold = 2;
  deep.sublayer_fanout = 4;
  deep.min_capacity_ratio = 0.5;
  c.push_back({"threshold 2, fanout 4", deep});
  nexus::slab_list_options mid;
  mid.sublayer_threshold = 3;
  mid.sublayer_fanout = 7;
  mid.min_capacity_ratio = 0.7;
  c.push_back({"threshold 3, fanout 7", mid});
  nexus::slab_list_options chain;
  chain.sublayer_threshold = 40;
  chain.min_capacity_ratio = 0.85;
  c.push_back({"chain up to 40 slabs", chain});
  return c;
}

u64 make_key(std::mt19937_64& rng, u64 space, u64*) { return rng() % space; }
std::string make_key(std::mt19937_64& rng, u64 space, std::string*) {
  // Variable length: a number padded by a random number of characters.
  const u64 k = rng() % space;
  std::string s = std::to_string(k);
  s.append(static_cast<std::size_t>(k % 23), static_cast<char>('a' + k % 26));
  return s;
}

template <class L, class R>
void require_same(const L& l, const R& ref) {
  REQUIRE(l.size() == ref.size());
  REQUIRE(std::equal(l.begin(), l.end(), ref.begin(), ref.end()));
  REQUIRE(l.check_invariants());
}

// One random run: phases of insert-heavy, mixed and erase-heavy operations
// so the list grows through slabs and sublayers and shrinks back to small
// mode; every few hundred steps the full contents and bounds are compared.
template <class T, class L, class R>
void run(const config& cfg, u64 space, int steps, u64 seed) {
  INFO("config: " << cfg.label << ", key space " << space << ", seed " << seed);
  std::mt19937_64 rng(seed);
  L l(cfg.opts);
  R ref;
  std::size_t max_layers = 0;
  for (int step = 0; step < steps; ++step) {
    CAPTURE(step);
    const int phase = (step * 4 / steps);  // 0,1: grow; 2: mixed; 3: shrink
    const unsigned insert_pct = phase < 2 ? 85 : phase == 2 ? 50 : 10;
    const unsigned dice = static_cast<unsigned>(rng() % 100);
    T key = make_key(rng, space, static_cast<T*>(nullptr));
    // Most erases target a present element (random keys in a large space
    // would almost always miss).
    if (dice >= insert_pct && rng() % 4 != 0) {
      // (Not "near": <windows.h> defines it as a macro.)
      auto nearest = ref.lower_bound(key);
      if (nearest == ref.end() && !ref.empty()) nearest = ref.begin();
      if (nearest != ref.end()) key = *nearest;
    }
    if (dice < insert_pct) {
      const auto it = l.insert(key);
      const auto rit = ref.insert(key);
      if constexpr (std::is_same_v<decltype(rit), const typename R::iterator>) {
        REQUIRE(*it == *rit);
      } else {
        REQUIRE(it.second == rit.second);
        REQUIRE(*it.first == *rit.first);
      }
    } else if (dice < insert_pct + 3 && !ref.empty()) {
      // Range erase of a short run.
      auto a = l.lower_bound(key);
      auto ra = ref.lower_bound(key);
      auto b = a;
      auto rb = ra;
      for (int i = 0; i < 20 && b != l.end(); ++i, ++b, ++rb) {
      }
      auto after = l.erase(a, b);
      auto rafter = ref.erase(ra, rb);
      REQUIRE((after == l.end()) == (rafter == ref.end()));
      if (rafter != ref.end()) REQUIRE(*after == *rafter);
    } else if (dice < insert_pct + 6 && !ref.empty()) {
      // Erase through an iterator found by position.
      const std::size_t i = static_cast<std::size_t>(rng() % ref.size());
      auto it = l.nth(i);
      auto rit = std::next(ref.begin(), static_cast<std::ptrdiff_t>(i));
      REQUIRE(*it == *rit);
      REQUIRE(l.index_of(it) == i);
      auto after = l.erase(it);
      auto rafter = ref.erase(rit);
      REQUIRE((after == l.end()) == (rafter == ref.end()));
      if (rafter != ref.end()) REQUIRE(*after == *rafter);
    } else {
      REQUIRE(l.erase(key) == ref.erase(key));
      REQUIRE(l.erase(key) == 0);  // now absent, perhaps a slab's former max
    }
    REQUIRE(l.size() == ref.size());
    REQUIRE(l.check_invariants());
    max_layers = std::max(max_layers, l.sublayer_count());
    if (step % 251 == 0) {
      require_same(l, ref);
      T probe = make_key(rng, space, static_cast<T*>(nullptr));
      auto lb = l.lower_bound(probe);
      auto rlb = ref.lower_bound(probe);
      REQUIRE((lb == l.end()) == (rlb == ref.end()));
      if (rlb != ref.end()) REQUIRE(*lb == *rlb);
      auto ub = l.upper_bound(probe);
      auto rub = ref.upper_bound(probe);
      REQUIRE((ub == l.end()) == (rub == ref.end()));
      if (rub != ref.end()) REQUIRE(*ub == *rub);
      REQUIRE(l.count(probe) == ref.count(probe));
    }
  }
  require_same(l, ref);
  // Reverse iteration matches too.
  REQUIRE(std::equal(l.rbegin(), l.rend(), ref.rbegin(), ref.rend()));
  // Remove everything that is left by predicate, then check emptiness.
  const auto removed = nexus::erase_if(l, [](const T&) { return true; });
  REQUIRE(removed == ref.size());
  REQUIRE(l.empty());
  REQUIRE(l.check_invariants());
  INFO("max sublayers " << max_layers);
}

}  // namespace

TEST_CASE("differential: slab_list<uint64_t> against std::set") {
  u64 seed = 1000;
  for (const config& cfg : configs()) {
    for (u64 space : {u64{50}, u64{700}, u64{6000}, u64{1} << 40}) {
      run<u64, nexus::slab_list<u64>, std::set<u64>>(cfg, space, 12000, seed++);
    }
  }
}

TEST_CASE("differential: slab_multilist<uint64_t> against std::multiset") {
  u64 seed = 2000;
  for (const config& cfg : configs()) {
    for (u64 space : {u64{20}, u64{900}, u64{1} << 40}) {
      run<u64, nexus::slab_multilist<u64>, std::multiset<u64>>(cfg, space,
                                                               10000, seed++);
    }
  }
}

TEST_CASE("differential: slab_list<std::string> against std::set") {
  u64 seed = 3000;
  for (const config& cfg : configs()) {
    for (u64 space : {u64{60}, u64{1500}, u64{1} << 40}) {
      run<std::string, nexus::slab_list<std::string>, std::set<std::string>>(
          cfg, space, 8000, seed++);
    }
  }
}

TEST_CASE("differential: slab_multilist<std::string> against std::multiset") {
  u64 seed = 4000;
  for (const config& cfg : configs()) {
    for (u64 space : {u64{40}, u64{3000}}) {
      run<std::string, nexus::slab_multilist<std::string>,
          std::multiset<std::string>>(cfg, space, 6000, seed++);
    }
  }
}

// Operations cluster around a drifting cursor, so most erasures by key land
// in the slab of the previous one (the erase hint) while inserts, spills,
// merges, pops and positional erasures change the slabs around it. Elements
// are even; erasing an odd key anywhere misses inside some other slab.
template <class L>
void run_local(const config& cfg, u64 seed) {
  INFO("config: " << cfg.label << ", seed " << seed);
  std::mt19937_64 rng(seed);
  L l(cfg.opts);
  std::set<u64> ref;
  const u64 space = 20000;
  u64 cursor = space / 2;
  for (int step = 0; step < 30000; ++step) {
    CAPTURE(step);
    cursor = (cursor + space + rng() % 9 - 3) % space;  // drifts upwards
    const unsigned dice = static_cast<unsigned>(rng() % 100);
    if (dice < 40) {
      // Erase at or just past the cursor: present or absent.
      const u64 k = 2 * (cursor + rng() % 4) + (rng() % 8 == 0 ? 1 : 0);
      REQUIRE(l.erase(k) == ref.erase(k));
    } else if (dice < 44) {
      REQUIRE(l.erase(2 * (rng() % space) + 1) == 0);
    } else if (dice < 85) {
      const u64 k = 2 * ((cursor + space + rng() % 400 - 150) % space);
      REQUIRE(l.insert(k).second == ref.insert(k).second);
    } else if (dice < 89 && !ref.empty()) {
      REQUIRE(l.front() == *ref.begin());
      l.pop_front();
      ref.erase(ref.begin());
    } else if (dice < 93 && !ref.empty()) {
      const std::size_t i = static_cast<std::size_t>(rng() % ref.size());
      const u64 v = *l.nth(i);
      REQUIRE(ref.count(v) == 1);
      l.erase(l.nth(i));
      ref.erase(v);
    } else if (dice < 97) {
      const u64 k = 2 * cursor + rng() % 8;
      REQUIRE(l.contains(k) == (ref.count(k) == 1));
    } else if (dice < 98 && step % 7 == 0) {
      l.shrink_to_fit();
    } else if (dice < 99 && step % 11 == 0) {
      // Erase everything below the cursor through the hint path, in order.
      while (!ref.empty() && *ref.begin() < 2 * cursor) {
        REQUIRE(l.erase(*ref.begin()) == 1);
        ref.erase(ref.begin());
      }
    } else if (step % 5000 == 0) {
      l.clear();
      ref.clear();
    }
    REQUIRE(l.size() == ref.size());
    if (step % 97 == 0) require_same(l, ref);
  }
  require_same(l, ref);
}

TEST_CASE("differential: erasures near the previous one (the erase hint)") {
  u64 seed = 6000;
  for (const config& cfg : configs())
    run_local<nexus::slab_list<u64>>(cfg, seed++);
}

TEST_CASE("differential: deep sublayers (at least 3) stay consistent") {
  nexus::slab_list_options o;
  o.sublayer_threshold = 2;
  o.sublayer_fanout = 4;
  o.min_capacity_ratio = 0.5;
  nexus::slab_list<u64> l(o);
  std::set<u64> ref;
  std::mt19937_64 rng(5000);
  std::size_t max_layers = 0;
  for (int i = 0; i < 15000; ++i) {
    const u64 k = rng() % 100000;
    l.insert(k);
    ref.insert(k);
    max_layers = std::max(max_layers, l.sublayer_count());
  }
  CHECK(max_layers >= 3);
  require_same(l, ref);
  while (!ref.empty()) {
    const u64 k = rng() % 100000;
    auto it = ref.lower_bound(k);
    if (it == ref.end()) continue;
    const u64 v = *it;
    REQUIRE(l.erase(v) == 1);
    ref.erase(it);
  }
  CHECK(l.sublayer_count() == 0);
  CHECK(l.empty());
  CHECK(l.check_invariants());
}
