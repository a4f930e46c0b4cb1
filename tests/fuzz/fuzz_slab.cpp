// SPDX-License-Identifier: MIT OR Apache-2.0
// Differential fuzzer for nexus::slab: input bytes decode into a capacity and
// a sequence of operations (insert / try_insert / emplace / vacant_entry when
// full or not, remove / erase / get / contains of live, stale and
// out-of-range keys, clear, iteration), applied to the slab and to a model
// (keys -> values plus the LIFO free list and bump cursor that predict every
// key handed out). Every step compares sizes; every few steps the whole
// contents. Values count their lives, so a leak or double destroy traps.
#include <nexus/heap_region.hpp>
#include <nexus/slab.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fuzz_common.hpp"

namespace {

// 256-byte slots: a page holds 16, so inputs reach "full" quickly.
struct value {
  static inline long live = 0;
  static constexpr std::uint64_t alive = 0x5AFE5AFE5AFE5AFE;
  std::uint64_t v;
  std::uint64_t canary = alive;
  unsigned char pad[240] = {};

  explicit value(std::uint64_t x) noexcept : v(x) { ++live; }
  value(const value& o) noexcept : v(o.v) {
    FUZZ_CHECK(o.canary == alive);
    ++live;
  }
  value(value&& o) noexcept : v(o.v) {
    FUZZ_CHECK(o.canary == alive);
    ++live;
  }
  value& operator=(const value&) = delete;
  ~value() {
    FUZZ_CHECK(canary == alive);  // destroyed once
    canary = 0;
    --live;
  }
};

using slab_t = nexus::slab<value, nexus::heap_region>;

struct model {
  std::unordered_map<std::uint32_t, std::uint64_t> live;
  std::vector<std::uint32_t> free_list;  // LIFO: back() is reused first
  std::uint32_t bump = 0;
  std::size_t capacity = 0;

  [[nodiscard]] bool full() const {
    return free_list.empty() && bump == capacity;
  }
  [[nodiscard]] std::uint32_t next_key() const {
    return free_list.empty() ? bump : free_list.back();
  }
  void insert(std::uint32_t k, std::uint64_t v) {
    FUZZ_CHECK(k == next_key());
    if (free_list.empty()) {
      ++bump;
    } else {
      free_list.pop_back();
    }
    live.emplace(k, v);
  }
  void remove(std::uint32_t k) {
    live.erase(k);
    free_list.push_back(k);
  }
};

FUZZ_NO_COVERAGE void compare_all(const slab_t& s, const model& m) {
  FUZZ_CHECK(s.size() == m.live.size());
  std::size_t n = 0;
  std::size_t prev = 0;
  for (auto [k, v] : s) {
    FUZZ_CHECK(n == 0 || k.index() > prev);  // key order
    prev = k.index();
    auto it = m.live.find(static_cast<std::uint32_t>(k.index()));
    FUZZ_CHECK(it != m.live.end());
    FUZZ_CHECK(it->second == v.v);
    FUZZ_CHECK(&v == s.get(k));
    FUZZ_CHECK(s.key_of(v) == k);
    ++n;
  }
  FUZZ_CHECK(n == m.live.size());
}

// A key to probe: a live one, a freed one, one past the bump cursor, or one
// out of range.
nexus::key pick_key(fuzz::reader& in, const model& m) {
  const std::uint8_t how = in.u8();
  switch (how % 4) {
    case 0:
      if (!m.live.empty()) {
        auto it = m.live.begin();
        std::advance(it, static_cast<long>(in.below(m.live.size())));
        return nexus::key(it->first);
      }
      break;
    case 1:
      if (!m.free_list.empty()) {
        return nexus::key(m.free_list[in.below(m.free_list.size())]);
      }
      break;
    case 2:
      return nexus::key(m.capacity + in.u8());
    default:
      break;
  }
  return nexus::key(in.u16() % 4096);
}

void run(fuzz::reader& in) {
  slab_t s;
  model m;
  const std::uint8_t setup = in.u8();
  if (setup % 8 == 0) {
    // Left unallocated: every insert must fail as "full".
  } else if (setup % 8 == 1) {
    FUZZ_CHECK(!s.alloc_bytes(4096 * (1 + in.below(3))));
  } else {
    FUZZ_CHECK(!s.alloc(1 + in.below(48)));
  }
  m.capacity = s.capacity();
  FUZZ_CHECK(s.memory_size() >= m.capacity * sizeof(value));
  std::uint64_t next_value = 1;

  while (!in.done()) {
    const std::uint8_t op = in.u8();
    switch (op % 11) {
      case 0: {  // insert: throws slab_full when full
        const std::uint64_t v = next_value++;
        const bool was_full = m.full();
        bool threw = false;
        try {
          const nexus::key k = s.insert(value(v));
          m.insert(static_cast<std::uint32_t>(k.index()), v);
        } catch (const nexus::slab_full&) {
          threw = true;
        }
        FUZZ_CHECK(threw == was_full);
        break;
      }
      case 1: {  // try_insert: when full the argument is untouched
        const std::uint64_t v = next_value++;
        value arg(v);
        const bool was_full = m.full();
        auto k = (op & 0x80) ? s.try_insert(std::move(arg)) : s.try_insert(arg);
        FUZZ_CHECK(k.has_value() == !was_full);
        if (k) m.insert(static_cast<std::uint32_t>(k->index()), v);
        FUZZ_CHECK(arg.v == v);
        break;
      }
      case 2: {  // try_emplace / emplace
        const std::uint64_t v = next_value++;
        auto k = s.try_emplace(v);
        FUZZ_CHECK(k.has_value() == !m.full());
        if (k) m.insert(static_cast<std::uint32_t>(k->index()), v);
        break;
      }
      case 3: {  // vacant_entry: use it or drop it
        auto e = s.vacant_entry();
        FUZZ_CHECK(static_cast<bool>(e) == !m.full());
        if (!e) break;
        FUZZ_CHECK(e->key().index() == m.next_key());
        if (op & 0x40) {
          const std::uint64_t v = next_value++;
          value& ref = e->emplace(v);
          FUZZ_CHECK(ref.v == v);
          m.insert(static_cast<std::uint32_t>(e->key().index()), v);
          FUZZ_CHECK(s.get(e->key()) == &ref);
        }
        break;
      }
      case 4: {  // remove
        const nexus::key k = pick_key(in, m);
        std::optional<value> out = s.remove(k);
        auto it = m.live.find(static_cast<std::uint32_t>(k.index()));
        FUZZ_CHECK(out.has_value() == (it != m.live.end()));
        if (out) {
          FUZZ_CHECK(out->v == it->second);
          m.remove(static_cast<std::uint32_t>(k.index()));
        }
        break;
      }
      case 5: {  // erase
        const nexus::key k = pick_key(in, m);
        const bool live = m.live.count(static_cast<std::uint32_t>(k.index()));
        FUZZ_CHECK(s.erase(k) == live);
        if (live) m.remove(static_cast<std::uint32_t>(k.index()));
        break;
      }
      case 6: {  // get / contains / operator[]
        const nexus::key k = pick_key(in, m);
        auto it = m.live.find(static_cast<std::uint32_t>(k.index()));
        const value* p = std::as_const(s).get(k);
        FUZZ_CHECK((p != nullptr) == (it != m.live.end()));
        FUZZ_CHECK(s.contains(k) == (it != m.live.end()));
        if (p) {
          FUZZ_CHECK(p->v == it->second);
          FUZZ_CHECK(&s[k] == p);
        }
        break;
      }
      case 7:  // clear: keeps the memory, refills from slot 0
        if ((op & 0xF0) == 0) {
          s.clear();
          m.live.clear();
          m.free_list.clear();
          m.bump = 0;
        }
        break;
      case 8:  // fill up
        if (op & 0x80) {
          while (auto k = s.try_emplace(next_value)) {
            m.insert(static_cast<std::uint32_t>(k->index()), next_value++);
          }
          FUZZ_CHECK(m.full());
        }
        break;
      case 9: {  // move the slab away and back
        slab_t other(std::move(s));
        FUZZ_CHECK(s.capacity() == 0);
        s = std::move(other);
        break;
      }
      default:
        compare_all(s, m);
        break;
    }
    FUZZ_CHECK(s.size() == m.live.size());
    FUZZ_CHECK(s.full() == m.full());
    FUZZ_CHECK(s.empty() == m.live.empty());
    FUZZ_CHECK(s.capacity() == m.capacity);
  }
  compare_all(s, m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  {
    fuzz::reader in(data, size);
    run(in);
  }
  FUZZ_CHECK(value::live == 0);
  return 0;
}
