// SPDX-License-Identifier: MIT OR Apache-2.0
// Element types shared by the nexus::slab tests: a counting T that records
// every construction and destruction (and can be told to throw), plus
// move-only, immovable, non-default-constructible and over-aligned types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace slab_test {

// Counts live objects; the tests check that every constructed T is
// destroyed exactly once. Its constructor can be made to throw after it has
// already written to its storage, to prove the slab's free-list link survives.
struct counted {
  static inline long constructed = 0;
  static inline long destroyed = 0;
  static inline long throw_countdown = -1;  // throw when it reaches 0

  static void reset() {
    constructed = destroyed = 0;
    throw_countdown = -1;
  }
  static long live() { return constructed - destroyed; }

  std::int64_t value;
  std::uint64_t canary;  // scribbled before a deliberate throw
  bool moved_from = false;

  explicit counted(std::int64_t v) : value(~v), canary(0xDEADBEEFDEADBEEF) {
    maybe_throw();
    value = v;
    ++constructed;
  }
  counted(const counted& o) : value(~o.value), canary(0xDEADBEEFDEADBEEF) {
    maybe_throw();
    value = o.value;
    ++constructed;
  }
  counted(counted&& o) : value(~o.value), canary(0xDEADBEEFDEADBEEF) {
    maybe_throw();
    value = o.value;
    o.moved_from = true;
    ++constructed;
  }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { ++destroyed; }

 private:
  static void maybe_throw() {
    if (throw_countdown >= 0 && throw_countdown-- == 0) {
      throw std::runtime_error("counted: deliberate throw");
    }
  }
};

// Neither movable nor copyable: only emplace + erase work.
struct immovable {
  explicit immovable(int v) : value(v) {}
  immovable(const immovable&) = delete;
  immovable& operator=(const immovable&) = delete;
  int value;
};

// No default constructor, two constructor arguments.
struct point {
  point(int px, int py) : x(px), y(py) {}
  int x;
  int y;
};

struct alignas(64) aligned64 {
  explicit aligned64(std::uint64_t v) : value(v) {}
  std::uint64_t value;
};

struct alignas(256) aligned256 {
  explicit aligned256(std::uint64_t v) : value(v) {}
  std::uint64_t value;
  char pad[300];
};

// A 64-byte payload, as in the benchmarks.
struct blob64 {
  std::uint64_t words[8];
};

}  // namespace slab_test
