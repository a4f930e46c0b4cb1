// SPDX-License-Identifier: MIT OR Apache-2.0
// Test helpers that observe the real kernel: minor page faults, locked
// memory (VmLck), huge page pools and per-mapping THP usage. Linux only;
// elsewhere the queries report "unknown" (nullopt) and tests skip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NEXUS_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define NEXUS_TEST_SANITIZED 1
#endif
#endif
#ifndef NEXUS_TEST_SANITIZED
#define NEXUS_TEST_SANITIZED 0
#endif

namespace nexus::test {

// Sanitizer runtimes fault in shadow memory on their own, so fault counts are
// only meaningful without them.
inline constexpr bool fault_counts_are_exact = NEXUS_TEST_SANITIZED == 0;

[[nodiscard]] inline bool is_linux() noexcept {
#if defined(__linux__)
  return true;
#else
  return false;
#endif
}

[[nodiscard]] inline bool is_root() noexcept {
#if defined(__linux__)
  return ::geteuid() == 0;
#else
  return false;
#endif
}

// Minor page faults taken by this process so far.
[[nodiscard]] inline long minor_faults() noexcept {
#if defined(__linux__)
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
#else
  return 0;
#endif
}

// Reads "<key>: <n> kB" from a /proc file; nullopt when absent.
[[nodiscard]] inline std::optional<std::size_t> proc_kib(const char* path,
                                                         const char* key) {
#if !defined(__linux__)
  // Elsewhere /proc is absent, or (under wine) not this process's.
  static_cast<void>(path);
  static_cast<void>(key);
  return std::nullopt;
#endif
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return std::nullopt;
  char line[512];
  std::optional<std::size_t> result;
  const std::size_t key_len = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
      unsigned long long value = 0;
      if (std::sscanf(line + key_len + 1, "%llu", &value) == 1) {
        result = static_cast<std::size_t>(value);
      }
      break;
    }
  }
  std::fclose(f);
  return result;
}

// Bytes of this process's memory locked in RAM.
[[nodiscard]] inline std::optional<std::size_t> locked_bytes() {
  const auto kib = proc_kib("/proc/self/status", "VmLck");
  if (!kib) return std::nullopt;
  return *kib * 1024;
}

// Free pages in the default-size hugetlb pool.
[[nodiscard]] inline std::optional<std::size_t> huge_pages_free() {
  return proc_kib("/proc/meminfo", "HugePages_Free");
}

// AnonHugePages (bytes) of the mapping that starts exactly at `start`.
[[nodiscard]] inline std::optional<std::size_t> anon_huge_bytes_at(
    const void* start) {
#if !defined(__linux__)
  static_cast<void>(start);
  return std::nullopt;
#endif
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (f == nullptr) return std::nullopt;
  const auto want = reinterpret_cast<std::uintptr_t>(start);
  char line[512];
  bool in_mapping = false;
  std::optional<std::size_t> result;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long long lo = 0;
    unsigned long long hi = 0;
    if (std::sscanf(line, "%llx-%llx ", &lo, &hi) == 2) {
      // A mapping header line ("lo-hi perms offset dev inode path").
      in_mapping = (lo == want);
      continue;
    }
    unsigned long long kib = 0;
    if (in_mapping && std::sscanf(line, "AnonHugePages: %llu kB", &kib) == 1) {
      result = static_cast<std::size_t>(kib) * 1024;
      break;
    }
  }
  std::fclose(f);
  return result;
}

// AnonHugePages (bytes) over all of this process's mappings.
[[nodiscard]] inline std::optional<std::size_t> anon_huge_bytes_total() {
  const auto kib = proc_kib("/proc/self/smaps_rollup", "AnonHugePages");
  if (!kib) return std::nullopt;
  return *kib * 1024;
}

// The system's THP mode ("always", "madvise" or "never"); nullopt when the
// kernel has no THP or this is not Linux.
[[nodiscard]] inline std::optional<std::string> thp_mode() {
#if !defined(__linux__)
  return std::nullopt;
#endif
  std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (f == nullptr) return std::nullopt;
  char line[128] = {};
  const bool ok = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  if (!ok) return std::nullopt;
  // The active mode is the bracketed word: "always [madvise] never".
  const char* open = std::strchr(line, '[');
  const char* close = open ? std::strchr(open, ']') : nullptr;
  if (open == nullptr || close == nullptr) return std::nullopt;
  return std::string(open + 1, close);
}

// Sets the default-size hugetlb pool for its lifetime (root only) and
// restores the old pool size afterwards: `extra` pages on top of the current
// pool, or, with `exact`, a pool of exactly `pages`.
class huge_page_reservation {
 public:
  explicit huge_page_reservation(std::size_t pages, bool exact = false) {
    old_ = read_nr();
    if (!old_) return;
    const std::size_t target = exact ? pages : *old_ + pages;
    ok_ = write_nr(target) && read_nr() == target &&
          (exact || huge_pages_free().value_or(0) >= pages);
  }
  huge_page_reservation(const huge_page_reservation&) = delete;
  huge_page_reservation& operator=(const huge_page_reservation&) = delete;
  ~huge_page_reservation() {
    if (old_) write_nr(*old_);
  }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

  static std::optional<std::size_t> read_nr() {
#if !defined(__linux__)
    return std::nullopt;
#endif
    std::FILE* f = std::fopen("/proc/sys/vm/nr_hugepages", "r");
    if (f == nullptr) return std::nullopt;
    unsigned long long n = 0;
    const bool read = std::fscanf(f, "%llu", &n) == 1;
    std::fclose(f);
    if (!read) return std::nullopt;
    return static_cast<std::size_t>(n);
  }
  static bool write_nr(std::size_t n) {
    std::FILE* f = std::fopen("/proc/sys/vm/nr_hugepages", "w");
    if (f == nullptr) return false;
    const bool wrote = std::fprintf(f, "%zu\n", n) > 0;
    return std::fclose(f) == 0 && wrote;
  }

 private:
  std::optional<std::size_t> old_;
  bool ok_ = false;
};

}  // namespace nexus::test
