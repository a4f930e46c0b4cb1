// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab benchmarks: helpers shared by the latency programs
// (slab_list_latency, ordered_list_latency): a key scrambler, heap and
// page-fault counters, and wall/thread-CPU clocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__unix__)
#include <sys/resource.h>
#include <time.h>
#endif

namespace nexus_bench {

using clock_type = std::chrono::steady_clock;

// splitmix64's finalizer: a bijection, so distinct inputs stay distinct.
constexpr std::uint64_t scramble(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Heap bytes handed out by glibc malloc (small chunks + mmapped chunks);
// 0 where unknown, so bytes/element of heap contenders then reads as 0.
inline std::size_t heap_in_use() noexcept {
#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
#else
  return 0;
#endif
}

inline long minor_faults() noexcept {
#if defined(__unix__)
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
#else
  return 0;
#endif
}

inline double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// This thread's CPU time: unlike wall time, it does not count the time
// another process held the core.
inline double thread_cpu_seconds() noexcept {
#if defined(__unix__)
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
#else
  return 0.0;
#endif
}

}  // namespace nexus_bench
