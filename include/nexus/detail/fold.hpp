// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: map and fold over a chain of slabs, sequential and parallel —
// the container-independent part of for_each_slab / fold_left / fold_right /
// fold(nexus::parallel, ...) shared by the sorted and the ordered lists.
//
// ---- How a list plugs in ------------------------------------------------
// A list describes its chain of slabs with a small "chain" object (any type
// with these members; all are called on const objects, and concurrently from
// several threads by fold_parallel, so they must only read the list):
//
//   struct chain {
//     using value_type = T;
//     using handle = slab*;   // copyable, == comparable; handle{} = past end
//     std::span<const T> span(handle h) const;  // h's elements, in order
//     handle next(handle h) const;    // following slab, handle{} after last
//     handle prev(handle h) const;    // preceding slab (never asked of first)
//     handle last() const;            // last slab, handle{} when none
//     std::size_t slab_count() const; // slabs in the chain (small mode: 1)
//     slab_pos<handle> locate(std::size_t i) const;  // element i < size
//     void prefetch(handle h) const;  // optional: start loading slab h
//   };
//
// A position is slab_pos{slab, index}: element `index` of `slab`, with
// {handle{}, 0} the end — the same pair a list iterator holds. Positions
// must be normalized like iterators are: index < span(slab).size().
// Empty slabs are allowed anywhere in the chain and are skipped.
//
// Functions (all in nexus::detail):
//   for_each_span(c, first_slab, f)            f(span) per slab, in order
//   fold_left_range(c, first, last, init, op)  op(acc, x) over [first, last)
//   fold_right_range(c, first, last, init, op) op(x, acc) from last - 1 down
//   fold_parallel(c, size, init, op, combine, threads)  whole chain, threads
//
// ---- Semantics ------------------------------------------------------------
// fold_left / fold_right follow C++23 std::ranges::fold_left / fold_right:
// the accumulator type is U = decay_t<invoke_result_t<Op&, Init, const T&>>
// (fold_right: <Op&, const T&, Init>); an empty range returns U(init); the
// first call receives `init` itself (moved), later calls the moved
// accumulator. Elements are passed as const T& lvalues.
//
// fold_parallel splits the n elements into g contiguous groups of nearly
// equal element counts (cut at element positions found with locate(), i.e.
// O(log n) each with sublayers, so nothing walks the chain to split it;
// groups may start mid-slab). g is `threads`, or when threads == 0
// std::thread::hardware_concurrency() limited to one group per
// kParallelGrain elements (small lists are not worth a thread); g is then
// clamped to [1, slab_count()] and to n. Groups 1..g-1 each run on their own
// std::jthread, group 0 on the calling thread. Each group folds left from a
// copy of `init` (group 0 from `init` itself) with its own copy of `op`; the
// partial results are then combined strictly in order on the calling
// thread: r = p0; r = combine(move(r), move(p1)); ... So the result equals
// fold_left(init, op) whenever
//   * combine is associative (it need not be commutative),
//   * init is an identity of combine on the accumulator values, and
//   * op(a, x) == combine(a, op(init, x)) (op "appends" one element),
// e.g. sums with init 0, string concatenation with init "", matrix products
// with init = the identity matrix. A non-identity init is counted once per
// group: add it after the fold instead. With g == 1 no thread is started
// and the result is exactly fold_left(init, op).
//
// Thread safety: op runs concurrently on different elements (one copy per
// thread), combine only on the calling thread. The list must not be
// modified during the call (as for any const member).
//
// Exceptions: an exception thrown by op in any group is captured
// (std::exception_ptr); the other groups stop at their next slab boundary,
// every thread is joined, and the exception of the lowest-numbered group
// that threw is rethrown on the calling thread. An exception from combine,
// or std::system_error when a thread cannot be started, also propagates
// after every started thread is joined. Under -fno-exceptions none of this
// machinery is compiled in.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <nexus/detail/config.hpp>

#if NEXUS_HAS_EXCEPTIONS
#include <atomic>
#include <exception>
#endif

namespace nexus {

// Tag selecting the parallel fold: list.fold(nexus::parallel, init, op,
// combine, threads).
struct parallel_t {
  explicit parallel_t() = default;
};
inline constexpr parallel_t parallel{};

namespace detail {

// Element `index` of slab `slab`; {handle{}, 0} is the end of the chain.
template <class Handle>
struct slab_pos {
  Handle slab{};
  std::size_t index = 0;
  friend bool operator==(const slab_pos&, const slab_pos&) = default;
};

// With threads == 0, at least this many elements per parallel group: below
// ~64K 8-byte elements starting a thread costs more than folding them.
inline constexpr std::size_t kParallelGrain = std::size_t{1} << 16;

// Calls f(std::span<const T>) for every non-empty slab from `first` to the
// end of the chain, in order.
template <class Chain, class F>
void for_each_span(const Chain& c, typename Chain::handle first, F&& f) {
  using handle = typename Chain::handle;
  for (handle h = first; h != handle{};) {
    const auto s = c.span(h);
    h = c.next(h);
    if constexpr (requires { c.prefetch(h); })
      if (h != handle{}) c.prefetch(h);
    if (!s.empty()) std::invoke(f, s);
  }
}

// The non-empty pieces of [first, last), front to back.
template <class Chain>
class forward_spans {
 public:
  using handle = typename Chain::handle;
  using span_type = std::span<const typename Chain::value_type>;

  forward_spans(const Chain& c, slab_pos<handle> first,
                slab_pos<handle> last) noexcept
      : c_(&c), h_(first.slab), off_(first.index), last_(last) {
    if (first == last) h_ = handle{};
  }
  // The next non-empty piece, or an empty span once the range is done.
  span_type next() {
    while (h_ != handle{}) {
      span_type s = c_->span(h_);
      if (h_ == last_.slab) {
        s = s.subspan(off_, last_.index - off_);
        h_ = handle{};
      } else {
        s = s.subspan(off_);
        h_ = c_->next(h_);
        off_ = 0;
        // Fetch the next slab while the caller works through this one: the
        // chain is a linked list the hardware prefetcher cannot follow.
        if constexpr (requires { c_->prefetch(h_); })
          if (h_ != handle{}) c_->prefetch(h_);
      }
      if (!s.empty()) return s;
    }
    return {};
  }

 private:
  const Chain* c_;
  handle h_;
  std::size_t off_;
  slab_pos<handle> last_;
};

// The non-empty pieces of [first, last), back to front.
template <class Chain>
class backward_spans {
 public:
  using handle = typename Chain::handle;
  using span_type = std::span<const typename Chain::value_type>;

  backward_spans(const Chain& c, slab_pos<handle> first, slab_pos<handle> last)
      : c_(&c), first_(first), done_(first == last) {
    if (done_) return;
    h_ = last.slab != handle{} ? last.slab : c.last();
    hi_ = last.slab != handle{} ? last.index : c.span(h_).size();
  }
  span_type next() {
    while (!done_) {
      NEXUS_ASSERT(h_ != handle{}, "fold_right: first is not before last");
      span_type s = c_->span(h_).first(hi_);
      if (h_ == first_.slab) {
        s = s.subspan(first_.index);
        done_ = true;
      } else {
        h_ = c_->prev(h_);
        if (h_ != handle{}) {
          hi_ = c_->span(h_).size();
          if constexpr (requires { c_->prefetch(h_); }) c_->prefetch(h_);
        }
      }
      if (!s.empty()) return s;
    }
    return {};
  }

 private:
  const Chain* c_;
  slab_pos<handle> first_;
  bool done_;
  handle h_{};
  std::size_t hi_ = 0;
};

template <class Chain, class Init, class Op>
using fold_left_t = std::decay_t<
    std::invoke_result_t<Op&, Init, const typename Chain::value_type&>>;
template <class Chain, class Init, class Op>
using fold_right_t = std::decay_t<
    std::invoke_result_t<Op&, const typename Chain::value_type&, Init>>;

// Left fold of [first, last): op(op(op(init, x0), x1), ...). `stop`, when
// not null, is polled between slabs; once it is set the fold gives up and
// returns what it has (used by fold_parallel after a failure elsewhere).
template <class Chain, class Init, class Op, class Stop = bool>
fold_left_t<Chain, Init, Op> fold_left_range(
    const Chain& c, slab_pos<typename Chain::handle> first,
    slab_pos<typename Chain::handle> last, Init init, Op& op,
    const Stop* stop = nullptr) {
  using U = fold_left_t<Chain, Init, Op>;
  forward_spans<Chain> w(c, first, last);
  auto s = w.next();
  if (s.empty()) return U(std::move(init));
  U acc = std::invoke(op, std::move(init), s[0]);
  for (std::size_t i = 1; i < s.size(); ++i)
    acc = std::invoke(op, std::move(acc), s[i]);
  for (s = w.next(); !s.empty(); s = w.next()) {
    if (stop != nullptr && static_cast<bool>(*stop)) break;
    for (const auto& x : s) acc = std::invoke(op, std::move(acc), x);
  }
  return acc;
}

// Right fold of [first, last): op(x0, op(x1, ... op(x_last, init))).
template <class Chain, class Init, class Op>
fold_right_t<Chain, Init, Op> fold_right_range(
    const Chain& c, slab_pos<typename Chain::handle> first,
    slab_pos<typename Chain::handle> last, Init init, Op& op) {
  using U = fold_right_t<Chain, Init, Op>;
  backward_spans<Chain> w(c, first, last);
  auto s = w.next();
  if (s.empty()) return U(std::move(init));
  std::size_t i = s.size() - 1;
  U acc = std::invoke(op, s[i], std::move(init));
  while (i-- != 0) acc = std::invoke(op, s[i], std::move(acc));
  for (s = w.next(); !s.empty(); s = w.next())
    for (i = s.size(); i-- != 0;) acc = std::invoke(op, s[i], std::move(acc));
  return acc;
}

// Number of groups fold_parallel uses for n elements (see the top of file).
template <class Chain>
std::size_t parallel_groups(const Chain& c, std::size_t n,
                            unsigned threads) noexcept {
  std::size_t g = threads;
  if (g == 0) {
    // Asked once: glibc reads /sys on every call (~10 us, more than folding
    // a small list).
    static const unsigned hw =
        std::max(1u, std::thread::hardware_concurrency());
    g = hw;
    g = std::min(g, std::max<std::size_t>(1, n / kParallelGrain));
  }
  g = std::min({g, c.slab_count(), n});
  return std::max<std::size_t>(g, 1);
}

// Parallel fold of the whole chain holding n elements (see the top of file
// for the contract on init, op and combine).
template <class Chain, class Init, class Op, class Combine>
fold_left_t<Chain, Init, Op> fold_parallel(const Chain& c, std::size_t n,
                                           Init init, Op& op, Combine& combine,
                                           unsigned threads) {
  using handle = typename Chain::handle;
  using U = fold_left_t<Chain, Init, Op>;
  const std::size_t g = parallel_groups(c, n, threads);
  if (g <= 1)
    return fold_left_range(c, slab_pos<handle>{n ? c.locate(0).slab : handle{}},
                           slab_pos<handle>{}, std::move(init), op);

  // Group k is [cut[k], cut[k+1]); cut k sits at element k*n/g (computed
  // without overflowing k*n).
  std::vector<slab_pos<handle>> cut(g + 1);
  for (std::size_t k = 0; k < g; ++k)
    cut[k] = c.locate(n / g * k + n % g * k / g);
  cut[g] = slab_pos<handle>{};

  std::vector<std::optional<U>> part(g);
#if NEXUS_HAS_EXCEPTIONS
  std::vector<std::exception_ptr> error(g);
  std::atomic<bool> failed{false};
#else
  const bool failed = false;
#endif
  // `seed` is moved from inside the try, so a throwing move of Init is
  // reported like any other exception.
  auto run = [&](std::size_t k, Init& seed, Op& f) {
#if NEXUS_HAS_EXCEPTIONS
    try {
      part[k].emplace(
          fold_left_range(c, cut[k], cut[k + 1], std::move(seed), f, &failed));
    } catch (...) {
      error[k] = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
#else
    part[k].emplace(
        fold_left_range(c, cut[k], cut[k + 1], std::move(seed), f, &failed));
#endif
  };
  {
    // Declared after everything the workers use, so that unwinding joins
    // every thread before that is destroyed.
    std::vector<std::jthread> pool;
    pool.reserve(g - 1);
#if NEXUS_HAS_EXCEPTIONS
    try {
#endif
      for (std::size_t k = 1; k < g; ++k)
        pool.emplace_back([&run, k, seed = Init(init), f = op]() mutable {
          run(k, seed, f);
        });
#if NEXUS_HAS_EXCEPTIONS
    } catch (...) {
      failed.store(true, std::memory_order_relaxed);
      throw;  // pool's destructor joins the threads already started
    }
#endif
    run(0, init, op);
  }  // joins every worker

#if NEXUS_HAS_EXCEPTIONS
  for (const std::exception_ptr& e : error)
    if (e) std::rethrow_exception(e);
#endif
  // Every group finished (a failed one has rethrown above).
  const auto take = [](std::optional<U>& p) -> U&& {
    if (!p.has_value()) fatal("fold(parallel): a group has no result");
    return std::move(*p);
  };
  U acc = take(part[0]);
  for (std::size_t k = 1; k < g; ++k)
    acc = std::invoke(combine, std::move(acc), take(part[k]));
  return acc;
}

}  // namespace detail
}  // namespace nexus
