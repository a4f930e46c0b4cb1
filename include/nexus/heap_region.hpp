// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: `nexus::heap_region`, a region carved from the C++ heap with
// page alignment. It satisfies `nexus::region` with no OS residency control
// (lock/collapse report not_supported) and serves as the portable fallback,
// as a model for user-defined regions, and in tests.
#pragma once

#include <nexus/detail/config.hpp>
#include <nexus/detail/probes.hpp>
#include <nexus/region.hpp>

#include <cstddef>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>
#include <utility>

namespace nexus {

class heap_region {
 public:
  static constexpr std::size_t alignment = 4096;

  constexpr heap_region() noexcept = default;
  heap_region(const heap_region&) = delete;
  heap_region& operator=(const heap_region&) = delete;
  heap_region(heap_region&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  heap_region& operator=(heap_region&& other) noexcept {
    if (this != &other) {
      unmap();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~heap_region() { unmap(); }

  // Allocates at least `bytes` bytes rounded up to `alignment`, zero-filled
  // when options.prefault (which also faults the pages in). Huge pages of
  // either kind are std::errc::not_supported: the heap cannot promise them.
  [[nodiscard]] std::error_code map(std::size_t bytes,
                                    const region_options& options = {}) {
    if (data_ != nullptr) {
      return std::make_error_code(std::errc::device_or_resource_busy);
    }
    if (bytes == 0) return std::make_error_code(std::errc::invalid_argument);
    if (options.huge == huge_pages::required) {
      return std::make_error_code(std::errc::not_supported);
    }
    if (bytes >
        static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) -
            alignment) {
      return std::make_error_code(std::errc::value_too_large);
    }
    const std::size_t size = (bytes + alignment - 1) & ~(alignment - 1);
    void* p = ::operator new(size, std::align_val_t{alignment}, std::nothrow);
    if (p == nullptr) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
    if (options.prefault) std::memset(p, 0, size);
    data_ = p;
    size_ = size;
    NEXUS_PROBE(region_map, this, data_, size_);
    return {};
  }

  void unmap() noexcept {
    if (data_ == nullptr) return;
    NEXUS_PROBE(region_unmap, this, data_, size_);
    ::operator delete(data_, std::align_val_t{alignment});
    data_ = nullptr;
    size_ = 0;
  }

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }
  [[nodiscard]] bool locked() const noexcept { return false; }

  [[nodiscard]] std::error_code lock() {
    return std::make_error_code(std::errc::not_supported);
  }
  [[nodiscard]] std::error_code unlock() {
    return std::make_error_code(std::errc::not_supported);
  }
  [[nodiscard]] std::error_code collapse() {
    return std::make_error_code(std::errc::not_supported);
  }

  [[nodiscard]] static std::size_t granularity(huge_pages) noexcept {
    return alignment;
  }

  void swap(heap_region& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }
  friend void swap(heap_region& a, heap_region& b) noexcept { a.swap(b); }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

static_assert(region<heap_region>);

}  // namespace nexus
