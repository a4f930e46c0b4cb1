// SPDX-License-Identifier: MIT OR Apache-2.0
// An 8-byte key that counts its moves, so a test can tell how many elements
// a list operation shifted (tests/test_slab_list.cpp, test_ordered_list.cpp).
#pragma once

#include <cstdint>

namespace nexus_test {

struct move_counted {
  static inline long moves = 0;  // move constructions and move assignments
  std::uint64_t v = 0;
  move_counted() = default;
  explicit move_counted(std::uint64_t x) noexcept : v(x) {}
  move_counted(const move_counted&) noexcept = default;
  move_counted& operator=(const move_counted&) noexcept = default;
  move_counted(move_counted&& o) noexcept : v(o.v) { ++moves; }
  move_counted& operator=(move_counted&& o) noexcept {
    v = o.v;
    ++moves;
    return *this;
  }
  ~move_counted() = default;
  friend bool operator<(const move_counted& a, const move_counted& b) {
    return a.v < b.v;
  }
};

}  // namespace nexus_test
