// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: compiler and platform configuration shared by every header —
// exception detection, assertions, cache prefetch hints, and the single
// "throw or abort" helper.
#pragma once

#include <cstdio>
#include <cstdlib>

#if defined(_MSC_VER) && !defined(__clang__) && \
    (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>  // _mm_prefetch
#endif

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

// Asks for the cache line holding `p`, for reading or (Write) for writing;
// Locality 3 keeps it in every cache level, lower values in fewer (the
// GCC/Clang convention). A hint: `p` is never dereferenced and may point
// anywhere, even at unmapped memory. MSVC on x86 gets _mm_prefetch (no write
// hint there); other compilers, nothing.
template <bool Write = false, int Locality = 3>
inline void prefetch(const void* p) noexcept {
  static_assert(Locality >= 0 && Locality <= 3);
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, Write ? 1 : 0, Locality);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  _mm_prefetch(static_cast<const char*>(p), Locality == 3   ? _MM_HINT_T0
                                            : Locality == 2 ? _MM_HINT_T1
                                            : Locality == 1 ? _MM_HINT_T2
                                                            : _MM_HINT_NTA);
#else
  (void)p;
#endif
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
