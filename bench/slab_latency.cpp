// SPDX-License-Identifier: MIT OR Apache-2.0
// slab_latency: per-operation latency of nexus::slab against a plain
// std::vector slab with a u32 free list (written below) and plf::colony, in
// the same process, interleaved round by round.
//
// Operations, each at random live keys unless noted:
//   insert-first  fill a fresh container from empty (never-used slots)
//   get           read a value
//   remove        take a value out (the container ends empty)
//   insert-warm   refill into the slots just freed (recycled, random order)
//   churn         insert then remove that key, half-full container; one
//                 op = one insert+remove pair
// Columns: "batch" is ticks per op timed 64 ops per timer pair, with the
// cost of an empty timer pair (printed in the header) subtracted and the
// slowest 0.1% of batches (VM preemption) dropped; p50, p99,
// p99.9 and max time single ops and include that timer cost.
// Memory modes: "plain" = nexus::slab pre-faulted on 4 KiB pages, the
// baseline on std::allocator (pages fault on first touch), colony as is;
// "mlock+THP" = nexus::slab alloc() (transparent huge pages >= 2 MiB) +
// mlock(), the baseline's reserved buffer advised MADV_HUGEPAGE and mlock'ed
// (so it is pre-faulted too); colony is not run in that mode.
// With --hugetlb, also "mlock+hugetlb" = nexus::slab alloc_hugetlb() +
// mlock(), the baseline's buffer mapped MAP_HUGETLB and mlock'ed; needs
// reserved huge pages (echo 64 > /proc/sys/vm/nr_hugepages as root) and is
// skipped, with a note, for a size they cannot hold.
//
// Usage: taskset -c 1 slab_latency [--quick] [--rounds R] [--sizes A,B]
//                                  [--hugetlb]
// Timing uses the TSC: `lfence; rdtsc; lfence` ... `rdtscp; lfence`.

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <nexus/detail/config.hpp>  // detail::prefetch
#include <nexus/mmap_region.hpp>
#include <nexus/slab.hpp>

#include "slab_values.hpp"
#include "tsc.hpp"
#include "vector_slab.hpp"

#if defined(NEXUS_HAVE_PLF_COLONY) && NEXUS_HAVE_PLF_COLONY
#include <plf_colony.h>
#define NEXUS_BENCH_COLONY 1
#else
#define NEXUS_BENCH_COLONY 0
#endif

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace {

// ---------------------------------------------------------------- timing

using nexus_bench::keep;
using nexus_bench::tick_start;
using nexus_bench::tick_stop;

// ---------------------------------------------------------------- values

using nexus_bench::blob64;
using nexus_bench::digest;
using nexus_bench::make_value;

template <class T>
const char* type_name() {
  return std::is_same_v<T, blob64> ? "64-byte" : "u64";
}

enum class mode { plain, locked_thp, locked_hugetlb };

const char* mode_name(mode m) {
  switch (m) {
    case mode::plain:
      return "plain";
    case mode::locked_thp:
      return "mlock+THP";
    case mode::locked_hugetlb:
      return "mlock+hugetlb";
  }
  return "?";
}

// ---------------------------------------------------------------- contenders

// mmap_region with huge pages switched off, for the "plain" mode.
class small_page_region {
 public:
  small_page_region() noexcept = default;
  [[nodiscard]] std::error_code map(std::size_t n,
                                    const nexus::region_options& o) {
    nexus::region_options plain = o;
    plain.huge = nexus::huge_pages::none;
    return r_.map(n, plain);
  }
  void unmap() noexcept { r_.unmap(); }
  [[nodiscard]] void* data() const noexcept { return r_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return r_.size(); }
  [[nodiscard]] bool empty() const noexcept { return r_.empty(); }
  [[nodiscard]] std::error_code lock() { return r_.lock(); }
  [[nodiscard]] std::error_code unlock() { return r_.unlock(); }
  [[nodiscard]] bool locked() const noexcept { return r_.locked(); }
  [[nodiscard]] std::error_code collapse() { return r_.collapse(); }
  [[nodiscard]] static std::size_t granularity(nexus::huge_pages) noexcept {
    return nexus::mmap_region::granularity(nexus::huge_pages::none);
  }

 private:
  nexus::mmap_region r_;
};
static_assert(nexus::region<small_page_region>);

template <class T>
struct nexus_contender {
  static constexpr const char* name = "nexus::slab";
  using key_type = nexus::key;

  std::optional<nexus::slab<T, small_page_region>> plain;
  std::optional<nexus::slab<T>> huge;
  mode m = mode::plain;

  void setup(std::size_t n, mode md) {
    m = md;
    plain.reset();
    huge.reset();
    std::error_code ec;
    if (m == mode::plain) {
      ec = plain.emplace().alloc(n);
    } else {
      ec = m == mode::locked_hugetlb ? huge.emplace().alloc_hugetlb(n)
                                     : huge.emplace().alloc(n);
      if (!ec) ec = huge->mlock();
    }
    if (ec) {
      std::fprintf(stderr, "nexus::slab setup failed: %s\n",
                   ec.message().c_str());
      std::exit(1);
    }
  }
  // Dispatch once per batch, not per op: call f with the active slab.
  template <class F>
  void with(F&& f) {
    if (m == mode::plain) {
      f(*plain);
    } else {
      f(*huge);
    }
  }
  template <class S>
  static key_type insert(S& s, const T& v) {
    return s.insert(v);
  }
  template <class S>
  static const T* get(S& s, key_type k) {
    return s.get(k);
  }
  template <class S>
  static std::optional<T> remove(S& s, key_type k) {
    return s.remove(k);
  }
};

// The baseline's buffer on hugetlb pages, for the mlock+hugetlb mode: one
// MAP_HUGETLB mapping per allocation, rounded up to 2 MiB.
template <class T>
struct hugetlb_allocator {
  using value_type = T;
  static constexpr std::size_t page = std::size_t{2} << 20;

  hugetlb_allocator() noexcept = default;
  template <class U>
  explicit hugetlb_allocator(const hugetlb_allocator<U>&) noexcept {}

  static std::size_t bytes_for(std::size_t n) noexcept {
    return (n * sizeof(T) + page - 1) / page * page;
  }
  T* allocate(std::size_t n) {
#if defined(__linux__) && defined(MAP_HUGETLB)
    void* p = ::mmap(nullptr, bytes_for(n), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) return static_cast<T*>(p);
#endif
    throw std::bad_alloc();
  }
  void deallocate(T* p, std::size_t n) noexcept {
#if defined(__linux__) && defined(MAP_HUGETLB)
    ::munmap(p, bytes_for(n));
#else
    (void)p;
    (void)n;
#endif
  }
  friend bool operator==(const hugetlb_allocator&,
                         const hugetlb_allocator&) noexcept {
    return true;
  }
};

template <class T>
struct vector_contender {
  static constexpr const char* name = "std::vector slab";
  using key_type = std::uint32_t;
  std::optional<nexus_bench::vector_slab<T>> s;
  std::optional<nexus_bench::vector_slab<T, hugetlb_allocator<T>>> h;

  void setup(std::size_t n, mode m) {
    s.reset();
    h.reset();
    if (m == mode::locked_hugetlb) {
      h.emplace().reserve(n);  // the caller checked that this fits
#if defined(__linux__)
      if (::mlock(h->data(), h->reserved_bytes()) != 0) {
        std::perror("baseline mlock");
        std::exit(1);
      }
#endif
      return;
    }
    s.emplace().reserve(n);
#if defined(__linux__)
    if (m == mode::locked_thp) {
      // THP on the 2 MiB-aligned interior, then lock (which faults it in).
      const auto begin = reinterpret_cast<std::uintptr_t>(s->data());
      const std::uintptr_t end = begin + s->reserved_bytes();
      constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
      const std::uintptr_t a = (begin + huge - 1) & ~(huge - 1);
      const std::uintptr_t b = end & ~(huge - 1);
      if (b > a) {
        ::madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE);
      }
      if (::mlock(s->data(), s->reserved_bytes()) != 0) {
        std::perror("baseline mlock");
        std::exit(1);
      }
    }
#else
    (void)m;
#endif
  }
  template <class F>
  void with(F&& f) {
    if (h) {
      f(*h);
    } else {
      f(*s);
    }
  }
  template <class S>
  static key_type insert(S& s, const T& v) {
    return s.insert(v);
  }
  template <class S>
  static const T* get(S& s, key_type k) {
    return s.get(k);
  }
  template <class S>
  static std::optional<T> remove(S& s, key_type k) {
    return s.remove(k);
  }
};

#if NEXUS_BENCH_COLONY
template <class T>
struct colony_contender {
  static constexpr const char* name = "plf::colony";
  using key_type = typename plf::colony<T>::iterator;
  std::optional<plf::colony<T>> c;

  void setup(std::size_t n, mode) {
    c.reset();
    c.emplace().reserve(n);
  }
  template <class F>
  void with(F&& f) {
    f(*c);
  }
  template <class S>
  static key_type insert(S& s, const T& v) {
    return s.insert(v);
  }
  template <class S>
  static const T* get(S&, key_type k) {
    return &*k;
  }
  template <class S>
  static std::optional<T> remove(S& s, key_type k) {
    std::optional<T> out(*k);
    s.erase(k);
    return out;
  }
};
#endif

// ---------------------------------------------------------------- runs

enum op_id { op_fill, op_get, op_remove, op_warm, op_churn, op_count };
const char* const op_names[op_count] = {"insert-first", "get", "remove",
                                        "insert-warm", "churn"};

struct op_stats {
  std::vector<std::uint32_t> batches;  // ticks per 64-op batch, timer cost out
  std::vector<std::uint32_t> samples;  // ticks per single op, timer included
};

struct config {
  std::size_t churn_min = std::size_t{1}
                          << 16;  // churn pairs per round >= this
  std::uint64_t timer_cost = 0;
  std::uint64_t sink = 0;
  bool hugetlb = false;  // --hugetlb: add the mlock+hugetlb mode
};

constexpr std::size_t batch = 64;

inline std::uint32_t net(std::uint64_t t0, std::uint64_t t1,
                         std::uint64_t cost) {
  const std::uint64_t d = t1 - t0;
  if (d <= cost) return 0;
  return d - cost > 0xFFFFFFFFu ? 0xFFFFFFFFu
                                : static_cast<std::uint32_t>(d - cost);
}
inline std::uint32_t sample(std::uint64_t t0, std::uint64_t t1) {
  const std::uint64_t d = t1 - t0;
  return d > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(d);
}

// Asks for the element half a page past p[i], for writing, if it lies below
// p[limit]: the two buffers the timed loops write into (samples, keys) get
// it before the timer starts.
template <class E>
inline void prefetch_half_page_ahead(const E* p, std::size_t i,
                                     std::size_t limit) {
  constexpr std::size_t ahead = 2048 / sizeof(E);
  if (i + ahead < limit) nexus::detail::prefetch<true>(p + i + ahead);
}

// Appends one measurement. The buffers are touched up front (run_all), and
// the line half a page ahead is prefetched: with the pages touched but
// without the prefetch, the op timed right after the first store into each
// new page of a buffer (every 1,024 samples) still took ~400 ticks (most
// likely a TLB miss whose page-table lines were out of cache), which put
// the 64-byte first fill's p99.9 at 8x its p50 until session 11.
inline void record(std::vector<std::uint32_t>& v, std::uint32_t x) {
  v.push_back(x);
  prefetch_half_page_ahead(v.data(), v.size(), v.capacity());
}

// The key array is the benchmark's memory too, and a single-op insert
// stores its key inside the timed region. 4-byte keys start a new line every
// 16 inserts; at 10^6 slots that line is out of cache, and until session 12
// the store's miss made one insert in 16 slow enough to put the 64-byte first
// fill's p99.9 at ~8x its p50 on 4 KiB pages (372-390 ticks; 70-74 with this
// prefetch, two runs of each). So, as in record(), the line half a page ahead
// is prefetched before the timer starts. The batched loops do not do it (both
// containers pay those misses alike, inside a 64-op batch).
template <class K>
inline void prefetch_key(const std::vector<K>& keys, std::size_t i) {
  prefetch_half_page_ahead(keys.data(), i, keys.size());
}

// One round for one contender: fill, get, remove, warm refill and churn,
// timed either in 64-op batches or one op at a time.
template <class C, class T>
void run_round(C& c, std::size_t n, mode m, bool single, op_stats* stats,
               config& cfg, std::vector<typename C::key_type>& keys,
               const std::vector<std::uint32_t>& order) {
  using key_type = typename C::key_type;
  c.setup(n, m);
  c.with([&](auto& s) {
    std::uint64_t sink = 0;
    const std::uint64_t cost = cfg.timer_cost;
    // insert-first
    for (std::size_t i = 0; i < n;) {
      if (single) {
        const T v = make_value<T>(i);
        prefetch_key(keys, i);
        const std::uint64_t t0 = tick_start();
        keys[i] = C::insert(s, v);
        const std::uint64_t t1 = tick_stop();
        record(stats[op_fill].samples, sample(t0, t1));
        ++i;
      } else {
        const std::size_t end = std::min(n, i + batch);
        const std::uint64_t t0 = tick_start();
        for (; i < end; ++i) keys[i] = C::insert(s, make_value<T>(i));
        const std::uint64_t t1 = tick_stop();
        record(stats[op_fill].batches, net(t0, t1, cost));
      }
    }
    // get at random live keys
    for (std::size_t i = 0; i < n;) {
      if (single) {
        const key_type k = keys[order[i]];
        const std::uint64_t t0 = tick_start();
        const T* p = C::get(s, k);
        const std::uint64_t d = digest(*p);
        keep(d);
        const std::uint64_t t1 = tick_stop();
        sink += d;
        record(stats[op_get].samples, sample(t0, t1));
        ++i;
      } else {
        const std::size_t end = std::min(n, i + batch);
        std::uint64_t sum = 0;
        const std::uint64_t t0 = tick_start();
        for (; i < end; ++i) sum += digest(*C::get(s, keys[order[i]]));
        keep(sum);
        const std::uint64_t t1 = tick_stop();
        sink += sum;
        record(stats[op_get].batches, net(t0, t1, cost));
      }
    }
    // remove at random keys, until empty
    for (std::size_t i = 0; i < n;) {
      if (single) {
        const key_type k = keys[order[i]];
        const std::uint64_t t0 = tick_start();
        const std::optional<T> out = C::remove(s, k);
        const std::uint64_t d = digest(*out);
        keep(d);
        const std::uint64_t t1 = tick_stop();
        sink += d;
        record(stats[op_remove].samples, sample(t0, t1));
        ++i;
      } else {
        const std::size_t end = std::min(n, i + batch);
        std::uint64_t sum = 0;
        const std::uint64_t t0 = tick_start();
        for (; i < end; ++i) sum += digest(*C::remove(s, keys[order[i]]));
        keep(sum);
        const std::uint64_t t1 = tick_stop();
        sink += sum;
        record(stats[op_remove].batches, net(t0, t1, cost));
      }
    }
    // insert-warm: refill the recycled slots
    for (std::size_t i = 0; i < n;) {
      if (single) {
        const T v = make_value<T>(i);
        prefetch_key(keys, i);
        const std::uint64_t t0 = tick_start();
        keys[i] = C::insert(s, v);
        const std::uint64_t t1 = tick_stop();
        record(stats[op_warm].samples, sample(t0, t1));
        ++i;
      } else {
        const std::size_t end = std::min(n, i + batch);
        const std::uint64_t t0 = tick_start();
        for (; i < end; ++i) keys[i] = C::insert(s, make_value<T>(i));
        const std::uint64_t t1 = tick_stop();
        record(stats[op_warm].batches, net(t0, t1, cost));
      }
    }
    // churn on a half-full container
    for (std::size_t i = 0; i < n / 2; ++i) {
      sink += digest(*C::remove(s, keys[order[i]]));
    }
    const std::size_t pairs = std::max(n, cfg.churn_min) / batch * batch;
    for (std::size_t i = 0; i < pairs;) {
      if (single) {
        const T v = make_value<T>(i);
        const std::uint64_t t0 = tick_start();
        const key_type k = C::insert(s, v);
        const std::optional<T> out = C::remove(s, k);
        const std::uint64_t d = digest(*out);
        keep(d);
        const std::uint64_t t1 = tick_stop();
        sink += d;
        record(stats[op_churn].samples, sample(t0, t1));
        ++i;
      } else {
        std::uint64_t sum = 0;
        const std::uint64_t t0 = tick_start();
        for (std::size_t j = 0; j < batch; ++j, ++i) {
          sum += digest(*C::remove(s, C::insert(s, make_value<T>(i))));
        }
        keep(sum);
        const std::uint64_t t1 = tick_stop();
        sink += sum;
        record(stats[op_churn].batches, net(t0, t1, cost));
      }
    }
    cfg.sink += sink;
  });
}

std::uint32_t percentile(std::vector<std::uint32_t>& v, double q) {
  if (v.empty()) return 0;
  const auto idx =
      static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(idx), v.end());
  return v[idx];
}

// Mean of the batches without the slowest 0.1%: those are the VM being
// preempted (tens of microseconds), not the container. Page faults (about
// 1.5 us) hit far more than 0.1% of batches and stay in.
double trimmed_mean(std::vector<std::uint32_t>& v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t keep_n = v.size() - v.size() / 1000;
  double sum = 0.0;
  for (std::size_t i = 0; i < keep_n; ++i) sum += v[i];
  return sum / static_cast<double>(keep_n);
}

std::uint64_t measure_timer_cost() {
  std::vector<std::uint32_t> s;
  s.reserve(200'000);
  for (int i = 0; i < 200'000; ++i) {
    const std::uint64_t t0 = tick_start();
    const std::uint64_t t1 = tick_stop();
    s.push_back(sample(t0, t1));
  }
  return percentile(s, 0.5);
}

struct result_row {
  std::string type;
  std::size_t n;
  std::string mode;
  std::string op;
  std::string name;
  double batch;
  std::uint32_t p50, p99, p999, pmax;
};

std::vector<result_row> g_rows;

template <class T, template <class> class... Cs>
void run_all(std::size_t n, mode m, std::size_t rounds, config& cfg) {
  constexpr std::size_t k = sizeof...(Cs);
  std::vector<op_stats> stats(k * op_count);
  const std::size_t samples = rounds * std::max(n, cfg.churn_min);
  // Reserve and touch every page of the sample buffers now: recording a
  // sample must not fault (see record()).
  for (auto& st : stats) {
    st.samples.resize(samples);
    st.samples.clear();
    st.batches.resize(samples / batch + 1);
    st.batches.clear();
  }

  std::mt19937_64 rng(12345 + n);
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);

  auto one = [&]<class C>(C& c, std::size_t idx, bool single) {
    std::vector<typename C::key_type> keys(n);
    run_round<C, T>(c, n, m, single, &stats[idx * op_count], cfg, keys, order);
  };
  for (std::size_t r = 0; r < rounds; ++r) {
    std::shuffle(order.begin(), order.end(), rng);
    std::size_t idx = 0;
    // Interleave: every contender runs batched, then every one single-op.
    for (const bool single : {false, true}) {
      idx = 0;
      const auto run_one = [&](auto tag) {
        typename decltype(tag)::type c;
        one(c, idx, single);
        ++idx;
      };
      (run_one(std::type_identity<Cs<T>>{}), ...);
    }
  }
  std::size_t idx = 0;
  const char* names[] = {Cs<T>::name...};
  for (; idx < k; ++idx) {
    for (int op = 0; op < op_count; ++op) {
      op_stats& st = stats[idx * op_count + static_cast<std::size_t>(op)];
      result_row row;
      row.type = type_name<T>();
      row.n = n;
      row.mode = mode_name(m);
      row.op = op_names[op];
      row.name = names[idx];
      row.batch = trimmed_mean(st.batches) / static_cast<double>(batch);
      row.p50 = percentile(st.samples, 0.5);
      row.p99 = percentile(st.samples, 0.99);
      row.p999 = percentile(st.samples, 0.999);
      row.pmax = st.samples.empty()
                     ? 0
                     : *std::max_element(st.samples.begin(), st.samples.end());
      g_rows.push_back(row);
    }
  }
}

// Why the mlock+hugetlb mode cannot run at n slots of T (each contender in
// turn needs its block of huge pages), or "" if it can.
template <class T>
std::string hugetlb_unavailable(std::size_t n) {
  nexus::slab<T> probe;
  if (const std::error_code ec = probe.alloc_hugetlb(n)) {
    return "nexus::slab alloc_hugetlb: " + ec.message();
  }
  probe = nexus::slab<T>();
  try {
    nexus_bench::vector_slab<T, hugetlb_allocator<T>> v;
    v.reserve(n);
  } catch (const std::bad_alloc&) {
    return "baseline: MAP_HUGETLB mapping failed";
  }
  return {};
}

template <class T>
void run_type(const std::vector<std::size_t>& sizes, std::size_t rounds_hint,
              config& cfg) {
  for (const std::size_t n : sizes) {
    // Small sizes get more rounds so their tails have enough samples.
    const std::size_t rounds =
        std::max<std::size_t>(rounds_hint, rounds_hint * (1'000'000 / n) / 10);
    for (const mode m : {mode::plain, mode::locked_thp, mode::locked_hugetlb}) {
      if (m == mode::locked_hugetlb) {
        if (!cfg.hugetlb) continue;
        const std::string why = hugetlb_unavailable<T>(n);
        if (!why.empty()) {
          std::printf("# mlock+hugetlb skipped for %s at N=%zu: %s\n",
                      type_name<T>(), n, why.c_str());
          continue;
        }
      }
#if NEXUS_BENCH_COLONY
      if (m == mode::plain) {
        run_all<T, nexus_contender, vector_contender, colony_contender>(
            n, m, rounds, cfg);
        continue;
      }
#endif
      run_all<T, nexus_contender, vector_contender>(n, m, rounds, cfg);
    }
  }
}

void print_table() {
  std::printf(
      "| T | N | memory | op | container | batch ticks/op | p50 | p99 | "
      "p99.9 | max |\n|---|---:|---|---|---|---:|---:|---:|---:|---:|\n");
  for (const result_row& r : g_rows) {
    std::printf("| %s | %zu | %s | %s | %s | %.2f | %u | %u | %u | %u |\n",
                r.type.c_str(), r.n, r.mode.c_str(), r.op.c_str(),
                r.name.c_str(), r.batch, r.p50, r.p99, r.p999, r.pmax);
  }
  // Ratios nexus / baseline for the same cell.
  std::printf(
      "\n| T | N | memory | op | batch nexus/vector | p50 nexus/vector | "
      "p99.9 nexus/vector | first-fill p99.9/p50 (nexus) |\n"
      "|---|---:|---|---|---:|---:|---:|---:|\n");
  for (const result_row& a : g_rows) {
    if (a.name != "nexus::slab") continue;
    for (const result_row& b : g_rows) {
      if (b.name != "std::vector slab" || b.type != a.type || b.n != a.n ||
          b.mode != a.mode || b.op != a.op) {
        continue;
      }
      const auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
      char fill[32] = "";
      if (a.op == "insert-first") {
        std::snprintf(fill, sizeof fill, "%.2f",
                      ratio(a.p999, static_cast<double>(a.p50)));
      }
      std::printf("| %s | %zu | %s | %s | %.2f | %.2f | %.2f | %s |\n",
                  a.type.c_str(), a.n, a.mode.c_str(), a.op.c_str(),
                  ratio(a.batch, b.batch), ratio(a.p50, b.p50),
                  ratio(a.p999, b.p999), fill);
    }
  }
}

std::vector<std::size_t> parse_sizes(const char* s) {
  std::vector<std::size_t> out;
  while (*s != '\0') {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s) break;
    if (v > 0) out.push_back(static_cast<std::size_t>(v));
    s = *end == ',' ? end + 1 : end;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {10'000, 1'000'000};
  std::size_t rounds = 3;
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      sizes = {1'000, 10'000};
      rounds = 1;
      cfg.churn_min = std::size_t{1} << 12;
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
      if (rounds == 0) rounds = 1;
    } else if (arg == "--sizes" && i + 1 < argc) {
      sizes = parse_sizes(argv[++i]);
    } else if (arg == "--hugetlb") {
      cfg.hugetlb = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--rounds R] [--sizes N1,N2,...] "
                   "[--hugetlb]\n",
                   argv[0]);
      return arg == "--help" ? 0 : 2;
    }
  }
  cfg.timer_cost = measure_timer_cost();
  std::printf(
      "# nexus::slab latency, %s ticks; empty timer pair p50 = %" PRIu64
      " ticks (subtracted from batches only)\n"
      "# rounds=%zu (more for small N), churn pairs/round=max(N, %zu)%s\n\n",
      NEXUS_BENCH_TSC ? "TSC" : "steady_clock", cfg.timer_cost, rounds,
      cfg.churn_min, NEXUS_BENCH_COLONY ? "" : ", plf::colony not available");
  run_type<std::uint64_t>(sizes, rounds, cfg);
  run_type<blob64>(sizes, rounds, cfg);
  print_table();
  std::printf("\n# checksum %" PRIu64 "\n", cfg.sink);
  return 0;
}
