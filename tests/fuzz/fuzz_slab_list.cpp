// SPDX-License-Identifier: MIT OR Apache-2.0
// Differential fuzzer for the sorted lists: nexus::slab_list against
// std::set and nexus::slab_multilist against std::multiset, driven by the
// same decoded operations (insert, bulk insert, try_insert, emplace,
// insert_or_replace, erase of present and absent keys including a just-
// erased maximum, erase by iterator and by range, bounds, find, count,
// nth / index_of, pop_front / pop_back, erase_if, copy, move, swap,
// reserve, shrink_to_fit, clear). The first bytes choose the element type
// (uint64_t, or a 32-byte record so slabs hold 31 elements) and small
// sublayer options so sublayers attach and detach within short inputs.
// check_invariants() runs after every operation, then the contents are
// compared; the multilist's records carry a sequence number so the order of
// equal elements is checked too.
#include <nexus/heap_region.hpp>
#include <nexus/slab_list.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include "fuzz_common.hpp"

namespace {

// Bulk inserts stop growing a list past this: enough for 3+ sublayers with
// the small fanouts below, small enough for hundreds of runs per second.
constexpr std::size_t kMaxBulkSize = 1500;

// 32 bytes, ordered by `key` only: `seq` tells equal elements apart.
struct record {
  std::uint64_t key;
  std::uint64_t seq;
  std::uint64_t pad[2];
  friend bool operator==(const record&, const record&) = default;
};
struct by_key {
  bool operator()(const record& a, const record& b) const noexcept {
    return a.key < b.key;
  }
};

std::uint64_t key_of(std::uint64_t v) { return v; }
std::uint64_t key_of(const record& r) { return r.key; }
bool same(std::uint64_t a, std::uint64_t b) { return a == b; }
bool same(const record& a, const record& b) {
  return a.key == b.key && a.seq == b.seq;
}

template <class T>
T make(std::uint64_t key, std::uint64_t seq) {
  if constexpr (std::is_same_v<T, record>) {
    return record{key, seq, {seq, key}};
  } else {
    (void)seq;
    return key;
  }
}

template <class L, class M>
FUZZ_NO_COVERAGE void compare(const L& l, const M& m) {
  if (!l.check_invariants()) fuzz::fail(l.violation(), __FILE__, __LINE__);
  FUZZ_CHECK(l.size() == m.size());
  FUZZ_CHECK(l.empty() == m.empty());
  auto mi = m.begin();
  for (const auto& x : l) {
    FUZZ_CHECK(mi != m.end());
    FUZZ_CHECK(same(x, *mi));
    ++mi;
  }
  FUZZ_CHECK(mi == m.end());
  if (!m.empty()) {
    FUZZ_CHECK(same(l.front(), *m.begin()));
    FUZZ_CHECK(same(l.back(), *m.rbegin()));
  }
}

template <class L, class M>
FUZZ_NO_COVERAGE void check_reverse(const L& l, const M& m) {
  auto mi = m.rbegin();
  for (auto it = l.rbegin(); it != l.rend(); ++it, ++mi) {
    FUZZ_CHECK(mi != m.rend());
    FUZZ_CHECK(same(*it, *mi));
  }
  FUZZ_CHECK(mi == m.rend());
}

// One container and its model, with the operations both understand.
template <class L, class M, bool Multi>
struct pair_under_test {
  using T = typename L::value_type;
  L l;
  M m;

  explicit pair_under_test(const nexus::slab_list_options& o) : l(o), m() {}

  void insert(const T& v) {
    if constexpr (Multi) {
      auto it = l.insert(v);
      FUZZ_CHECK(same(*it, v));
      m.insert(v);
    } else {
      auto [it, ok] = l.insert(v);
      const bool fresh = m.insert(v).second;
      FUZZ_CHECK(ok == fresh);
      FUZZ_CHECK(key_of(*it) == key_of(v));
    }
  }
  void try_insert(const T& v) {
    T arg = v;
    auto r = l.try_insert(std::move(arg));
    FUZZ_CHECK(r.has_value());  // heap_region never refuses here
    const bool fresh = Multi || m.count(v) == 0;
    FUZZ_CHECK(r->second == fresh);
    FUZZ_CHECK(key_of(*r->first) == key_of(v));
    if (fresh) m.insert(v);
  }
  void emplace(const T& v) {
    if constexpr (Multi) {
      FUZZ_CHECK(same(*l.emplace(v), v));
      m.insert(v);
    } else {
      FUZZ_CHECK(l.emplace(v).second == m.insert(v).second);
    }
  }
  void insert_or_replace(const T& v) {
    std::optional<T> old = l.insert_or_replace(v);
    auto it = m.lower_bound(v);
    const bool present = it != m.end() && key_of(*it) == key_of(v);
    FUZZ_CHECK(old.has_value() == present);
    if (present) {
      FUZZ_CHECK(same(*old, *it));
      auto hint = m.erase(it);  // replace in place: same position
      m.insert(hint, v);
    } else {
      m.insert(v);
    }
  }
  void erase_key(const T& v) {
    const std::size_t n = l.erase(v);
    FUZZ_CHECK(n == m.erase(v));
  }
  void erase_nth(std::size_t i) {
    if (m.empty()) return;
    i %= m.size();
    auto it = l.erase(l.nth(i));
    auto mi = m.erase(std::next(m.begin(), static_cast<long>(i)));
    FUZZ_CHECK((it == l.end()) == (mi == m.end()));
    if (mi != m.end()) FUZZ_CHECK(same(*it, *mi));
    FUZZ_CHECK(l.index_of(it) == i);
  }
  void erase_range(std::size_t a, std::size_t b) {
    const std::size_t n = m.size() + 1;
    a %= n;
    b %= n;
    if (a > b) std::swap(a, b);
    auto it = l.erase(l.nth(a), l.nth(b));
    auto mi = m.erase(std::next(m.begin(), static_cast<long>(a)),
                      std::next(m.begin(), static_cast<long>(b)));
    FUZZ_CHECK((it == l.end()) == (mi == m.end()));
    if (mi != m.end()) FUZZ_CHECK(same(*it, *mi));
  }
  void lookups(const T& v) {
    auto lb = l.lower_bound(v);
    auto mlb = m.lower_bound(v);
    FUZZ_CHECK((lb == l.end()) == (mlb == m.end()));
    if (mlb != m.end()) FUZZ_CHECK(same(*lb, *mlb));
    auto ub = l.upper_bound(v);
    auto mub = m.upper_bound(v);
    FUZZ_CHECK((ub == l.end()) == (mub == m.end()));
    if (mub != m.end()) FUZZ_CHECK(same(*ub, *mub));
    const auto dist = static_cast<std::size_t>(std::distance(m.begin(), mlb));
    FUZZ_CHECK(l.index_of(lb) == dist);
    auto [er_a, er_b] = l.equal_range(v);
    FUZZ_CHECK(er_a == lb && er_b == ub);
    FUZZ_CHECK(l.count(v) == m.count(v));
    FUZZ_CHECK(l.contains(v) == (m.count(v) != 0));
    auto f = l.find(v);
    if (m.count(v) == 0) {
      FUZZ_CHECK(f == l.end());
    } else {
      FUZZ_CHECK(f != l.end() && key_of(*f) == key_of(v));
    }
  }
  void nth(std::size_t i) {
    const std::size_t n = m.size();
    i %= n + 2;
    auto it = l.nth(i);
    if (i >= n) {
      FUZZ_CHECK(it == l.end());
      return;
    }
    FUZZ_CHECK(same(*it, *std::next(m.begin(), static_cast<long>(i))));
    FUZZ_CHECK(l.index_of(it) == i);
    // Walk a little both ways from it.
    auto back = it;
    if (i > 0) FUZZ_CHECK(l.index_of(--back) == i - 1);
  }
  void pop(bool front) {
    if (m.empty()) return;
    if (front) {
      l.pop_front();
      m.erase(m.begin());
    } else {
      l.pop_back();
      m.erase(std::prev(m.end()));
    }
  }
  void erase_if(std::uint64_t mod, std::uint64_t rem) {
    const auto pred = [&](const T& x) { return key_of(x) % mod == rem; };
    const std::size_t n = nexus::erase_if(l, pred);
    const std::size_t mn = std::erase_if(m, pred);
    FUZZ_CHECK(n == mn);
  }
  // Erase the largest element, then erase it again (it was a slab maximum).
  void erase_max_twice() {
    if (m.empty()) return;
    const T last = *m.rbegin();
    FUZZ_CHECK(l.erase(last) == m.erase(last));
    FUZZ_CHECK(l.erase(last) == 0);
    FUZZ_CHECK(!l.contains(last));
  }
  void copy_and_move(std::uint8_t how) {
    switch (how % 4) {
      case 0: {
        L c(l);
        compare(c, m);
        FUZZ_CHECK(c == l);
        break;
      }
      case 1: {
        L c(l.options());
        c = l;
        compare(c, m);
        l = std::move(c);
        break;
      }
      case 2: {
        L c(std::move(l));
        compare(c, m);
        l = std::move(c);
        break;
      }
      default: {
        L c(l);
        swap(c, l);
        compare(c, m);
        break;
      }
    }
  }
};

template <class T, class Cmp>
void run(fuzz::reader& in, const nexus::slab_list_options& o) {
  using set_t = pair_under_test<nexus::slab_list<T, Cmp, nexus::heap_region>,
                                std::set<T, Cmp>, false>;
  using multi_t =
      pair_under_test<nexus::slab_multilist<T, Cmp, nexus::heap_region>,
                      std::multiset<T, Cmp>, true>;
  set_t s(o);
  multi_t mm(o);
  // Key space: tiny (many duplicates) up to 16 bits.
  const std::uint8_t space_sel = in.u8();
  const std::uint64_t space = space_sel % 4 == 0   ? 16
                              : space_sel % 4 == 1 ? 300
                              : space_sel % 4 == 2 ? 4000
                                                   : 65536;
  std::uint64_t seq = 0;
  const auto value = [&] { return make<T>(in.u16() % space, ++seq); };

  while (!in.done()) {
    const std::uint8_t op = in.u8();
    switch (op % 18) {
      case 0:
      case 1: {
        const T v = value();
        s.insert(v);
        mm.insert(v);
        break;
      }
      case 2: {  // bulk: a run of n values with a stride
        // Capped so one input stays fast (every step is O(size)).
        const std::size_t n = std::min<std::size_t>(
            in.u8() + 1u, kMaxBulkSize - std::min(kMaxBulkSize, mm.m.size()));
        const std::uint64_t start = in.u16() % space;
        const std::uint64_t stride = in.u8() % 5;
        const bool down = op & 0x80;
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t off = stride * i;
          const std::uint64_t k =
              (down ? start + space - off % space : start + off) % space;
          const T v = make<T>(k, ++seq);
          s.insert(v);
          mm.insert(v);
        }
        break;
      }
      case 3: {
        const T v = value();
        s.try_insert(v);
        mm.try_insert(v);
        break;
      }
      case 4: {
        const T v = value();
        s.emplace(v);
        mm.emplace(v);
        break;
      }
      case 5: {
        const T v = value();
        s.insert_or_replace(v);
        mm.insert_or_replace(v);
        break;
      }
      case 6:
      case 7: {  // erase by key, present or absent
        const T v = value();
        s.erase_key(v);
        mm.erase_key(v);
        break;
      }
      case 8: {
        const std::size_t i = in.u16();
        s.erase_nth(i);
        mm.erase_nth(i);
        break;
      }
      case 9: {
        const std::size_t a = in.u16();
        const std::size_t b = a + in.u8() % 64;
        s.erase_range(a, b);
        mm.erase_range(a, b);
        break;
      }
      case 10: {
        const T v = value();
        s.lookups(v);
        mm.lookups(v);
        break;
      }
      case 11: {
        const std::size_t i = in.u16();
        s.nth(i);
        mm.nth(i);
        break;
      }
      case 12:
        s.pop(op & 0x80);
        mm.pop(op & 0x40);
        break;
      case 13: {
        const std::uint64_t mod = 2 + in.u8() % 7;
        const std::uint64_t rem = in.u8() % mod;
        if ((op & 0xC0) == 0) {
          s.erase_if(mod, rem);
          mm.erase_if(mod, rem);
        }
        break;
      }
      case 14:
        s.erase_max_twice();
        mm.erase_max_twice();
        break;
      case 15: {
        const std::uint8_t how = in.u8();
        s.copy_and_move(how);
        mm.copy_and_move(how);
        break;
      }
      case 16:
        if (op & 0x80) {
          s.l.shrink_to_fit();
          mm.l.shrink_to_fit();
        } else {
          const std::size_t n = in.u16() % 4096;
          s.l.reserve(n);
          mm.l.reserve(n);
        }
        break;
      default:
        if ((op & 0xE0) == 0) {
          s.l.clear();
          s.m.clear();
          mm.l.clear();
          mm.m.clear();
        } else {
          check_reverse(s.l, s.m);
          check_reverse(mm.l, mm.m);
        }
        break;
    }
    compare(s.l, s.m);
    compare(mm.l, mm.m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  fuzz::reader in(data, size);
  const std::uint8_t config = in.u8();
  nexus::slab_list_options o;
  o.name = "fuzz";
  o.sublayer_threshold = 1 + (config & 3u);           // 1..4 slabs
  o.sublayer_fanout = 4 + ((config >> 2) & 7u);       // 4..11 children
  o.min_capacity_ratio = 0.5 + 0.05 * (config >> 5);  // 0.5..0.85
  if (config & 0x80) o.min_capacity_ratio = 0.9;      // the default
  if (in.u8() & 1) {
    run<record, by_key>(in, o);
  } else {
    run<std::uint64_t, std::less<std::uint64_t>>(in, o);
  }
  return 0;
}
