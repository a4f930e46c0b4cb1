// SPDX-License-Identifier: MIT OR Apache-2.0
// The nexus-slab demo: a slab of orders that never faults after alloc(), and
// a sorted slab list of a million prices at ~9 bytes each. Every figure it
// prints is measured on the spot.
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

long minor_faults() {
#if defined(__linux__)
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
#else
  return 0;
#endif
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

struct order {
  std::uint64_t id;
  std::int64_t price;
  std::uint32_t quantity;
  std::uint32_t side;
};

int slab_demo() {
  std::puts(
      "== nexus::slab<order>: fixed capacity, O(1), no faults after alloc()");
  nexus::slab<order> orders;
  if (const auto ec = orders.alloc(1'000'000)) {
    std::printf("alloc failed: %s\n", ec.message().c_str());
    return 1;
  }
  const auto lock = orders.mlock();
  std::printf(
      "capacity %zu orders in %.1f MiB mapped, pre-faulted; mlock: %s\n",
      orders.capacity(), static_cast<double>(orders.memory_size()) / (1 << 20),
      lock ? lock.message().c_str() : "locked in RAM");

  // A million mixed operations: fill, then churn (cancel + new order).
  std::mt19937_64 rng(42);
  // Fault in the bookkeeping vector first: only the slab is being measured.
  std::vector<nexus::key> live(orders.capacity(), nexus::key{0});
  live.clear();
  const auto start = std::chrono::steady_clock::now();
  const long faults_before = minor_faults();
  std::size_t ops = 0;
  for (std::uint64_t id = 0; id < 500'000; ++id, ++ops) {
    live.push_back(
        orders.insert(order{id, 1000 + static_cast<std::int64_t>(id % 97), 100,
                            static_cast<std::uint32_t>(id & 1)}));
  }
  std::uint64_t checksum = 0;
  for (std::uint64_t id = 500'000; id < 750'000; ++id, ops += 3) {
    const std::size_t victim = rng() % live.size();
    checksum += orders[live[victim]].quantity;             // get
    orders.erase(live[victim]);                            // cancel
    live[victim] = orders.insert(order{id, 1000, 50, 0});  // new order
  }
  const long faults = minor_faults() - faults_before;
  const double elapsed = seconds_since(start);
  std::printf(
      "%zu operations in %.1f ms (%.1f ns/op), %zu live orders, "
      "page faults during them: %ld (checksum %" PRIu64 ")\n",
      ops, elapsed * 1e3, elapsed * 1e9 / static_cast<double>(ops),
      orders.size(), faults, checksum);

  auto first = orders.get(live.front());
  std::printf("order at key %zu: id %" PRIu64 ", price %" PRId64 "\n",
              live.front().index(), first ? first->id : 0,
              first ? first->price : 0);
  return 0;
}

int slab_list_demo() {
  constexpr std::size_t n = 1'000'000;
  std::puts(
      "\n== nexus::slab_list<uint64_t>: sorted, 1 KiB ranged slabs + "
      "sublayers");
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values(n);
  for (auto& v : values) v = rng();

  nexus::slab_list<std::uint64_t> list;
  auto start = std::chrono::steady_clock::now();
  for (const auto v : values) list.insert(v);
  const double insert_s = seconds_since(start);

  start = std::chrono::steady_clock::now();
  std::size_t found = 0;
  for (const auto v : values) found += list.contains(v) ? 1 : 0;
  const double find_s = seconds_since(start);

  std::printf(
      "%zu random inserts: %.0f ns/op; %zu finds: %.0f ns/op (all found: %s)\n",
      list.size(), insert_s * 1e9 / n, n, find_s * 1e9 / n,
      found == n ? "yes" : "NO");
  std::printf(
      "%zu slabs of %zu elements, %zu sublayers; %.2f bytes/element "
      "(8 bytes of data each)\n",
      list.slab_count(), list.slab_capacity, list.sublayer_count(),
      static_cast<double>(list.memory_size()) /
          static_cast<double>(list.size()));
  std::printf("median (nth(size/2)): %" PRIu64 ", min %" PRIu64 ", max %" PRIu64
              "\n",
              *list.nth(list.size() / 2), list.front(), list.back());

#if defined(__GLIBC__)
  // The same data in a std::set, measured as the heap grows.
  const std::size_t heap_before = mallinfo2().uordblks;
  std::set<std::uint64_t> set(values.begin(), values.end());
  const std::size_t heap_after = mallinfo2().uordblks;
  std::printf("the same %zu values in a std::set: %.2f bytes/element\n",
              set.size(),
              static_cast<double>(heap_after - heap_before) /
                  static_cast<double>(set.size()));
#endif
  return found == n ? 0 : 1;
}

}  // namespace

int main() {
  if (const int rc = slab_demo()) return rc;
  return slab_list_demo();
}
