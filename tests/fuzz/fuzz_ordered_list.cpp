// SPDX-License-Identifier: MIT OR Apache-2.0
// Differential fuzzer for the ordered list, nexus::slab_list<T,
// nexus::insertion_order>, against std::vector: push / emplace / try_push at
// both ends, insert and erase at decoded positions, range erase, operator[]
// and at() (in and out of range), writes through iterators, nth / index_of,
// pop_front / pop_back, stable sort, reverse, remove_if, copy, move, swap,
// reserve, shrink_to_fit, clear. The first bytes choose the element type
// (uint64_t, or a 32-byte record so slabs are short) and small sublayer
// options. check_invariants() runs after every operation, then the contents
// are compared element by element.
#include <nexus/heap_region.hpp>
#include <nexus/slab_list.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "fuzz_common.hpp"

namespace {

// Bulk pushes stop growing the list past this (see fuzz_slab_list.cpp).
constexpr std::size_t kMaxBulkSize = 1500;

struct record {
  std::uint64_t key;
  std::uint64_t seq;
  std::uint64_t pad[2];
  friend bool operator==(const record&, const record&) = default;
};

std::uint64_t key_of(std::uint64_t v) { return v; }
std::uint64_t key_of(const record& r) { return r.key; }

template <class T>
T make(std::uint64_t key, std::uint64_t seq) {
  if constexpr (std::is_same_v<T, record>) {
    return record{key, seq, {~seq, key}};
  } else {
    (void)seq;
    return key;
  }
}

template <class L, class T>
FUZZ_NO_COVERAGE void compare(const L& l, const std::vector<T>& m) {
  if (!l.check_invariants()) fuzz::fail(l.violation(), __FILE__, __LINE__);
  FUZZ_CHECK(l.size() == m.size());
  FUZZ_CHECK(l.empty() == m.empty());
  FUZZ_CHECK(std::equal(l.begin(), l.end(), m.begin(), m.end()));
  if (!m.empty()) {
    FUZZ_CHECK(l.front() == m.front());
    FUZZ_CHECK(l.back() == m.back());
  }
}

template <class T>
void run(fuzz::reader& in, const nexus::slab_list_options& o) {
  using list_t =
      nexus::slab_list<T, nexus::insertion_order, nexus::heap_region>;
  list_t l(o);
  std::vector<T> m;
  std::uint64_t seq = 0;
  const auto value = [&] { return make<T>(in.u8() % 64, ++seq); };
  // A position in [0, size()] (insert) or [0, size()) when `inside`.
  const auto pos = [&](bool inside) {
    const std::size_t n = m.size() + (inside ? 0 : 1);
    return n == 0 ? std::size_t{0} : in.u16() % n;
  };
  const auto by_key = [](const T& a, const T& b) {
    return key_of(a) < key_of(b);
  };

  while (!in.done()) {
    const std::uint8_t op = in.u8();
    switch (op % 20) {
      case 0: {
        const T v = value();
        if (op & 0x80) {
          l.push_back(v);
        } else {
          T copy = v;
          l.push_back(std::move(copy));
        }
        m.push_back(v);
        break;
      }
      case 1: {
        const T v = value();
        l.push_front(v);
        m.insert(m.begin(), v);
        break;
      }
      case 2: {
        const T v = value();
        if (op & 0x80) {
          FUZZ_CHECK(l.emplace_back(v) == v);
          m.push_back(v);
        } else {
          FUZZ_CHECK(l.emplace_front(v) == v);
          m.insert(m.begin(), v);
        }
        break;
      }
      case 3:
      case 4: {  // insert before a position
        const std::size_t p = pos(false);
        const T v = value();
        auto it = (op & 0x80) ? l.insert(l.nth(p), v) : l.emplace(l.nth(p), v);
        FUZZ_CHECK(*it == v);
        FUZZ_CHECK(l.index_of(it) == p);
        m.insert(m.begin() + static_cast<long>(p), v);
        break;
      }
      case 5: {  // try_* forms: the heap never refuses here
        const T v = value();
        T arg = v;
        if (op & 0x80) {
          FUZZ_CHECK(l.try_push_back(std::move(arg)));
          m.push_back(v);
        } else if (op & 0x40) {
          FUZZ_CHECK(l.try_push_front(std::move(arg)));
          m.insert(m.begin(), v);
        } else {
          const std::size_t p = pos(false);
          auto it = l.try_insert(l.nth(p), std::move(arg));
          FUZZ_CHECK(it.has_value());
          FUZZ_CHECK(**it == v);
          m.insert(m.begin() + static_cast<long>(p), v);
        }
        break;
      }
      case 6: {  // bulk append or prepend, capped (every step is O(size))
        const std::size_t n = std::min<std::size_t>(
            in.u8() + 1u, kMaxBulkSize - std::min(kMaxBulkSize, m.size()));
        const bool front = op & 0x80;
        for (std::size_t i = 0; i < n; ++i) {
          const T v = make<T>(i % 97, ++seq);
          if (front) {
            l.push_front(v);
            m.insert(m.begin(), v);
          } else {
            l.push_back(v);
            m.push_back(v);
          }
        }
        break;
      }
      case 7:
      case 8: {  // erase one
        if (m.empty()) break;
        const std::size_t p = pos(true);
        auto it = l.erase(l.nth(p));
        m.erase(m.begin() + static_cast<long>(p));
        FUZZ_CHECK(l.index_of(it) == p);
        FUZZ_CHECK((it == l.end()) == (p == m.size()));
        break;
      }
      case 9: {  // erase a range
        std::size_t a = pos(false);
        std::size_t b = std::min(m.size(), a + in.u8() % 200);
        if (op & 0x80) std::swap(a, b), a = std::min(a, b);
        auto it = l.erase(l.nth(a), l.nth(b));
        m.erase(m.begin() + static_cast<long>(a),
                m.begin() + static_cast<long>(b));
        FUZZ_CHECK(l.index_of(it) == a);
        break;
      }
      case 10: {  // indexing, reads and writes
        if (m.empty()) break;
        const std::size_t p = pos(true);
        FUZZ_CHECK(l[p] == m[p]);
        FUZZ_CHECK(std::as_const(l).at(p) == m[p]);
        FUZZ_CHECK(l.index_of(l.nth(p)) == p);
        const T v = value();
        if (op & 0x80) {
          l[p] = v;
        } else {
          *l.nth(p) = v;
        }
        m[p] = v;
        break;
      }
      case 11: {  // at() out of range throws and changes nothing
        bool threw = false;
        try {
          static_cast<void>(l.at(m.size() + in.u8()));
        } catch (const std::out_of_range&) {
          threw = true;
        }
        FUZZ_CHECK(threw);
        FUZZ_CHECK(l.nth(m.size()) == l.end());
        break;
      }
      case 12:
        if (m.empty()) break;
        if (op & 0x80) {
          l.pop_front();
          m.erase(m.begin());
        } else {
          l.pop_back();
          m.pop_back();
        }
        break;
      case 13:  // stable sort by key (records keep their order among equals)
        if (op & 0x80) {
          l.sort(by_key);
          std::stable_sort(m.begin(), m.end(), by_key);
        } else {
          l.reverse();
          std::reverse(m.begin(), m.end());
        }
        break;
      case 14: {
        const std::uint64_t mod = 2 + in.u8() % 7;
        const std::uint64_t rem = in.u8() % mod;
        const auto pred = [&](const T& x) { return key_of(x) % mod == rem; };
        const std::size_t n = l.remove_if(pred);
        FUZZ_CHECK(n == static_cast<std::size_t>(std::erase_if(m, pred)));
        break;
      }
      case 15: {  // copy, move, swap
        switch (in.u8() % 4) {
          case 0: {
            const list_t c(l);
            compare(c, m);
            FUZZ_CHECK(c == l);
            break;
          }
          case 1: {
            list_t c(l.options());
            c = l;
            l = std::move(c);
            break;
          }
          case 2: {
            list_t c(std::move(l));
            compare(c, m);
            l = std::move(c);
            break;
          }
          default: {
            list_t c(l);
            swap(c, l);
            compare(c, m);
            break;
          }
        }
        break;
      }
      case 16: {  // walk both ways through mutable iterators
        auto it = l.end();
        for (auto mi = m.rbegin(); mi != m.rend(); ++mi) {
          --it;
          FUZZ_CHECK(*it == *mi);
        }
        FUZZ_CHECK(it == l.begin());
        break;
      }
      case 17:
        if (op & 0x80) {
          l.shrink_to_fit();
        } else {
          l.reserve(in.u16() % 4096);
        }
        break;
      case 18:
        if ((op & 0xE0) == 0) {
          l.clear();
          m.clear();
        }
        break;
      default: {  // fold and per-slab views agree with the model
        std::uint64_t sum = 0;
        for (const T& x : m) sum = sum * 31 + key_of(x);
        const std::uint64_t got = l.fold_left(
            std::uint64_t{0},
            [](std::uint64_t acc, const T& x) { return acc * 31 + key_of(x); });
        FUZZ_CHECK(got == sum);
        std::size_t seen = 0;
        std::as_const(l).for_each_slab([&](auto span) {
          for (const T& x : span) {
            FUZZ_CHECK(seen < m.size() && x == m[seen]);
            ++seen;
          }
        });
        FUZZ_CHECK(seen == m.size());
        break;
      }
    }
    compare(l, m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  fuzz::reader in(data, size);
  const std::uint8_t config = in.u8();
  nexus::slab_list_options o;
  o.name = "fuzz_ordered";
  o.sublayer_threshold = 1 + (config & 3u);
  o.sublayer_fanout = 4 + ((config >> 2) & 7u);
  o.min_capacity_ratio = 0.5 + 0.05 * (config >> 5);
  if (config & 0x80) o.min_capacity_ratio = 0.9;
  if (in.u8() & 1) {
    run<record>(in, o);
  } else {
    run<std::uint64_t>(in, o);
  }
  return 0;
}
