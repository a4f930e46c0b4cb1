// SPDX-License-Identifier: MIT OR Apache-2.0
// ordered_list_latency: the ordered slab list
// (nexus::slab_list<uint64_t, nexus::insertion_order>) against std::vector,
// std::deque and std::list on uint64_t values — ns/op for push_back, insert
// at a random position, operator[] at a random index, full iteration, and
// two left folds, sequential next to fold(nexus::parallel, ...): a sum
// (memory-bound) and a sum of a per-element hash (compute-bound) — plus
// bytes/element, at N = 10^4 .. 10^7. For std::vector the parallel column is
// the same split done by hand (std::jthread + std::accumulate): a control
// that shows whether the machine gave this process two CPUs at all. The sorted
// list (nexus::slab_list <uint64_t>, built by ascending inserts) is measured
// for iteration and the two folds too. Contenders run in one process,
// interleaved (the order rotates each round), and the median over rounds is
// reported.
//
// Usage:
//   taskset -c 0,1 ordered_list_latency [--max-n N] [--rounds R] [--quick]
//       [--csv FILE] [--seed S] [--threads T] [--list-max-n N] [--clock C]
//
// Pinning: the parallel fold needs both CPUs, so pin to two (taskset -c 0,1)
// or none; with one CPU it can only show its overhead.
//
// Infeasible cells are skipped and printed as "–": std::list has no random
// access, so its random insert and operator[] (a walk from begin) run only
// up to N = 10^5 (--list-max-n). std::vector and std::deque insert in O(N),
// so fewer random inserts are timed at large N (see `inserts` in the table).
//
// Every result is checked: fold and iteration sums against the reference,
// index reads against a reference checksum, and after the random inserts
// every contender must hold the same sequence (order-sensitive hash). The
// first mismatch is printed and the program exits with status 2.
//
// Memory: memory_size() (bytes mapped from the region layer, plus the heap
// buffer in small-list mode) for the slab lists; the change in glibc's heap
// usage (mallinfo2: uordblks + hblkhd) for the std containers, chunk headers,
// rounding and unused vector capacity included.

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <iterator>
#include <list>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__unix__)
#include <time.h>
#endif

#include <nexus/slab_list.hpp>

#include "latency_util.hpp"

namespace {

using u64 = std::uint64_t;
using nexus_bench::clock_type;
using nexus_bench::common_args;
using nexus_bench::hash_op;
using nexus_bench::heap_in_use;
using nexus_bench::scramble;
using nexus_bench::seconds_since;
using nexus_bench::thread_cpu_seconds;
using ordered_list = nexus::slab_list<u64, nexus::insertion_order>;
using sorted_list = nexus::slab_list<u64>;

// ---------------------------------------------------------------- helpers

// Timed wall and thread-CPU seconds of the single-threaded measurements:
// their ratio shows how much of the time another process had the CPU.
double g_total_wall = 0;
double g_total_cpu = 0;
// --clock cpu: single-threaded metrics in this thread's CPU time (for when
// other processes share the CPUs). The fold speed-up always compares wall
// times.
bool g_cpu_clock = false;

// Wall-clock timer (the parallel fold is judged by elapsed time).
class stopwatch {
 public:
  stopwatch() noexcept : t0_(clock_type::now()), cpu0_(thread_cpu_seconds()) {}
  // Seconds since construction on the selected clock (single-threaded
  // work: counted in the CPU share statistics).
  [[nodiscard]] double seconds() const {
    const double wall = seconds_since(t0_);
    const double cpu = thread_cpu_seconds() - cpu0_;
    g_total_wall += wall;
    g_total_cpu += cpu;
    return g_cpu_clock ? cpu : wall;
  }
  // Wall seconds since construction (multi-threaded work).
  [[nodiscard]] double wall_seconds() const { return seconds_since(t0_); }

 private:
  clock_type::time_point t0_;
  double cpu0_;
};

// The 1-minute load average (negative where unknown): above the CPU count,
// other processes competed for the CPUs and the parallel fold cannot scale.
double load_average() noexcept {
  double l = -1.0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1.0;
    std::fclose(f);
  }
  return l;
}

int cpus_available() noexcept {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
  return static_cast<int>(std::thread::hardware_concurrency());
}

// Keeps results observable so the optimiser cannot drop a timed loop.
volatile u64 g_sink = 0;

[[noreturn]] void fail(const char* container, std::size_t n, const char* what,
                       const char* detail) {
  std::fprintf(stderr, "VERIFY FAILED: container=%s n=%zu step=%s : %s\n",
               container, n, what, detail);
  std::exit(2);
}

// Order-sensitive hash step, so two sequences agree only element by element.
constexpr u64 hash_step(u64 h, u64 x) noexcept { return h * 1000003u + x; }

// Fold timings per round (see time_folds).
constexpr int kFoldSamples = 5;

// ---------------------------------------------------------------- results

struct result_key {
  std::size_t n;
  std::string container;
  std::string metric;
  friend bool operator<(const result_key& a, const result_key& b) {
    return std::tie(a.n, a.container, a.metric) <
           std::tie(b.n, b.container, b.metric);
  }
};

class results {
 public:
  void add(std::size_t n, const std::string& c, const std::string& metric,
           double v) {
    samples_[{n, c, metric}].push_back(v);
  }
  // Median over rounds (upper median for an even count); negative if absent.
  [[nodiscard]] double median(std::size_t n, const std::string& c,
                              const std::string& metric) const {
    auto it = samples_.find({n, c, metric});
    if (it == samples_.end() || it->second.empty()) return -1.0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  [[nodiscard]] const std::map<result_key, std::vector<double>>& all() const {
    return samples_;
  }

 private:
  std::map<result_key, std::vector<double>> samples_;
};

// ---------------------------------------------------------------- workload

struct workload {
  std::size_t n = 0;
  std::vector<u64> values;         // pushed back in this order
  u64 sum = 0;                     // wrapping sum of values
  u64 hash_sum = 0;                // wrapping sum of hash_op over values
  std::vector<std::size_t> index;  // random indices < n for operator[]
  u64 index_sum = 0;               // wrapping sum of values[index[q]]
  // Random inserts: (position in the current sequence, value), applied in
  // order. `fast_inserts` for O(log n) containers; O(N) ones (vector, deque)
  // and std::list take the first `slow_inserts`.
  std::vector<std::pair<std::size_t, u64>> inserts;
  std::size_t slow_inserts = 0;
  u64 hash_after_fast = 0;           // hash of the sequence after all inserts
  u64 hash_after_slow = 0;           // ... after the first slow_inserts
  int fold_reps = 1;                 // folds per timing (small N are repeated)
  std::size_t list_index_reads = 0;  // operator[] walks timed on std::list
};

// Hash of the sequence `base` becomes after inserting ins[0..k) in order
// (each at its position in the sequence of the moment), without the
// O(N) per insert a std::vector would cost: walking the inserts backwards,
// insert j lands on the ins[j].first-th slot (0-based) still free in the
// final sequence; the original elements fill the remaining slots in order.
// A Fenwick tree over free slots finds each in O(log(N + k)).
u64 hash_after_inserts(const std::vector<u64>& base,
                       const std::vector<std::pair<std::size_t, u64>>& ins,
                       std::size_t k) {
  const std::size_t total = base.size() + k;
  std::vector<std::size_t> tree(total + 1, 0);  // 1-based, counts free slots
  for (std::size_t i = 1; i <= total; ++i) {
    tree[i] += 1;
    const std::size_t up = i + (i & (~i + 1));
    if (up <= total) tree[up] += tree[i];
  }
  std::size_t top = 1;
  while (top * 2 <= total) top *= 2;
  std::vector<u64> out(total);
  std::vector<bool> taken(total, false);
  for (std::size_t j = k; j-- > 0;) {
    // Smallest slot with (ins[j].first + 1) free slots at or before it.
    std::size_t pos = 0;
    std::size_t rem = ins[j].first + 1;
    for (std::size_t step = top; step != 0; step /= 2) {
      if (pos + step <= total && tree[pos + step] < rem) {
        pos += step;
        rem -= tree[pos];
      }
    }
    out[pos] = ins[j].second;  // slot pos (0-based) = tree index pos + 1
    taken[pos] = true;
    for (std::size_t i = pos + 1; i <= total; i += i & (~i + 1)) --tree[i];
  }
  std::size_t b = 0;
  for (std::size_t i = 0; i < total; ++i)
    if (!taken[i]) out[i] = base[b++];
  u64 h = 0;
  for (u64 x : out) h = hash_step(h, x);
  return h;
}

workload make_workload(std::size_t n, u64 seed, bool quick) {
  workload w;
  w.n = n;
  w.values.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    w.values[i] = scramble(i + seed);
    w.sum += w.values[i];
    w.hash_sum += scramble(scramble(w.values[i]));
  }
  std::mt19937_64 rng(seed ^ n);
  w.index.resize(std::min<std::size_t>(n, quick ? 20000 : 1000000));
  for (auto& i : w.index) {
    i = static_cast<std::size_t>(rng() % n);
    w.index_sum += w.values[i];
  }
  // O(log n) containers: up to 10^5 inserts (or N / 10). O(N) containers
  // (and std::list's walks): about 10^8 / N inserts, at least 20.
  const std::size_t fast = std::max<std::size_t>(
      1, std::min<std::size_t>(quick ? 2000 : 100000, n / 10));
  const std::size_t slow =
      std::clamp<std::size_t>((quick ? 10000000 : 100000000) / n, 20, fast);
  w.inserts.resize(fast);
  for (std::size_t j = 0; j < fast; ++j)
    w.inserts[j] = {static_cast<std::size_t>(rng() % (n + j + 1)),
                    scramble(~(j + seed))};
  w.slow_inserts = std::min(slow, fast);
  w.hash_after_slow = hash_after_inserts(w.values, w.inserts, w.slow_inserts);
  w.hash_after_fast = hash_after_inserts(w.values, w.inserts, fast);
  w.fold_reps = static_cast<int>(
      std::max<std::size_t>(1, (quick ? 2000000 : 100000000) / n));
  w.list_index_reads = std::min<std::size_t>(w.index.size(), 200);
  return w;
}

// ---------------------------------------------------------------- contenders

struct options {
  unsigned threads = 0;  // for fold(nexus::parallel, ...): 0 = default
  std::size_t list_max_n = 100000;
};

template <class C>
constexpr bool is_ordered() {
  return std::is_same_v<C, ordered_list>;
}
template <class C>
constexpr bool is_std_list() {
  return std::is_same_v<C, std::list<u64>>;
}

// An iterator to position i (O(log n) for ours, a walk for std::list).
template <class C>
auto at_position(C& c, std::size_t i) {
  if constexpr (is_ordered<C>())
    return c.nth(i);
  else if constexpr (is_std_list<C>())
    return std::next(c.begin(), static_cast<std::ptrdiff_t>(i));
  else
    return c.begin() + static_cast<std::ptrdiff_t>(i);
}

template <class C>
u64 read_index(const C& c, std::size_t i) {
  if constexpr (is_std_list<C>())
    return *std::next(c.begin(), static_cast<std::ptrdiff_t>(i));
  else
    return c[i];
}

template <class C, class Op>
u64 sequential_fold(const C& c, Op op) {
  if constexpr (requires { c.fold_left(u64{0}, op); })
    return c.fold_left(u64{0}, op);
  else
    return std::accumulate(c.begin(), c.end(), u64{0}, op);
}

// Sequential and parallel fold of a full container with `op` (slab lists:
// fold_left and fold(nexus::parallel); std::vector: std::accumulate and the
// same split by hand, as a control); records fold<sfx>_ns (selected clock),
// fold<sfx>_wall_ns and pfold<sfx>_ns (wall), in ns per element.
template <class C, class Op>
void time_folds(const C& c, const char* name, const workload& w,
                const options& opt, results& out, Op op, u64 expect,
                const std::string& sfx) {
  const std::size_t n = w.n;
  const double elems = static_cast<double>(n) * w.fold_reps;
  const u64 reps = static_cast<u64>(w.fold_reps);

  // The parallel form: fold(nexus::parallel) for the slab lists; for
  // std::vector the same split by hand (one std::jthread per group but the
  // first, std::accumulate each) as a control — if that does not speed up
  // either, the machine did not give us two CPUs.
  constexpr bool kHasParallel =
      requires { c.fold(nexus::parallel, u64{0}, op, std::plus<>{}, 0u); };
  constexpr bool kControl = std::is_same_v<C, std::vector<u64>>;
  const auto parallel_once = [&]() -> u64 {
    if constexpr (kHasParallel) {
      return c.fold(nexus::parallel, u64{0}, op, std::plus<>{}, opt.threads);
    } else if constexpr (kControl) {
      const std::size_t g = std::min<std::size_t>(
          std::max<std::size_t>(1, opt.threads
                                       ? opt.threads
                                       : std::thread::hardware_concurrency()),
          std::max<std::size_t>(1, n / 65536));
      std::vector<u64> part(g);
      const auto group = [&](std::size_t k) {
        const auto b = static_cast<std::ptrdiff_t>(n * k / g);
        const auto e = static_cast<std::ptrdiff_t>(n * (k + 1) / g);
        part[k] = std::accumulate(c.begin() + b, c.begin() + e, u64{0}, op);
      };
      {
        std::vector<std::jthread> pool;
        for (std::size_t k = 1; k < g; ++k) pool.emplace_back(group, k);
        group(0);
      }
      u64 sum = 0;
      for (u64 p : part) sum += p;
      return sum;
    } else {
      return 0;
    }
  };

  // Several samples per round, sequential and parallel alternating, so one
  // descheduling of this VM's vCPU (a 10^7 fold takes only 5-20 ms) does
  // not decide the round.
  u64 sink = 0;
  for (int sample = 0; sample < kFoldSamples; ++sample) {
    stopwatch t;
    u64 sum = 0;
    for (int r = 0; r < w.fold_reps; ++r) sum += sequential_fold(c, op);
    out.add(n, name, "fold" + sfx + "_wall_ns", t.wall_seconds() * 1e9 / elems);
    out.add(n, name, "fold" + sfx + "_ns", t.seconds() * 1e9 / elems);
    if (sum != expect * reps)
      fail(name, n, "fold_left", "fold result is wrong");
    sink += sum;

    if constexpr (kHasParallel || kControl) {
      t = stopwatch();
      sum = 0;
      for (int r = 0; r < w.fold_reps; ++r) sum += parallel_once();
      out.add(n, name, "pfold" + sfx + "_ns", t.wall_seconds() * 1e9 / elems);
      if (sum != expect * reps)
        fail(name, n, kHasParallel ? "fold(parallel)" : "split by hand",
             "parallel fold result is wrong");
      sink += sum;
    }
  }
  g_sink = g_sink + sink;
}

// Iteration, then the folds: a sum (memory-bound) and a hash per element
// (compute-bound); records iterate_ns and the time_folds metrics.
template <class C>
void time_traversals(const C& c, const char* name, const workload& w,
                     const options& opt, results& out) {
  const std::size_t n = w.n;
  const double elems = static_cast<double>(n) * w.fold_reps;

  stopwatch t;
  u64 sum = 0;
  for (int r = 0; r < w.fold_reps; ++r) {
    u64 s = 0;
    for (u64 x : c) s += x;
    sum += s;
  }
  out.add(n, name, "iterate_ns", t.seconds() * 1e9 / elems);
  if (sum != w.sum * static_cast<u64>(w.fold_reps))
    fail(name, n, "iterate", "sum of the elements is wrong");
  g_sink = g_sink + sum;

  time_folds(c, name, w, opt, out, std::plus<>{}, w.sum, "");
  time_folds(c, name, w, opt, out, hash_op{}, w.hash_sum, "_hash");
}

// The full sequence for one sequence container (ordered list, vector, deque,
// list): push_back, memory, traversals, operator[], random inserts.
template <class C>
void run_sequence(const char* name, const workload& w, const options& opt,
                  results& out) {
  const std::size_t n = w.n;
  const auto dn = static_cast<double>(n);
  nexus_bench::settle_heap();  // no contender pays for the last one's frees
  const std::size_t heap0 = heap_in_use();
  C c;

  stopwatch t;
  for (u64 x : w.values) c.push_back(x);
  out.add(n, name, "push_back_ns", t.seconds() * 1e9 / dn);
  if (c.size() != n) fail(name, n, "push_back", "size() != N");
  if constexpr (is_ordered<C>())
    out.add(n, name, "bytes_per_elem",
            static_cast<double>(c.memory_size()) / dn);
  else
    out.add(n, name, "bytes_per_elem",
            static_cast<double>(heap_in_use() - heap0) / dn);

  time_traversals(c, name, w, opt, out);

  // operator[] at random indices (a walk from begin() for std::list).
  const bool walk = is_std_list<C>();
  if (!walk || n <= opt.list_max_n) {
    const std::size_t reads = walk ? w.list_index_reads : w.index.size();
    u64 sum = 0;
    t = stopwatch();
    for (std::size_t q = 0; q < reads; ++q) sum += read_index(c, w.index[q]);
    out.add(n, name, "index_ns",
            t.seconds() * 1e9 / static_cast<double>(reads));
    if (!walk && sum != w.index_sum)
      fail(name, n, "operator[]", "sum of indexed reads is wrong");
    g_sink = g_sink + sum;
  }

  // Insert at random positions: the iterator lookup is part of the cost.
  const bool slow = !is_ordered<C>();
  if (!walk || n <= opt.list_max_n) {
    const std::size_t k = slow ? w.slow_inserts : w.inserts.size();
    t = stopwatch();
    for (std::size_t j = 0; j < k; ++j)
      c.insert(at_position(c, w.inserts[j].first), w.inserts[j].second);
    out.add(n, name, "insert_ns", t.seconds() * 1e9 / static_cast<double>(k));
    out.add(n, name, "inserts", static_cast<double>(k));
    u64 h = 0;
    for (u64 x : c) h = hash_step(h, x);
    if (h != (slow ? w.hash_after_slow : w.hash_after_fast))
      fail(name, n, "random insert", "sequence differs from std::vector's");
    if constexpr (is_ordered<C>()) {
      if (const char* m = c.violation()) fail(name, n, "random insert", m);
    }
  }
}

// The sorted list: built by ascending inserts (appends), then traversals.
void run_sorted(const char* name, const workload& w, const options& opt,
                results& out) {
  std::vector<u64> sorted = w.values;
  std::sort(sorted.begin(), sorted.end());
  sorted_list l;
  for (u64 x : sorted) l.insert(x);
  if (l.size() != w.n) fail(name, w.n, "insert", "size() != N");
  out.add(w.n, name, "bytes_per_elem",
          static_cast<double>(l.memory_size()) / static_cast<double>(w.n));
  time_traversals(l, name, w, opt, out);
}

// The machine's own parallel speed-up: a loop of hash_op over a counter
// (no memory traffic), once on this thread and once split over two
// std::jthreads; `reps` repetitions, reported as "min / median / max".
std::string two_thread_check(int reps) {
  const u64 n = 50'000'000;
  const auto work = [](u64 a, u64 b) {
    u64 acc = 0;
    for (u64 i = a; i < b; ++i) acc = hash_op{}(acc, i);
    return acc;
  };
  std::vector<double> x;
  for (int k = 0; k < reps; ++k) {
    stopwatch t;
    const u64 one = work(0, n);
    const double seq = t.wall_seconds();
    t = stopwatch();
    u64 hi = 0;
    {
      std::jthread th([&] { hi = work(n / 2, n); });
      const u64 lo = work(0, n / 2);
      th.join();
      if (lo + hi != one)
        fail("machine check", n, "two threads", "sums differ");
    }
    x.push_back(seq / t.wall_seconds());
  }
  std::sort(x.begin(), x.end());
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.2fx / %.2fx / %.2fx", x.front(),
                x[x.size() / 2], x.back());
  return buf;
}

struct contender {
  const char* name;
  void (*run)(const char*, const workload&, const options&, results&);
};

const contender kContenders[] = {
    {"nexus ordered slab_list", &run_sequence<ordered_list>},
    {"std::vector", &run_sequence<std::vector<u64>>},
    {"std::deque", &run_sequence<std::deque<u64>>},
    {"std::list", &run_sequence<std::list<u64>>},
    {"nexus sorted slab_list", &run_sorted},
};

// ---------------------------------------------------------------- report

void print_cell(double v, int prec) {
  if (v < 0)
    std::printf(" – |");
  else
    std::printf(" %.*f |", prec, v);
}

void print_tables(const results& r, const std::vector<std::size_t>& sizes) {
  std::printf(
      "\n#### uint64_t, median of rounds (ns per op; iterate and folds: ns "
      "per element; clock: %s)\n\n"
      "| N | container | push_back | random insert | inserts timed | "
      "operator[] | iterate | fold_left sum | fold(parallel) sum, wall | "
      "fold_left hash | fold(parallel) hash, wall | B/elem |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
      g_cpu_clock ? "thread CPU time" : "wall");
  for (std::size_t n : sizes) {
    for (const contender& c : kContenders) {
      std::printf("| %zu | %s |", n, c.name);
      print_cell(r.median(n, c.name, "push_back_ns"), 1);
      print_cell(r.median(n, c.name, "insert_ns"), 1);
      print_cell(r.median(n, c.name, "inserts"), 0);
      print_cell(r.median(n, c.name, "index_ns"), 1);
      print_cell(r.median(n, c.name, "iterate_ns"), 2);
      print_cell(r.median(n, c.name, "fold_ns"), 2);
      print_cell(r.median(n, c.name, "pfold_ns"), 2);
      print_cell(r.median(n, c.name, "fold_hash_ns"), 2);
      print_cell(r.median(n, c.name, "pfold_hash_ns"), 2);
      print_cell(r.median(n, c.name, "bytes_per_elem"), 2);
      std::printf("\n");
    }
  }

  const char* ours = kContenders[0].name;
  std::printf(
      "\n#### nexus ordered slab_list / std container (median values; < 1 "
      "means ours is faster or smaller)\n\n"
      "| N | vs | push_back | random insert | operator[] | iterate | "
      "fold_left | B/elem |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t n : sizes) {
    for (const char* other : {"std::vector", "std::deque"}) {
      std::printf("| %zu | %s |", n, other);
      for (const char* m : {"push_back_ns", "insert_ns", "index_ns",
                            "iterate_ns", "fold_ns", "bytes_per_elem"}) {
        const double a = r.median(n, ours, m);
        const double b = r.median(n, other, m);
        print_cell(a >= 0 && b > 0 ? a / b : -1.0, 2);
      }
      std::printf("\n");
    }
  }

  std::printf(
      "\n#### fold(nexus::parallel) speed-up over fold_left (sequential "
      "ns / parallel ns, wall; std::vector: the same split by hand with "
      "std::jthread, a control for the machine). sum: op = a + x (memory-"
      "bound); hash: op = a + f(f(x)), f the splitmix64 finalizer "
      "(compute-bound)\n\n"
      "| N | op | ordered list | sorted list | std::vector |\n"
      "|---|---|---:|---:|---:|\n");
  const auto speedup = [&](std::size_t n, const char* name,
                           const std::string& sfx) {
    const double s = r.median(n, name, "fold" + sfx + "_wall_ns");
    const double p = r.median(n, name, "pfold" + sfx + "_ns");
    return s >= 0 && p > 0 ? s / p : -1.0;
  };
  for (std::size_t n : sizes) {
    for (const char* op : {"sum", "hash"}) {
      const std::string sfx = std::strcmp(op, "sum") == 0 ? "" : "_hash";
      std::printf("| %zu | %s |", n, op);
      for (const char* name : {ours, "nexus sorted slab_list", "std::vector"})
        print_cell(speedup(n, name, sfx), 2);
      std::printf("\n");
    }
  }
  const std::size_t big = sizes.back();
  const double ps = speedup(big, ours, "");
  const double ss = speedup(big, "nexus sorted slab_list", "");
  const double vs = speedup(big, "std::vector", "");
  const double ph = speedup(big, ours, "_hash");
  const double sh = speedup(big, "nexus sorted slab_list", "_hash");
  std::printf(
      "\nTarget at N=%zu: parallel fold >= 1.8x the sequential one on 2 "
      "cores:\n  hash (compute-bound): ordered %.2fx, sorted %.2fx (%s)\n"
      "  sum (memory-bound):   ordered %.2fx, sorted %.2fx (%s); the "
      "std::vector control reaches %.2fx\n",
      big, ph, sh, ph >= 1.8 && sh >= 1.8 ? "met" : "NOT met", ps, ss,
      ps >= 1.8 && ss >= 1.8 ? "met" : "NOT met", vs);
}

bool write_csv(const results& r, const char* path) {
  std::FILE* f = std::fopen(path, "w");
  if (f == nullptr) {
    std::perror(path);
    return false;
  }
  std::fprintf(f, "n,container,metric,median,min,max,rounds\n");
  for (const auto& [k, v] : r.all()) {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    std::fprintf(f, "%zu,%s,%s,%.4f,%.4f,%.4f,%zu\n", k.n, k.container.c_str(),
                 k.metric.c_str(), s[s.size() / 2], s.front(), s.back(),
                 s.size());
  }
  return std::fclose(f) == 0;
}

void usage() {
  std::fprintf(
      stderr,
      "usage: ordered_list_latency [--max-n N] [--rounds R] [--quick] "
      "[--csv FILE] [--seed S] [--threads T] [--list-max-n N] [--clock C]\n"
      "  --max-n N       largest N (sizes 10^4 .. 10^7 capped at N)\n"
      "  --rounds R      interleaved rounds, median reported (default 3)\n"
      "  --quick         1 round, --max-n 100000, fewer ops (CI smoke)\n"
      "  --csv FILE      write every metric (median/min/max) as CSV\n"
      "  --threads T     threads for fold(nexus::parallel) (0 = default)\n"
      "  --clock C       wall (default) or cpu: this thread's CPU time for\n"
      "                  the single-threaded metrics (fold(parallel) and the\n"
      "                  speed-up are always wall time)\n"
      "  --list-max-n N  largest N for std::list random insert/operator[]\n");
}

}  // namespace

int main(int argc, char** argv) {
  common_args args;
  args.seed = 0x5eed0f01dULL;
  options opt;
  for (int i = 1; i < argc; ++i) {
    const auto p = args.parse(argc, argv, i);
    if (p == common_args::parsed::used) continue;
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (p == common_args::parsed::not_mine && a == "--threads" && has_value) {
      opt.threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (p == common_args::parsed::not_mine && a == "--list-max-n" &&
               has_value) {
      opt.list_max_n = std::strtoull(argv[++i], nullptr, 10);
    } else {
      usage();
      return a == "--help" || a == "-h" ? 0 : 1;
    }
  }
  args.finish();
  g_cpu_clock = args.cpu_clock;
  const std::size_t max_n = args.max_n;
  const int rounds = args.rounds;
  const bool quick = args.quick;
  const u64 seed = args.seed;
  const char* csv = args.csv;

  std::vector<std::size_t> sizes;
  for (std::size_t n : {std::size_t{10000}, std::size_t{100000},
                        std::size_t{1000000}, std::size_t{10000000}})
    if (n <= max_n) sizes.push_back(n);
  if (sizes.empty()) sizes.push_back(std::max<std::size_t>(max_n, 10));

  const int cpus = cpus_available();
  std::printf("sizes:");
  for (std::size_t n : sizes) std::printf(" %zu", n);
  std::printf(
      "; rounds %d; CPUs available %d; fold(nexus::parallel) threads %u%s\n",
      rounds, cpus, opt.threads, opt.threads == 0 ? " (default)" : "");
  if (cpus < 2)
    std::printf(
        "note: one CPU available: the parallel fold can only show its "
        "overhead (pin to two CPUs: taskset -c 0,1)\n");
  std::printf(
      "std::list: random insert and operator[] (walks) only up to N = %zu\n",
      opt.list_max_n);

  const double load0 = load_average();
  const std::string machine0 = two_thread_check(quick ? 1 : 5);
  results r;
  const std::size_t nc = std::size(kContenders);
  for (std::size_t n : sizes) {
    const workload w = make_workload(n, seed, quick);
    for (int round = 0; round < rounds; ++round) {
      // Rotate the order every round so that no contender always runs
      // first (fresh heap) or last.
      for (std::size_t j = 0; j < nc; ++j) {
        const contender& c =
            kContenders[(j + static_cast<std::size_t>(round)) % nc];
        const auto t0 = clock_type::now();
        c.run(c.name, w, opt, r);
        std::fprintf(stderr, "  N=%zu round %d %s: %.1f s\n", n, round, c.name,
                     seconds_since(t0));
      }
    }
  }
  std::printf(
      "\nload average (1 min) %.2f at the start, %.2f at the end, on %d "
      "CPUs\n",
      load0, load_average(), cpus);
  std::printf(
      "this thread ran %.0f%% of the timed single-threaded wall time (below "
      "~95%% means another process shared the CPU)\n",
      g_total_wall > 0 ? 100.0 * g_total_cpu / g_total_wall : 0.0);
  std::printf(
      "two-thread arithmetic check (the same hash loop, one thread vs two, "
      "no memory traffic; what this machine can give a parallel fold): "
      "before %s, after %s\n",
      machine0.c_str(), two_thread_check(quick ? 1 : 5).c_str());
  print_tables(r, sizes);
  if (csv != nullptr) {
    if (!write_csv(r, csv)) return 1;
    std::printf("\nCSV written to %s\n", csv);
  }
  return 0;
}
