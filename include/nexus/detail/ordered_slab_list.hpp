// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: nexus::slab_list<T, nexus::insertion_order, Region> — a list
// kept in insertion order, with O(log n) positional access and editing
// anywhere. Included by <nexus/slab_list.hpp>; include that instead.
//
// Design. It is the sorted list's machinery (detail::basic_slab_list) in its
// ordered mode: the same 1 KiB slabs, node pool, small-list mode, spills,
// redistribution windows, merges, compaction (min_capacity_ratio) and
// sublayers, minus the separator keys. A position is found by descending the
// sublayers' per-child element counts, and index_of climbs from a slab to the
// root through parent pointers (the first word of every slab and sublayer
// node in this mode). push_back into a full last slab starts a new slab, and
// push_front into a full first slab starts a new first slab, so appending
// and prepending leave full slabs.
//
// Complexity: push/pop at either end, insert, emplace, erase(pos),
// operator[], at, nth and index_of are O(log n) (a descent over at most 8
// sublayers, scanning at most `fanout` counts per node, plus moving at most
// one redistribution window of 32 slabs); erase(first, last) is
// O(log n * (1 + (last - first) / slab_capacity)) plus the destructors;
// inserting k elements (insert(pos, n, v), insert(pos, first, last),
// insert(pos, il), insert_range, append_range, prepend_range) is
// O(k log(n + k)), one insert per element; assign of k elements is
// O(k log k) plus destroying the old ones; resize is that of inserting or
// erasing the difference; iteration is O(1) per step; sort, reverse, copy
// and == are O(n) (sort: O(n log n)).
//
// Iterator invalidation:
// - push_back, push_front, emplace_back, emplace_front, insert (every form),
//   insert_range, append_range, prepend_range, emplace, try_* (on success),
//   erase, pop_back, pop_front, clear, remove_if / erase_if, shrink_to_fit,
//   assign, resize: every iterator, pointer and reference is invalidated
//   (elements move between slabs). A single-element call that fails (throws
//   std::bad_alloc or from T's copy, or a try_* returning false/empty)
//   invalidates nothing, nor does a failed assign. A multi-element insert or
//   a growing resize that fails has put back the same values in the same
//   order, but invalidates every iterator (its partial inserts were undone by
//   erasing them). An insert or resize that adds nothing, and a resize to
//   size(), invalidate nothing.
// - reserve: nothing, unless the list was in small-list mode (then all).
// - sort, reverse: iterators, pointers and references stay valid and keep
//   their positions; the values at those positions change.
// - writes through iterators or references, operator[], at, nth, index_of,
//   front, back, iteration, memory_size, mlock, munlock: nothing.
// - swap and move: iterators to elements stay valid (they now refer into the
//   other list); end() iterators do not.
//
// Exceptions: T must be nothrow move constructible. If the region refuses
// memory, push_*, emplace_*, insert and emplace throw std::bad_alloc (abort
// with a message under -fno-exceptions) and leave the list unchanged; the
// try_* forms report it instead and leave their argument untouched. A
// throwing copy (insert(pos, const T&)) or constructor (emplace) also leaves
// the list unchanged, since the element is built before anything moves.
// Inserting several elements (insert(pos, n, v), insert(pos, first, last),
// insert(pos, il), the *_range forms, a growing resize) is all or nothing:
// if one insert throws, the elements the call already inserted are erased
// (which cannot fail) and the exception propagates, so the list holds its
// old values; assign builds a separate list and swaps it in.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <nexus/slab_list.hpp>

namespace nexus {

// A list in insertion order made of 1 KiB slabs (see the file comment).
template <class T, class Region>
class slab_list<T, insertion_order, Region>
    : private detail::basic_slab_list<T, insertion_order, Region, false> {
  using base = detail::basic_slab_list<T, insertion_order, Region, false>;
  using status = typename base::status;

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using region_type = Region;
  using const_iterator = typename base::const_iterator;

  // Mutable bidirectional iterator; converts to const_iterator.
  class iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;

    iterator() = default;
    // The elements are never const objects, so writing through is sound.
    reference operator*() const noexcept { return const_cast<T&>(*it_); }
    pointer operator->() const noexcept { return std::addressof(**this); }
    iterator& operator++() noexcept {
      ++it_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator t = *this;
      ++it_;
      return t;
    }
    iterator& operator--() noexcept {
      --it_;
      return *this;
    }
    iterator operator--(int) noexcept {
      iterator t = *this;
      --it_;
      return t;
    }
    // The same position, read-only.
    operator const_iterator() const noexcept { return it_; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.it_ == b.it_;
    }

   private:
    friend class slab_list;
    explicit iterator(const_iterator it) noexcept : it_(it) {}
    const_iterator it_;
  };
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  // Elements per 1 KiB slab (124 for 8-byte T: the header holds a parent
  // pointer besides prev, next and count).
  static constexpr std::size_t slab_capacity = base::slab_capacity;
  // Sublayers never exceed this.
  static constexpr std::size_t max_sublayers = base::max_sublayers;
  // Below this many elements the list lives in one heap buffer.
  static constexpr std::size_t small_list_max = base::small_list_max;

  // ---- construction ----
  // An empty list (owns no memory until the first insert).
  slab_list() : base(slab_list_options{}) {}
  // An empty list with the given options (same meaning as the sorted list).
  explicit slab_list(const slab_list_options& opts) : base(opts) {}
  // The elements of il, in order.
  slab_list(std::initializer_list<T> il, const slab_list_options& opts = {})
      : base(opts) {
    for (const T& v : il) push_back(v);
  }
  // The elements of [first, last), in order.
  template <std::input_iterator It, std::sentinel_for<It> S>
  slab_list(It first, S last, const slab_list_options& opts = {}) : base(opts) {
    for (; first != last; ++first) emplace_back(*first);
  }
  // Deep copy (packed into full slabs).
  slab_list(const slab_list&) = default;
  // Takes o's elements and memory; o is left empty.
  slab_list(slab_list&&) noexcept = default;
  // Deep copy; strong guarantee.
  slab_list& operator=(const slab_list&) = default;
  // Takes o's elements and memory, releasing this list's.
  slab_list& operator=(slab_list&&) noexcept = default;
  ~slab_list() = default;

  // Exchanges contents, options and memory in O(1).
  void swap(slab_list& o) noexcept { base::swap(o); }
  friend void swap(slab_list& a, slab_list& b) noexcept { a.swap(b); }

  // ---- iteration ----
  // Iterators over the elements in list order.
  iterator begin() noexcept { return iterator(base::begin()); }
  iterator end() noexcept { return iterator(base::end()); }
  const_iterator begin() const noexcept { return base::begin(); }
  const_iterator end() const noexcept { return base::end(); }
  const_iterator cbegin() const noexcept { return base::begin(); }
  const_iterator cend() const noexcept { return base::end(); }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept {
    return const_reverse_iterator(end());
  }
  const_reverse_iterator rend() const noexcept {
    return const_reverse_iterator(begin());
  }
  const_reverse_iterator crbegin() const noexcept { return rbegin(); }
  const_reverse_iterator crend() const noexcept { return rend(); }

  // ---- capacity, memory, diagnostics (as for the sorted list) ----
  using base::check_invariants;
  using base::clear;
  using base::empty;
  using base::memory_size;
  using base::mlock;
  using base::munlock;
  using base::name;
  using base::options;
  using base::reserve;
  using base::shrink_to_fit;
  using base::size;
  using base::slab_count;
  using base::stats;
  using base::sublayer_count;
  using base::violation;

  // ---- element access ----
  // First element (precondition: !empty()).
  reference front() noexcept { return const_cast<T&>(base::front()); }
  const_reference front() const noexcept { return base::front(); }
  // Last element (precondition: !empty()).
  reference back() noexcept { return const_cast<T&>(base::back()); }
  const_reference back() const noexcept { return base::back(); }
  // Element at position i (precondition: i < size()), O(log n).
  reference operator[](size_type i) noexcept {
    NEXUS_ASSERT(i < size(), "slab_list::operator[]: index out of range");
    return *nth(i);
  }
  const_reference operator[](size_type i) const noexcept {
    NEXUS_ASSERT(i < size(), "slab_list::operator[]: index out of range");
    return *nth(i);
  }
  // Element at position i; throws std::out_of_range (aborts with a message
  // under -fno-exceptions) when i >= size(). O(log n).
  reference at(size_type i) {
    check_index(i);
    return *nth(i);
  }
  const_reference at(size_type i) const {
    check_index(i);
    return *nth(i);
  }
  // Iterator to position i (end() when i >= size()), O(log n).
  iterator nth(size_type i) noexcept { return iterator(base::nth(i)); }
  const_iterator nth(size_type i) const noexcept { return base::nth(i); }
  // Position of it (size() for end()), O(log n).
  size_type index_of(const_iterator it) const { return base::index_of(it); }

  // ---- insertion ----
  // Inserts a copy of v before pos; returns an iterator to it.
  iterator insert(const_iterator pos, const T& v) {
    T tmp(v);
    return insert_rank(index_of(pos), tmp);
  }
  // Inserts v (moved) before pos; returns an iterator to it.
  iterator insert(const_iterator pos, T&& v) {
    return insert_rank(index_of(pos), v);
  }
  // Inserts T(args...) before pos; returns an iterator to it.
  template <class... Args>
  iterator emplace(const_iterator pos, Args&&... args) {
    T tmp(std::forward<Args>(args)...);
    return insert_rank(index_of(pos), tmp);
  }
  // Appends a copy of v (or v itself, moved).
  void push_back(const T& v) {
    T tmp(v);
    insert_rank(size(), tmp);
  }
  void push_back(T&& v) { insert_rank(size(), v); }
  // Appends T(args...); returns a reference to it.
  template <class... Args>
  reference emplace_back(Args&&... args) {
    T tmp(std::forward<Args>(args)...);
    return *insert_rank(size(), tmp);
  }
  // Prepends a copy of v (or v itself, moved).
  void push_front(const T& v) {
    T tmp(v);
    insert_rank(0, tmp);
  }
  void push_front(T&& v) { insert_rank(0, v); }
  // Prepends T(args...); returns a reference to it.
  template <class... Args>
  reference emplace_front(Args&&... args) {
    T tmp(std::forward<Args>(args)...);
    return *insert_rank(0, tmp);
  }
  // Appends v; false (and v untouched, nothing changed) when the region
  // refused memory. Never throws for lack of memory.
  [[nodiscard]] bool try_push_back(T&& v) {
    return base::insert_at(size(), v).st != status::oom;
  }
  [[nodiscard]] bool try_push_back(const T& v) {
    T tmp(v);
    return try_push_back(std::move(tmp));
  }
  // Prepends v; false (and v untouched, nothing changed) on OOM.
  [[nodiscard]] bool try_push_front(T&& v) {
    return base::insert_at(0, v).st != status::oom;
  }
  // Inserts v before pos; empty (and v untouched, nothing changed) on OOM.
  [[nodiscard]] std::optional<iterator> try_insert(const_iterator pos, T&& v) {
    auto r = base::insert_at(index_of(pos), v);
    if (r.st == status::oom) return std::nullopt;
    return iterator(r.it);
  }

  // ---- bulk insertion (strong guarantee) ----
  // Each inserts its elements one by one at increasing positions, O(k log(n
  // + k)) for k elements, and returns an iterator to the first inserted
  // element (pos, as an iterator, when nothing is inserted). If any step
  // throws (std::bad_alloc from the region, a throwing copy or constructor of
  // T, or the source iterator), the elements this call inserted are erased
  // again and the exception propagates: the list holds the same values in
  // the same order as before, though its iterators are invalidated. Under
  // -fno-exceptions a refused map aborts, as for insert.
  //
  // n copies of v before pos. v may be an element of this list.
  iterator insert(const_iterator pos, size_type n, const T& v) {
    const size_type r = index_of(pos);
    if (n == 0) return nth(r);
    const T val(v);  // inserting moves elements, so do not read v later
    return insert_all(r, [&](size_type& k) {
      for (; k < n; ++k) {
        T tmp(val);
        insert_rank(r + k, tmp);
      }
    });
  }
  // The elements of [first, last), in order, before pos; each is built as
  // T(*it). [first, last) must not refer into this list. Input iterators
  // (single pass) are fine.
  template <std::input_iterator It, std::sentinel_for<It> S>
  iterator insert(const_iterator pos, It first, S last) {
    const size_type r = index_of(pos);
    return insert_all(r, [&](size_type& k) {
      for (; first != last; ++first) {
        T tmp(*first);
        insert_rank(r + k, tmp);
        ++k;
      }
    });
  }
  // The elements of il, in order, before pos.
  iterator insert(const_iterator pos, std::initializer_list<T> il) {
    return insert(pos, il.begin(), il.end());
  }
  // C++23 container names: the elements of rg, in order, before pos / at the
  // end / at the front (same guarantee as insert(pos, first, last)).
  template <std::ranges::input_range R>
  iterator insert_range(const_iterator pos, R&& rg) {
    return insert(pos, std::ranges::begin(rg), std::ranges::end(rg));
  }
  template <std::ranges::input_range R>
  void append_range(R&& rg) {
    insert_range(cend(), rg);
  }
  template <std::ranges::input_range R>
  void prepend_range(R&& rg) {
    insert_range(cbegin(), rg);
  }

  // ---- assign and resize ----
  // Replaces the contents with n copies of v / the elements of [first,
  // last) / of il. The new contents are built in a fresh list with the same
  // options, which is then swapped in: strong guarantee (on a throw the list
  // is unchanged and iterators stay valid). Like a copy assignment, the
  // result starts afresh: no reserve() in force, not mlock()ed, stats()
  // counters restarted. v and [first, last) may refer into this list.
  void assign(size_type n, const T& v) {
    slab_list tmp(options());
    tmp.insert(tmp.cend(), n, v);
    swap(tmp);
  }
  template <std::input_iterator It, std::sentinel_for<It> S>
  void assign(It first, S last) {
    slab_list tmp(options());
    tmp.insert(tmp.cend(), std::move(first), std::move(last));
    swap(tmp);
  }
  void assign(std::initializer_list<T> il) { assign(il.begin(), il.end()); }
  // Makes size() == n: erases the elements from position n on (never
  // throws), or appends value-initialized T() / copies of v. Growth has the
  // strong guarantee of insert(pos, n, v). v may be an element of this list.
  void resize(size_type n)
    requires std::is_default_constructible_v<T>
  {
    if (n <= size()) {
      truncate(n);
      return;
    }
    const size_type r = size();
    insert_all(r, [&](size_type& k) {
      for (; r + k < n; ++k) {
        T tmp{};
        insert_rank(r + k, tmp);
      }
    });
  }
  void resize(size_type n, const T& v) {
    if (n <= size()) {
      truncate(n);
      return;
    }
    insert(cend(), n - size(), v);
  }

  // ---- erasure ----
  // Erases the element at pos; returns the iterator to the one after it.
  iterator erase(const_iterator pos) { return iterator(base::erase(pos)); }
  // Erases [first, last); returns the iterator to the element after them.
  iterator erase(const_iterator first, const_iterator last) {
    return iterator(base::erase(first, last));
  }
  // Removes the last / first element (precondition: !empty()).
  using base::pop_back;
  using base::pop_front;
  // Removes every element for which pred(const T&) is true, keeping the
  // order of the others; one O(n) pass. Returns how many were removed.
  using base::remove_if;

  // ---- reordering ----
  // Stable sort by cmp. The slab structure is kept: elements are moved into
  // a temporary std::vector, sorted there and moved back. If allocating the
  // vector fails the list is unchanged (std::bad_alloc); if cmp throws,
  // every element is still in the list, in an unspecified order.
  template <class Compare = std::less<>>
  void sort(Compare cmp = Compare{}) {
    if (size() < 2) return;
    std::vector<T> buf;
    buf.reserve(size());
    for (T& x : *this) buf.push_back(std::move(x));
#if NEXUS_HAS_EXCEPTIONS
    try {
      std::stable_sort(buf.begin(), buf.end(), std::ref(cmp));
    } catch (...) {
      refill(buf);
      throw;
    }
#else
    std::stable_sort(buf.begin(), buf.end(), std::ref(cmp));
#endif
    refill(buf);
  }
  // Reverses the order in place, O(n); never throws.
  void reverse() noexcept {
    iterator a = begin(), b = end();
    while (a != b && a != --b) {
      swap_values(*a, *b);
      ++a;
    }
  }

  // ---- map and fold (same contracts as the sorted list's; see
  // nexus/detail/fold.hpp) ----
  // f(std::span<const T>) once per non-empty slab, in order.
  using base::for_each_slab;
  // C++23-style fold_left(init, op) / fold_right(init, op), whole list or
  // [first, last).
  using base::fold_left;
  using base::fold_right;
  // fold(nexus::parallel, init, op, combine, threads = 0): slabs split
  // across std::jthreads, partial results combined in order.
  using base::fold;
  // f(std::span<T>) once per non-empty slab, in order: the elements may be
  // modified in place, but f must not insert or erase.
  template <class F>
  void for_each_slab(F&& f) {
    for (auto* s = this->head_; s != nullptr; s = s->next)
      if (s->count != 0) std::invoke(f, std::span<T>(base::elems(s), s->count));
  }

  // ---- comparison ----
  // Same size and equal elements in the same order.
  friend bool operator==(const slab_list& a, const slab_list& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  iterator insert_rank(size_type r, T& v) {
    auto res = base::insert_at(r, v);
    if (res.st == status::oom)
      detail::throw_oom("slab_list::insert: region refused memory");
    return iterator(res.it);
  }
  // Runs fill(k), which inserts elements at positions r, r + 1, ... and
  // counts them in k; if it throws, erases those k elements and rethrows.
  // Returns an iterator to position r.
  template <class Fill>
  iterator insert_all(size_type r, Fill fill) {
    size_type k = 0;
#if NEXUS_HAS_EXCEPTIONS
    try {
      fill(k);
    } catch (...) {
      if (k != 0) base::erase(base::nth(r), base::nth(r + k));
      throw;
    }
#else
    fill(k);
#endif
    return nth(r);
  }
  // Erases every element from position n on.
  void truncate(size_type n) {
    if (n < size()) base::erase(base::nth(n), base::end());
  }
  void check_index(size_type i) const {
    if (i >= size())
      detail::throw_or_abort<std::out_of_range>(
          "nexus::slab_list::at: index out of range");
  }
  // Moves buf's elements back over the (moved-from) elements, in order.
  void refill(std::vector<T>& buf) noexcept {
    auto it = begin();
    for (T& x : buf) {
      T* p = std::addressof(*it++);
      p->~T();
      ::new (static_cast<void*>(p)) T(std::move(x));
    }
  }
  // Exchange by relocation: nothrow for any nothrow-movable T, assignable
  // or not.
  static void swap_values(T& a, T& b) noexcept {
    // Destroying a moved-from object is the point here.
    T tmp(std::move(a));
    a.~T();  // NOLINT(bugprone-use-after-move)
    ::new (static_cast<void*>(std::addressof(a))) T(std::move(b));
    b.~T();  // NOLINT(bugprone-use-after-move)
    ::new (static_cast<void*>(std::addressof(b))) T(std::move(tmp));
  }
};

}  // namespace nexus
