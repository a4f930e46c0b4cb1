// SPDX-License-Identifier: MIT OR Apache-2.0
// Memory control: size a slab by a byte budget, lock it in RAM, and put it on
// huge pages, printing what each step needs and what the OS answered.
//   alloc_bytes    no privilege
//   mlock          Linux: CAP_IPC_LOCK or RLIMIT_MEMLOCK >= size (ulimit -l)
//   alloc_hugetlb  Linux: reserved pages, echo N > /proc/sys/vm/nr_hugepages
//   try_collapse   Linux 6.1+ (MADV_COLLAPSE), no privilege
#include <nexus/slab.hpp>

#include <cstdint>
#include <cstdio>

namespace {

struct tick {
  std::uint64_t timestamp;
  double price;
  double size;
  std::uint64_t venue;
};

void report(const char* what, const std::error_code& ec) {
  std::printf("  %-34s %s\n", what, ec ? ec.message().c_str() : "ok");
}

}  // namespace

int main() {
  constexpr std::size_t budget = 64u << 20;  // 64 MiB
  std::printf("slab<tick> (%zu-byte values) within a %zu MiB budget:\n",
              sizeof(tick), budget >> 20);
  nexus::slab<tick> ticks;
  report("alloc_bytes(64 MiB)", ticks.alloc_bytes(budget));
  std::printf("  -> capacity %zu ticks, %zu bytes mapped (<= budget: %s)\n",
              ticks.capacity(), ticks.memory_size(),
              ticks.memory_size() <= budget ? "yes" : "NO");
  report("mlock()  [CAP_IPC_LOCK/RLIMIT_MEMLOCK]", ticks.mlock());
  report("try_collapse()  [Linux 6.1+]", ticks.try_collapse());
  report("alloc_bytes again (already allocated)", ticks.alloc_bytes(budget));

  std::printf("slab<tick> on guaranteed huge pages:\n");
  nexus::slab<tick> huge;
  const auto ec = huge.alloc_hugetlb(100'000);
  report("alloc_hugetlb(100'000)  [nr_hugepages]", ec);
  if (!ec) {
    std::printf("  -> capacity %zu ticks on %zu MiB of huge pages\n",
                huge.capacity(), huge.memory_size() >> 20);
  }

  std::printf("bad input is answered, not undefined:\n");
  nexus::slab<tick> bad;
  report("alloc(0)", bad.alloc(0));
  report("alloc(SIZE_MAX)", bad.alloc(SIZE_MAX));
  report("alloc_bytes(16)  (less than a page)", bad.alloc_bytes(16));
  std::printf("  insert into the unallocated slab: %s\n",
              bad.try_insert(tick{}) ? "accepted?!" : "refused (full)");
  return ticks.capacity() > 0 ? 0 : 1;
}
