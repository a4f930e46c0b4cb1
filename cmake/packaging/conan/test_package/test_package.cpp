// SPDX-License-Identifier: MIT OR Apache-2.0
// Conan test_package: the packaged headers compile and work.
#include <nexus/nexus.hpp>

int main() {
  nexus::heap_region region;
  return region.map(4096) ? 1 : 0;
}
