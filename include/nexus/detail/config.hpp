// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: compiler and platform configuration shared by every header —
// exception detection, assertions, and the single "throw or abort" helper.
#pragma once

#include <cstdio>
#include <cstdlib>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define NEXUS_HAS_EXCEPTIONS 1
#else
#define NEXUS_HAS_EXCEPTIONS 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define NEXUS_LIKELY(x) __builtin_expect(!!(x), 1)
#define NEXUS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NEXUS_NOINLINE __attribute__((noinline))
#define NEXUS_COLD __attribute__((cold, noinline))
#else
#define NEXUS_LIKELY(x) (x)
#define NEXUS_UNLIKELY(x) (x)
#define NEXUS_NOINLINE __declspec(noinline)
#define NEXUS_COLD __declspec(noinline)
#endif

// Debug-only checks of caller preconditions (unchecked accessors). Define
// NEXUS_ENABLE_ASSERTS to keep them in release builds too.
#if !defined(NDEBUG) || defined(NEXUS_ENABLE_ASSERTS)
#define NEXUS_ASSERT(cond, msg)  \
  ((cond) ? static_cast<void>(0) \
          : ::nexus::detail::assert_fail(#cond, msg, __FILE__, __LINE__))
#else
#define NEXUS_ASSERT(cond, msg) static_cast<void>(0)
#endif

namespace nexus::detail {

[[noreturn]] NEXUS_COLD inline void assert_fail(const char* cond,
                                                const char* msg,
                                                const char* file, int line) {
  std::fprintf(stderr, "nexus: assertion failed: %s (%s) at %s:%d\n", msg, cond,
               file, line);
  std::abort();
}

// Prints one line and aborts. Used where the API would throw but exceptions
// are disabled, so the failure is still loud and attributable.
[[noreturn]] NEXUS_COLD inline void fatal(const char* msg) {
  std::fprintf(stderr, "nexus: %s\n", msg);
  std::abort();
}

// Throws `Exception(msg)` when exceptions are enabled, otherwise fatal(msg).
template <class Exception>
[[noreturn]] NEXUS_COLD void throw_or_abort(const char* msg) {
#if NEXUS_HAS_EXCEPTIONS
  throw Exception(msg);
#else
  fatal(msg);
#endif
}

}  // namespace nexus::detail
