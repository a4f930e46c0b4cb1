// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: library version. Kept in step with project(VERSION) in
// CMakeLists.txt.
#pragma once

#define NEXUS_SLAB_VERSION_MAJOR 0
#define NEXUS_SLAB_VERSION_MINOR 1
#define NEXUS_SLAB_VERSION_PATCH 0
#define NEXUS_SLAB_VERSION                                             \
  (NEXUS_SLAB_VERSION_MAJOR * 10000 + NEXUS_SLAB_VERSION_MINOR * 100 + \
   NEXUS_SLAB_VERSION_PATCH)
