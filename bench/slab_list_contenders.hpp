// SPDX-License-Identifier: MIT OR Apache-2.0
// The containers the slab_list benchmarks compare: nexus::slab_list always,
// absl::btree_set when its headers are present (CMake defines NEXUS_HAVE_ABSL
// when it links absl::btree). Shared by bench/slab_list_latency.cpp and
// bench/bench_slab_list.cpp.
#pragma once

#include <nexus/slab_list.hpp>

#if !defined(NEXUS_HAVE_ABSL) && __has_include(<absl/container/btree_set.h>)
#define NEXUS_HAVE_ABSL 1
#endif
#if defined(NEXUS_HAVE_ABSL) && NEXUS_HAVE_ABSL
#include <absl/container/btree_set.h>
#define NEXUS_BENCH_ABSL 1
#else
#define NEXUS_BENCH_ABSL 0
#endif
