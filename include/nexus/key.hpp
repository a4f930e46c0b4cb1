// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: `nexus::key`, the strong index type returned by nexus::slab.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>

#include <nexus/detail/config.hpp>

namespace nexus {

// A slot index. Keys carry no generation counter: after a slot is freed and
// reused, an old key reaches whatever value now lives there. Held as 32 bits
// because no slab holds more than 2^32 - 1 slots, which keeps keys (and the
// free list threaded through vacant slots) small.
class key {
 public:
  // The largest index a key can hold; never a valid slot (slab capacity is at
  // most max_index), so containers may use it as a "no slot" sentinel.
  static constexpr std::size_t max_index =
      std::numeric_limits<std::uint32_t>::max();

  // A key that names no slot of any slab (index() == max_index).
  constexpr key() noexcept = default;

  constexpr explicit key(std::size_t index) noexcept
      : index_(static_cast<std::uint32_t>(index)) {
    NEXUS_ASSERT(index <= max_index, "nexus::key index exceeds 32 bits");
  }

  [[nodiscard]] constexpr std::size_t index() const noexcept { return index_; }

  friend constexpr bool operator==(key, key) noexcept = default;
  friend constexpr std::strong_ordering operator<=>(key,
                                                    key) noexcept = default;

 private:
  std::uint32_t index_ = std::numeric_limits<std::uint32_t>::max();
};

}  // namespace nexus

template <>
struct std::hash<nexus::key> {
  [[nodiscard]] std::size_t operator()(nexus::key k) const noexcept {
    return std::hash<std::size_t>{}(k.index());
  }
};
