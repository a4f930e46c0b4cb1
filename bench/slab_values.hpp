// SPDX-License-Identifier: MIT OR Apache-2.0
// The value types the nexus::slab benchmarks store (uint64_t and a 64-byte
// struct), with one way to make a value from an index and to read it back.
// Shared by bench/slab_latency.cpp and bench/bench_slab.cpp.
#pragma once

#include <cstdint>
#include <type_traits>

namespace nexus_bench {

struct blob64 {
  std::uint64_t words[8];
};

// Writes the first and last word, so a copy of a blob64 cannot be elided to
// a single store.
template <class T>
T make_value(std::uint64_t i) noexcept {
  if constexpr (std::is_same_v<T, blob64>) {
    blob64 b{};
    b.words[0] = i;
    b.words[7] = ~i;
    return b;
  } else {
    return static_cast<T>(i);
  }
}

template <class T>
std::uint64_t digest(const T& v) noexcept {
  if constexpr (std::is_same_v<T, blob64>) {
    return v.words[0];
  } else {
    return static_cast<std::uint64_t>(v);
  }
}

}  // namespace nexus_bench
