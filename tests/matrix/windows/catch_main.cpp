// SPDX-License-Identifier: MIT OR Apache-2.0
// Catch2 2.x's main() for the Windows cross build (its single header has no
// prebuilt main library there).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
