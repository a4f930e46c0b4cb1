// SPDX-License-Identifier: MIT OR Apache-2.0
// first_fill_latency: where the tail of nexus::slab's first fill comes from.
//
// Times every single insert of a first fill (never-used slots, bump cursor)
// round after round, and reports, per value type, the percentiles, the
// guest page faults and stalls above 4,096 ticks during the fills, and which
// slots were slow (above 2x the round's p50) in at least half the rounds.
// In the same run, interleaved by type, it times two baselines: an array
// written in order into a block mapped the same way, and empty timer pairs.
// Slow slots that repeat round after round are a property of where the block
// landed or of the code path at that index; preemption and interrupts
// scatter. Each round maps a fresh block, as slab_latency does: the kernel
// usually hands the just-freed pages back, so rounds share one placement.
// --hold K keeps the K most recent blocks mapped, so K consecutive rounds
// get K different placements: a slot that stays slow then goes with the
// index (the code, the benchmark's own buffers), one that stops being slow
// went with the placement.
//
// Usage: taskset -c 1 first_fill_latency [--quick] [--rounds R] [--n N]
//                                        [--hold K] [--hugetlb]
// --hugetlb maps each block with alloc_hugetlb() (reserve pages first:
// echo 64 > /proc/sys/vm/nr_hugepages as root) and skips, with a note, when
// the reservation cannot hold --hold blocks. Every block is mlock()ed.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <nexus/detail/config.hpp>  // detail::prefetch
#include <nexus/mmap_region.hpp>
#include <nexus/slab.hpp>

#include "latency_util.hpp"  // minor_faults
#include "slab_values.hpp"
#include "tsc.hpp"

namespace {

using nexus_bench::blob64;

struct options {
  std::size_t rounds = 60;
  std::size_t n = 10000;
  std::size_t hold = 1;
  bool hugetlb = false;
};

std::uint32_t percentile(std::vector<std::uint32_t> v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size()));
  const auto at =
      v.begin() + static_cast<std::ptrdiff_t>(std::min(k, v.size() - 1));
  std::nth_element(v.begin(), at, v.end());
  return *at;
}

// One timer pair's ticks, clamped to 32 bits.
std::uint32_t ticks(std::uint64_t t0, std::uint64_t t1) {
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(t1 - t0, 0xFFFFFFFFu));
}

// The columns every row has: percentiles, and the counts above 2x p50
// ("slow") and above 4,096 ticks.
struct tail {
  std::uint32_t p50, p99, p999, max;
  std::size_t slow = 0;
  std::size_t over_4096 = 0;

  explicit tail(const std::vector<std::uint32_t>& all)
      : p50(percentile(all, 0.5)),
        p99(percentile(all, 0.99)),
        p999(percentile(all, 0.999)),
        max(*std::max_element(all.begin(), all.end())) {
    for (const std::uint32_t t : all) {
      slow += t > 2 * p50 ? 1 : 0;
      over_4096 += t > 4096 ? 1 : 0;
    }
  }
  [[nodiscard]] double ratio() const {
    return static_cast<double>(p999) / static_cast<double>(p50);
  }
};

template <class T>
const char* type_name() {
  return std::is_same_v<T, blob64> ? "64-byte" : "u64";
}

// The baseline in the same run: a block mapped the same way (pre-faulted,
// locked, on hugetlb pages with --hugetlb), written in order, one T per
// timed op and no prefetch of our own. Its tail is what first writes to
// fresh memory cost on this machine, whatever the container.
template <class T>
class array_fill {
 public:
  std::error_code map(std::size_t n, bool hugetlb) {
    nexus::region_options o;
    o.huge = hugetlb ? nexus::huge_pages::required : nexus::huge_pages::none;
    o.prefault = true;
    if (std::error_code ec = region_.map(n * sizeof(T), o)) return ec;
    // A failure to lock shows in the slab's rows: its mlock() says so.
    static_cast<void>(region_.lock());
    return {};
  }
  nexus::key insert(const T& v) {
    std::construct_at(static_cast<T*>(region_.data()) + next_, v);
    return nexus::key(next_++);
  }

 private:
  nexus::mmap_region region_;
  std::size_t next_ = 0;
};

template <class T, bool Array>
void run(const options& opt) {
  const std::size_t n = opt.n;
  using block = std::conditional_t<Array, array_fill<T>, nexus::slab<T>>;
  const char* const what = Array ? "array" : "nexus::slab";
  // The benchmark's own buffers are touched up front, and the element half
  // a page ahead is prefetched before each timed insert (as slab_latency
  // does; see its record()), so their misses stay out of the timed region.
  std::vector<nexus::key> keys(n, nexus::key(0));
  std::vector<std::uint32_t> round_ticks(n);
  std::vector<std::uint32_t> all;
  all.reserve(n * opt.rounds);
  std::vector<std::uint32_t> slow_rounds(n, 0);
  std::deque<block> held;
  long faults = 0;  // guest minor faults during the timed fills
  for (std::size_t r = 0; r < opt.rounds; ++r) {
    if (held.size() == opt.hold) held.pop_front();
    block& s = held.emplace_back();
    std::error_code ec;
    if constexpr (Array) {
      ec = s.map(n, opt.hugetlb);
    } else {
      ec = opt.hugetlb ? s.alloc_hugetlb(n) : s.alloc(n);
      if (!ec) {
        if (const std::error_code lock_ec = s.mlock()) {
          std::printf("# mlock failed (%s): timing unlocked memory\n",
                      lock_ec.message().c_str());
        }
      }
    }
    if (ec) {
      std::printf("| %s %s | %zu | skipped: %s |\n", what, type_name<T>(), n,
                  ec.message().c_str());
      return;
    }
    const long faults_before = nexus_bench::minor_faults();
    for (std::size_t i = 0; i < n; ++i) {
      const T v = nexus_bench::make_value<T>(i);
      if (i + 512 < n) {
        nexus::detail::prefetch<true>(keys.data() + i + 512);
        nexus::detail::prefetch<true>(round_ticks.data() + i + 512);
      }
      const std::uint64_t t0 = nexus_bench::tick_start();
      keys[i] = s.insert(v);
      round_ticks[i] = ticks(t0, nexus_bench::tick_stop());
    }
    faults += nexus_bench::minor_faults() - faults_before;
    const std::uint32_t p50 = percentile(round_ticks, 0.5);
    for (std::size_t i = 0; i < n; ++i) {
      if (round_ticks[i] > 2 * p50) ++slow_rounds[i];
    }
    all.insert(all.end(), round_ticks.begin(), round_ticks.end());
  }
  const tail t(all);
  std::string fixed;
  std::size_t fixed_count = 0;
  std::size_t fixed_samples = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (2 * slow_rounds[i] < opt.rounds) continue;
    ++fixed_count;
    fixed_samples += slow_rounds[i];
    if (fixed_count <= 8) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%s%zu@0x%zx", fixed.empty() ? "" : " ", i,
                    i * sizeof(T) % 4096);
      fixed += buf;
    }
  }
  if (fixed_count > 8) fixed += " ...";
  std::printf(
      "| %s %s | %zu | %u | %u | %u | %u | %.2f | %zu | %zu | %ld | %zu | %zu "
      "| %s |\n",
      what, type_name<T>(), n, t.p50, t.p99, t.p999, t.max, t.ratio(), t.slow,
      t.over_4096, faults, fixed_count, fixed_samples,
      fixed.empty() ? "-" : fixed.c_str());
}

// The baseline in the same run: as many empty timer pairs as the fills
// time inserts. Its p99.9 is the timer's own tail, and its "> 4096" count is
// the stalls this machine gives any code (interrupts, preemption, VM exits).
void run_timer(const options& opt) {
  std::vector<std::uint32_t> all(opt.n * opt.rounds);
  for (std::uint32_t& sample : all) {
    const std::uint64_t t0 = nexus_bench::tick_start();
    sample = ticks(t0, nexus_bench::tick_stop());
  }
  const tail t(all);
  std::printf(
      "| timer only | - | %u | %u | %u | %u | %.2f | %zu | %zu | - | - "
      "| - | - |\n",
      t.p50, t.p99, t.p999, t.max, t.ratio(), t.slow, t.over_4096);
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool value = i + 1 < argc;
    if (a == "--quick") {
      opt.rounds = 4;
      opt.n = 4096;
    } else if (a == "--hugetlb") {
      opt.hugetlb = true;
    } else if (a == "--rounds" && value) {
      opt.rounds = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--n" && value) {
      opt.n = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--hold" && value) {
      opt.hold = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--rounds R] [--n N] [--hold K] "
                   "[--hugetlb]\n",
                   argv[0]);
      return 2;
    }
  }
  if (opt.rounds == 0 || opt.n == 0 || opt.hold == 0) {
    std::fprintf(stderr, "first_fill_latency: R, N and K must be positive\n");
    return 2;
  }
  std::printf(
      "# first_fill_latency: %s ticks per single first-fill insert (timer "
      "pair included), %zu rounds, %s + mlock, %zu block(s) held\n"
      "# slow: samples > 2x p50; fixed: slots slow in >= half the rounds, "
      "as slot@(byte offset mod 4 KiB)\n"
      "# > 4096: samples above 4,096 ticks; faults: minor page faults taken "
      "during the timed fills (getrusage)\n\n"
      "| contender, T | N | p50 | p99 | p99.9 | max | p99.9/p50 | slow | > "
      "4096 | "
      "faults | fixed slots | their slow samples | first fixed slots |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
      NEXUS_BENCH_TSC ? "TSC" : "steady_clock", opt.rounds,
      opt.hugetlb ? "alloc_hugetlb" : "alloc", opt.hold);
  run_timer(opt);
  // Interleaved, so that both see the machine in the same state.
  run<std::uint64_t, true>(opt);
  run<std::uint64_t, false>(opt);
  run<blob64, true>(opt);
  run<blob64, false>(opt);
  return 0;
}
