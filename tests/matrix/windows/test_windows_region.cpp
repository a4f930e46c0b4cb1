// SPDX-License-Identifier: MIT OR Apache-2.0
// Windows-only checks of mmap_region's Win32 path, run under wine in CI:
// VirtualAlloc commits readable/writable pages, VirtualLock/VirtualUnlock
// pin and release them, and the large-page path (MEM_LARGE_PAGES) fails
// cleanly without SeLockMemoryPrivilege.
#include <nexus/nexus.hpp>

#include <cstdint>
#include <cstring>

#include "catch_shim.hpp"

#if defined(_WIN32)
#include <windows.h>

namespace {

// What VirtualQuery says about the page at `p`.
MEMORY_BASIC_INFORMATION query(const void* p) {
  MEMORY_BASIC_INFORMATION info{};
  REQUIRE(::VirtualQuery(p, &info, sizeof info) == sizeof info);
  return info;
}

}  // namespace

TEST_CASE("mmap_region commits read-write pages with VirtualAlloc",
          "[windows][region]") {
  SYSTEM_INFO si;
  ::GetSystemInfo(&si);
  REQUIRE(nexus::mmap_region::page_size() == si.dwPageSize);

  nexus::mmap_region r;
  REQUIRE_FALSE(r.map(3 * si.dwPageSize + 1));
  REQUIRE(r.size() == 4 * si.dwPageSize);
  // A VirtualAlloc reservation starts on the allocation granularity.
  CHECK(reinterpret_cast<std::uintptr_t>(r.data()) %
            si.dwAllocationGranularity ==
        0);
  const MEMORY_BASIC_INFORMATION info = query(r.data());
  CHECK(info.State == MEM_COMMIT);
  CHECK(info.Protect == PAGE_READWRITE);
  CHECK(info.RegionSize >= r.size());
  std::memset(r.data(), 0xab, r.size());

  void* const base = r.data();
  r.unmap();
  CHECK(r.empty());
  CHECK(query(base).State == MEM_FREE);
}

TEST_CASE("an impossible size reports the Windows error and stays empty",
          "[windows][region]") {
  nexus::mmap_region r;
  // 64 TiB: more than any test machine can commit.
  const std::error_code ec = r.map(std::size_t{1} << 46);
  INFO(ec.message());
  CHECK(ec);
  CHECK(ec.category() == std::system_category());
  CHECK(r.empty());
  CHECK(r.size() == 0);
}

TEST_CASE("lock and unlock use VirtualLock and VirtualUnlock",
          "[windows][region]") {
  nexus::mmap_region r;
  REQUIRE_FALSE(r.map(64 * 1024));
  const std::error_code locked = r.lock();
  INFO(locked.message());
  REQUIRE_FALSE(locked);
  CHECK(r.locked());
  // Locked pages stay committed and usable.
  std::memset(r.data(), 1, r.size());
  CHECK_FALSE(r.lock());  // already locked: no-op
  REQUIRE_FALSE(r.unlock());
  CHECK_FALSE(r.locked());
  CHECK_FALSE(r.unlock());  // already unlocked: no-op

  nexus::mmap_region empty;
  CHECK(empty.lock() == std::errc::invalid_argument);
}

TEST_CASE("a slab mlocks and munlocks its block on Windows",
          "[windows][slab]") {
  nexus::slab<std::uint64_t> s;
  REQUIRE_FALSE(s.alloc(1000));
  REQUIRE_FALSE(s.mlock());
  CHECK(s.locked());
  CHECK(s.stats().bytes_locked == s.memory_size());
  REQUIRE_FALSE(s.munlock());
  CHECK_FALSE(s.locked());
}

TEST_CASE("large pages without SeLockMemoryPrivilege fail cleanly",
          "[windows][region][huge]") {
  // The test runs unprivileged (wine, or a normal Windows account).
  const std::size_t large = ::GetLargePageMinimum();
  if (large != 0) {
    CHECK(nexus::mmap_region::huge_page_size() == large);
  }
  nexus::mmap_region r;
  const std::error_code ec =
      r.map(1, {.huge = nexus::huge_pages::required, .prefault = true});
  INFO(ec.message());
  if (large == 0) {
    CHECK(ec == std::errc::not_supported);
  } else {
    CHECK(ec == nexus::errc::huge_pages_unavailable);
  }
  CHECK(r.empty());
  CHECK(r.huge() == nexus::huge_pages::none);

  nexus::slab<std::uint64_t> s;
  const std::error_code slab_ec = s.alloc_hugetlb(1000);
  INFO(slab_ec.message());
  CHECK(slab_ec);
  CHECK(s.memory_size() == 0);
  CHECK(s.capacity() == 0);
  // The slab is still usable with ordinary pages afterwards.
  REQUIRE_FALSE(s.alloc(1000));
  CHECK(s.try_insert(std::uint64_t{7}).has_value());
}

TEST_CASE("transparent huge pages and collapse are not supported",
          "[windows][region][huge]") {
  nexus::mmap_region r;
  REQUIRE_FALSE(r.map(
      4 << 20, {.huge = nexus::huge_pages::transparent, .prefault = true}));
  CHECK(r.collapse() == std::errc::not_supported);
}

#else

TEST_CASE("Windows region tests need a Windows build", "[windows]") {
  NEXUS_SKIP("not a Windows build");
}

#endif
