// SPDX-License-Identifier: MIT OR Apache-2.0
// Built with -fno-exceptions: the no-exception paths of the library.
// try_insert / try_emplace / vacant_entry report "full" without throwing,
// allocation and locking errors come back as error codes, slab_list's
// try_insert reports an out-of-memory region as an empty optional. The
// calls that would throw instead print one line and abort: each runs in a
// child process (this program re-executed with --child NAME), which must die
// of SIGABRT with the documented message on stderr.
#include <nexus/heap_region.hpp>
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "fault_region.hpp"

#if NEXUS_HAS_EXCEPTIONS
#error "tests/no_exceptions/main.cpp must be compiled with exceptions disabled"
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#define NEXUS_TEST_HAVE_FORK 1
#else
#define NEXUS_TEST_HAVE_FORK 0
#endif

namespace {

int failures = 0;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "FAILED (line %d): %s\n", line, what);
    ++failures;
  }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

using u64 = std::uint64_t;

// Move-only value that records being moved from.
struct token {
  u64 v;
  bool moved_from = false;
  explicit token(u64 x) : v(x) {}
  token(token&& o) noexcept : v(o.v) { o.moved_from = true; }
  token& operator=(token&&) = delete;
};

void slab_try_paths() {
  nexus::slab<token, nexus::heap_region> s;
  // Unallocated: every insert is "full".
  token t(1);
  CHECK(!s.try_insert(std::move(t)).has_value());
  CHECK(!t.moved_from);
  CHECK(!s.vacant_entry());
  CHECK(s.mlock() == std::errc::invalid_argument);

  CHECK(s.alloc(0) == std::errc::invalid_argument);
  CHECK(s.alloc(SIZE_MAX) == std::errc::value_too_large);
  CHECK(s.alloc_bytes(10) == std::errc::invalid_argument);
  CHECK(!s.alloc(3));
  CHECK(s.alloc(3) == std::errc::device_or_resource_busy);

  std::size_t n = 0;
  while (s.try_emplace(u64{n})) ++n;
  CHECK(n == s.capacity());
  CHECK(s.full());
  token u(2);
  CHECK(!s.try_insert(std::move(u)).has_value());
  CHECK(!u.moved_from);  // not moved from when full
  CHECK(!s.try_emplace(u64{3}).has_value());
  CHECK(!s.vacant_entry());
  CHECK(s.size() == n);
  CHECK(s.erase(nexus::key(0)));
  CHECK(s.try_insert(std::move(u)).has_value());
  CHECK(u.moved_from);
}

void slab_list_try_paths() {
  using list = nexus::slab_list<u64, std::less<u64>, fault::region<>>;
  fault::plan::reset();
  {
    list l;
    u64 v = 0;
    // Fill until the region is asked for a chunk, with the map failing.
    fault::plan::fail_map_after(0);
    bool refused = false;
    for (; v < 100000 && !refused; ++v) {
      const std::size_t before = l.size();
      auto r = l.try_insert(u64{v});
      if (!r) {
        refused = true;
        CHECK(l.size() == before);
        CHECK(l.check_invariants());
      } else {
        CHECK(r->second);
      }
    }
    CHECK(refused);
    CHECK(fault::plan::failures == 1);
    // The same insert succeeds once memory is there again.
    CHECK(l.try_insert(u64{v - 1}).has_value());
    CHECK(l.size() == v);
    fault::plan::fail_lock_after(0);
    CHECK(l.mlock() == std::errc::resource_unavailable_try_again);
    CHECK(fault::plan::live_locks() == 0);
    CHECK(!l.mlock());
  }
  CHECK(fault::plan::live_maps() == 0);
  CHECK(fault::plan::live_locks() == 0);
}

void ordered_list_try_paths() {
  using list = nexus::slab_list<u64, nexus::insertion_order, fault::region<>>;
  fault::plan::reset();
  {
    list l;
    fault::plan::fail_map_after(0);
    bool refused = false;
    for (u64 v = 0; v < 100000 && !refused; ++v) {
      if (!l.try_push_back(u64{v})) {
        refused = true;
        CHECK(l.size() == v);
        CHECK(l.check_invariants());
      }
    }
    CHECK(refused);
  }
  CHECK(fault::plan::live_maps() == 0);
}

// ---- the aborting calls, one per child process ----

[[noreturn]] void child(const std::string& name) {
  if (name == "slab_insert_full") {
    nexus::slab<u64, nexus::heap_region> s;
    if (s.alloc(1)) std::exit(3);
    while (!s.full()) static_cast<void>(s.insert(u64{1}));
    static_cast<void>(s.insert(u64{2}));
  } else if (name == "slab_emplace_unallocated") {
    nexus::slab<u64, nexus::heap_region> s;
    static_cast<void>(s.emplace(u64{2}));
  } else if (name == "slab_list_insert_oom") {
    nexus::slab_list<u64, std::less<u64>, fault::region<>> l;
    fault::plan::fail_map_after(0);
    for (u64 v = 0; v < 100000; ++v) static_cast<void>(l.insert(v));
  } else if (name == "slab_list_reserve_oom") {
    nexus::slab_list<u64, std::less<u64>, fault::region<>> l;
    fault::plan::fail_map_after(0);
    l.reserve(100000);
  } else if (name == "ordered_list_at") {
    nexus::slab_list<u64, nexus::insertion_order, nexus::heap_region> l;
    l.push_back(1);
    static_cast<void>(l.at(1));
  }
  std::exit(4);  // should have aborted
}

struct death_case {
  const char* name;
  const char* message;  // the line on stderr
};

constexpr death_case deaths[] = {
    {"slab_insert_full", "nexus: nexus::slab::insert: slab is full"},
    {"slab_emplace_unallocated", "nexus: nexus::slab::insert: slab is full"},
    {"slab_list_insert_oom", "nexus: slab_list::insert: region refused memory"},
    {"slab_list_reserve_oom",
     "nexus: slab_list::reserve: region refused memory"},
    {"ordered_list_at", "nexus: nexus::slab_list::at: index out of range"},
};

#if NEXUS_TEST_HAVE_FORK
// Re-runs this program as `self --child name`; checks SIGABRT and stderr.
void expect_death(const char* self, const death_case& d) {
  int fds[2];
  if (::pipe(fds) != 0) {
    CHECK(!"pipe");
    return;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 2);
    char* const argv[] = {const_cast<char*>(self), const_cast<char*>("--child"),
                          const_cast<char*>(d.name), nullptr};
    ::execv(self, argv);
    ::_exit(5);
  }
  ::close(fds[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  CHECK(::waitpid(pid, &status, 0) == pid);
  const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  const bool said = err.find(d.message) != std::string::npos;
  if (!aborted || !said) {
    std::fprintf(stderr,
                 "death test %s: status %d, aborted %d, stderr was:\n%s\n",
                 d.name, status, aborted ? 1 : 0, err.c_str());
  }
  CHECK(aborted);
  CHECK(said);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--child") == 0) child(argv[2]);
  slab_try_paths();
  slab_list_try_paths();
  ordered_list_try_paths();
#if NEXUS_TEST_HAVE_FORK
#if defined(__linux__)
  const char* self = "/proc/self/exe";  // argv[0] may lack a directory
#else
  const char* self = argv[0];
#endif
  for (const death_case& d : deaths) expect_death(self, d);
  std::printf("no_exceptions: %zu death tests run\n",
              sizeof deaths / sizeof deaths[0]);
#else
  std::printf("no_exceptions: no fork() here, death tests skipped\n");
#endif
  if (failures != 0) {
    std::printf("no_exceptions: %d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("no_exceptions: all checks passed\n");
  return 0;
}
