// SPDX-License-Identifier: MIT OR Apache-2.0
// A downstream program: it only sees nexus-slab through its CMake package.
#include <nexus/nexus.hpp>

#include <cstdio>

int main() {
  static_assert(NEXUS_SLAB_VERSION_MAJOR == 0 && NEXUS_SLAB_VERSION_MINOR >= 1);
  nexus::mmap_region region;
  if (const auto ec = region.map(1 << 20)) {
    std::printf("map failed: %s\n", ec.message().c_str());
    return 1;
  }
  std::printf("consumer: mapped %zu bytes\n", region.size());
  return region.size() >= (1 << 20) ? 0 : 1;
}
