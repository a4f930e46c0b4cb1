// SPDX-License-Identifier: MIT OR Apache-2.0
// Example: how much memory a sorted set of N random uint64_t takes in a
// nexus::slab_list versus a std::set.
//
//   sorted_list_memory [N]      (N defaults to 10'000'000)
//
// For the slab_list the figure is memory_size(): every byte it has mapped,
// slabs, index and unused pool space included. For std::set it is the growth
// of glibc's heap (mallinfo2), which includes malloc's per-node overhead —
// the memory the process really pays for.

#include <nexus/slab_list.hpp>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define EXAMPLE_HAVE_MALLINFO2 1
#else
#define EXAMPLE_HAVE_MALLINFO2 0
#endif

namespace {

std::size_t heap_in_use() {
#if EXAMPLE_HAVE_MALLINFO2
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
#else
  return 0;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 10'000'000;
  if (argc > 1) n = std::strtoull(argv[1], nullptr, 10);
  if (n == 0) {
    std::fprintf(stderr, "usage: %s [N > 0]\n", argv[0]);
    return 1;
  }

  // The same random keys go into both containers (the same seed twice).
  const std::uint64_t seed = 2012;

  nexus::slab_list<std::uint64_t> list;
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < n; ++i) list.insert(rng());
  const double list_bytes = static_cast<double>(list.memory_size());

  const std::size_t heap_before = heap_in_use();
  std::set<std::uint64_t> set;
  rng.seed(seed);
  for (std::size_t i = 0; i < n; ++i) set.insert(rng());
  const double set_bytes = static_cast<double>(heap_in_use() - heap_before);

  // Random 64-bit keys may repeat (rarely); both hold the same distinct ones.
  if (list.size() != set.size()) {
    std::fprintf(stderr, "size mismatch: slab_list %zu, std::set %zu\n",
                 static_cast<std::size_t>(list.size()), set.size());
    return 1;
  }
  const auto elems = static_cast<double>(list.size());
  std::printf("%zu distinct random uint64_t (%zu bytes of keys)\n",
              static_cast<std::size_t>(list.size()),
              static_cast<std::size_t>(list.size()) * sizeof(std::uint64_t));
  std::printf(
      "nexus::slab_list  %12.0f bytes mapped  %6.2f bytes/element"
      "  (%zu slabs, %zu sublayers)\n",
      list_bytes, list_bytes / elems,
      static_cast<std::size_t>(list.slab_count()),
      static_cast<std::size_t>(list.sublayer_count()));
#if EXAMPLE_HAVE_MALLINFO2
  std::printf("std::set          %12.0f bytes of heap    %6.2f bytes/element\n",
              set_bytes, set_bytes / elems);
  std::printf("std::set needs %.1fx the memory of nexus::slab_list\n",
              set_bytes / list_bytes);
#else
  (void)set_bytes;
  std::printf(
      "std::set          (heap usage not measurable without glibc "
      "mallinfo2)\n");
#endif
  return 0;
}
