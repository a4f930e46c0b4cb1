// SPDX-License-Identifier: MIT OR Apache-2.0
// slab_list_latency: bulk comparison of nexus::slab_list against
// absl::btree_set and std::set on uint64_t keys — ns/op for insert, find
// (every key, random order), erase (half the keys, from the full container),
// full iteration and nth, plus bytes/element after inserting N keys and per
// live element after erasing half of them. Every contender runs in the same
// process, interleaved (the order rotates each round), and the median over
// rounds is reported, because this machine is too noisy for separate runs.
//
// Usage:
//   taskset -c 1 slab_list_latency [--max-n N] [--rounds R] [--quick]
//       [--csv FILE] [--seed S] [--no-std-set]
//   taskset -c 1 slab_list_latency --huge-run [--huge-n N]
//
// Results are checked as they are produced (every insert must be new, every
// find must hit the right key, every erase must remove one element, sizes,
// iteration order and nth must match a sorted reference); the first mismatch
// is printed with its context and the program exits with status 2.
//
// Memory: for nexus::slab_list it is memory_size() (bytes mapped from the
// region layer); for the others it is the change in glibc's heap usage
// (mallinfo2: uordblks + hblkhd), i.e. what the allocator really hands out,
// chunk headers and rounding included.

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__unix__)
#include <sys/resource.h>
#include <time.h>
#endif

#include "latency_util.hpp"
#include "slab_list_contenders.hpp"

namespace {

using key_t64 = std::uint64_t;
using nexus_bench::clock_type;
using nexus_bench::common_args;
using nexus_bench::heap_in_use;
using nexus_bench::minor_faults;
using nexus_bench::scramble;
using nexus_bench::seconds_since;
using nexus_bench::thread_cpu_seconds;

// ---------------------------------------------------------------- helpers

// A bijection on 64-bit integers (the splitmix64 finaliser): distinct inputs
// give distinct, well-scrambled outputs, so "random" keys never collide and
// the 2*10^8 run needs no key array.
constexpr key_t64 random_key(key_t64 i, key_t64 seed) noexcept {
  return scramble(i * 0x9e3779b97f4a7c15ULL + seed);
}

// Peak resident set, KiB.
[[maybe_unused]] long max_rss_kib() noexcept {
#if defined(__unix__)
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
#else
  return 0;
#endif
}

// Which clock the reported ns/op come from. Wall time (steady_clock) is the
// default; when other processes share the pinned CPU, --clock cpu reports
// this thread's CPU time instead. Both totals are kept to show the CPU share.
bool g_cpu_clock = false;
double g_total_wall = 0;
double g_total_cpu = 0;

class stopwatch {
 public:
  stopwatch() noexcept
      : wall0_(clock_type::now()), cpu0_(thread_cpu_seconds()) {}
  // Seconds on the selected clock since construction.
  double seconds() const noexcept {
    const double wall = seconds_since(wall0_);
    const double cpu = thread_cpu_seconds() - cpu0_;
    g_total_wall += wall;
    g_total_cpu += cpu;
    return g_cpu_clock ? cpu : wall;
  }

 private:
  clock_type::time_point wall0_;
  double cpu0_;
};

// Keeps results observable so the optimiser cannot drop a timed loop.
volatile key_t64 g_sink = 0;

[[noreturn]] void fail(const char* container, std::size_t n, const char* order,
                       const char* what, std::size_t index, key_t64 key,
                       const char* detail) {
  std::fprintf(stderr,
               "VERIFY FAILED: container=%s n=%zu order=%s step=%s index=%zu "
               "key=%" PRIu64 " : %s\n",
               container, n, order, what, index, key, detail);
  std::exit(2);
}

// ---------------------------------------------------------------- results

struct result_key {
  std::size_t n;
  std::string order;
  std::string container;
  std::string metric;
  friend bool operator<(const result_key& a, const result_key& b) {
    return std::tie(a.n, a.order, a.container, a.metric) <
           std::tie(b.n, b.order, b.container, b.metric);
  }
};

class results {
 public:
  void add(std::size_t n, const std::string& order, const std::string& c,
           const std::string& metric, double v) {
    samples_[{n, order, c, metric}].push_back(v);
  }
  // Median over rounds (upper median for an even count); negative if absent.
  [[nodiscard]] double median(std::size_t n, const std::string& order,
                              const std::string& c,
                              const std::string& metric) const {
    auto it = samples_.find({n, order, c, metric});
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

// One (N, order) workload, shared by every contender and every round.
struct workload {
  std::size_t n = 0;
  const char* order = "";
  std::vector<key_t64> insert_keys;  // in insertion order
  std::vector<key_t64> find_keys;    // the same keys, shuffled
  std::vector<key_t64> erase_keys;   // erase order (first half, then rest)
  std::vector<key_t64> sorted;       // reference order
  std::vector<key_t64> sorted_after_half;  // what survives the first half
  std::vector<std::size_t> nth_index;      // random positions for nth()
  key_t64 sum = 0;                         // wrapping sum of all keys
  key_t64 nth_sum = 0;                     // wrapping sum of sorted[nth_index]
};

workload make_workload(std::size_t n, bool ascending, key_t64 seed) {
  workload w;
  w.n = n;
  w.order = ascending ? "ascending" : "random";
  std::vector<key_t64> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = random_key(i, seed);
  w.sorted = keys;
  std::sort(w.sorted.begin(), w.sorted.end());
  for (key_t64 k : keys) w.sum += k;

  std::mt19937_64 rng(seed ^ n);
  w.find_keys = keys;
  std::shuffle(w.find_keys.begin(), w.find_keys.end(), rng);
  if (ascending) {
    // Same key set, inserted and erased smallest first.
    w.insert_keys = w.sorted;
    w.erase_keys = w.sorted;
  } else {
    w.insert_keys = std::move(keys);
    w.erase_keys = w.find_keys;
    std::shuffle(w.erase_keys.begin(), w.erase_keys.end(), rng);
  }
  w.sorted_after_half.assign(w.erase_keys.begin() + (n / 2),
                             w.erase_keys.end());
  std::sort(w.sorted_after_half.begin(), w.sorted_after_half.end());

  const std::size_t queries = std::min<std::size_t>(n, 1000000);
  w.nth_index.resize(queries);
  std::uniform_int_distribution<std::size_t> pos(0, n - 1);
  for (auto& i : w.nth_index) {
    i = pos(rng);
    w.nth_sum += w.sorted[i];
  }
  return w;
}

// ---------------------------------------------------------------- contenders

using slab_list_type = nexus::slab_list<key_t64>;

template <class Set>
constexpr bool is_slab_list() {
  return std::is_same_v<Set, slab_list_type>;
}

// Runs the structure's own invariant check, when it has one; returns a
// description of the first broken invariant, or nullptr.
template <class Set>
const char* broken_invariant(const Set& s) {
  if constexpr (requires { s.violation(); }) {
    return s.violation();
  } else if constexpr (requires { s.check_invariants(); }) {
    return s.check_invariants() ? nullptr : "check_invariants() is false";
  } else {
    return nullptr;
  }
}

// Checks order and content of `s` against `ref` (untimed).
template <class Set>
void verify_contents(const Set& s, const std::vector<key_t64>& ref,
                     const char* name, const workload& w, const char* step) {
  if (s.size() != ref.size()) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "size()=%zu, expected %zu",
                  static_cast<std::size_t>(s.size()), ref.size());
    fail(name, w.n, w.order, step, 0, 0, buf);
  }
  std::size_t i = 0;
  for (auto it = s.begin(); it != s.end(); ++it, ++i) {
    if (i >= ref.size())
      fail(name, w.n, w.order, step, i, *it, "iterates past size()");
    if (*it != ref[i]) {
      char buf[96];
      std::snprintf(buf, sizeof buf,
                    "iteration yields %" PRIu64 ", expected %" PRIu64,
                    static_cast<key_t64>(*it), ref[i]);
      fail(name, w.n, w.order, step, i, *it, buf);
    }
  }
  if (i != ref.size())
    fail(name, w.n, w.order, step, i, 0, "iteration ends early");
}

// Runs the full sequence for one contender and records one sample per metric.
template <class Set>
void run_contender(const char* name, const workload& w, bool verify,
                   results& out) {
  const std::size_t n = w.n;
  const std::string order = w.order;
  nexus_bench::settle_heap();  // no contender pays for the last one's frees
  const std::size_t heap0 = heap_in_use();
  const auto dn = static_cast<double>(n);
  {
    Set s;
    std::size_t bad = 0;

    // insert
    const long faults0 = minor_faults();
    stopwatch t0;
    for (key_t64 k : w.insert_keys) bad += !s.insert(k).second;
    double secs = t0.seconds();
    const long faults = minor_faults() - faults0;
    if (bad != 0)
      fail(name, n, w.order, "insert", 0, 0,
           "an insert of a new key returned false");
    if (s.size() != n)
      fail(name, n, w.order, "insert", 0, 0, "size() != N after inserts");
    out.add(n, order, name, "insert_ns", secs * 1e9 / dn);
    out.add(n, order, name, "insert_faults_per_elem",
            static_cast<double>(faults) / dn);

    const std::size_t heap_full = heap_in_use() - heap0;
    if constexpr (is_slab_list<Set>()) {
      out.add(n, order, name, "bytes_per_elem",
              static_cast<double>(s.memory_size()) / dn);
      out.add(n, order, name, "heap_bytes_per_elem",
              static_cast<double>(heap_full) / dn);
      out.add(n, order, name, "slab_fill",
              dn / (static_cast<double>(s.slab_count()) *
                    static_cast<double>(Set::slab_capacity)));
      out.add(n, order, name, "sublayers",
              static_cast<double>(s.sublayer_count()));
      if (const char* m = verify ? broken_invariant(s) : nullptr)
        fail(name, n, w.order, "insert", 0, 0, m);
    } else {
      out.add(n, order, name, "bytes_per_elem",
              static_cast<double>(heap_full) / dn);
    }
    if (verify) verify_contents(s, w.sorted, name, w, "after-insert");

    // find: every key once, in random order; each must hit its own key
    t0 = stopwatch();
    for (key_t64 k : w.find_keys) {
      auto it = s.find(k);
      bad += (it == s.end() || *it != k);
    }
    secs = t0.seconds();
    if (bad != 0)
      fail(name, n, w.order, "find", 0, 0,
           "a find of a present key missed or returned another key");
    out.add(n, order, name, "find_ns", secs * 1e9 / dn);

    // full iteration, in order
    t0 = stopwatch();
    key_t64 sum = 0;
    std::size_t count = 0;
    for (key_t64 k : s) {
      sum += k;
      ++count;
    }
    secs = t0.seconds();
    if (count != n || sum != w.sum)
      fail(name, n, w.order, "iterate", count, sum,
           "iteration count or key sum is wrong");
    out.add(n, order, name, "iterate_ns", secs * 1e9 / dn);

    // nth (positional access): only slab_list has it
    if constexpr (is_slab_list<Set>()) {
      t0 = stopwatch();
      key_t64 nsum = 0;
      for (std::size_t i : w.nth_index) nsum += *s.nth(i);
      secs = t0.seconds();
      if (nsum != w.nth_sum) {
        // Locate the first wrong position for the report (untimed).
        for (std::size_t q = 0; q < w.nth_index.size(); ++q) {
          const std::size_t i = w.nth_index[q];
          if (*s.nth(i) != w.sorted[i])
            fail(name, n, w.order, "nth", i, *s.nth(i),
                 "nth(i) is not the i-th smallest key");
        }
        fail(name, n, w.order, "nth", 0, nsum, "nth key sum is wrong");
      }
      out.add(n, order, name, "nth_ns",
              secs * 1e9 / static_cast<double>(w.nth_index.size()));
    }

    // erase: the first half (in erase order) is timed, from the full
    // container; memory is measured there; the rest is erased untimed (after
    // shrink_to_fit for ours) and checked.
    const std::size_t half = n / 2;
    t0 = stopwatch();
    for (std::size_t i = 0; i < half; ++i)
      bad += (s.erase(w.erase_keys[i]) != 1);
    secs = t0.seconds();
    out.add(n, order, name, "erase_ns", secs * 1e9 / static_cast<double>(half));
    if (bad != 0)
      fail(name, n, w.order, "erase-first-half", 0, 0,
           "an erase of a present key did not return 1");
    if (s.size() != n - half)
      fail(name, n, w.order, "erase-first-half", 0, 0,
           "size() wrong after erasing half");
    const auto live = static_cast<double>(n - half);
    if constexpr (is_slab_list<Set>()) {
      out.add(n, order, name, "bytes_per_live_elem_half",
              static_cast<double>(s.memory_size()) / live);
      out.add(n, order, name, "slab_fill_half",
              live / (static_cast<double>(s.slab_count()) *
                      static_cast<double>(Set::slab_capacity)));
      if (verify) {
        if (const char* m = broken_invariant(s))
          fail(name, n, w.order, "erase-first-half", 0, 0, m);
        for (std::size_t i = 0; i < half; ++i)
          if (s.find(w.erase_keys[i]) != s.end())
            fail(name, n, w.order, "find-after-erase", i, w.erase_keys[i],
                 "an erased key is still found");
        for (std::size_t q = 0; q < w.sorted_after_half.size(); q += 97) {
          if (*s.nth(q) != w.sorted_after_half[q])
            fail(name, n, w.order, "nth-after-erase", q, *s.nth(q),
                 "nth(i) wrong after erasing half");
        }
      }
      // What the list keeps once asked to give memory back.
      t0 = stopwatch();
      s.shrink_to_fit();
      out.add(n, order, name, "shrink_ms", t0.seconds() * 1e3);
      out.add(n, order, name, "bytes_per_live_elem_half_shrunk",
              static_cast<double>(s.memory_size()) / live);
      if (const char* m = verify ? broken_invariant(s) : nullptr)
        fail(name, n, w.order, "shrink_to_fit", 0, 0, m);
    } else {
      out.add(n, order, name, "bytes_per_live_elem_half",
              static_cast<double>(heap_in_use() - heap0) / live);
    }
    if (verify)
      verify_contents(s, w.sorted_after_half, name, w, "after-erase-half");

    for (std::size_t i = half; i < n; ++i)
      bad += (s.erase(w.erase_keys[i]) != 1);
    if (bad != 0)
      fail(name, n, w.order, "erase-rest", 0, 0,
           "an erase of a present key did not return 1");
    if (s.size() != 0 || s.begin() != s.end())
      fail(name, n, w.order, "erase-rest", 0, 0,
           "not empty after erasing every key");
    g_sink = g_sink + sum;
  }
}

// ---------------------------------------------------------------- report

struct contender {
  const char* name;
  void (*run)(const char*, const workload&, bool, results&);
};

std::vector<contender> contenders(bool with_std_set) {
  std::vector<contender> c;
  c.push_back({"nexus::slab_list", &run_contender<slab_list_type>});
#if NEXUS_BENCH_ABSL
  c.push_back({"absl::btree_set", &run_contender<absl::btree_set<key_t64>>});
#endif
  if (with_std_set)
    c.push_back({"std::set", &run_contender<std::set<key_t64>>});
  return c;
}

void print_cell(double v, int prec) {
  if (v < 0)
    std::printf(" – |");
  else
    std::printf(" %.*f |", prec, v);
}

const char* const kMetrics[] = {"insert_ns",
                                "find_ns",
                                "erase_ns",
                                "iterate_ns",
                                "nth_ns",
                                "bytes_per_elem",
                                "bytes_per_live_elem_half"};

void print_tables(const results& r, const std::vector<std::size_t>& sizes,
                  const std::vector<contender>& cs) {
  for (const char* order : {"random", "ascending"}) {
    std::printf(
        "\n#### %s uint64_t keys (median of rounds)\n\n"
        "| N | container | insert ns/op | find ns/op | erase ns/op (first "
        "half) | "
        "iterate ns/elem | nth ns/op | B/elem | B/live elem after erasing half "
        "|\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
        order);
    for (std::size_t n : sizes) {
      for (const auto& c : cs) {
        std::printf("| %zu | %s |", n, c.name);
        for (const char* m : kMetrics) {
          const bool bytes = std::strncmp(m, "bytes", 5) == 0;
          print_cell(r.median(n, order, c.name, m), bytes ? 2 : 1);
        }
        std::printf("\n");
      }
    }
  }
#if NEXUS_BENCH_ABSL
  std::printf(
      "\n#### nexus::slab_list / absl::btree_set (median values; < 1 means "
      "slab_list is faster or smaller)\n\n"
      "| N | order | insert | find | erase | iterate | B/elem | B/live elem "
      "after erasing half |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const char* order : {"random", "ascending"}) {
    for (std::size_t n : sizes) {
      std::printf("| %zu | %s |", n, order);
      for (const char* m : kMetrics) {
        if (std::strcmp(m, "nth_ns") == 0) continue;
        const double a = r.median(n, order, "nexus::slab_list", m);
        const double b = r.median(n, order, "absl::btree_set", m);
        print_cell(a >= 0 && b > 0 ? a / b : -1.0, 2);
      }
      std::printf("\n");
    }
  }
  // The targets, at the largest N measured.
  const std::size_t big = sizes.back();
  const double bpe =
      r.median(big, "random", "nexus::slab_list", "bytes_per_elem");
  std::printf("\nTargets at N=%zu, random keys:\n", big);
  std::printf("  bytes/element after inserts %.2f (target <= 9.0): %s\n", bpe,
              bpe <= 9.0 ? "met" : "NOT met");
  for (const char* m : {"insert_ns", "find_ns", "erase_ns"}) {
    const double a = r.median(big, "random", "nexus::slab_list", m);
    const double b = r.median(big, "random", "absl::btree_set", m);
    const double ratio = a / b;
    std::printf("  %-9s %.2fx absl (target <= 0.90x): %s\n", m, ratio,
                ratio <= 0.90 ? "met" : "NOT met");
  }
#endif
  // Informational: slab fill and layer count for ours.
  std::printf("\nnexus::slab_list structure (median):\n");
  for (const char* order : {"random", "ascending"})
    for (std::size_t n : sizes)
      std::printf(
          "  N=%-9zu %-9s slab fill %.3f after inserts, %.3f after erasing "
          "half; sublayers %.0f; heap %.3f B/elem; faults/insert %.4f; "
          "after erasing half + shrink_to_fit %.2f B/live elem (%.1f ms)\n",
          n, order, r.median(n, order, "nexus::slab_list", "slab_fill"),
          r.median(n, order, "nexus::slab_list", "slab_fill_half"),
          r.median(n, order, "nexus::slab_list", "sublayers"),
          r.median(n, order, "nexus::slab_list", "heap_bytes_per_elem"),
          r.median(n, order, "nexus::slab_list", "insert_faults_per_elem"),
          r.median(n, order, "nexus::slab_list",
                   "bytes_per_live_elem_half_shrunk"),
          r.median(n, order, "nexus::slab_list", "shrink_ms"));
}

bool write_csv(const results& r, const char* path) {
  std::FILE* f = std::fopen(path, "w");
  if (f == nullptr) {
    std::perror(path);
    return false;
  }
  std::fprintf(f, "n,order,container,metric,median,min,max,rounds\n");
  for (const auto& [k, v] : r.all()) {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    std::fprintf(f, "%zu,%s,%s,%s,%.4f,%.4f,%.4f,%zu\n", k.n, k.order.c_str(),
                 k.container.c_str(), k.metric.c_str(), s[s.size() / 2],
                 s.front(), s.back(), s.size());
  }
  return std::fclose(f) == 0;
}

// ---------------------------------------------------------------- huge run

int huge_run(std::size_t n, key_t64 seed) {
  std::printf("huge run: %zu random uint64_t into nexus::slab_list only\n", n);
  std::fflush(stdout);
  slab_list_type s;
  const auto t0 = clock_type::now();
  const double cpu0 = thread_cpu_seconds();
  const std::size_t step = std::max<std::size_t>(n / 10, 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (!s.insert(random_key(i, seed)).second) {
      std::fprintf(stderr,
                   "VERIFY FAILED: huge run insert %zu returned false\n", i);
      return 2;
    }
    if ((i + 1) % step == 0) {
      std::printf(
          "  %11zu  %7.1f s  memory_size %.3f GiB  %.3f B/elem\n", i + 1,
          seconds_since(t0), static_cast<double>(s.memory_size()) / (1 << 30),
          static_cast<double>(s.memory_size()) / static_cast<double>(i + 1));
      std::fflush(stdout);
    }
  }
  const double secs = seconds_since(t0);
  const double cpu_secs = thread_cpu_seconds() - cpu0;
  if (s.size() != n) {
    std::fprintf(stderr, "VERIFY FAILED: huge run size() %zu != %zu\n",
                 static_cast<std::size_t>(s.size()), n);
    return 2;
  }
  // Spot checks: sampled present keys are found, scrambled-out keys are not.
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  for (int q = 0; q < 1000000; ++q) {
    const key_t64 k = random_key(pick(rng), seed);
    if (s.find(k) == s.end()) {
      std::fprintf(stderr,
                   "VERIFY FAILED: huge run key %" PRIu64 " not found\n", k);
      return 2;
    }
  }
  std::size_t count = 0;
  key_t64 prev = 0;
  for (key_t64 k : s) {
    if (count != 0 && k <= prev) {
      std::fprintf(stderr, "VERIFY FAILED: huge run order broken at %zu\n",
                   count);
      return 2;
    }
    prev = k;
    ++count;
  }
  if (count != n) {
    std::fprintf(stderr, "VERIFY FAILED: huge run iterates %zu of %zu\n", count,
                 n);
    return 2;
  }
  const double mem = static_cast<double>(s.memory_size());
  std::printf(
      "done: %zu elements in %.1f s wall, %.1f s CPU (%.0f ns/insert CPU)\n"
      "memory_size() = %.0f bytes = %.3f GiB = %.3f GB, %.3f bytes/element\n"
      "slab_count %zu, sublayers %zu, peak RSS %.3f GiB\n",
      n, secs, cpu_secs, cpu_secs * 1e9 / static_cast<double>(n), mem,
      mem / (1 << 30), mem / 1e9, mem / static_cast<double>(n),
      static_cast<std::size_t>(s.slab_count()),
      static_cast<std::size_t>(s.sublayer_count()),
      static_cast<double>(max_rss_kib()) / (1 << 20));
  return 0;
}

void usage() {
  std::fprintf(
      stderr,
      "usage: slab_list_latency [--max-n N] [--rounds R] [--quick] "
      "[--csv FILE] [--seed S] [--no-std-set]\n"
      "       slab_list_latency --huge-run [--huge-n N]\n"
      "  --max-n N     largest N (sizes are 10^5, 10^6, 10^7 capped at N)\n"
      "  --rounds R    interleaved rounds, median reported (default 3)\n"
      "  --quick       1 round and --max-n 100000 unless given (CI smoke)\n"
      "  --csv FILE    write every metric (median/min/max) as CSV\n"
      "  --no-std-set  skip std::set (slowest contender)\n"
      "  --clock C     wall (steady_clock, default) or cpu (thread CPU time,\n"
      "                for when other processes share the CPU)\n"
      "  --huge-run    insert 2*10^8 random keys into nexus::slab_list only\n");
}

}  // namespace

int main(int argc, char** argv) {
  common_args args;
  args.seed = 0x5eed5ab1157ULL;
  bool huge = false;
  bool with_std_set = true;
  std::size_t huge_n = 200000000;
  for (int i = 1; i < argc; ++i) {
    const auto p = args.parse(argc, argv, i);
    if (p == common_args::parsed::used) continue;
    const std::string a = argv[i];
    const bool mine = p == common_args::parsed::not_mine;
    if (mine && a == "--huge-n" && i + 1 < argc) {
      huge_n = std::strtoull(argv[++i], nullptr, 10);
    } else if (mine && a == "--huge-run") {
      huge = true;
    } else if (mine && a == "--no-std-set") {
      with_std_set = false;
    } else {
      usage();
      return a == "--help" || a == "-h" ? 0 : 1;
    }
  }
  const key_t64 seed = args.seed;
  if (huge) return huge_run(huge_n, seed);
  args.finish();
  g_cpu_clock = args.cpu_clock;
  const std::size_t max_n = args.max_n;
  const int rounds = args.rounds;
  const char* csv = args.csv;

  std::vector<std::size_t> sizes;
  for (std::size_t n :
       {std::size_t{100000}, std::size_t{1000000}, std::size_t{10000000}})
    if (n <= max_n) sizes.push_back(n);
  if (sizes.empty()) sizes.push_back(std::max<std::size_t>(max_n, 2));

  const std::vector<contender> cs = contenders(with_std_set);
  if (!NEXUS_BENCH_ABSL)
    std::printf("note: absl::btree_set not found, skipped\n");
  std::printf("sizes:");
  for (std::size_t n : sizes) std::printf(" %zu", n);
  std::printf("; rounds %d; contenders:", rounds);
  for (const auto& c : cs) std::printf(" %s", c.name);
  std::printf("\n");

  results r;
  for (std::size_t n : sizes) {
    const workload wl[2] = {make_workload(n, false, seed),
                            make_workload(n, true, seed)};
    for (int round = 0; round < rounds; ++round) {
      for (const workload& w : wl) {
        // Rotate the contender order every round so that none always runs
        // first (fresh heap) or last.
        for (std::size_t j = 0; j < cs.size(); ++j) {
          const contender& c =
              cs[(j + static_cast<std::size_t>(round)) % cs.size()];
          const auto t0 = clock_type::now();
          c.run(c.name, w, /*verify=*/round == 0, r);
          std::fprintf(stderr, "  N=%zu %s round %d %s: %.1f s\n", n, w.order,
                       round, c.name, seconds_since(t0));
        }
      }
    }
  }
  std::printf(
      "\nclock: %s; this thread ran %.0f%% of the timed wall time (below "
      "~95%% means another process shared the CPU)\n",
      g_cpu_clock ? "thread CPU time" : "steady_clock (wall)",
      g_total_wall > 0 ? 100.0 * g_total_cpu / g_total_wall : 0.0);
  print_tables(r, sizes, cs);
  if (csv != nullptr) {
    if (!write_csv(r, csv)) return 1;
    std::printf("\nCSV written to %s\n", csv);
  }
  return 0;
}
