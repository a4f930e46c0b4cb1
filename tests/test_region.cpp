// SPDX-License-Identifier: MIT OR Apache-2.0
// Tests of the region layer against the real kernel: the `nexus::region`
// contract for mmap_region and heap_region, pre-faulting, mlock, hugetlb,
// transparent huge pages and MADV_COLLAPSE.
#include <nexus/heap_region.hpp>
#include <nexus/mmap_region.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>

#include "catch_shim.hpp"
#include "os_probe.hpp"

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

// A user-defined region need only satisfy the concept; one lacking a member
// is rejected at compile time.
struct missing_lock {
  std::error_code map(std::size_t, const nexus::region_options&);
  void unmap() noexcept;
  void* data() const noexcept;
  std::size_t size() const noexcept;
  bool empty() const noexcept;
  std::error_code unlock();
  bool locked() const noexcept;
  std::error_code collapse();
  static std::size_t granularity(nexus::huge_pages) noexcept;
};
static_assert(!nexus::region<missing_lock>);
static_assert(!nexus::region<int>);

bool all_bytes_are(const void* p, std::size_t n, unsigned char value) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] != value) return false;
  }
  return true;
}

}  // namespace

TEMPLATE_TEST_CASE("a default-constructed region owns nothing", "[region]",
                   nexus::mmap_region, nexus::heap_region) {
  const TestType r;
  CHECK(r.empty());
  CHECK(r.data() == nullptr);
  CHECK(r.size() == 0);
  CHECK_FALSE(r.locked());
}

TEMPLATE_TEST_CASE("map rounds up to the granularity and aligns to it",
                   "[region]", nexus::mmap_region, nexus::heap_region) {
  TestType r;
  const std::size_t page = TestType::granularity(nexus::huge_pages::none);
  REQUIRE_FALSE(r.map(page + 1));
  CHECK_FALSE(r.empty());
  CHECK(r.size() == 2 * page);
  CHECK(reinterpret_cast<std::uintptr_t>(r.data()) % page == 0);
  // Fresh memory is zeroed and writable end to end.
  CHECK(all_bytes_are(r.data(), r.size(), 0));
  std::memset(r.data(), 0xAB, r.size());
  CHECK(all_bytes_are(r.data(), r.size(), 0xAB));
}

TEMPLATE_TEST_CASE("bad sizes are rejected and leave the region empty",
                   "[region]", nexus::mmap_region, nexus::heap_region) {
  TestType r;
  CHECK(r.map(0) == std::errc::invalid_argument);
  CHECK(r.empty());
  CHECK(r.map(std::numeric_limits<std::size_t>::max()) ==
        std::errc::value_too_large);
  CHECK(r.empty());
  CHECK(r.map(std::numeric_limits<std::size_t>::max() / 2 + 1) ==
        std::errc::value_too_large);
  CHECK(r.empty());
}

TEMPLATE_TEST_CASE("mapping a mapped region fails and changes nothing",
                   "[region]", nexus::mmap_region, nexus::heap_region) {
  TestType r;
  REQUIRE_FALSE(r.map(3 * 4096));
  void* const data = r.data();
  const std::size_t size = r.size();
  CHECK(r.map(4096) == std::errc::device_or_resource_busy);
  CHECK(r.data() == data);
  CHECK(r.size() == size);
}

TEMPLATE_TEST_CASE("moves transfer ownership and empty the source", "[region]",
                   nexus::mmap_region, nexus::heap_region) {
  TestType a;
  REQUIRE_FALSE(a.map(8192));
  static_cast<unsigned char*>(a.data())[5] = 42;
  void* const data = a.data();

  TestType b(std::move(a));
  CHECK(a.empty());  // NOLINT: the moved-from state is specified
  CHECK(b.data() == data);
  CHECK(static_cast<unsigned char*>(b.data())[5] == 42);

  TestType c;
  REQUIRE_FALSE(c.map(4096));
  c = std::move(b);  // releases c's old block, adopts b's
  CHECK(b.empty());  // NOLINT: the moved-from state is specified
  CHECK(c.data() == data);

  TestType d;
  swap(d, c);
  CHECK(d.data() == data);
  CHECK(c.empty());

  d.unmap();
  CHECK(d.empty());
  d.unmap();  // idempotent
  CHECK(d.empty());
}

TEST_CASE("heap_region cannot promise huge pages or locking", "[region]") {
  nexus::heap_region r;
  CHECK(r.map(4096, {nexus::huge_pages::required, true}) ==
        std::errc::not_supported);
  CHECK(r.empty());
  REQUIRE_FALSE(r.map(4096));
  CHECK(r.lock() == std::errc::not_supported);
  CHECK(r.collapse() == std::errc::not_supported);
}

TEST_CASE("page and huge page sizes come from the OS", "[region][os]") {
  const std::size_t page = nexus::mmap_region::page_size();
  CHECK(page >= 4096);
  CHECK((page & (page - 1)) == 0);
  CHECK(nexus::mmap_region::granularity(nexus::huge_pages::none) == page);
  CHECK(nexus::mmap_region::granularity(nexus::huge_pages::transparent) ==
        page);
  CHECK(nexus::mmap_region::granularity(nexus::huge_pages::required) ==
        nexus::mmap_region::huge_page_size());
#if defined(__linux__)
  const auto kib = nexus::test::proc_kib("/proc/meminfo", "Hugepagesize");
  if (kib) CHECK(nexus::mmap_region::huge_page_size() == *kib * 1024);
#endif
}

#if defined(__linux__)

TEST_CASE("a pre-faulted region takes no page fault when touched",
          "[region][os]") {
  if (!nexus::test::fault_counts_are_exact) {
    NEXUS_SKIP("sanitizer runtimes take page faults of their own");
  }
  for (const auto huge :
       {nexus::huge_pages::none, nexus::huge_pages::transparent}) {
    CAPTURE(static_cast<int>(huge));
    nexus::mmap_region r;
    REQUIRE_FALSE(r.map(8 * mib, {huge, true}));
    auto* bytes = static_cast<volatile unsigned char*>(r.data());
    const long before = nexus::test::minor_faults();
    for (std::size_t i = 0; i < r.size(); ++i) bytes[i] = 1;
    const long after = nexus::test::minor_faults();
    CHECK(after - before == 0);
  }
}

TEST_CASE("without pre-faulting, first touches do fault (the probe works)",
          "[region][os]") {
  if (!nexus::test::fault_counts_are_exact) {
    NEXUS_SKIP("sanitizer runtimes take page faults of their own");
  }
  nexus::mmap_region r;
  REQUIRE_FALSE(r.map(4 * mib, {nexus::huge_pages::none, false}));
  auto* bytes = static_cast<volatile unsigned char*>(r.data());
  const long before = nexus::test::minor_faults();
  for (std::size_t i = 0; i < r.size(); i += 4096) bytes[i] = 1;
  CHECK(nexus::test::minor_faults() - before > 0);
}

TEST_CASE("transparent huge page regions are aligned to the huge page size",
          "[region][os]") {
  const std::size_t huge = nexus::mmap_region::huge_page_size();
  nexus::mmap_region big;
  REQUIRE_FALSE(big.map(3 * huge, {nexus::huge_pages::transparent, true}));
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % huge == 0);
  CHECK(big.size() == 3 * huge);
  CHECK(big.huge() == nexus::huge_pages::transparent);

  // Below one huge page there is nothing to gain: an ordinary mapping.
  nexus::mmap_region small;
  REQUIRE_FALSE(small.map(huge / 2, {nexus::huge_pages::transparent, true}));
  CHECK(small.size() == huge / 2);
  CHECK(small.huge() == nexus::huge_pages::none);
}

TEST_CASE("lock pins the region in RAM and unlock releases it",
          "[region][os]") {
  if (NEXUS_TEST_SANITIZED) NEXUS_SKIP("ASan makes mlock a no-op");
  nexus::mmap_region r;
  CHECK(r.lock() == std::errc::invalid_argument);  // nothing to lock
  REQUIRE_FALSE(r.map(4 * mib));
  const auto before = nexus::test::locked_bytes();
  REQUIRE(before.has_value());

  const std::error_code ec = r.lock();
  if (ec && !nexus::test::is_root()) {
    NEXUS_SKIP("mlock of 4 MiB needs CAP_IPC_LOCK or RLIMIT_MEMLOCK >= 4 MiB");
  }
  REQUIRE_FALSE(ec);
  CHECK(r.locked());
  CHECK(nexus::test::locked_bytes().value() == *before + r.size());
  CHECK_FALSE(r.lock());  // locking twice is harmless
  CHECK(nexus::test::locked_bytes().value() == *before + r.size());

  REQUIRE_FALSE(r.unlock());
  CHECK_FALSE(r.locked());
  CHECK(nexus::test::locked_bytes().value() == *before);

  // Unmapping a locked region unlocks it.
  REQUIRE_FALSE(r.lock());
  r.unmap();
  CHECK(nexus::test::locked_bytes().value() == *before);
}

TEST_CASE("a refused mlock returns the OS error and changes nothing",
          "[region][os]") {
  if (NEXUS_TEST_SANITIZED) NEXUS_SKIP("ASan makes mlock a no-op");
  if (!nexus::test::is_root()) {
    NEXUS_SKIP("dropping CAP_IPC_LOCK in a child needs root to start with");
  }
  // In a child: cap RLIMIT_MEMLOCK at 64 KiB, give up root (and with it
  // CAP_IPC_LOCK), then try to lock 1 MiB.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const rlimit limit{rlim_t{64} * 1024, rlim_t{64} * 1024};
    if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) ::_exit(10);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(11);
    nexus::mmap_region r;
    if (r.map(mib)) ::_exit(12);
    void* const data = r.data();
    const std::error_code ec = r.lock();
    if (!ec) ::_exit(13);
    if (ec != std::errc::not_enough_memory &&
        ec != std::errc::operation_not_permitted) {
      ::_exit(14);
    }
    if (ec.category() != std::system_category()) ::_exit(15);
    if (r.locked() || r.data() != data || r.size() != mib) ::_exit(16);
    if (nexus::test::locked_bytes().value_or(1) != 0) ::_exit(17);
    static_cast<unsigned char*>(r.data())[0] = 1;  // still usable
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("hugetlb fails cleanly when no huge pages are reserved",
          "[region][os][hugetlb]") {
  if (!nexus::test::is_root()) {
    NEXUS_SKIP(
        "emptying the hugetlb pool (/proc/sys/vm/nr_hugepages) needs root");
  }
  const nexus::test::huge_page_reservation none(0, /*exact=*/true);
  REQUIRE(none.ok());
  nexus::mmap_region r;
  const std::error_code ec = r.map(1, {nexus::huge_pages::required, true});
  CHECK(ec == nexus::errc::huge_pages_unavailable);
  CHECK(ec == std::errc::not_enough_memory);
  CHECK(ec.message().find("nr_hugepages") != std::string::npos);
  CHECK(r.empty());
}

TEST_CASE("hugetlb regions come from the reserved huge page pool",
          "[region][os][hugetlb]") {
  if (!nexus::test::is_root()) {
    NEXUS_SKIP("reserving huge pages (/proc/sys/vm/nr_hugepages) needs root");
  }
  const nexus::test::huge_page_reservation reserved(2);
  if (!reserved.ok()) NEXUS_SKIP("the kernel could not reserve 2 huge pages");
  const std::size_t huge = nexus::mmap_region::huge_page_size();
  const std::size_t free_before = nexus::test::huge_pages_free().value();

  nexus::mmap_region r;
  REQUIRE_FALSE(r.map(huge + 1, {nexus::huge_pages::required, true}));
  CHECK(r.size() == 2 * huge);
  CHECK(r.huge() == nexus::huge_pages::required);
  CHECK(reinterpret_cast<std::uintptr_t>(r.data()) % huge == 0);
  CHECK(nexus::test::huge_pages_free().value() == free_before - 2);
  std::memset(r.data(), 0x5A, r.size());
  CHECK(all_bytes_are(r.data(), r.size(), 0x5A));
  CHECK_FALSE(r.collapse());  // already huge

  r.unmap();
  CHECK(nexus::test::huge_pages_free().value() == free_before);
}

TEST_CASE("collapse backs a region with transparent huge pages",
          "[region][os][thp]") {
  const std::size_t huge = nexus::mmap_region::huge_page_size();
  nexus::mmap_region tiny;
  REQUIRE_FALSE(tiny.map(4096));
  CHECK(tiny.collapse() == std::errc::invalid_argument);

  nexus::mmap_region r;
  REQUIRE_FALSE(r.map(2 * huge, {nexus::huge_pages::transparent, true}));
  const std::error_code ec = r.collapse();
  if (ec == std::errc::not_supported) {
    NEXUS_SKIP("this kernel has no MADV_COLLAPSE (Linux 6.1+)");
  }
  REQUIRE_FALSE(ec);
  const auto anon_huge = nexus::test::anon_huge_bytes_at(r.data());
  REQUIRE(anon_huge.has_value());
  CHECK(*anon_huge == r.size());
}

#endif  // __linux__
