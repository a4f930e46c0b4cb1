// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab umbrella header: the whole library in one include.
#pragma once

#include <nexus/error.hpp>
#include <nexus/heap_region.hpp>
#include <nexus/key.hpp>
#include <nexus/mmap_region.hpp>
#include <nexus/region.hpp>
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>
#include <nexus/version.hpp>
