// SPDX-License-Identifier: MIT OR Apache-2.0
// Google Benchmark suite for a sequential fold over 10^6 and 10^7 uint64_t:
// a compute-bound hash fold (ordered_list_latency's op: two rounds of
// splitmix64's finalizer per element) and a memory-bound sum, over
//   - std::vector with std::accumulate (the ordered-list table's baseline),
//   - std::vector with the same loop plus a software prefetch 1 KiB ahead,
//   - nexus ordered slab_list's fold_left (which prefetches the next 1 KiB
//     slab while folding the current one).
// It separates the fold's work from the hardware prefetcher's: where the
// core does ~10 dependent ALU ops per element, its out-of-order window spans
// only a few cache lines, so an array larger than the caches is read about
// as fast as the prefetcher brings it ahead of the loop.
// Reports ns_per_elem (seconds per element, shown with an SI prefix).

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include <nexus/slab_list.hpp>

#include "latency_util.hpp"

namespace {

using u64 = std::uint64_t;
using ordered_list = nexus::slab_list<u64, nexus::insertion_order>;
using nexus_bench::hash_op;
using nexus_bench::scramble;

// Pseudo-random values, built once per size and shared.
const std::vector<u64>& values(std::size_t n) {
  static std::map<std::size_t, std::vector<u64>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  std::vector<u64> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(scramble(i + 1));
  return cache.emplace(n, std::move(v)).first->second;
}

const ordered_list& list_of(std::size_t n) {
  static std::map<std::size_t, ordered_list> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  ordered_list l;
  for (u64 x : values(n)) l.push_back(x);
  return cache.emplace(n, std::move(l)).first->second;
}

// The loop std::accumulate runs, a cache line (8 elements) at a time, with
// a prefetch of the line 1 KiB ahead before each (a hint: past the end of
// the array it is harmless).
template <class Op>
u64 prefetching_fold(const std::vector<u64>& v, Op op) {
  constexpr std::size_t kAhead = 1024 / sizeof(u64);
  constexpr std::size_t kLine = 64 / sizeof(u64);
  const u64* p = v.data();
  const std::size_t n = v.size();
  const std::size_t whole = n / kLine * kLine;
  u64 acc = 0;
  std::size_t i = 0;
  for (; i < whole; i += kLine) {
    nexus::detail::prefetch(p + i + kAhead);
    for (std::size_t j = 0; j < kLine; ++j) acc = op(acc, p[i + j]);
  }
  for (; i < n; ++i) acc = op(acc, p[i]);
  return acc;
}

// What every fold of values(n) with `Op` must return.
template <class Op>
u64 expected_fold(std::size_t n) {
  const std::vector<u64>& v = values(n);
  return std::accumulate(v.begin(), v.end(), u64{0}, Op{});
}

void set_counters(benchmark::State& st, std::size_t n) {
  const auto elems =
      static_cast<double>(n) * static_cast<double>(st.iterations());
  st.SetItemsProcessed(static_cast<std::int64_t>(elems));
  st.counters["ns_per_elem"] = benchmark::Counter(
      elems, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class Op>
void vector_accumulate(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const std::vector<u64>& v = values(n);
  for (auto _ : st) {
    benchmark::DoNotOptimize(std::accumulate(v.begin(), v.end(), u64{0}, Op{}));
  }
  set_counters(st, n);
}

template <class Op>
void vector_prefetching_loop(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const std::vector<u64>& v = values(n);
  const u64 expect = expected_fold<Op>(n);
  for (auto _ : st) {
    const u64 got = prefetching_fold(v, Op{});
    if (got != expect) {
      st.SkipWithError("prefetching fold disagrees with std::accumulate");
      break;
    }
    benchmark::DoNotOptimize(got);
  }
  set_counters(st, n);
}

template <class Op>
void ordered_list_fold_left(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const ordered_list& l = list_of(n);
  const u64 expect = expected_fold<Op>(n);
  for (auto _ : st) {
    const u64 got = l.fold_left(u64{0}, Op{});
    if (got != expect) {
      st.SkipWithError("fold_left disagrees with std::accumulate");
      break;
    }
    benchmark::DoNotOptimize(got);
  }
  set_counters(st, n);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
}

BENCHMARK(vector_accumulate<hash_op>)
    ->Name("hash/std::vector accumulate")
    ->Apply(sizes);
BENCHMARK(vector_prefetching_loop<hash_op>)
    ->Name("hash/std::vector loop+prefetch")
    ->Apply(sizes);
BENCHMARK(ordered_list_fold_left<hash_op>)
    ->Name("hash/ordered slab_list fold_left")
    ->Apply(sizes);
BENCHMARK(vector_accumulate<std::plus<>>)
    ->Name("sum/std::vector accumulate")
    ->Apply(sizes);
BENCHMARK(vector_prefetching_loop<std::plus<>>)
    ->Name("sum/std::vector loop+prefetch")
    ->Apply(sizes);
BENCHMARK(ordered_list_fold_left<std::plus<>>)
    ->Name("sum/ordered slab_list fold_left")
    ->Apply(sizes);

}  // namespace
