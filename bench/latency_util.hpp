// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab benchmarks: helpers shared by the latency programs
// (slab_list_latency, ordered_list_latency): a key scrambler, heap and
// page-fault counters, a heap settler, wall/thread-CPU clocks, and their
// common options.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

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

// The op of the compute-bound folds (ordered_list_latency, bench_fold): two
// rounds of splitmix64's finalizer per element, ~10 dependent ALU ops. A sum
// over 80 MB is limited by memory bandwidth, which two threads of this VM
// cannot double; a fold whose op does real work per element (hashing,
// parsing, scoring) is what parallelism is for.
struct hash_op {
  std::uint64_t operator()(std::uint64_t acc, std::uint64_t x) const noexcept {
    return acc + scramble(scramble(x));
  }
};

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

// Settles the heap between contenders (untimed): merges the small chunks a
// node-based container freed and gives free memory back to the OS. Without
// it, glibc consolidates that garbage lazily, at the next request of 1 KiB
// or more, so whichever contender makes one first pays for the previous
// contender's frees: slab_list's growing small-list buffer paid for
// std::set's 10^6 freed nodes (random insert at 10^6: 257-306 ns right after
// std::set, 165-207 ns with this call in between; session 9).
inline void settle_heap() noexcept {
#if defined(__GLIBC__)
  ::malloc_trim(0);
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

// The options both interleaving programs take: --max-n N, --rounds R,
// --csv FILE, --seed S, --clock wall|cpu, --quick.
struct common_args {
  std::size_t max_n = 10000000;
  int rounds = 3;
  std::uint64_t seed = 0;
  const char* csv = nullptr;
  bool cpu_clock = false;
  bool quick = false;
  bool max_n_given = false;
  bool rounds_given = false;

  enum class parsed { used, not_mine, bad };
  // Consumes argv[i] (and its value, advancing i) if it is a common option.
  parsed parse(int argc, char** argv, int& i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      quick = true;
      return parsed::used;
    }
    if (!has_value) return parsed::not_mine;
    if (a == "--max-n") {
      max_n = std::strtoull(argv[++i], nullptr, 10);
      max_n_given = true;
    } else if (a == "--rounds") {
      rounds = std::atoi(argv[++i]);
      rounds_given = true;
    } else if (a == "--csv") {
      csv = argv[++i];
    } else if (a == "--seed") {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else if (a == "--clock") {
      const std::string v = argv[++i];
      if (v != "cpu" && v != "wall") return parsed::bad;
      cpu_clock = v == "cpu";
    } else {
      return parsed::not_mine;
    }
    return parsed::used;
  }
  // After parsing: --quick means 1 round and N <= 10^5 unless given.
  void finish() {
    if (quick) {
      if (!rounds_given) rounds = 1;
      if (!max_n_given) max_n = 100000;
    }
    if (rounds < 1) rounds = 1;
  }
};

}  // namespace nexus_bench
