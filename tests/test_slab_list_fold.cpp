// SPDX-License-Identifier: MIT OR Apache-2.0
// Map and fold on the slab lists: for_each_slab, fold_left / fold_right (whole
// list and [first, last) ranges) against std::accumulate on a sorted
// std::vector, and fold(nexus::parallel, ...) against the sequential fold for
// many thread counts and sizes with commutative and non-commutative
// (associative) combines, thread usage, and exceptions thrown by op. Meant to
// be run under ThreadSanitizer too (see the README's fold section).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <nexus/slab_list.hpp>
#include <numeric>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "catch_shim.hpp"

namespace {

using u64 = std::uint64_t;
using list_u64 = nexus::slab_list<u64>;
using multi_u64 = nexus::slab_multilist<u64>;

// n distinct random keys, inserted in random order.
list_u64 random_list(std::size_t n, u64 seed,
                     const nexus::slab_list_options& opts = {}) {
  list_u64 l(opts);
  std::mt19937_64 rng(seed);
  while (l.size() < n) l.insert(rng());
  return l;
}

// n keys from a small key space (many duplicates), in random order.
multi_u64 random_multilist(std::size_t n, u64 seed, u64 key_space) {
  multi_u64 l;
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < n; ++i) l.insert(rng() % key_space);
  return l;
}

template <class L>
std::vector<typename L::value_type> contents(const L& l) {
  return {l.begin(), l.end()};
}

// Order-sensitive left and right ops (neither is commutative in its args).
constexpr auto poly_left = [](u64 acc, const u64& x) {
  return acc * 1000003u + x;
};
constexpr auto poly_right = [](const u64& x, u64 acc) {
  return acc * 1000003u + x;
};

u64 ref_left(const std::vector<u64>& v, std::size_t i, std::size_t j,
             u64 init) {
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(i),
                         v.begin() + static_cast<std::ptrdiff_t>(j), init,
                         poly_left);
}
u64 ref_right(const std::vector<u64>& v, std::size_t i, std::size_t j,
              u64 init) {
  u64 acc = init;
  for (std::size_t k = j; k-- > i;) acc = poly_right(v[k], acc);
  return acc;
}

// ---- non-commutative, associative accumulators for the parallel fold ----

// The first and last element seen, how many, and whether they came in
// order: combining two groups in the wrong order breaks `first`, `last` and
// `ordered` at once.
struct run_summary {
  bool empty = true;
  u64 first = 0;
  u64 last = 0;
  u64 count = 0;
  bool ordered = true;
  friend bool operator==(const run_summary&, const run_summary&) = default;
};
run_summary summary_op(run_summary a, const u64& x) {
  if (a.empty) return {false, x, x, 1, true};
  return {false, a.first, x, a.count + 1, a.ordered && a.last <= x};
}
run_summary summary_combine(run_summary a, run_summary b) {
  if (a.empty) return b;
  if (b.empty) return a;
  return {false, a.first, b.last, a.count + b.count,
          a.ordered && b.ordered && a.last <= b.first};
}

// 2x2 matrices over u64 (mod 2^64): the product is associative, not
// commutative; element x becomes [[x | 1, 1], [1, 0]].
using mat = std::array<u64, 4>;
constexpr mat kIdentity{1, 0, 0, 1};
mat mul(const mat& a, const mat& b) {
  return {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
          a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
}
mat mat_op(mat acc, const u64& x) { return mul(acc, mat{x | 1, 1, 1, 0}); }
mat mat_combine(mat a, mat b) { return mul(a, b); }

// ------------------------------------------------------------------ tests

TEST_CASE("for_each_slab visits every element once, in order, slab by slab") {
  for (std::size_t n : {0u, 1u, 100u, 600u, 5000u, 100000u}) {
    CAPTURE(n);
    const list_u64 l = random_list(n, 11 + n);
    std::vector<u64> seen;
    std::size_t calls = 0;
    std::size_t total = 0;
    l.for_each_slab([&](std::span<const u64> s) {
      REQUIRE_FALSE(s.empty());
      ++calls;
      total += s.size();
      seen.insert(seen.end(), s.begin(), s.end());
    });
    CHECK(total == l.size());
    CHECK(seen == contents(l));
    if (n == 0)
      CHECK(calls == 0);
    else
      CHECK(calls == std::max<std::size_t>(l.slab_count(), 1));
  }
}

TEST_CASE("for_each_slab on a multilist keeps duplicates in order") {
  const multi_u64 l = random_multilist(20000, 5, 50);
  std::vector<u64> seen;
  l.for_each_slab([&](std::span<const u64> s) {
    seen.insert(seen.end(), s.begin(), s.end());
  });
  CHECK(seen == contents(l));
  CHECK(seen.size() == 20000);
}

TEST_CASE("fold_left and fold_right match std::accumulate on sorted lists") {
  for (std::size_t n : {0u, 1u, 2u, 100u, 511u, 512u, 3000u, 100000u}) {
    CAPTURE(n);
    const list_u64 l = random_list(n, 3 + n);
    const std::vector<u64> v = contents(l);
    CHECK(l.fold_left(u64{7}, poly_left) == ref_left(v, 0, n, 7));
    CHECK(l.fold_right(u64{7}, poly_right) == ref_right(v, 0, n, 7));
    CHECK(l.fold_left(u64{0}, std::plus<>{}) ==
          std::accumulate(v.begin(), v.end(), u64{0}));
  }
}

TEST_CASE("fold_left and fold_right over sub-ranges match the reference") {
  nexus::slab_list_options deep;
  deep.sublayer_threshold = 2;
  deep.sublayer_fanout = 4;
  for (const auto& opts : {nexus::slab_list_options{}, deep}) {
    for (std::size_t n : {0u, 1u, 300u, 20000u}) {
      const u64 seed = 17 + n;
      INFO("seed " << seed << " n " << n << " fanout " << opts.sublayer_fanout);
      const list_u64 l = random_list(n, seed, opts);
      const std::vector<u64> v = contents(l);
      std::mt19937_64 rng(seed);
      for (int q = 0; q < 300; ++q) {
        std::size_t i = rng() % (n + 1);
        std::size_t j = rng() % (n + 1);
        if (i > j) std::swap(i, j);
        if (q % 10 == 0) j = i;  // empty ranges, including at end()
        CAPTURE(i, j);
        const auto first = l.nth(i);
        const auto last = l.nth(j);
        REQUIRE(l.fold_left(first, last, u64{3}, poly_left) ==
                ref_left(v, i, j, 3));
        REQUIRE(l.fold_right(first, last, u64{3}, poly_right) ==
                ref_right(v, i, j, 3));
      }
      CHECK(l.fold_left(l.begin(), l.end(), u64{1}, poly_left) ==
            ref_left(v, 0, n, 1));
      CHECK(l.fold_right(l.end(), l.end(), u64{9}, poly_right) == 9);
    }
  }
}

TEST_CASE("folds over a multilist's equal_range see exactly the duplicates") {
  const multi_u64 l = random_multilist(50000, 23, 40);
  const std::vector<u64> v = contents(l);
  for (u64 k = 0; k < 41; ++k) {
    CAPTURE(k);
    const auto [a, b] = l.equal_range(k);
    const auto cnt = static_cast<u64>(std::count(v.begin(), v.end(), k));
    CHECK(l.fold_left(a, b, u64{0},
                      [](u64 acc, const u64&) { return acc + 1; }) == cnt);
    CHECK(l.fold_right(a, b, u64{0}, [k](const u64& x, u64 acc) {
      return acc + (x == k ? 1 : 1000);
    }) == cnt);
  }
  CHECK(l.fold_left(u64{5}, poly_left) == ref_left(v, 0, v.size(), 5));
  CHECK(l.fold_right(u64{5}, poly_right) == ref_right(v, 0, v.size(), 5));
}

TEST_CASE("string folds keep the order in both directions") {
  nexus::slab_list<std::string> l;
  std::vector<std::string> ref;
  std::mt19937_64 rng(31);
  while (l.size() < 3000) {
    std::string s = std::to_string(rng() % 100000);
    if (l.insert(s).second) ref.push_back(s);
  }
  std::sort(ref.begin(), ref.end());
  const auto cat_left = [](std::string acc, const std::string& x) {
    return std::move(acc) + x + ",";
  };
  const auto cat_right = [](const std::string& x, std::string acc) {
    return x + "," + acc;
  };
  const std::string left =
      std::accumulate(ref.begin(), ref.end(), std::string("<"), cat_left);
  std::string right = ">";
  for (auto it = ref.rbegin(); it != ref.rend(); ++it)
    right = cat_right(*it, std::move(right));
  CHECK(l.fold_left(std::string("<"), cat_left) == left);
  CHECK(l.fold_right(std::string(">"), cat_right) == right);
  // The parallel fold of a concatenation with "" (its identity).
  const auto cat = [](std::string a, const std::string& b) {
    return std::move(a) + b;
  };
  const std::string seq = l.fold_left(std::string(), cat_left);
  for (unsigned t : {1u, 2u, 3u, 7u})
    CHECK(l.fold(nexus::parallel, std::string(), cat_left, cat, t) == seq);
}

TEST_CASE("folds of empty lists return init, converted to the result type") {
  const list_u64 l;
  CHECK(l.fold_left(u64{42}, poly_left) == 42);
  CHECK(l.fold_right(u64{42}, poly_right) == 42);
  CHECK(l.fold_left(l.begin(), l.end(), u64{42}, poly_left) == 42);
  CHECK(l.fold(nexus::parallel, u64{42}, poly_left, std::plus<>{}, 4) == 42);
  std::size_t calls = 0;
  l.for_each_slab([&](std::span<const u64>) { ++calls; });
  CHECK(calls == 0);
  // int init, u64 result: the accumulator type follows op, as in C++23.
  auto r = l.fold_left(1, [](u64 a, const u64& x) { return a + x; });
  static_assert(std::is_same_v<decltype(r), u64>);
  CHECK(r == 1);
  auto r2 = list_u64{1, 2, 3}.fold_left(
      1, [](u64 a, const u64& x) { return a * 10 + x; });
  static_assert(std::is_same_v<decltype(r2), u64>);
  CHECK(r2 == 1123);
}

TEST_CASE("a list emptied by erasing folds like an empty list") {
  list_u64 l = random_list(3000, 77);
  const std::vector<u64> v = contents(l);
  for (u64 x : v) l.erase(x);
  REQUIRE(l.empty());
  CHECK(l.fold_left(u64{8}, poly_left) == 8);
  CHECK(l.fold_right(u64{8}, poly_right) == 8);
  CHECK(l.fold(nexus::parallel, u64{0}, std::plus<>{}, std::plus<>{}, 3) == 0);
}

TEST_CASE("parallel fold equals the sequential fold for every thread count") {
  for (std::size_t n : {0u, 1u, 100u, 100000u, 1000000u}) {
    // Ascending inserts build 10^6 quickly (slabs fill completely); the
    // 10^5 list is random, so slabs are partly full.
    list_u64 l;
    std::mt19937_64 rng(n);
    if (n >= 1000000) {
      for (std::size_t i = 0; i < n; ++i) l.insert(i * 3 + (rng() % 3));
    } else {
      l = random_list(n, 41 + n);
    }
    REQUIRE(l.size() == n);
    const u64 sum = l.fold_left(u64{0}, std::plus<>{});
    const run_summary summary = l.fold_left(run_summary{}, summary_op);
    const mat product = l.fold_left(kIdentity, mat_op);
    const u64 poly = l.fold_left(u64{0}, poly_left);
    CHECK(summary.count == n);
    CHECK(summary.ordered);
    for (unsigned t : {0u, 1u, 2u, 3u, 4u, 7u, 16u}) {
      INFO("n " << n << " threads " << t);
      CHECK(l.fold(nexus::parallel, u64{0}, std::plus<>{}, std::plus<>{}, t) ==
            sum);
      CHECK(l.fold(nexus::parallel, run_summary{}, summary_op, summary_combine,
                   t) == summary);
      CHECK(l.fold(nexus::parallel, kIdentity, mat_op, mat_combine, t) ==
            product);
    }
    (void)poly;
  }
}

TEST_CASE("parallel fold on a multilist with duplicates equals fold_left") {
  const multi_u64 l = random_multilist(200000, 9, 1000);
  const run_summary s = l.fold_left(run_summary{}, summary_op);
  const mat m = l.fold_left(kIdentity, mat_op);
  for (unsigned t : {2u, 3u, 5u}) {
    CAPTURE(t);
    CHECK(l.fold(nexus::parallel, run_summary{}, summary_op, summary_combine,
                 t) == s);
    CHECK(l.fold(nexus::parallel, kIdentity, mat_op, mat_combine, t) == m);
  }
}

TEST_CASE("parallel fold runs one group per requested thread") {
  const list_u64 l = random_list(100000, 59);
  REQUIRE(l.slab_count() > 16);
  for (unsigned t : {1u, 2u, 4u, 7u}) {
    CAPTURE(t);
    std::mutex m;
    std::set<std::thread::id> ids;
    // op is copied per thread, so the shared state is reached by pointer.
    auto* mp = &m;
    auto* ip = &ids;
    const u64 count = l.fold(
        nexus::parallel, u64{0},
        [mp, ip](u64 acc, const u64&) {
          const std::lock_guard<std::mutex> g(*mp);
          ip->insert(std::this_thread::get_id());
          return acc + 1;
        },
        std::plus<>{}, t);
    CHECK(count == l.size());
    CHECK(ids.size() == t);
    CHECK(ids.count(std::this_thread::get_id()) == 1);
  }
}

TEST_CASE("parallel fold never uses more groups than slabs") {
  // A small-mode list is one slab: no thread is started at all.
  const list_u64 l = random_list(100, 3);
  std::set<std::thread::id> ids;
  auto* ip = &ids;
  const u64 c = l.fold(
      nexus::parallel, u64{0},
      [ip](u64 acc, const u64&) {
        ip->insert(std::this_thread::get_id());
        return acc + 1;
      },
      std::plus<>{}, 16);
  CHECK(c == 100);
  CHECK(ids.size() == 1);
  CHECK(*ids.begin() == std::this_thread::get_id());
}

TEST_CASE("parallel fold starts every group from a copy of init") {
  // Documented contract: init must be an identity of combine; a
  // non-identity init is counted once per group.
  const list_u64 l = random_list(100000, 61);
  const u64 sum = l.fold_left(u64{0}, std::plus<>{});
  CHECK(l.fold(nexus::parallel, u64{5}, std::plus<>{}, std::plus<>{}, 1) ==
        sum + 5);
  CHECK(l.fold(nexus::parallel, u64{5}, std::plus<>{}, std::plus<>{}, 4) ==
        sum + 4 * 5);
}

// ---- the ordered list (slab_list<T, insertion_order>) ----

using ordered_u64 = nexus::slab_list<u64, nexus::insertion_order>;

// Polynomial hash as a (hash, B^length) pair: appending is op, joining two
// hashed pieces is combine (associative, not commutative), (0, 1) is the
// identity. The first component equals the sequential poly_left fold.
struct poly_hash {
  u64 h = 0;
  u64 p = 1;
  friend bool operator==(const poly_hash&, const poly_hash&) = default;
};
poly_hash hash_op(poly_hash a, const u64& x) {
  return {a.h * 1000003u + x, a.p * 1000003u};
}
poly_hash hash_combine(poly_hash a, poly_hash b) {
  return {a.h * b.p + b.h, a.p * b.p};
}

// An ordered list and its std::vector model after random positional
// inserts and erases (so slabs are left partly full, in no sorted order).
struct ordered_case {
  ordered_u64 list;
  std::vector<u64> model;
};
ordered_case random_ordered(std::size_t n, u64 seed,
                            const nexus::slab_list_options& opts = {}) {
  ordered_case c{ordered_u64(opts), {}};
  std::mt19937_64 rng(seed);
  while (c.model.size() < n) {
    const std::size_t at = rng() % (c.model.size() + 1);
    if (c.model.size() > 10 && rng() % 4 == 0) {
      const std::size_t e = at % c.model.size();
      c.list.erase(c.list.nth(e));
      c.model.erase(c.model.begin() + static_cast<std::ptrdiff_t>(e));
    } else {
      const u64 v = rng() % 1000;  // duplicates, unsorted
      c.list.insert(c.list.nth(at), v);
      c.model.insert(c.model.begin() + static_cast<std::ptrdiff_t>(at), v);
    }
  }
  return c;
}

TEST_CASE("ordered list: folds over random edits match a std::vector model") {
  nexus::slab_list_options deep;
  deep.sublayer_threshold = 2;
  deep.sublayer_fanout = 4;
  for (const auto& opts : {nexus::slab_list_options{}, deep}) {
    for (std::size_t n : {0u, 1u, 100u, 700u, 20000u}) {
      const u64 seed = 101 + n;
      INFO("seed " << seed << " n " << n << " fanout " << opts.sublayer_fanout);
      const ordered_case oc = random_ordered(n, seed, opts);
      const ordered_u64& l = oc.list;
      const std::vector<u64>& v = oc.model;
      REQUIRE(std::vector<u64>(l.begin(), l.end()) == v);
      std::vector<u64> seen;
      l.for_each_slab([&](std::span<const u64> s) {
        seen.insert(seen.end(), s.begin(), s.end());
      });
      CHECK(seen == v);
      CHECK(l.fold_left(u64{7}, poly_left) == ref_left(v, 0, n, 7));
      CHECK(l.fold_right(u64{7}, poly_right) == ref_right(v, 0, n, 7));
      std::mt19937_64 rng(seed);
      for (int q = 0; q < 200; ++q) {
        std::size_t i = rng() % (n + 1);
        std::size_t j = rng() % (n + 1);
        if (i > j) std::swap(i, j);
        CAPTURE(i, j);
        REQUIRE(l.fold_left(l.nth(i), l.nth(j), u64{3}, poly_left) ==
                ref_left(v, i, j, 3));
        REQUIRE(l.fold_right(l.nth(i), l.nth(j), u64{3}, poly_right) ==
                ref_right(v, i, j, 3));
      }
      for (unsigned t : {1u, 2u, 3u, 7u}) {
        CAPTURE(t);
        CHECK(
            l.fold(nexus::parallel, poly_hash{}, hash_op, hash_combine, t).h ==
            ref_left(v, 0, n, 0));
      }
    }
  }
}

TEST_CASE("ordered list: parallel fold equals the sequential fold") {
  for (std::size_t n : {0u, 1u, 100u, 100000u, 1000000u}) {
    ordered_u64 l;
    std::mt19937_64 rng(n + 5);
    for (std::size_t i = 0; i < n; ++i) {
      // Mostly appends, some prepends: values in no sorted order.
      if (i % 8 == 0)
        l.push_front(rng());
      else
        l.push_back(rng());
    }
    REQUIRE(l.size() == n);
    const poly_hash seq = l.fold_left(poly_hash{}, hash_op);
    const u64 sum = l.fold_left(u64{0}, std::plus<>{});
    const mat product = l.fold_left(kIdentity, mat_op);
    CHECK(seq.h == l.fold_left(u64{0}, poly_left));
    for (unsigned t : {0u, 1u, 2u, 3u, 4u, 7u, 16u}) {
      INFO("n " << n << " threads " << t);
      CHECK(l.fold(nexus::parallel, poly_hash{}, hash_op, hash_combine, t) ==
            seq);
      CHECK(l.fold(nexus::parallel, u64{0}, std::plus<>{}, std::plus<>{}, t) ==
            sum);
      CHECK(l.fold(nexus::parallel, kIdentity, mat_op, mat_combine, t) ==
            product);
    }
  }
}

#if NEXUS_HAS_EXCEPTIONS
struct fold_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST_CASE("an exception thrown by op reaches the caller of every fold") {
  const list_u64 l = random_list(100000, 71);
  const std::vector<u64> v = contents(l);
  // One element per group of a 4-way split, plus the first and the last.
  for (std::size_t at : {std::size_t{0}, v.size() / 8, v.size() * 3 / 8,
                         v.size() * 5 / 8, v.size() * 7 / 8, v.size() - 1}) {
    const u64 bad = v[at];
    CAPTURE(at);
    const auto op = [bad](u64 acc, const u64& x) {
      if (x == bad) throw fold_error("bad element");
      return acc + x;
    };
    const auto rop = [bad](const u64& x, u64 acc) {
      if (x == bad) throw fold_error("bad element");
      return acc + x;
    };
    REQUIRE_THROWS_AS(l.fold_left(u64{0}, op), fold_error);
    REQUIRE_THROWS_AS(l.fold_right(u64{0}, rop), fold_error);
    for (unsigned t : {1u, 2u, 4u, 16u}) {
      CAPTURE(t);
      REQUIRE_THROWS_AS(l.fold(nexus::parallel, u64{0}, op, std::plus<>{}, t),
                        fold_error);
    }
  }
  // The list is untouched and folds normally afterwards.
  CHECK(contents(l) == v);
  CHECK(l.fold(nexus::parallel, u64{0}, std::plus<>{}, std::plus<>{}, 4) ==
        std::accumulate(v.begin(), v.end(), u64{0}));
}

TEST_CASE("ordered list: an exception thrown by op reaches the caller") {
  const ordered_case oc = random_ordered(60000, 211);
  const ordered_u64& l = oc.list;
  const std::size_t n = l.size();
  for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
    CAPTURE(at);
    // Positions, not values: the list has duplicates.
    const u64* bad = &l[at];
    const auto op = [bad](u64 acc, const u64& x) {
      if (&x == bad) throw fold_error("bad element");
      return acc + x;
    };
    REQUIRE_THROWS_AS(l.fold_left(u64{0}, op), fold_error);
    for (unsigned t : {1u, 2u, 5u})
      REQUIRE_THROWS_AS(l.fold(nexus::parallel, u64{0}, op, std::plus<>{}, t),
                        fold_error);
  }
  CHECK(std::vector<u64>(l.begin(), l.end()) == oc.model);
}

TEST_CASE("an exception thrown by combine reaches the caller") {
  const list_u64 l = random_list(100000, 73);
  const auto bad_combine = [](u64, u64) -> u64 { throw fold_error("combine"); };
  REQUIRE_THROWS_AS(
      l.fold(nexus::parallel, u64{0}, std::plus<>{}, bad_combine, 3),
      fold_error);
  // One group: combine is never called.
  CHECK(l.fold(nexus::parallel, u64{0}, std::plus<>{}, bad_combine, 1) ==
        l.fold_left(u64{0}, std::plus<>{}));
}
#endif

}  // namespace
