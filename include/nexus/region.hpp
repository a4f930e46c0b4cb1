// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: the memory-region concept every container is parameterised on.
//
// A region owns one contiguous, page-aligned block of memory obtained from
// somewhere (the OS, the heap, shared memory, a NUMA node...). Containers ask
// for a block once (`map`), may pin it (`lock`) or ask for huge pages, and
// release it on destruction. Bring your own type: anything that satisfies
// `nexus::region` plugs into `nexus::slab` and `nexus::slab_list`.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <type_traits>

namespace nexus {

// How a region should be backed by huge pages.
enum class huge_pages : std::uint8_t {
  none,         // ordinary pages
  transparent,  // best effort: madvise(MADV_HUGEPAGE) on blocks >= 2 MiB
  required,     // guaranteed (MAP_HUGETLB / MEM_LARGE_PAGES) or map() fails
};

struct region_options {
  huge_pages huge = huge_pages::none;
  // Touch every page before map() returns, so that no page fault happens
  // when the memory is first used.
  bool prefault = true;
};

// Requirements (checked by the concept where the language allows):
// - default construction gives an empty region (data() == nullptr, size() ==
// 0);
// - map(n, opts) on an empty region maps at least n bytes rounded up to
//   granularity(opts.huge), aligned to at least that granularity's page; on
//   failure it returns the error and the region stays empty. Calling it on a
//   mapped region is an error (std::errc::device_or_resource_busy);
// - unmap() releases the memory (unlocking first); a no-op when empty;
// - lock()/unlock() pin or unpin the whole block; on failure nothing changes;
// - collapse() asks for huge pages after the fact; returns
//   std::errc::not_supported when the platform cannot;
// - moves are noexcept and leave the source empty.
template <class R>
concept region =
    std::default_initializable<R> && std::is_nothrow_move_constructible_v<R> &&
    std::is_nothrow_move_assignable_v<R> && std::is_nothrow_destructible_v<R> &&
    requires(R& r, const R& cr, std::size_t n, const region_options& o,
             huge_pages h) {
      { r.map(n, o) } -> std::same_as<std::error_code>;
      { r.unmap() } noexcept;
      { cr.data() } noexcept -> std::same_as<void*>;
      { cr.size() } noexcept -> std::same_as<std::size_t>;
      { cr.empty() } noexcept -> std::same_as<bool>;
      { r.lock() } -> std::same_as<std::error_code>;
      { r.unlock() } -> std::same_as<std::error_code>;
      { cr.locked() } noexcept -> std::same_as<bool>;
      { r.collapse() } -> std::same_as<std::error_code>;
      { R::granularity(h) } noexcept -> std::same_as<std::size_t>;
    };

}  // namespace nexus
