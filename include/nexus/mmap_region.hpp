// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: `nexus::mmap_region`, page-aligned memory straight from the OS
// (mmap on Linux/macOS/BSD, VirtualAlloc on Windows) with explicit residency
// control: pre-faulting, mlock/munlock, guaranteed huge pages (MAP_HUGETLB),
// best-effort transparent huge pages (MADV_HUGEPAGE) and MADV_COLLAPSE.
//
// Every fallible call returns a std::error_code (the OS errno in
// std::system_category, or GetLastError() on Windows), never throws, and
// leaves the region exactly as it was when it fails.
#pragma once

#include <nexus/detail/config.hpp>
#include <nexus/detail/probes.hpp>
#include <nexus/error.hpp>
#include <nexus/region.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace nexus {

namespace detail {

inline constexpr std::size_t default_huge_page_size = std::size_t{2} << 20;

// Rounds `n` up to a multiple of the power of two `align`; false on overflow.
[[nodiscard]] constexpr bool round_up(std::size_t n, std::size_t align,
                                      std::size_t& out) noexcept {
  if (n > std::numeric_limits<std::size_t>::max() - (align - 1)) return false;
  out = (n + align - 1) & ~(align - 1);
  return true;
}

[[nodiscard]] inline std::error_code last_os_error() noexcept {
#if defined(_WIN32)
  return {static_cast<int>(::GetLastError()), std::system_category()};
#else
  return {errno, std::system_category()};
#endif
}

#if defined(__linux__)
// Reads "Hugepagesize:" from /proc/meminfo (in kB). 0 when unavailable.
[[nodiscard]] inline std::size_t read_meminfo_huge_page_size() noexcept {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return 0;
  char line[256];
  std::size_t kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long long value = 0;
    if (std::sscanf(line, "Hugepagesize: %llu kB", &value) == 1) {
      kib = static_cast<std::size_t>(value);
      break;
    }
  }
  std::fclose(f);
  return kib * 1024;
}
#endif

}  // namespace detail

class mmap_region {
 public:
  // An empty region: owns nothing, data() == nullptr, size() == 0.
  constexpr mmap_region() noexcept = default;

  mmap_region(const mmap_region&) = delete;
  mmap_region& operator=(const mmap_region&) = delete;

  mmap_region(mmap_region&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        huge_(std::exchange(other.huge_, huge_pages::none)),
        locked_(std::exchange(other.locked_, false)) {}

  mmap_region& operator=(mmap_region&& other) noexcept {
    if (this != &other) {
      unmap();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      huge_ = std::exchange(other.huge_, huge_pages::none);
      locked_ = std::exchange(other.locked_, false);
    }
    return *this;
  }

  ~mmap_region() { unmap(); }

  // Maps at least `bytes` bytes, rounded up to granularity(options.huge).
  // - huge_pages::required: backed by reserved huge pages or fails with
  //   nexus::errc::huge_pages_unavailable; never falls back silently.
  // - huge_pages::transparent: blocks of at least one huge page are aligned
  //   to the huge page size and advised MADV_HUGEPAGE (best effort).
  // - options.prefault: every page is faulted in before map() returns.
  // Errors: std::errc::invalid_argument for 0 bytes, value_too_large when
  // the size overflows, device_or_resource_busy when already mapped, else
  // the OS error. On failure the region stays empty.
  [[nodiscard]] std::error_code map(std::size_t bytes,
                                    const region_options& options = {}) {
    if (data_ != nullptr) {
      return std::make_error_code(std::errc::device_or_resource_busy);
    }
    if (bytes == 0) return std::make_error_code(std::errc::invalid_argument);
    std::size_t rounded = 0;
    if (!detail::round_up(bytes, granularity(options.huge), rounded) ||
        rounded > static_cast<std::size_t>(
                      std::numeric_limits<std::ptrdiff_t>::max())) {
      return std::make_error_code(std::errc::value_too_large);
    }
    return map_rounded(rounded, options);
  }

  // Releases the memory (unlocking it first). No-op when empty.
  void unmap() noexcept {
    if (data_ == nullptr) return;
    NEXUS_PROBE(region_unmap, this, data_, size_);
    if (locked_) static_cast<void>(unlock());
#if defined(_WIN32)
    ::VirtualFree(data_, 0, MEM_RELEASE);
#else
    ::munmap(data_, size_);
#endif
    data_ = nullptr;
    size_ = 0;
    huge_ = huge_pages::none;
  }

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }
  [[nodiscard]] bool locked() const noexcept { return locked_; }
  // The huge-page mode this region was mapped with.
  [[nodiscard]] huge_pages huge() const noexcept { return huge_; }

  // Pins every page in RAM (mlock / VirtualLock). Needs CAP_IPC_LOCK or a
  // large enough RLIMIT_MEMLOCK on Linux, SeLockMemoryPrivilege-free but
  // working-set-bounded on Windows. Locking an empty region is an error.
  [[nodiscard]] std::error_code lock() {
    if (data_ == nullptr) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    if (locked_) return {};
#if defined(_WIN32)
    if (::VirtualLock(data_, size_) == 0) return detail::last_os_error();
#else
    if (::mlock(data_, size_) != 0) {
      const std::error_code ec = detail::last_os_error();
      // mlock may have pinned a prefix before failing; undo it so the region
      // is exactly as before.
      ::munlock(data_, size_);
      return ec;
    }
#endif
    locked_ = true;
    return {};
  }

  [[nodiscard]] std::error_code unlock() {
    if (data_ == nullptr) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    if (!locked_) return {};
#if defined(_WIN32)
    if (::VirtualUnlock(data_, size_) == 0) return detail::last_os_error();
#else
    if (::munlock(data_, size_) != 0) return detail::last_os_error();
#endif
    locked_ = false;
    return {};
  }

  // Asks the kernel to back the region with transparent huge pages now
  // (MADV_COLLAPSE, Linux 6.1+), synchronously. Returns
  // std::errc::not_supported where the kernel or platform cannot (older
  // kernels, macOS, Windows), std::errc::invalid_argument for an empty region
  // or one smaller than a huge page, and other OS errors (EAGAIN, ENOMEM) as
  // they come. hugetlb regions are already huge: success.
  [[nodiscard]] std::error_code collapse() {
#if defined(__linux__)
    if (data_ == nullptr || size_ < huge_page_size()) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    if (huge_ == huge_pages::required) return {};
#ifndef MADV_COLLAPSE
    constexpr int madv_collapse = 25;  // value from <linux/mman.h>, 6.1+
#else
    constexpr int madv_collapse = MADV_COLLAPSE;
#endif
    if (::madvise(data_, size_, madv_collapse) != 0) {
      // Our arguments are valid, so EINVAL means the kernel does not know
      // MADV_COLLAPSE (or THP is compiled out).
      if (errno == EINVAL) {
        return std::make_error_code(std::errc::not_supported);
      }
      return detail::last_os_error();
    }
    return {};
#else
    return std::make_error_code(std::errc::not_supported);
#endif
  }

  void swap(mmap_region& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(huge_, other.huge_);
    std::swap(locked_, other.locked_);
  }
  friend void swap(mmap_region& a, mmap_region& b) noexcept { a.swap(b); }

  // The OS page size (4096 on x86-64 Linux and Windows, 16384 on Apple M*).
  [[nodiscard]] static std::size_t page_size() noexcept {
    static const std::size_t size = query_page_size();
    return size;
  }

  // The huge page size (Linux: Hugepagesize in /proc/meminfo; Windows:
  // GetLargePageMinimum()), or 2 MiB where the OS does not say.
  [[nodiscard]] static std::size_t huge_page_size() noexcept {
    static const std::size_t size = query_huge_page_size();
    return size;
  }

  // The unit map() rounds sizes up to for the given huge-page mode.
  [[nodiscard]] static std::size_t granularity(huge_pages huge) noexcept {
    return huge == huge_pages::required ? huge_page_size() : page_size();
  }

 private:
  static std::size_t query_page_size() noexcept {
#if defined(_WIN32)
    SYSTEM_INFO info;
    ::GetSystemInfo(&info);
    return info.dwPageSize;
#else
    const long size = ::sysconf(_SC_PAGESIZE);
    return size > 0 ? static_cast<std::size_t>(size) : 4096;
#endif
  }

  static std::size_t query_huge_page_size() noexcept {
    std::size_t size = 0;
#if defined(_WIN32)
    size = ::GetLargePageMinimum();
#elif defined(__linux__)
    size = detail::read_meminfo_huge_page_size();
#endif
    return size != 0 ? size : detail::default_huge_page_size;
  }

  // Touches one byte per page so every page is resident now.
  static void touch_pages(void* data, std::size_t size) noexcept {
    auto* bytes = static_cast<volatile unsigned char*>(data);
    const std::size_t step = page_size();
    for (std::size_t offset = 0; offset < size; offset += step) {
      bytes[offset] = 0;
    }
  }

#if defined(_WIN32)
  std::error_code map_rounded(std::size_t size, const region_options& options) {
    DWORD type = MEM_RESERVE | MEM_COMMIT;
    if (options.huge == huge_pages::required) {
      if (::GetLargePageMinimum() == 0) {
        return std::make_error_code(std::errc::not_supported);
      }
      type |= MEM_LARGE_PAGES;
    }
    void* p = ::VirtualAlloc(nullptr, size, type, PAGE_READWRITE);
    if (p == nullptr) {
      if (options.huge == huge_pages::required) {
        return make_error_code(errc::huge_pages_unavailable);
      }
      return detail::last_os_error();
    }
    // Large pages are always resident; ordinary pages fault on first touch.
    if (options.prefault && options.huge != huge_pages::required) {
      touch_pages(p, size);
    }
    adopt(p, size, options.huge);
    return {};
  }
#else
  std::error_code map_rounded(std::size_t size, const region_options& options) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (options.huge == huge_pages::required) {
#if defined(MAP_HUGETLB)
      flags |= MAP_HUGETLB;
#if defined(MAP_POPULATE)
      // hugetlb pages are reserved at mmap time; populating them here too is
      // free of surprises and means no fault later.
      if (options.prefault) flags |= MAP_POPULATE;
#endif
      void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
      if (p == MAP_FAILED) {
        // ENOMEM: not enough reserved huge pages. Say so plainly.
        if (errno == ENOMEM)
          return make_error_code(errc::huge_pages_unavailable);
        return detail::last_os_error();
      }
      adopt(p, size, huge_pages::required);
      return {};
#else
      return std::make_error_code(std::errc::not_supported);
#endif
    }

    const std::size_t huge_size = huge_page_size();
    const bool want_thp =
        options.huge == huge_pages::transparent && size >= huge_size;
    // A THP-backed block must start on a huge-page boundary: over-map by one
    // huge page, then trim the unaligned head and tail.
    std::size_t map_size = size;
    if (want_thp && !detail::round_up(size, huge_size, map_size)) {
      return std::make_error_code(std::errc::value_too_large);
    }
    if (want_thp &&
        map_size > std::numeric_limits<std::size_t>::max() - huge_size) {
      return std::make_error_code(std::errc::value_too_large);
    }
    const std::size_t reserve = want_thp ? map_size + huge_size : size;
#if defined(MAP_POPULATE)
    // Without THP, let the kernel populate in one pass (it write-faults
    // private pages, so no copy-on-write fault follows).
    if (options.prefault && !want_thp) flags |= MAP_POPULATE;
#endif
    void* raw = ::mmap(nullptr, reserve, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (raw == MAP_FAILED) return detail::last_os_error();
    auto* base = static_cast<unsigned char*>(raw);
    if (want_thp) {
      const auto addr = reinterpret_cast<std::uintptr_t>(base);
      const std::size_t head =
          (huge_size - (addr & (huge_size - 1))) & (huge_size - 1);
      if (head != 0) ::munmap(base, head);
      const std::size_t tail = reserve - head - map_size;
      if (tail != 0) ::munmap(base + head + map_size, tail);
      base += head;
      size = map_size;
#if defined(MADV_HUGEPAGE)
      // Best effort by contract: a kernel without THP simply ignores us.
      ::madvise(base, size, MADV_HUGEPAGE);
#endif
    }
#if !defined(MAP_POPULATE)
    if (options.prefault) touch_pages(base, size);
#else
    if (options.prefault && want_thp) prefault_thp(base, size);
#endif
    adopt(base, size, want_thp ? huge_pages::transparent : huge_pages::none);
    return {};
  }

#if defined(MAP_POPULATE)
  static void prefault_thp(void* data, std::size_t size) noexcept {
#if defined(MADV_POPULATE_WRITE)
    if (::madvise(data, size, MADV_POPULATE_WRITE) == 0) return;
#endif
    touch_pages(data, size);  // kernels before 5.14
  }
#endif
#endif

  void adopt(void* data, std::size_t size, huge_pages huge) noexcept {
    data_ = data;
    size_ = size;
    huge_ = huge;
    locked_ = false;
    NEXUS_PROBE(region_map, this, data_, size_);
  }

  void* data_ = nullptr;
  std::size_t size_ = 0;
  huge_pages huge_ = huge_pages::none;
  bool locked_ = false;
};

static_assert(region<mmap_region>);

}  // namespace nexus
