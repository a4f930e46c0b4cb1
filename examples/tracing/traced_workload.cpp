// SPDX-License-Identifier: MIT OR Apache-2.0
// A deterministic workload for the USDT probes (nexus/detail/probes.hpp):
// a slab filled past capacity, locked and drained; a sorted and an ordered
// slab list grown past their sublayer threshold and shrunk back to
// small-list mode, which makes every list probe fire (spills, ripples,
// merges, compactions, slab creates and frees, sublayer attach and detach);
// and a list whose order is broken on purpose, so check_invariants() fires
// list_invariant_failed. It prints the number
// of operations it performed and its stats() counters as `count NAME N`
// lines, which the CTest tracing tests compare with bpftrace's counts.
//
//   traced_workload [--seconds S] [--keys N]
//
// Without --seconds it runs one round; with it, rounds repeat until S
// seconds have passed (long enough to attach `bpftrace -p PID`). Built twice:
// `traced_workload` with NEXUS_ENABLE_PROBES, `traced_workload_noprobes`
// without.
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace {

// What the workload did, counted by the workload itself.
struct tally {
  std::uint64_t slab_insert = 0;
  std::uint64_t slab_remove = 0;
  std::uint64_t slab_full = 0;
  std::uint64_t list_add = 0;
  std::uint64_t list_remove = 0;
  // From stats(): events the workload cannot count by itself.
  std::uint64_t list_spill = 0;
  std::uint64_t list_ripple = 0;
  std::uint64_t list_merge = 0;
  std::uint64_t list_reap = 0;
  std::uint64_t list_slab_create = 0;
  std::uint64_t list_slab_free = 0;
  std::uint64_t list_sublayer_attach = 0;
  std::uint64_t list_sublayer_detach = 0;
  std::uint64_t list_invariant_failed = 0;
};

// Deterministic pseudo-random keys (splitmix64), the same on every run.
std::uint64_t next_key(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "traced_workload: %s\n", what);
  std::abort();
}

void slab_round(tally& total) {
  tally t;
  nexus::slab<std::uint64_t> s;
  if (s.alloc(1000)) fail("slab alloc failed");
  // mlock needs CAP_IPC_LOCK or RLIMIT_MEMLOCK; the probe fires either way.
  if (!s.mlock()) {
    static_cast<void>(s.munlock());
  }
  std::vector<nexus::key> keys;
  std::uint64_t v = 0;
  while (auto k = s.try_insert(v++)) {
    keys.push_back(*k);
    ++t.slab_insert;
  }
  ++t.slab_full;  // the refused try_insert that ended the loop
  for (std::size_t i = 0; i < keys.size(); i += 2) {
    if (s.erase(keys[i])) ++t.slab_remove;
  }
  for (std::size_t i = 0; i < 100; ++i) {
    if (s.try_insert(v++)) ++t.slab_insert;
  }
  if (!s.check_invariants()) fail("slab invariants broken");
  const nexus::slab_stats st = s.stats();
  if (st.size != t.slab_insert - t.slab_remove ||
      st.rejected_inserts != t.slab_full) {
    fail("slab stats() disagree with the workload's own counts");
  }
  total.slab_insert += t.slab_insert;
  total.slab_remove += t.slab_remove;
  total.slab_full += t.slab_full;
}

void list_round(tally& t, std::size_t n, std::uint64_t seed) {
  const std::uint64_t added_before = t.list_add;
  const std::uint64_t removed_before = t.list_remove;
  nexus::slab_list_options opts;
  opts.name = "traced_workload";
  nexus::slab_list<std::uint64_t> l(opts);
  std::vector<std::uint64_t> keys;
  keys.reserve(n);
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t k = next_key(state) % (4 * n);
    if (l.insert(k).second) {
      keys.push_back(k);
      ++t.list_add;
    }
  }
  // Erase in a shuffled order until 100 remain: merges, compactions, the
  // sublayers detach and the list returns to small-list mode.
  for (std::size_t i = keys.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(next_key(state) % i);
    std::swap(keys[i - 1], keys[j]);
  }
  while (keys.size() > 100) {
    if (l.erase(keys.back()) == 1) ++t.list_remove;
    keys.pop_back();
  }
  if (!l.check_invariants()) fail("slab_list invariants broken");
  const nexus::slab_list_stats st = l.stats();
  if (st.inserts != t.list_add - added_before ||
      st.erases != t.list_remove - removed_before) {
    fail("slab_list stats() disagree with the workload's own counts");
  }
  t.list_spill += st.spills;
  t.list_ripple += st.ripples;
  t.list_merge += st.merges;
  t.list_reap += st.compactions;
  t.list_slab_create += st.slab_creates;
  t.list_slab_free += st.slab_frees;
  t.list_sublayer_attach += st.sublayer_attaches;
  t.list_sublayer_detach += st.sublayer_detaches;
  // The list's destructor frees the rest without probes of its own (the
  // region_unmap probes report the memory); erase them here so every
  // element that was added is also seen removed.
  for (const std::uint64_t k : keys) {
    if (l.erase(k) == 1) ++t.list_remove;
  }
  t.list_slab_free += l.stats().slab_frees - st.slab_frees;
}

// The ordered list (insertion order) shares the sorted list's machinery and
// probes: appends, prepends and inserts at random positions, then erasures.
void ordered_round(tally& t, std::size_t n, std::uint64_t seed) {
  nexus::slab_list_options opts;
  opts.name = "traced_ordered";
  nexus::slab_list<std::uint64_t, nexus::insertion_order> o(opts);
  std::uint64_t state = seed;
  std::uint64_t added = 0, removed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t r = next_key(state);
    if (r % 4 == 0) {
      o.push_front(r);
    } else if (r % 4 == 1 || o.empty()) {
      o.push_back(r);
    } else {
      o.insert(o.nth(static_cast<std::size_t>(r % o.size())), r);
    }
    ++added;
  }
  while (o.size() > 10) {
    const std::uint64_t r = next_key(state);
    o.erase(o.nth(static_cast<std::size_t>(r % o.size())));
    ++removed;
  }
  while (!o.empty()) {
    o.pop_back();
    ++removed;
  }
  const nexus::slab_list_stats st = o.stats();
  if (st.inserts != added || st.erases != removed) {
    fail("ordered slab_list stats() disagree with the workload's own counts");
  }
  t.list_add += added;
  t.list_remove += removed;
  t.list_spill += st.spills;
  t.list_ripple += st.ripples;
  t.list_merge += st.merges;
  t.list_reap += st.compactions;
  t.list_slab_create += st.slab_creates;
  t.list_slab_free += st.slab_frees;
  t.list_sublayer_attach += st.sublayer_attaches;
  t.list_sublayer_detach += st.sublayer_detaches;
}

// The "test probe": a caller that edits a key in place (a bug) breaks the
// order, and check_invariants() reports it through list_invariant_failed.
void broken_invariant_round(tally& t) {
  nexus::slab_list_options opts;
  opts.name = "traced_broken";
  nexus::slab_list<std::uint64_t> l(opts);
  for (std::uint64_t k = 0; k < 10; ++k) l.insert(k);
  // The elements are not const objects: writing one is defined, merely
  // wrong for a sorted list.
  const_cast<std::uint64_t&>(l.front()) = 100;
  if (l.check_invariants()) fail("a corrupted list passed check_invariants");
  ++t.list_invariant_failed;
  const_cast<std::uint64_t&>(l.front()) = 0;
  t.list_add += 10;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0;
  std::size_t n = 20000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
      n = static_cast<std::size_t>(std::atol(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--keys N]\n", argv[0]);
      return 2;
    }
  }
#if defined(__unix__) || defined(__APPLE__)
  if (seconds > 0) {
    std::printf("pid %ld\n", static_cast<long>(::getpid()));
    std::fflush(stdout);
  }
#endif
  tally t;
  std::uint64_t rounds = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    slab_round(t);
    list_round(t, n, 42 + rounds);
    ordered_round(t, n / 2, 4242 + rounds);
    broken_invariant_round(t);
    ++rounds;
  } while (
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count() < seconds);
  std::printf("count rounds %" PRIu64 "\n", rounds);
  const struct {
    const char* name;
    std::uint64_t value;
  } lines[] = {
      {"slab_insert", t.slab_insert},
      {"slab_remove", t.slab_remove},
      {"slab_full", t.slab_full},
      {"list_add", t.list_add},
      {"list_remove", t.list_remove},
      {"list_spill", t.list_spill},
      {"list_ripple", t.list_ripple},
      {"list_merge", t.list_merge},
      {"list_reap", t.list_reap},
      {"list_slab_create", t.list_slab_create},
      {"list_slab_free", t.list_slab_free},
      {"list_sublayer_attach", t.list_sublayer_attach},
      {"list_sublayer_detach", t.list_sublayer_detach},
      {"list_invariant_failed", t.list_invariant_failed},
  };
  for (const auto& line : lines) {
    std::printf("count %s %" PRIu64 "\n", line.name, line.value);
  }
  return 0;
}
