// SPDX-License-Identifier: MIT OR Apache-2.0
// The benchmark baseline for nexus::slab: the slab one writes by hand, a
// std::vector of {T, u32 tag-or-next} slots with a LIFO free list, growing
// by push_back (after reserve) when the free list is empty, like the Rust
// slab crate. Shared by bench/slab_latency.cpp and bench/bench_slab.cpp.
// `Alloc` lets slab_latency put the buffer on hugetlb pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace nexus_bench {

template <class T, class Alloc = std::allocator<T>>
class vector_slab {
 public:
  static constexpr std::uint32_t occupied = 0xFFFFFFFFu;
  static constexpr std::uint32_t none = 0xFFFFFFFEu;

  void reserve(std::size_t n) { slots_.reserve(n); }
  [[nodiscard]] const void* data() const { return slots_.data(); }
  [[nodiscard]] std::size_t reserved_bytes() const {
    return slots_.capacity() * sizeof(entry);
  }

  std::uint32_t insert(const T& v) {
    if (head_ != none) {
      const std::uint32_t i = head_;
      entry& e = slots_[i];
      head_ = e.next;
      e.value = v;
      e.next = occupied;
      return i;
    }
    slots_.push_back(entry{v, occupied});
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  const T* get(std::uint32_t i) const {
    if (i < slots_.size() && slots_[i].next == occupied)
      return &slots_[i].value;
    return nullptr;
  }
  std::optional<T> remove(std::uint32_t i) {
    if (i >= slots_.size() || slots_[i].next != occupied) return std::nullopt;
    entry& e = slots_[i];
    std::optional<T> out(e.value);
    e.next = head_;
    head_ = i;
    return out;
  }

 private:
  struct entry {
    T value;
    std::uint32_t next;
  };
  using entry_alloc =
      typename std::allocator_traits<Alloc>::template rebind_alloc<entry>;
  std::vector<entry, entry_alloc> slots_;
  std::uint32_t head_ = none;
};

}  // namespace nexus_bench
