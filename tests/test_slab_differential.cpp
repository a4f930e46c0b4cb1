// SPDX-License-Identifier: MIT OR Apache-2.0
// Randomized differential test: nexus::slab<counted> against a model made of
// std::unordered_map<key, value> plus the predicted free list (LIFO stack and
// bump cursor), over every mutating and reading operation.
#include <nexus/heap_region.hpp>
#include <nexus/mmap_region.hpp>
#include <nexus/slab.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "catch_shim.hpp"
#include "slab_test_types.hpp"

using nexus::key;
using slab_test::counted;

namespace {

struct model {
  std::unordered_map<key, std::int64_t> values;
  std::vector<std::uint32_t> free_stack;  // top = most recently freed
  std::uint32_t bump = 0;

  // The key the slab must hand out next.
  [[nodiscard]] key next_key() const {
    return free_stack.empty() ? key(bump) : key(free_stack.back());
  }
  void inserted(key k, std::int64_t v) {
    if (!free_stack.empty()) {
      free_stack.pop_back();
    } else {
      ++bump;
    }
    values.emplace(k, v);
  }
  void removed(key k) {
    values.erase(k);
    free_stack.push_back(static_cast<std::uint32_t>(k.index()));
  }
  void cleared() {
    values.clear();
    free_stack.clear();
    bump = 0;
  }
};

template <class Region>
void run_differential(std::uint64_t seed, std::size_t ops,
                      std::size_t min_capacity) {
  CAPTURE(seed);
  counted::reset();
  std::mt19937_64 rng(seed);
  {
    nexus::slab<counted, Region> s;
    REQUIRE_FALSE(s.alloc(min_capacity));
    const std::size_t cap = s.capacity();
    model m;
    std::int64_t next_value = 1;
    bool filling = true;
    std::size_t full_inserts = 0;

    const auto random_key = [&]() -> key {
      // Mostly live keys, else any index up to a little past capacity.
      if (!m.values.empty() && rng() % 4 != 0) {
        auto it = m.values.begin();
        std::advance(it, static_cast<long>(rng() % std::min<std::size_t>(
                                                       m.values.size(), 32)));
        return it->first;
      }
      return key(rng() % (cap + 16));
    };

    const auto check_insert = [&](std::optional<key> got, std::int64_t v,
                                  const key expected, bool was_full) {
      if (was_full) {
        REQUIRE_FALSE(got.has_value());
        ++full_inserts;
        return;
      }
      REQUIRE(got.has_value());
      REQUIRE(*got == expected);
      m.inserted(*got, v);
    };

    for (std::size_t step = 0; step < ops; ++step) {
      CAPTURE(step);
      const bool was_full = m.values.size() == cap;
      const key expected = m.next_key();
      const std::int64_t v = next_value++;
      // Alternate fill and drain phases so the slab regularly runs full
      // (exercising the "full" paths) and empty.
      if (was_full) filling = rng() % 8 == 0;
      if (m.values.empty() || rng() % (20 * cap) == 0) {
        filling = !filling || m.values.empty();
      }
      const unsigned insert_pct = filling ? 55 : 20;
      const unsigned remove_pct = filling ? 15 : 50;
      const unsigned dice = static_cast<unsigned>(rng() % 1000);
      if (dice < insert_pct * 10) {
        switch (rng() % 6) {
          case 0: {
            counted c(v);
            check_insert(s.try_insert(std::move(c)), v, expected, was_full);
            REQUIRE(c.moved_from == !was_full);
            break;
          }
          case 1: {
            const counted c(v);
            check_insert(s.try_insert(c), v, expected, was_full);
            break;
          }
          case 2:
            check_insert(s.try_emplace(v), v, expected, was_full);
            break;
          case 3: {
            if (was_full) {
              REQUIRE_THROWS_AS(s.emplace(v), nexus::slab_full);
            } else {
              check_insert(s.emplace(v), v, expected, false);
            }
            break;
          }
          case 4: {
            if (was_full) {
              REQUIRE_THROWS_AS(s.insert(counted(v)), nexus::slab_full);
            } else {
              check_insert(s.insert(counted(v)), v, expected, false);
            }
            break;
          }
          default: {
            auto e = s.vacant_entry();
            REQUIRE(static_cast<bool>(e) == !was_full);
            if (e) {
              REQUIRE(e->key() == expected);
              if (rng() % 4 == 0) break;  // dropped unused
              counted& ref = e->emplace(v);
              REQUIRE(s.key_of(ref) == expected);
              m.inserted(expected, v);
            }
            break;
          }
        }
      } else if (dice < (insert_pct + remove_pct) * 10) {
        const key k = random_key();
        const auto it = m.values.find(k);
        if (rng() % 2 == 0) {
          const std::optional<counted> out = s.remove(k);
          REQUIRE(out.has_value() == (it != m.values.end()));
          if (out) {
            REQUIRE(out->value == it->second);
            m.removed(k);
          }
        } else {
          const bool erased = s.erase(k);
          REQUIRE(erased == (it != m.values.end()));
          if (erased) m.removed(k);
        }
      } else if (dice < 985) {
        const key k = random_key();
        const auto it = m.values.find(k);
        const counted* p = s.get(k);
        REQUIRE(s.contains(k) == (it != m.values.end()));
        REQUIRE((p != nullptr) == (it != m.values.end()));
        if (p != nullptr) {
          REQUIRE(p->value == it->second);
          REQUIRE(s[k].value == it->second);
          REQUIRE(s.key_of(*p) == k);
          // Mutate through the reference; the model follows.
          if (rng() % 8 == 0) {
            s.get(k)->value = -it->second;
            it->second = -it->second;
          }
        }
      } else if (dice < 999) {
        // Full iteration: ascending keys, exactly the model's contents.
        std::size_t n = 0;
        key prev;
        bool first = true;
        const auto& cs = s;
        for (auto [k, val] : cs) {
          if (!first) REQUIRE(prev < k);
          first = false;
          prev = k;
          const auto it = m.values.find(k);
          REQUIRE(it != m.values.end());
          REQUIRE(val.value == it->second);
          ++n;
        }
        REQUIRE(n == m.values.size());
      } else if (rng() % 32 == 0) {
        s.clear();
        m.cleared();
      }
      REQUIRE(s.size() == m.values.size());
      REQUIRE(s.empty() == m.values.empty());
      REQUIRE(s.full() == (m.values.size() == cap));
      REQUIRE(s.capacity() == cap);
      REQUIRE(counted::live() == static_cast<long>(m.values.size()));
    }
    // The run must have reached the interesting states.
    CHECK(full_inserts > 0);
  }
  // Every constructed value was destroyed exactly once.
  REQUIRE(counted::live() == 0);
}

}  // namespace

TEST_CASE("slab matches an unordered_map model under random operations",
          "[slab][differential]") {
  for (const std::uint64_t seed :
       {1ull, 2ull, 42ull, 0xC0FFEEull, 0x5EED5EEDull}) {
    run_differential<nexus::mmap_region>(seed, 200'000, 700);
  }
}

TEST_CASE("slab over heap_region matches the model too",
          "[slab][differential]") {
  for (const std::uint64_t seed : {7ull, 99ull}) {
    run_differential<nexus::heap_region>(seed, 100'000, 3000);
  }
}

TEST_CASE("a tiny slab stays consistent while constantly full",
          "[slab][differential]") {
  // alloc_bytes of one page of 64-byte-aligned slots: the full paths run
  // on most insert attempts.
  for (const std::uint64_t seed : {3ull, 11ull}) {
    run_differential<nexus::mmap_region>(seed, 100'000, 1);
  }
}
