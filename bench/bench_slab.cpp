// SPDX-License-Identifier: MIT OR Apache-2.0
// Google Benchmark suite for nexus::slab against the hand-written
// std::vector slab (bench/vector_slab.hpp) and plf::colony: first-fill
// insert, warm insert (refilling slots freed in random order), get and
// remove at random live keys, and churn (insert then remove the same key)
// on a half-full container, at 10K and 1M slots, for uint64_t
// and a 64-byte struct. Items/s counts single operations (a churn item is
// one insert+remove pair).
//
//   taskset -c 1 ./bench_slab --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

#include <nexus/slab.hpp>

#include "slab_values.hpp"
#include "vector_slab.hpp"

#if defined(NEXUS_HAVE_PLF_COLONY) && NEXUS_HAVE_PLF_COLONY
#include <plf_colony.h>
#define NEXUS_BENCH_COLONY 1
#else
#define NEXUS_BENCH_COLONY 0
#endif

namespace {

using nexus_bench::blob64;
using nexus_bench::digest;
using nexus_bench::make_value;

// Uniform adapters: create(n), insert, get, remove.
template <class T>
struct nexus_adapter {
  using container = nexus::slab<T>;
  using key_type = nexus::key;
  static void create(std::optional<container>& c, std::size_t n) {
    c.reset();
    if (c.emplace().alloc(n)) std::abort();
  }
  static key_type insert(container& c, const T& v) { return c.insert(v); }
  static const T* get(container& c, key_type k) { return c.get(k); }
  static std::optional<T> remove(container& c, key_type k) {
    return c.remove(k);
  }
};

template <class T>
struct vector_adapter {
  using container = nexus_bench::vector_slab<T>;
  using key_type = std::uint32_t;
  static void create(std::optional<container>& c, std::size_t n) {
    c.reset();
    c.emplace().reserve(n);
  }
  static key_type insert(container& c, const T& v) { return c.insert(v); }
  static const T* get(container& c, key_type k) { return c.get(k); }
  static std::optional<T> remove(container& c, key_type k) {
    return c.remove(k);
  }
};

#if NEXUS_BENCH_COLONY
template <class T>
struct colony_adapter {
  using container = plf::colony<T>;
  using key_type = typename container::iterator;
  static void create(std::optional<container>& c, std::size_t n) {
    c.reset();
    c.emplace().reserve(n);
  }
  static key_type insert(container& c, const T& v) { return c.insert(v); }
  static const T* get(container&, key_type k) { return &*k; }
  static std::optional<T> remove(container& c, key_type k) {
    std::optional<T> out(*k);
    c.erase(k);
    return out;
  }
};
#endif

std::vector<std::uint32_t> shuffled(std::size_t n) {
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(42);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

// A fresh container of n slots filled with values 0..n-1, their keys in
// `keys` (in insertion order).
template <template <class> class A, class T>
void create_full(std::optional<typename A<T>::container>& c,
                 std::vector<typename A<T>::key_type>& keys, std::size_t n) {
  A<T>::create(c, n);
  keys.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = A<T>::insert(*c, make_value<T>(i));
  }
}

template <template <class> class A, class T>
void bm_insert_first(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::optional<typename A<T>::container> c;
  for (auto _ : state) {
    state.PauseTiming();
    A<T>::create(c, n);  // nexus::slab pre-faults here, untimed
    state.ResumeTiming();
    for (std::size_t i = 0; i < n; ++i) {
      benchmark::DoNotOptimize(A<T>::insert(*c, make_value<T>(i)));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Refills the slots freed in random order (untimed), so every insert takes
// its slot from the free list, which chains through the freed slots in
// random order.
template <template <class> class A, class T>
void bm_insert_warm(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::optional<typename A<T>::container> c;
  std::vector<typename A<T>::key_type> keys;
  create_full<A, T>(c, keys, n);
  const auto order = shuffled(n);
  for (auto _ : state) {
    state.PauseTiming();
    std::uint64_t sum = 0;
    for (const std::uint32_t i : order)
      sum += digest(*A<T>::remove(*c, keys[i]));
    benchmark::DoNotOptimize(sum);
    state.ResumeTiming();
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = A<T>::insert(*c, make_value<T>(i));
    }
    benchmark::DoNotOptimize(keys.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

template <template <class> class A, class T>
void bm_get_random(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::optional<typename A<T>::container> c;
  std::vector<typename A<T>::key_type> keys;
  create_full<A, T>(c, keys, n);
  const auto order = shuffled(n);
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (const std::uint32_t i : order) sum += digest(*A<T>::get(*c, keys[i]));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

template <template <class> class A, class T>
void bm_remove_random(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::optional<typename A<T>::container> c;
  std::vector<typename A<T>::key_type> keys;
  const auto order = shuffled(n);
  for (auto _ : state) {
    state.PauseTiming();
    create_full<A, T>(c, keys, n);
    state.ResumeTiming();
    std::uint64_t sum = 0;
    for (const std::uint32_t i : order)
      sum += digest(*A<T>::remove(*c, keys[i]));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

template <template <class> class A, class T>
void bm_churn(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::optional<typename A<T>::container> c;
  std::vector<typename A<T>::key_type> keys;
  create_full<A, T>(c, keys, n);
  const auto order = shuffled(n);
  for (std::size_t i = 0; i < n / 2; ++i) {
    benchmark::DoNotOptimize(A<T>::remove(*c, keys[order[i]]));
  }
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (int j = 0; j < 1024; ++j, ++i) {
      sum += digest(*A<T>::remove(*c, A<T>::insert(*c, make_value<T>(i))));
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1024));
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(10'000)->Arg(1'000'000);
}

#define NEXUS_BENCH_OP(op, adapter, type) \
  BENCHMARK_TEMPLATE(bm_##op, adapter, type)->Apply(sizes);

#define NEXUS_BENCH_ALL_OPS(adapter, type)     \
  NEXUS_BENCH_OP(insert_first, adapter, type)  \
  NEXUS_BENCH_OP(insert_warm, adapter, type)   \
  NEXUS_BENCH_OP(get_random, adapter, type)    \
  NEXUS_BENCH_OP(remove_random, adapter, type) \
  NEXUS_BENCH_OP(churn, adapter, type)

NEXUS_BENCH_ALL_OPS(nexus_adapter, std::uint64_t)
NEXUS_BENCH_ALL_OPS(vector_adapter, std::uint64_t)
NEXUS_BENCH_ALL_OPS(nexus_adapter, blob64)
NEXUS_BENCH_ALL_OPS(vector_adapter, blob64)
#if NEXUS_BENCH_COLONY
NEXUS_BENCH_ALL_OPS(colony_adapter, std::uint64_t)
NEXUS_BENCH_ALL_OPS(colony_adapter, blob64)
#endif

}  // namespace
