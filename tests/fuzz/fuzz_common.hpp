// SPDX-License-Identifier: MIT OR Apache-2.0
// Shared by the differential fuzzers: a reader that decodes the fuzzer's
// input bytes into operation codes and operands (zeros once the input runs
// out, so every input is a valid program), and FUZZ_CHECK, which reports a
// mismatch and traps so libFuzzer (or the replay program) stops on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

// The O(size) model comparisons run after every operation; keeping them out
// of libFuzzer's coverage instrumentation makes each run several times faster
// without hiding any library code from the fuzzer.
#if defined(__clang__)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NO_COVERAGE
#endif

namespace fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed: %s at %s:%d\n", what, file, line);
  std::fflush(stderr);
#if defined(__GNUC__) || defined(__clang__)
  __builtin_trap();
#else
  std::abort();
#endif
}

class reader {
 public:
  reader(const std::uint8_t* data, std::size_t size) noexcept
      : p_(data), end_(data + size) {}

  [[nodiscard]] bool done() const noexcept { return p_ == end_; }
  [[nodiscard]] std::uint8_t u8() noexcept { return p_ == end_ ? 0 : *p_++; }
  [[nodiscard]] std::uint16_t u16() noexcept {
    const auto lo = u8();
    return static_cast<std::uint16_t>(lo | (u8() << 8));
  }
  [[nodiscard]] std::uint32_t u32() noexcept {
    const std::uint32_t lo = u16();
    return lo | (static_cast<std::uint32_t>(u16()) << 16);
  }
  // A value in [0, n) (n > 0); 0 when the input is exhausted.
  [[nodiscard]] std::size_t below(std::size_t n) noexcept {
    return n == 0 ? 0 : (n <= 256 ? u8() % n : u16() % n);
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace fuzz

#define FUZZ_CHECK(cond)                                  \
  do {                                                    \
    if (!(cond)) ::fuzz::fail(#cond, __FILE__, __LINE__); \
  } while (false)
