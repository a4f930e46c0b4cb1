// SPDX-License-Identifier: MIT OR Apache-2.0
// Test-side fault injection: `fault::region<Inner>`, a nexus::region that
// forwards to `Inner` (nexus::heap_region by default) but fails its k-th
// map() or k-th lock() call with a chosen error, and counts every map,
// unmap, lock and unlock so tests can prove nothing leaks.
//
// The plan is thread-local: arm it, run the operation, disarm it.
//   fault::plan::reset();
//   fault::plan::fail_map_after(2);   // the 3rd map() from now fails
//   ... container operations ...
//   REQUIRE(fault::plan::live_maps() == 0);   // after the container is gone
#pragma once

#include <cstddef>
#include <system_error>
#include <utility>

#include <nexus/heap_region.hpp>
#include <nexus/region.hpp>

namespace fault {

// Countdowns and counters shared by every fault::region on this thread.
struct plan {
  // Calls to let through before one fails; -1 = never fail.
  static inline thread_local long map_countdown = -1;
  static inline thread_local long lock_countdown = -1;
  // What a failing call returns.
  static inline thread_local std::error_code map_error =
      std::make_error_code(std::errc::not_enough_memory);
  static inline thread_local std::error_code lock_error =
      std::make_error_code(std::errc::resource_unavailable_try_again);

  static inline thread_local long map_calls = 0;   // attempted
  static inline thread_local long maps = 0;        // succeeded
  static inline thread_local long unmaps = 0;      // blocks released
  static inline thread_local long lock_calls = 0;  // attempted
  static inline thread_local long locks = 0;       // succeeded
  static inline thread_local long unlocks = 0;     // locks undone
  static inline thread_local long failures = 0;    // injected failures

  static void reset() noexcept {
    map_countdown = lock_countdown = -1;
    map_error = std::make_error_code(std::errc::not_enough_memory);
    lock_error =
        std::make_error_code(std::errc::resource_unavailable_try_again);
    map_calls = maps = unmaps = lock_calls = locks = unlocks = failures = 0;
  }
  // The (k+1)-th map() from now fails (k == 0: the next one).
  static void fail_map_after(long k) noexcept { map_countdown = k; }
  static void fail_lock_after(long k) noexcept { lock_countdown = k; }
  static void disarm() noexcept { map_countdown = lock_countdown = -1; }
  // True while an armed countdown has not fired yet.
  [[nodiscard]] static bool map_pending() noexcept {
    return map_countdown >= 0;
  }
  [[nodiscard]] static bool lock_pending() noexcept {
    return lock_countdown >= 0;
  }
  [[nodiscard]] static long live_maps() noexcept { return maps - unmaps; }
  [[nodiscard]] static long live_locks() noexcept { return locks - unlocks; }

  // Consumes one tick of a countdown; true if this call must fail.
  static bool fire(long& countdown) noexcept {
    if (countdown < 0) return false;
    if (countdown-- > 0) return false;
    ++failures;
    return true;
  }
};

// A region that forwards to Inner and fails where the plan says. Inner's
// lock() may be unsupported (heap_region): then locking is only recorded,
// so lock faults can be injected on a heap-backed container too.
template <class Inner = nexus::heap_region>
class region {
 public:
  region() noexcept = default;
  region(const region&) = delete;
  region& operator=(const region&) = delete;
  region(region&& o) noexcept
      : inner_(std::move(o.inner_)), locked_(std::exchange(o.locked_, false)) {}
  region& operator=(region&& o) noexcept {
    if (this != &o) {
      unmap();
      inner_ = std::move(o.inner_);
      locked_ = std::exchange(o.locked_, false);
    }
    return *this;
  }
  ~region() { unmap(); }

  // Fails with plan::map_error when the map countdown fires; else Inner's.
  [[nodiscard]] std::error_code map(std::size_t bytes,
                                    const nexus::region_options& o = {}) {
    ++plan::map_calls;
    if (!inner_.empty()) {
      return std::make_error_code(std::errc::device_or_resource_busy);
    }
    if (plan::fire(plan::map_countdown)) return plan::map_error;
    std::error_code ec = inner_.map(bytes, o);
    if (!ec) ++plan::maps;
    return ec;
  }

  void unmap() noexcept {
    if (inner_.empty()) return;
    if (locked_) {
      locked_ = false;
      ++plan::unlocks;
    }
    inner_.unmap();
    ++plan::unmaps;
  }

  [[nodiscard]] void* data() const noexcept { return inner_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return inner_.size(); }
  [[nodiscard]] bool empty() const noexcept { return inner_.empty(); }
  [[nodiscard]] bool locked() const noexcept { return locked_; }

  // Fails with plan::lock_error when the lock countdown fires.
  [[nodiscard]] std::error_code lock() {
    ++plan::lock_calls;
    if (inner_.empty())
      return std::make_error_code(std::errc::invalid_argument);
    if (plan::fire(plan::lock_countdown)) return plan::lock_error;
    std::error_code ec = inner_.lock();
    if (ec == std::errc::not_supported) ec.clear();  // recorded only
    if (ec) return ec;
    if (!locked_) {
      locked_ = true;
      ++plan::locks;
    }
    return {};
  }
  [[nodiscard]] std::error_code unlock() {
    if (inner_.empty())
      return std::make_error_code(std::errc::invalid_argument);
    std::error_code ec = inner_.unlock();
    if (ec == std::errc::not_supported) ec.clear();
    if (ec) return ec;
    if (locked_) {
      locked_ = false;
      ++plan::unlocks;
    }
    return {};
  }
  [[nodiscard]] std::error_code collapse() { return inner_.collapse(); }

  [[nodiscard]] static std::size_t granularity(nexus::huge_pages h) noexcept {
    return Inner::granularity(h);
  }

 private:
  Inner inner_;
  bool locked_ = false;
};

static_assert(nexus::region<region<>>);

}  // namespace fault
