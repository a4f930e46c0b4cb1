// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab benchmarks: the serialized TSC timer pair the slab latency
// programs (slab_latency, first_fill_latency) time single operations with,
// `lfence; rdtsc; lfence` ... `rdtscp; lfence`, and a sink that keeps a value
// alive without a store. Falls back to steady_clock off x86.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#define NEXUS_BENCH_TSC 1
#else
#include <chrono>
#define NEXUS_BENCH_TSC 0
#endif

namespace nexus_bench {

inline std::uint64_t tick_start() noexcept {
#if NEXUS_BENCH_TSC
  std::uint32_t lo;
  std::uint32_t hi;
  asm volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
  return (std::uint64_t{hi} << 32) | lo;
#else
  return static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

inline std::uint64_t tick_stop() noexcept {
#if NEXUS_BENCH_TSC
  std::uint32_t lo;
  std::uint32_t hi;
  std::uint32_t aux;
  asm volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
  return (std::uint64_t{hi} << 32) | lo;
#else
  return static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Keeps a value alive without a store.
template <class V>
inline void keep(const V& v) noexcept {
  asm volatile("" : : "r,m"(v) : "memory");
}

}  // namespace nexus_bench
