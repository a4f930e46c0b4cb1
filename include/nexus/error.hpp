// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: the library's own error codes, for failures the OS reports
// ambiguously. Each compares equal to the closest std::errc, so callers may
// test either `ec == nexus::errc::huge_pages_unavailable` or
// `ec == std::errc::not_enough_memory`.
#pragma once

#include <string>
#include <system_error>

namespace nexus {

enum class errc {
  // MAP_HUGETLB / MEM_LARGE_PAGES could not be satisfied: too few huge pages
  // are reserved (Linux: /proc/sys/vm/nr_hugepages) or the privilege is
  // missing (Windows: SeLockMemoryPrivilege).
  huge_pages_unavailable = 1,
};

namespace detail {

class error_category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "nexus"; }

  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::huge_pages_unavailable:
        return "huge pages unavailable: reserve some (Linux: echo N > "
               "/proc/sys/vm/nr_hugepages; Windows: SeLockMemoryPrivilege)";
    }
    return "unknown nexus error";
  }

  [[nodiscard]] std::error_condition default_error_condition(
      int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::huge_pages_unavailable:
        return std::errc::not_enough_memory;
    }
    return {value, *this};
  }
};

}  // namespace detail

[[nodiscard]] inline const std::error_category& error_category() noexcept {
  static const detail::error_category category;
  return category;
}

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace nexus

template <>
struct std::is_error_code_enum<nexus::errc> : std::true_type {};
