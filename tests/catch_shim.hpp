// SPDX-License-Identifier: MIT OR Apache-2.0
// Test-side shim: includes Catch2 v2 or v3 (CMake passes NEXUS_CATCH2_MAJOR)
// and papers over the few differences the tests touch.
#pragma once

#if NEXUS_CATCH2_MAJOR >= 3
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#define NEXUS_SKIP(msg) SKIP(msg)
#else
#include <catch2/catch.hpp>
// Catch2 v2 has no SKIP: warn with the reason and leave the test case.
#define NEXUS_SKIP(msg) \
  do {                  \
    WARN(msg);          \
    return;             \
  } while (false)
#endif
