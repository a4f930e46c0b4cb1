// SPDX-License-Identifier: MIT OR Apache-2.0
// slab_list_fresh_latency: random-key insert and find at one N, each
// contender in a fresh process — nexus::slab_list with its default options
// (transparent huge pages for 2 MiB chunks), nexus::slab_list with
// huge_pages::none, and absl::btree_set — alternating, for R rounds; prints
// the medians and the ratios to absl.
//
// Why a fresh process per measurement: in one long process the second
// contender inherits the first one's heap and page-cache state (glibc keeps
// freed memory, the kernel's free lists fragment), which moved absl's insert
// time by up to 15% between rounds here. Every child starts from the same
// state, so the spread left is the machine's.
//
// Usage:
//   taskset -c 1 slab_list_fresh_latency [--n N] [--rounds R] [--seed S]
//   slab_list_fresh_latency --quick        (CI smoke: N = 10^5, 1 round)
//
// Every child checks its own results (size after inserting N distinct keys,
// every find a hit) and exits with status 2 on a mismatch; the parent stops
// on the first failing child.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include <unistd.h>

#include <nexus/slab_list.hpp>

#if NEXUS_HAVE_ABSL
#include <absl/container/btree_set.h>
#endif

namespace {

using u64 = std::uint64_t;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// N distinct random keys and the same keys in another random order.
void make_keys(std::size_t n, u64 seed, std::vector<u64>& keys,
               std::vector<u64>& probe) {
  std::mt19937_64 rng(seed);
  std::unordered_set<u64> seen;
  seen.reserve(n);
  keys.clear();
  keys.reserve(n);
  while (keys.size() < n) {
    const u64 k = rng();
    if (seen.insert(k).second) keys.push_back(k);
  }
  probe = keys;
  std::shuffle(probe.begin(), probe.end(), rng);
}

[[noreturn]] void fail(const char* who, const char* what) {
  std::fprintf(stderr, "VERIFY FAILED: %s: %s\n", who, what);
  std::exit(2);
}

// Inserts every key, then finds every key; prints "insert_ns find_ns".
template <class Set>
int measure(Set& s, const char* who, const std::vector<u64>& keys,
            const std::vector<u64>& probe) {
  auto t0 = std::chrono::steady_clock::now();
  for (u64 k : keys) s.insert(k);
  const double ins = seconds_since(t0);
  if (s.size() != keys.size()) fail(who, "size() after inserts");
  std::size_t hits = 0;
  t0 = std::chrono::steady_clock::now();
  for (u64 k : probe) hits += s.contains(k) ? 1 : 0;
  const double fnd = seconds_since(t0);
  if (hits != probe.size()) fail(who, "a find missed");
  const auto n = static_cast<double>(keys.size());
  std::printf("%.2f %.2f\n", ins * 1e9 / n, fnd * 1e9 / n);
  return 0;
}

int run_child(const std::string& who, std::size_t n, u64 seed) {
  std::vector<u64> keys;
  std::vector<u64> probe;
  make_keys(n, seed, keys, probe);
  if (who == "slab_list") {
    nexus::slab_list<u64> s;  // default options
    return measure(s, who.c_str(), keys, probe);
  }
  if (who == "slab_list_no_thp") {
    nexus::slab_list_options o;
    o.huge_pages = nexus::huge_pages::none;
    nexus::slab_list<u64> s(o);
    return measure(s, who.c_str(), keys, probe);
  }
#if NEXUS_HAVE_ABSL
  if (who == "absl") {
    absl::btree_set<u64> s;
    return measure(s, who.c_str(), keys, probe);
  }
#endif
  std::fprintf(stderr, "unknown contender %s\n", who.c_str());
  return 1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 10'000'000;
  int rounds = 6;
  u64 seed = 42;
  std::string child;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--n" && has_value) {
      n = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--rounds" && has_value) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--seed" && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--child" && has_value) {
      child = argv[++i];
    } else if (a == "--quick") {
      n = 100'000;
      rounds = 1;
    } else {
      std::fprintf(stderr,
                   "usage: slab_list_fresh_latency [--n N] [--rounds R] "
                   "[--seed S] [--quick]\n");
      return 1;
    }
  }
  if (n == 0 || rounds < 1) {
    std::fprintf(stderr, "N and R must be positive\n");
    return 1;
  }
  if (!child.empty()) return run_child(child, n, seed);

  // The shell popen starts would read /proc/self/exe as itself: resolve it
  // here.
  char self[4096] = {};
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    std::perror("readlink /proc/self/exe");
    return 1;
  }
  self[len] = '\0';

  std::vector<std::string> who = {"slab_list", "slab_list_no_thp"};
#if NEXUS_HAVE_ABSL
  who.emplace_back("absl");
#endif
  std::vector<std::vector<double>> ins(who.size());
  std::vector<std::vector<double>> fnd(who.size());
  std::printf(
      "N=%zu random distinct uint64_t, %d rounds, one process per "
      "measurement, order rotating\n",
      n, rounds);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t j = 0; j < who.size(); ++j) {
      const std::string& w =
          who[(j + static_cast<std::size_t>(r)) % who.size()];
      const std::size_t idx = static_cast<std::size_t>(
          std::find(who.begin(), who.end(), w) - who.begin());
      // The same executable, same keys (same seed), one contender.
      char cmd[4400];
      std::snprintf(cmd, sizeof cmd, "'%s' --child %s --n %zu --seed %" PRIu64,
                    self, w.c_str(), n, seed);
      std::FILE* p = ::popen(cmd, "r");
      if (p == nullptr) {
        std::perror("popen");
        return 1;
      }
      double a = 0;
      double b = 0;
      const int got = std::fscanf(p, "%lf %lf", &a, &b);
      const int status = ::pclose(p);
      if (got != 2 || status != 0) {
        std::fprintf(stderr, "child %s failed (status %d)\n", w.c_str(),
                     status);
        return 2;
      }
      ins[idx].push_back(a);
      fnd[idx].push_back(b);
      std::fprintf(stderr, "  round %d %-17s insert %7.1f ns  find %7.1f ns\n",
                   r, w.c_str(), a, b);
    }
  }
  std::printf(
      "\n| contender | insert ns (median) | find ns (median) | insert "
      "min-max | find min-max |\n|---|---:|---:|---|---|\n");
  for (std::size_t j = 0; j < who.size(); ++j) {
    std::printf("| %s | %.1f | %.1f | %.1f-%.1f | %.1f-%.1f |\n",
                who[j].c_str(), median(ins[j]), median(fnd[j]),
                *std::min_element(ins[j].begin(), ins[j].end()),
                *std::max_element(ins[j].begin(), ins[j].end()),
                *std::min_element(fnd[j].begin(), fnd[j].end()),
                *std::max_element(fnd[j].begin(), fnd[j].end()));
  }
#if NEXUS_HAVE_ABSL
  const std::size_t ab = who.size() - 1;
  std::printf("\nratio to absl::btree_set (medians; < 1 = faster):\n");
  for (std::size_t j = 0; j < ab; ++j) {
    std::printf("  %-17s insert %.2fx  find %.2fx\n", who[j].c_str(),
                median(ins[j]) / median(ins[ab]),
                median(fnd[j]) / median(fnd[ab]));
  }
#endif
  return 0;
}
