// SPDX-License-Identifier: MIT OR Apache-2.0
// Google Benchmark suite for nexus::slab_list against absl::btree_set and
// std::set on random uint64_t keys at 10^5 and 10^6 elements: insert, find
// (hits, random order), erase (half the keys in random order, from the full
// container; the rest is erased untimed and checked), full iteration and nth.
// Each benchmark reports ns_per_op (seconds per element operation, shown with
// an SI prefix: "135n" = 135 ns) and bytes per element: memory_size() for
// slab_list, the glibc heap delta (mallinfo2) for the others. 10^7 is left to
// slab_list_latency, which interleaves the contenders and is far cheaper than
// Google Benchmark's repetitions at that size.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "latency_util.hpp"
#include "slab_list_contenders.hpp"

namespace {

using key_type = std::uint64_t;

using nexus_bench::heap_in_use;

// Distinct pseudo-random keys (a bijective scramble of 0..n-1), shuffled
// again for lookups and erasure; built once per size and shared.
struct key_set {
  std::vector<key_type> insert_order;
  std::vector<key_type> query_order;
};

const key_set& keys(std::size_t n) {
  static std::map<std::size_t, key_set> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  key_set k;
  k.insert_order.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    key_type x = i * 0x9e3779b97f4a7c15ULL + 0x5eed5ab1157ULL;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    k.insert_order[i] = x;
  }
  k.query_order = k.insert_order;
  std::mt19937_64 rng(n);
  std::shuffle(k.query_order.begin(), k.query_order.end(), rng);
  return cache.emplace(n, std::move(k)).first->second;
}

using slab_list_type = nexus::slab_list<key_type>;

// Bytes the container holds: mapped bytes for slab_list, heap growth since
// `heap_before` for the heap-based contenders.
template <class Set>
double bytes_held(const Set& s, std::size_t heap_before) {
  if constexpr (std::is_same_v<Set, slab_list_type>) {
    (void)heap_before;
    return static_cast<double>(s.memory_size());
  }
  (void)s;
  return static_cast<double>(heap_in_use() - heap_before);
}

void set_counters(benchmark::State& st, std::size_t ops, double bytes,
                  std::size_t elems, const char* bytes_name = "B/elem") {
  st.SetItemsProcessed(static_cast<std::int64_t>(ops));
  st.counters["ns_per_op"] = benchmark::Counter(
      static_cast<double>(ops),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters[bytes_name] = bytes / static_cast<double>(elems);
}

template <class Set>
std::unique_ptr<Set> build(std::size_t n, std::size_t* heap_before) {
  nexus_bench::settle_heap();
  *heap_before = heap_in_use();
  auto s = std::make_unique<Set>();
  for (key_type k : keys(n).insert_order) s->insert(k);
  return s;
}

template <class Set>
void BM_insert(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto& k = keys(n).insert_order;
  double bytes = 0;
  for (auto _ : st) {
    st.PauseTiming();
    nexus_bench::settle_heap();  // see latency_util.hpp
    const std::size_t heap0 = heap_in_use();
    auto s = std::make_unique<Set>();
    st.ResumeTiming();
    for (key_type key : k) s->insert(key);
    st.PauseTiming();
    if (s->size() != n) {
      st.SkipWithError("wrong size after inserts");
      break;
    }
    bytes = bytes_held(*s, heap0);
    s.reset();  // destruction is not part of insert's cost
    st.ResumeTiming();
  }
  set_counters(st, static_cast<std::size_t>(st.iterations()) * n, bytes, n);
}

template <class Set>
void BM_find(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  std::size_t heap0 = 0;
  const auto s = build<Set>(n, &heap0);
  const double bytes = bytes_held(*s, heap0);
  const auto& q = keys(n).query_order;
  std::size_t i = 0;
  for (auto _ : st) {
    auto it = s->find(q[i]);
    if (it == s->end()) {
      st.SkipWithError("find missed a present key");
      break;
    }
    benchmark::DoNotOptimize(it);
    if (++i == n) i = 0;
  }
  set_counters(st, static_cast<std::size_t>(st.iterations()), bytes, n);
}

template <class Set>
void BM_erase(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto& q = keys(n).query_order;
  const std::size_t half = n / 2;
  double bytes = 0;
  for (auto _ : st) {
    st.PauseTiming();
    std::size_t heap0 = 0;
    auto s = build<Set>(n, &heap0);
    st.ResumeTiming();
    std::size_t erased = 0;
    for (std::size_t i = 0; i < half; ++i) erased += s->erase(q[i]);
    st.PauseTiming();
    bytes = bytes_held(*s, heap0);  // per live element after erasing half
    for (std::size_t i = half; i < n; ++i) erased += s->erase(q[i]);
    if (erased != n || s->size() != 0) {
      st.SkipWithError("erase did not remove every key exactly once");
      break;
    }
    s.reset();
    st.ResumeTiming();
  }
  set_counters(st, static_cast<std::size_t>(st.iterations()) * half, bytes,
               n - half, "B/live_elem_half");
}

template <class Set>
void BM_iterate(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  std::size_t heap0 = 0;
  const auto s = build<Set>(n, &heap0);
  const double bytes = bytes_held(*s, heap0);
  for (auto _ : st) {
    key_type sum = 0;
    for (key_type k : *s) sum += k;
    benchmark::DoNotOptimize(sum);
  }
  set_counters(st, static_cast<std::size_t>(st.iterations()) * n, bytes, n);
}

void BM_nth(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  std::size_t heap0 = 0;
  const auto s = build<slab_list_type>(n, &heap0);
  const double bytes = bytes_held(*s, heap0);
  std::vector<std::size_t> pos(n);
  std::mt19937_64 rng(n + 1);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  for (auto& p : pos) p = pick(rng);
  std::size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(*s->nth(pos[i]));
    if (++i == n) i = 0;
  }
  set_counters(st, static_cast<std::size_t>(st.iterations()), bytes, n);
}

template <class Set>
void register_all(const std::string& name) {
  const auto reg = [&](const char* op, void (*fn)(benchmark::State&)) {
    benchmark::RegisterBenchmark(("BM_" + std::string(op) + "/" + name).c_str(),
                                 fn)
        ->Arg(100000)
        ->Arg(1000000)
        ->Unit(benchmark::kMicrosecond);
  };
  reg("insert", &BM_insert<Set>);
  reg("find", &BM_find<Set>);
  reg("erase", &BM_erase<Set>);
  reg("iterate", &BM_iterate<Set>);
}

// Registration at static-initialisation time, so benchmark_main finds them.
const bool registered = [] {
  register_all<slab_list_type>("slab_list");
  benchmark::RegisterBenchmark("BM_nth/slab_list", &BM_nth)
      ->Arg(100000)
      ->Arg(1000000);
#if NEXUS_BENCH_ABSL
  register_all<absl::btree_set<key_type>>("absl_btree_set");
#endif
  register_all<std::set<key_type>>("std_set");
  return true;
}();

}  // namespace
