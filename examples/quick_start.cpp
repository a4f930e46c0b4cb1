// SPDX-License-Identifier: MIT OR Apache-2.0
// Quick start: the three building blocks in a few lines each.
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>

#include <cstdio>
#include <string>

int main() {
  // A slab: fixed capacity, O(1) insert/get/remove, keys are indices.
  nexus::slab<std::string> names;
  if (const auto ec = names.alloc(1000)) {
    std::printf("alloc: %s\n", ec.message().c_str());
    return 1;
  }
  const nexus::key ada = names.insert("Ada");
  const nexus::key alan = names.emplace(4, 'x');  // constructs "xxxx" in place
  names[alan] = "Alan";
  std::printf("slab: %zu names, capacity %zu, key %zu -> %s\n", names.size(),
              names.capacity(), ada.index(), names.get(ada)->c_str());
  if (auto removed = names.remove(ada)) {
    std::printf("removed %s; key %zu now vacant: %s\n", removed->c_str(),
                ada.index(), names.contains(ada) ? "no" : "yes");
  }

  // When full, try_insert hands the value back untouched.
  nexus::slab<int> tiny;
  if (tiny.alloc_bytes(4096)) return 1;
  while (tiny.try_insert(7)) {
  }
  std::printf("tiny slab full at %zu ints (one 4 KiB page)\n", tiny.size());

  // A sorted slab list: set semantics, logarithmic find and nth.
  nexus::slab_list<int> primes;
  for (int p : {13, 2, 7, 3, 11, 5}) primes.insert(p);
  std::printf("slab_list:");
  for (int p : primes) std::printf(" %d", p);
  std::printf(" | nth(2) = %d, contains(9) = %d\n", *primes.nth(2),
              primes.contains(9) ? 1 : 0);
  return 0;
}
