// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: nexus::slab_list / nexus::slab_multilist — sorted containers made
// of 1 KiB ranged slabs, indexed by up to 8 sublayers once they grow, with a
// small-list mode, a minimum capacity ratio kept by compaction, and slabs
// carved from region-mapped chunks (reserve / mlock / huge pages).
//
// Layout. A slab is a 1 KiB, 64-byte aligned block: a 24-byte header
// (prev, next, count, start) followed by `slab_capacity` element slots; the
// elements sit sorted in slots [start, start + count), so a slab's range is
// [first, last] without a scan (125 elements for 8-byte T). An insert or
// erase moves whichever side of its position is shorter (the front side
// only into or out of the gap before `start`), so erasing at a slab's front
// (pop_front, ascending erasures) moves nothing.
// Up to `sublayer_threshold` slabs the list is a chain searched linearly by
// range. Above it, sublayers are attached: 1 KiB internal nodes holding, for
// every child, a copy of a separator key (in a keys[] array a search scans
// without touching any child it does not enter) and a {child pointer, element
// count} pair (the count an insert or erase updates shares the line of the
// pointer just followed; counts make nth/index_of logarithmic). A search
// prefetches the key lines of each node it enters (all its lines in the
// bottom sublayer) and all 16 lines of the slab it reaches.
// Sublayers are detached again at half the threshold.
//
// Separators are copies of T. A T whose copy constructor or copy assignment
// may throw (e.g. std::string), or too big for 8 keys per node, keeps no
// copies: a search then reads each probed child's first element by walking
// down to its leftmost slab, i.e. one extra dependent load per sublayer per
// probe — correct but slower.
//
// Fill. Inserting into a full slab first spills into a neighbour with room
// (rebalancing the two), otherwise redistributes a window of up to 32
// neighbouring slabs, adding one slab only when the window is nearly full (so
// k full slabs become k+1); appending past the maximum just starts a new slab
// (ascending input leaves full slabs). A full sublayer node likewise shares
// entries with a sibling that has room before it splits. Erasing merges a slab
// with a neighbour when both fit comfortably in one. When `size() <
// min_capacity_ratio * slab_count() * slab_capacity` (checked only above max(8,
// 2/(1 - ratio)) slabs: 20 by default, since k slabs holding just over k-1
// slabs' worth cannot be packed), a cursor sweeps the bottom sublayer packing
// each group of sibling slabs into as few slabs as possible until the ratio is
// restored with a margin; the work is amortized O(1) per operation (a sweep of
// s slabs happens at most once per ~0.02*s*capacity operations), though the
// operation that triggers it pays for it. The ratio is clamped to what packing
// can guarantee (1 - 2/fanout; 0.95 by default).
//
// Iterator invalidation: like absl::btree, any insert, emplace, erase,
// pop_*, clear, shrink_to_fit or insert_or_replace that inserts invalidates
// every iterator; a replacing insert_or_replace keeps them valid. reserve()
// keeps them valid unless the list was in small-list mode. Lookups, mlock and
// munlock invalidate nothing. Moving or swapping lists keeps iterators to
// elements valid but not end().
//
// Memory: erasing never fails for lack of memory. Once more than 40% of a
// mapping of at least 8 MiB is free and no reserve() is in force, an erase
// unmaps the chunks whose nodes are all free and, if more than 40% is still
// free, repacks the list into a fresh, exactly sized mapping (O(n) after
// Omega(n) erasures; the repack is skipped if the region refuses the new
// block). A list grown in key order and erased in key order (a queue, a
// time series) empties whole chunks, which are unmapped without a repack.
//
// Erasing by key in the slab of the previous erase by key skips the descent
// from the root, as long as no slab or sublayer node was added or freed in
// between: erasures in key order cost a slab-local erase.
//
// Multilists: erase(iterator) and index_of locate the iterator's slab by
// searching for its first element, then walk right past slabs that start
// with the same value, so both are linear in the number of such slabs.
//
// Ordered lists (slab_list<T, nexus::insertion_order>) run this same
// machinery in its kOrdered mode: no separator keys, positions found through
// the counts, and a parent pointer first in every slab and node so index_of
// can climb to the root (nexus/detail/ordered_slab_list.hpp).
//
// Not thread-safe: concurrent const calls are fine, any mutation needs
// exclusive access.
//
// Exceptions: T must be nothrow move constructible. If the region refuses
// memory during an insert, the list is unchanged and insert throws
// std::bad_alloc (aborts with a message under -fno-exceptions); try_insert
// returns an empty optional and leaves its argument untouched.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include <nexus/detail/config.hpp>
#include <nexus/detail/fold.hpp>
#include <nexus/detail/node_pool.hpp>
#include <nexus/detail/probes.hpp>
#include <nexus/mmap_region.hpp>
#include <nexus/region.hpp>

namespace nexus {

// Tag for the comparator slot of slab_list: `slab_list<T, insertion_order>`
// keeps elements in insertion order with O(log n) positional access (see
// nexus/detail/ordered_slab_list.hpp).
struct insertion_order {};

template <class T, class Cmp, class Region>
class slab_list;

struct slab_list_options {
  // Keep size() >= ratio * slab_count() * slab_capacity above 8 slabs.
  double min_capacity_ratio = 0.9;
  // Attach sublayers when the list has more slabs than this (>= 1).
  std::size_t sublayer_threshold = 8;
  // Huge pages for the chunks the slabs are carved from. The default,
  // transparent, asks for THP (MADV_HUGEPAGE, best effort) on chunks of
  // 2 MiB or more, which a list reaches above ~4 MiB; smaller chunks are
  // plain pages. At 10^7 random keys it made insert ~5% and find ~10%
  // faster (fewer TLB misses on the descent). `none` never asks;
  // `required` needs a reserved hugetlb pool (every chunk then 2 MiB).
  nexus::huge_pages huge_pages = nexus::huge_pages::transparent;
  // A name for tracing and diagnostics (not copied: must outlive the list).
  const char* name = "slab_list";
  // Maximum children per sublayer node; 0 = as many as fit in 1 KiB.
  // Smaller values (>= 4) exist for tests that want deep sublayers.
  std::size_t sublayer_fanout = 0;
};

// A snapshot of a slab list's shape and counters (see stats()). Shared by
// the sorted lists and the ordered list.
struct slab_list_stats {
  const char* name = nullptr;      // slab_list_options::name
  std::size_t size = 0;            // elements
  std::size_t slabs = 0;           // slab_count()
  std::size_t sublayers = 0;       // sublayer_count()
  std::size_t sublayer_nodes = 0;  // 1 KiB index nodes across all sublayers
  std::size_t slab_capacity = 0;   // elements per slab
  // size / (slabs * slab_capacity); 0 without slabs (small-list mode).
  double fill_ratio = 0;
  bool small_mode = false;  // elements live in the small heap buffer
  // Counters since construction (a copy starts from zero; swap and move
  // carry them along).
  std::uint64_t inserts = 0;           // elements inserted
  std::uint64_t erases = 0;            // elements erased (clear() included)
  std::uint64_t rejected_inserts = 0;  // the region refused memory
  std::uint64_t spills = 0;       // a full slab rebalanced with one neighbour
  std::uint64_t ripples = 0;      // a full slab's window redistributed
  std::uint64_t merges = 0;       // an erase merged two slabs
  std::uint64_t compactions = 0;  // sweeps restoring min_capacity_ratio
  std::uint64_t repacks = 0;      // moves into a fresh, exactly sized mapping
  // Times erasing returned memory by unmapping wholly free chunks (instead
  // of, or before, a repack).
  std::uint64_t chunk_releases = 0;
  std::uint64_t slab_creates = 0;
  std::uint64_t slab_frees = 0;
  std::uint64_t sublayer_attaches = 0;  // sublayers built or added
  std::uint64_t sublayer_detaches = 0;  // sublayers dropped or removed
  std::size_t bytes_mapped = 0;         // memory_size()
  std::size_t bytes_locked = 0;         // mapped bytes pinned by mlock()
};

namespace detail {

// std::bad_alloc has no message constructor: throw it plain, or abort with
// the message when exceptions are off.
[[noreturn]] NEXUS_COLD inline void throw_oom(const char* msg) {
#if NEXUS_HAS_EXCEPTIONS
  (void)msg;
  throw std::bad_alloc();
#else
  fatal(msg);
#endif
}

// Event counters behind stats(): plain integers, bumped where the probes
// fire.
struct list_counters {
  std::uint64_t inserts = 0, erases = 0, rejected = 0, spills = 0, ripples = 0,
                merges = 0, compactions = 0, repacks = 0, chunk_releases = 0,
                slab_creates = 0, slab_frees = 0, attaches = 0, detaches = 0;
};

// A slab's elements occupy slots [start, start + count) of its element
// array: erasing near the front or inserting into the front half moves the
// shorter side, and the gap it leaves at the front is reused later.
struct slab_header {
  slab_header* prev;
  slab_header* next;
  std::uint32_t count;
  std::uint32_t start;  // in the header's padding: no bytes added
};

// Slab header of ordered lists. Without separator keys, index_of climbs from
// a slab to the root, so slabs and sublayer nodes both start with a parent
// pointer (same offset, so one store updates either kind of child).
struct ordered_slab_header {
  void* parent;
  ordered_slab_header* prev;
  ordered_slab_header* next;
  std::uint32_t count;
  std::uint32_t start;
};

template <class T, class Cmp, class Region, bool Multi>
class basic_slab_list {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "nexus::slab_list requires a nothrow move constructible T");
  static_assert(std::is_nothrow_destructible_v<T>);
  static_assert(alignof(T) <= 64, "over-aligned T is not supported");
  static_assert(region<Region>);
  // The ordered list (slab_list<T, insertion_order>) builds on the internals.
  template <class, class, class>
  friend class nexus::slab_list;

  // Ordered (insertion-order) lists: no keys, positions only.
  static constexpr bool kOrdered = std::is_same_v<Cmp, insertion_order>;
  using slab = std::conditional_t<kOrdered, ordered_slab_header, slab_header>;
  using pool_type = node_pool<Region>;
  static constexpr std::size_t kSlabBytes = pool_type::node_size;
  static constexpr std::size_t kElemOff =
      (sizeof(slab) + alignof(T) - 1) / alignof(T) * alignof(T);

 public:
  using value_type = T;
  using key_type = T;
  using key_compare = Cmp;
  using value_compare = Cmp;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = const T&;
  using const_reference = const T&;
  using pointer = const T*;
  using const_pointer = const T*;
  using region_type = Region;

  // Elements per 1 KiB slab.
  static constexpr std::size_t slab_capacity =
      (kSlabBytes - kElemOff) / sizeof(T);
  static_assert(slab_capacity >= 4,
                "T is too large for 1 KiB slabs; store a pointer instead");
  // Sublayers never exceed this.
  static constexpr std::size_t max_sublayers = 8;
  // The list stays in small-list mode (one sorted heap buffer, no slab)
  // while it holds fewer elements than this: half a slab, or a 4 KiB page's
  // worth of elements if that is more (512 for 8-byte T). Slabs come from
  // whole pages, so converting any earlier would map more than twice the
  // bytes the elements take.
  static constexpr std::size_t small_list_max = slab_capacity / 2 >
                                                        4096 / sizeof(T)
                                                    ? slab_capacity / 2
                                                    : 4096 / sizeof(T);

 private:
  // ---- internal (sublayer) node layout: n, keys[], children[], counts[] ----
  static constexpr std::size_t kNodeHdr =
      kOrdered ? 16 : (alignof(T) < 8 ? 8 : alignof(T));
  static constexpr std::size_t kFanoutWithKeys =
      (kSlabBytes - kNodeHdr - 16) / (sizeof(T) + 2 * sizeof(void*));
  // Separator copies are made mid-operation, after elements have moved: a
  // copy that could throw there would break the list, so only nothrow
  // copyable T keeps them.
  static constexpr bool kInlineKeys =
      !kOrdered && std::is_nothrow_copy_constructible_v<T> &&
      std::is_nothrow_copy_assignable_v<T> && kFanoutWithKeys >= 8;
  static constexpr std::size_t kKeyBytes = kInlineKeys ? sizeof(T) : 0;
  static constexpr std::size_t kFanoutMax =
      (kSlabBytes - kNodeHdr - 16) / (kKeyBytes + 2 * sizeof(void*));
  static constexpr std::size_t kLinksOff =
      (kNodeHdr + kFanoutMax * kKeyBytes + 15) / 16 * 16;
  static_assert(kLinksOff + kFanoutMax * 2 * sizeof(void*) <= kSlabBytes);

  struct plain_inode {
    std::uint32_t n;
  };
  struct ordered_inode {
    void* parent;  // first, as in ordered_slab_header
    std::uint32_t n;
  };
  using inode = std::conditional_t<kOrdered, ordered_inode, plain_inode>;
  static_assert(sizeof(inode) <= kNodeHdr);
  // A child and its element count side by side: the count an insert or
  // erase updates sits in the cache line the search already read.
  struct link {
    void* child;
    std::size_t count;
  };

  static T* keys(inode* x) noexcept {
    return std::launder(
        reinterpret_cast<T*>(reinterpret_cast<char*>(x) + kNodeHdr));
  }
  static link* links(inode* x) noexcept {
    return reinterpret_cast<link*>(reinterpret_cast<char*>(x) + kLinksOff);
  }
  // The slab's first element (slot `start` of its element array).
  static T* elems(slab* s) noexcept { return slots_of(s) + s->start; }
  // Slot 0 of the element array.
  static T* slots_of(slab* s) noexcept {
    return std::launder(
        reinterpret_cast<T*>(reinterpret_cast<char*>(s) + kElemOff));
  }
  // Moves the elements to slot 0, so the whole free room is at the back.
  // Everything that appends to or refills a slab calls this first.
  static void normalize(slab& s) noexcept {
    if (s.start != 0) {
      relocate(slots_of(&s), slots_of(&s) + s.start, s.count);
      s.start = 0;
    }
  }
  static const T& first_of(slab* s) noexcept { return elems(s)[0]; }
  // Ordered lists: a child's (slab's or node's) parent is its first word.
  static void set_parent(void* child, inode* x) noexcept {
    if constexpr (kOrdered)
      *static_cast<void**>(child) = x;
    else
      (void)child, (void)x;
  }
  static inode* parent_of(void* child) noexcept {
    return static_cast<inode*>(*static_cast<void**>(child));
  }
  static const T& last_of(slab* s) noexcept { return elems(s)[s->count - 1]; }

  // Most slabs redistributed when inserting into a full slab (fewer when
  // the parent node has fewer children). With the grow rule below, a window
  // that cannot reach 2 * kSlack free per slab adds a slab instead of
  // spreading what little room it has. Before (16 slabs, growing only below
  // kSlack free per slab), windows that just shuffled elements rewrote 2.7M
  // slabs over 10^7 random u64 inserts; now 0.6M (all windows: 4.1M, now
  // 3.3M), at the same 96.2% fill, and random inserts got 2-5% faster at
  // 10^5 to 10^7 (session 8). Costs: the gather buffer on the stack holds
  // kWindow + 1 slabs (33 KiB), and the slowest insert moves 33 slabs.
  static constexpr std::uint32_t kWindow = 32;
  // Slabs below which the capacity ratio is never enforced.
  static constexpr std::size_t kRatioMinSlabs = 8;
  static constexpr std::uint32_t kSmallMax =
      static_cast<std::uint32_t>(small_list_max);
  static constexpr std::uint32_t kCap =
      static_cast<std::uint32_t>(slab_capacity);
  // Room, in free slots per slab: a spill needs 2 * kSlack free in the
  // neighbour; a window stops widening once it averages 2 * kSlack free per
  // slab, and adds a slab if it reaches kWindow slabs (or the parent's
  // edge) still short of that. 2 for 8-byte T: random inserts settle near
  // 96% fill.
  static constexpr std::uint32_t kSlack = kCap / 48 ? kCap / 48 : 1;

  struct path_t {
    inode* node[max_sublayers];
    std::uint32_t idx[max_sublayers];
  };
  // The slab (and its path) of the last erase by key, kept while the shape
  // is unchanged: the next erase whose key lies in that slab's range skips
  // the descent. Erasing in key order (oldest first: a time series, a queue
  // kept sorted, the top of an order book) hits it on every erase but the
  // first in each slab.
  struct erase_hint {
    slab* s = nullptr;
    std::uint64_t shape = 0;
    path_t p{};
  };

 public:
  class const_iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    reference operator*() const noexcept { return elems(s_)[i_]; }
    pointer operator->() const noexcept { return elems(s_) + i_; }
    const_iterator& operator++() noexcept {
      if (++i_ == s_->count) {
        s_ = s_->next;
        i_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) noexcept {
      const_iterator t = *this;
      ++*this;
      return t;
    }
    const_iterator& operator--() noexcept {
      if (s_ == nullptr) {
        s_ = owner_->tail_;
        i_ = s_->count - 1;
      } else if (i_ == 0) {
        s_ = s_->prev;
        i_ = s_->count - 1;
      } else {
        --i_;
      }
      return *this;
    }
    const_iterator operator--(int) noexcept {
      const_iterator t = *this;
      --*this;
      return t;
    }
    friend bool operator==(const const_iterator& a,
                           const const_iterator& b) noexcept {
      return a.s_ == b.s_ && a.i_ == b.i_;
    }

   private:
    friend class basic_slab_list;
    const_iterator(const basic_slab_list* o, slab* s, std::uint32_t i) noexcept
        : owner_(o), s_(s), i_(i) {}
    const basic_slab_list* owner_ = nullptr;
    slab* s_ = nullptr;
    std::uint32_t i_ = 0;
  };
  using iterator = const_iterator;
  using reverse_iterator = std::reverse_iterator<const_iterator>;
  using const_reverse_iterator = reverse_iterator;
  using insert_return_type =
      std::conditional_t<Multi, iterator, std::pair<iterator, bool>>;

  // ---- construction ----
  basic_slab_list() : basic_slab_list(slab_list_options{}, Cmp{}) {}
  explicit basic_slab_list(const slab_list_options& opts,
                           const Cmp& cmp = Cmp{})
      : cmp_(cmp), opts_(opts), pool_(region_options{opts.huge_pages, true}) {
    std::size_t f =
        opts.sublayer_fanout == 0 ? kFanoutMax : opts.sublayer_fanout;
    if (f < 4) f = 4;
    if (f > kFanoutMax - 1)
      f = kFanoutMax - 1;  // one spare slot for build_index
    fanout_ = static_cast<std::uint32_t>(f);
    if (opts_.sublayer_threshold < 1) opts_.sublayer_threshold = 1;
    double r = opts_.min_capacity_ratio;
    // NOLINTNEXTLINE(bugprone-integer-division): half the fanout, rounded down
    const double rmax = 1.0 - 1.0 / static_cast<double>(fanout_ / 2);
    if (!(r >= 0)) r = 0;
    if (r > rmax) r = rmax;
    ratio_ = r;
    // Packing leaves at most one partial slab per group of siblings, so the
    // ratio is reachable only above 1/(1-r) slabs; enforce it from twice that.
    const double m = 2.0 / (1.0 - r);
    ratio_min_slabs_ = m < 8.0 ? 8 : static_cast<size_type>(m) + 1;
  }
  explicit basic_slab_list(const Cmp& cmp)
      : basic_slab_list(slab_list_options{}, cmp) {}
  basic_slab_list(std::initializer_list<T> il,
                  const slab_list_options& opts = {}, const Cmp& cmp = Cmp{})
      : basic_slab_list(opts, cmp) {
    for (const T& v : il) insert(v);
  }

  basic_slab_list(const basic_slab_list& o) : basic_slab_list(o.opts_, o.cmp_) {
    ratio_ = o.ratio_;
    copy_from(o);
  }
  basic_slab_list(basic_slab_list&& o) noexcept
      : cmp_(o.cmp_),
        opts_(o.opts_),
        pool_(region_options{o.opts_.huge_pages, true}) {
    fanout_ = o.fanout_;
    ratio_ = o.ratio_;
    ratio_min_slabs_ = o.ratio_min_slabs_;
    swap(o);
  }
  basic_slab_list& operator=(const basic_slab_list& o) {
    if (this != &o) {
      basic_slab_list tmp(o);
      swap(tmp);
    }
    return *this;
  }
  basic_slab_list& operator=(basic_slab_list&& o) noexcept {
    if (this != &o) {
      basic_slab_list tmp(std::move(o));
      swap(tmp);
    }
    return *this;
  }
  ~basic_slab_list() { destroy_all(); }

  void swap(basic_slab_list& o) noexcept {
    using std::swap;
    swap(cmp_, o.cmp_);
    swap(opts_, o.opts_);
    swap(head_, o.head_);
    swap(tail_, o.tail_);
    swap(root_, o.root_);
    swap(height_, o.height_);
    swap(size_, o.size_);
    swap(slabs_, o.slabs_);
    swap(small_cap_, o.small_cap_);
    swap(small_, o.small_);
    swap(pinned_, o.pinned_);
    swap(cursor_, o.cursor_);
    swap(fanout_, o.fanout_);
    swap(ratio_, o.ratio_);
    swap(ratio_min_slabs_, o.ratio_min_slabs_);
    swap(ctr_, o.ctr_);
    swap(shape_, o.shape_);
    swap(hint_, o.hint_);
    pool_.swap(o.pool_);
  }
  friend void swap(basic_slab_list& a, basic_slab_list& b) noexcept {
    a.swap(b);
  }

  // ---- iteration ----
  const_iterator begin() const noexcept { return {this, head_, 0}; }
  const_iterator end() const noexcept { return {this, nullptr, 0}; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }
  reverse_iterator rbegin() const noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() const noexcept { return reverse_iterator(begin()); }
  reverse_iterator crbegin() const noexcept { return rbegin(); }
  reverse_iterator crend() const noexcept { return rend(); }

  // ---- map and fold (contract details: nexus/detail/fold.hpp) ----
  // Calls f(std::span<const T>) once per non-empty slab, first to last, each
  // span holding that slab's elements in order (small-list mode is one
  // slab; an empty list makes no call). f must not modify the list.
  template <class F>
  void for_each_slab(F&& f) const {
    detail::for_each_span(fold_chain{this}, head_, f);
  }
  // op(...op(op(init, x0), x1)..., x_last), first to last, with the
  // conventions of C++23 std::ranges::fold_left: returns
  // U = decay_t<invoke_result_t<Op&, Init, const T&>>, U(init) when empty.
  template <class Init, class Op>
  auto fold_left(Init init, Op op) const {
    return detail::fold_left_range(fold_chain{this}, pos_of(begin()),
                                   pos_of(end()), std::move(init), op);
  }
  // fold_left over [first, last) (first must not be after last).
  template <class Init, class Op>
  auto fold_left(const_iterator first, const_iterator last, Init init,
                 Op op) const {
    return detail::fold_left_range(fold_chain{this}, pos_of(first),
                                   pos_of(last), std::move(init), op);
  }
  // op(x0, op(x1, ...op(x_last, init)...)), last to first, with the
  // conventions of C++23 std::ranges::fold_right: returns
  // U = decay_t<invoke_result_t<Op&, const T&, Init>>, U(init) when empty.
  template <class Init, class Op>
  auto fold_right(Init init, Op op) const {
    return detail::fold_right_range(fold_chain{this}, pos_of(begin()),
                                    pos_of(end()), std::move(init), op);
  }
  // fold_right over [first, last) (first must not be after last).
  template <class Init, class Op>
  auto fold_right(const_iterator first, const_iterator last, Init init,
                  Op op) const {
    return detail::fold_right_range(fold_chain{this}, pos_of(first),
                                    pos_of(last), std::move(init), op);
  }
  // Parallel left fold: the list is cut into `threads` groups of nearly
  // equal element counts (0 = hardware concurrency, at most one group per
  // 64K elements; never more groups than slabs), each folded from a copy of
  // init on its own std::jthread (group 0 on the caller), and the partial
  // results are combined in order: combine(combine(p0, p1), p2)... Equals
  // fold_left(init, op) when combine is associative (commutativity is not
  // needed), init is its identity and op(a, x) == combine(a, op(init, x)).
  // op runs concurrently (one copy per thread). An exception from op is
  // rethrown here after every thread has been joined.
  template <class Init, class Op, class Combine>
  auto fold(nexus::parallel_t, Init init, Op op, Combine combine,
            unsigned threads = 0) const {
    return detail::fold_parallel(fold_chain{this}, size_, std::move(init), op,
                                 combine, threads);
  }

 private:
  // The slab chain in the form nexus/detail/fold.hpp walks.
  struct fold_chain {
    using value_type = T;
    using handle = slab*;
    const basic_slab_list* list;
    std::span<const T> span(slab* s) const noexcept {
      return {elems(s), s->count};
    }
    slab* next(slab* s) const noexcept { return s->next; }
    slab* prev(slab* s) const noexcept { return s->prev; }
    slab* last() const noexcept { return list->tail_; }
    void prefetch(slab* s) const noexcept { prefetch_slab(s); }
    size_type slab_count() const noexcept {
      return list->small_ ? 1 : list->slabs_;
    }
    slab_pos<slab*> locate(size_type i) const noexcept {
      const const_iterator it = list->nth(i);
      return {it.s_, it.i_};
    }
  };
  static slab_pos<slab*> pos_of(const_iterator it) noexcept {
    return {it.s_, it.i_};
  }

 public:
  // ---- capacity / memory ----
  [[nodiscard]] size_type size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] size_type slab_count() const noexcept { return slabs_; }
  [[nodiscard]] size_type sublayer_count() const noexcept { return height_; }
  [[nodiscard]] const slab_list_options& options() const noexcept {
    return opts_;
  }
  [[nodiscard]] const char* name() const noexcept { return opts_.name; }
  [[nodiscard]] key_compare key_comp() const { return cmp_; }
  // Bytes mapped from the region (+ the heap buffer in small-list mode).
  [[nodiscard]] size_type memory_size() const noexcept {
    size_type b = pool_.mapped_bytes();
    if (small_ && small_cap_ != 0) b += kElemOff + small_cap_ * sizeof(T);
    return b;
  }

  // Pre-maps enough chunks that inserting up to n elements in total makes no
  // system call, no heap allocation and takes no page fault. From
  // small_list_max on this also leaves small-list mode for good (until
  // clear()).
  void reserve(size_type n) {
    if (n < kSmallMax) return;
    const size_type leaves = n / (static_cast<size_type>(ratio_ * kCap) + 1) +
                             1 + ratio_min_slabs_ + kWindow + 2;
    size_type nodes = leaves, level = leaves;
    const size_type minfill = fanout_ / 2;
    while (level > 1) {
      level = (level + minfill - 1) / minfill;
      nodes += level + 1;
    }
    nodes += max_sublayers;
    const size_type have = pool_.in_use();
    if (nodes > have && !pool_.reserve(nodes - have))
      throw_oom("slab_list::reserve: region refused memory");
    if (small_ && !to_slab_mode()) {
      throw_oom("slab_list::reserve: region refused memory");
    }
    pinned_ = true;
  }

  // Packs every element into full slabs in freshly mapped memory and unmaps
  // the old chunks (or returns to small-list mode when small enough). Does
  // nothing if the region refuses the new memory.
  void shrink_to_fit() {
    pinned_ = false;
    if (small_) {
      shrink_small();
      return;
    }
    repack();
    verify();
  }

  std::error_code mlock() { return pool_.lock(); }
  std::error_code munlock() { return pool_.unlock(); }

  // Shape and counters, without tracing. O(1).
  [[nodiscard]] slab_list_stats stats() const noexcept {
    slab_list_stats st;
    st.name = opts_.name;
    st.size = size_;
    st.slabs = slabs_;
    st.sublayers = height_;
    st.sublayer_nodes = small_ ? 0 : pool_.in_use() - slabs_;
    st.slab_capacity = slab_capacity;
    st.fill_ratio = slabs_ == 0 ? 0.0
                                : static_cast<double>(size_) /
                                      static_cast<double>(slabs_ * kCap);
    st.small_mode = small_;
    st.inserts = ctr_.inserts;
    st.erases = ctr_.erases;
    st.rejected_inserts = ctr_.rejected;
    st.spills = ctr_.spills;
    st.ripples = ctr_.ripples;
    st.merges = ctr_.merges;
    st.compactions = ctr_.compactions;
    st.repacks = ctr_.repacks;
    st.chunk_releases = ctr_.chunk_releases;
    st.slab_creates = ctr_.slab_creates;
    st.slab_frees = ctr_.slab_frees;
    st.sublayer_attaches = ctr_.attaches;
    st.sublayer_detaches = ctr_.detaches;
    st.bytes_mapped = memory_size();
    st.bytes_locked = pool_.locked() ? pool_.mapped_bytes() : 0;
    return st;
  }

  // Removes every element and returns all memory (also ends reserve()).
  void clear() noexcept {
    ++shape_;
    if (size_ != 0) note_erase(size_, 0);
    note_slabs_freed(slabs_);
    destroy_all();
    head_ = tail_ = nullptr;
    root_ = nullptr;
    height_ = 0;
    size_ = 0;
    slabs_ = 0;
    small_cap_ = 0;
    small_ = true;
    pinned_ = false;
    cursor_ = 0;
  }

  // ---- lookup ----
  const_iterator find(const T& x) const { return find_impl(x); }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  const_iterator find(const K& x) const {
    return find_impl(x);
  }
  bool contains(const T& x) const { return find_impl(x) != end(); }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  bool contains(const K& x) const {
    return find_impl(x) != end();
  }
  size_type count(const T& x) const { return count_impl(x); }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  size_type count(const K& x) const {
    return count_impl(x);
  }
  const_iterator lower_bound(const T& x) const { return bound<false>(x); }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  const_iterator lower_bound(const K& x) const {
    return bound<false>(x);
  }
  const_iterator upper_bound(const T& x) const { return bound<true>(x); }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  const_iterator upper_bound(const K& x) const {
    return bound<true>(x);
  }
  std::pair<const_iterator, const_iterator> equal_range(const T& x) const {
    return {bound<false>(x), bound<true>(x)};
  }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  std::pair<const_iterator, const_iterator> equal_range(const K& x) const {
    return {bound<false>(x), bound<true>(x)};
  }

  const T& front() const noexcept {
    NEXUS_ASSERT(size_ != 0, "front() on an empty slab_list");
    return first_of(head_);
  }
  const T& back() const noexcept {
    NEXUS_ASSERT(size_ != 0, "back() on an empty slab_list");
    return last_of(tail_);
  }

  // Iterator to the i-th smallest element (end() when i >= size()), O(log n).
  const_iterator nth(size_type i) const noexcept {
    if (i >= size_) return end();
    if (height_ == 0) {
      slab* s = head_;
      while (i >= s->count) {
        i -= s->count;
        s = s->next;
      }
      return {this, s, static_cast<std::uint32_t>(i)};
    }
    void* x = root_;
    size_type total = size_;
    for (std::uint32_t l = 0; l < height_; ++l) {
      inode* nd = static_cast<inode*>(x);
      const std::uint32_t j = child_at(nd, i, total);
      total = links(nd)[j].count;
      x = links(nd)[j].child;
    }
    prefetch_element(static_cast<slab*>(x), static_cast<std::uint32_t>(i));
    return {this, static_cast<slab*>(x), static_cast<std::uint32_t>(i)};
  }
  // Position of `it` (size() for end()), O(log n).
  size_type index_of(const_iterator it) const {
    if (it.s_ == nullptr) return size_;
    if (height_ == 0) {
      size_type r = it.i_;
      for (slab* s = head_; s != it.s_; s = s->next) r += s->count;
      return r;
    }
    path_t p;
    locate(it.s_, p);
    return rank_of(p) + it.i_;
  }

  // ---- modification ----
  insert_return_type insert(const T& v) { return unwrap(insert_core(v)); }
  insert_return_type insert(T&& v) { return unwrap(insert_core(std::move(v))); }
  template <class... Args>
  insert_return_type emplace(Args&&... args) {
    T tmp(std::forward<Args>(args)...);
    return unwrap(insert_core(std::move(tmp)));
  }
  // Empty when the region refused memory; `v` is then left untouched.
  std::optional<std::pair<iterator, bool>> try_insert(T&& v) {
    const core_result r = insert_core(std::move(v));
    if (r.st == status::oom) return std::nullopt;
    return std::pair<iterator, bool>{r.it, r.st == status::inserted};
  }
  // Sorted lists only (the ordered list has its own positional forms).
  // Range insert: every element of [first, last) goes in as by insert(v), in
  // turn (a unique list skips the ones equivalent to an element already
  // present). O(k log(n + k)) for k elements. Basic guarantee, as
  // std::set::insert(first, last): if an insert throws (std::bad_alloc from
  // the region, or T's copy or constructor), the elements inserted before it
  // stay, the list is valid, and the exception propagates. [first, last) must
  // not refer into this list.
  template <std::input_iterator It, std::sentinel_for<It> S>
    requires(!kOrdered)
  void insert(It first, S last) {
    for (; first != last; ++first) {
      // A T (lvalue or rvalue) is copied or moved in only if it is inserted.
      if constexpr (std::is_same_v<
                        std::remove_cvref_t<std::iter_reference_t<It>>, T>)
        insert(*first);
      else
        emplace(*first);
    }
  }
  // The elements of il, as insert(il.begin(), il.end()).
  void insert(std::initializer_list<T> il)
    requires(!kOrdered)
  {
    insert(il.begin(), il.end());
  }
  // The elements of [first, last), inserted as by insert(first, last).
  template <std::input_iterator It, std::sentinel_for<It> S>
    requires(!kOrdered)
  basic_slab_list(It first, S last, const slab_list_options& opts = {},
                  const Cmp& cmp = Cmp{})
      : basic_slab_list(opts, cmp) {
    insert(std::move(first), std::move(last));
  }
  // Hinted insert, for code written against std::set / std::multiset. The
  // hint is ignored (the O(log n) search does not need one): v goes exactly
  // where insert(v) puts it — in a multilist after the elements equivalent
  // to it, wherever the hint points. Returns an iterator to the inserted
  // element, or (unique list) to the equivalent element that kept v out.
  iterator insert(const_iterator /*hint*/, const T& v)
    requires(!kOrdered)
  {
    if constexpr (Multi)
      return insert(v);
    else
      return insert(v).first;
  }
  iterator insert(const_iterator /*hint*/, T&& v)
    requires(!kOrdered)
  {
    if constexpr (Multi)
      return insert(std::move(v));
    else
      return insert(std::move(v)).first;
  }
  // emplace(args...) with an ignored hint, as insert(hint, v).
  template <class... Args>
    requires(!kOrdered)
  iterator emplace_hint(const_iterator /*hint*/, Args&&... args) {
    if constexpr (Multi)
      return emplace(std::forward<Args>(args)...);
    else
      return emplace(std::forward<Args>(args)...).first;
  }
  // Inserts v, or replaces the (first) equivalent element and returns it.
  std::optional<T> insert_or_replace(T v) {
    const_iterator it = find_impl(v);
    if (it != end()) {
      T* p = elems(it.s_) + it.i_;
      std::optional<T> old(std::move(*p));
      *p = std::move(v);
      return old;
    }
    unwrap(insert_core(std::move(v)));
    return std::nullopt;
  }

  iterator erase(const_iterator pos) {
    NEXUS_ASSERT(pos.s_ != nullptr, "erase(end())");
    const size_type r = index_of(pos);
    erase_positions(r, 1);
    verify();
    return nth(r);
  }
  iterator erase(const_iterator first, const_iterator last) {
    const size_type a = index_of(first), b = index_of(last);
    if (a < b) erase_positions(a, b - a);
    verify();
    return nth(a);
  }
  size_type erase(const T& x) { return erase_key(x); }
  template <class K, class C = Cmp, class = typename C::is_transparent>
  size_type erase(const K& x) {
    return erase_key(x);
  }
  void pop_front() {
    NEXUS_ASSERT(size_ != 0, "pop_front() on an empty slab_list");
    erase_positions(0, 1);
    verify();
  }
  void pop_back() {
    NEXUS_ASSERT(size_ != 0, "pop_back() on an empty slab_list");
    erase_positions(size_ - 1, 1);
    verify();
  }

  // Removes every element for which pred is true, in one O(n) pass.
  template <class Pred>
  size_type remove_if(Pred pred) {
    if (size_ == 0) return 0;
    if (small_) {
      T* e = elems(head_);
      std::uint32_t w = 0;
      for (std::uint32_t r = 0; r < head_->count; ++r) {
        if (pred(std::as_const(e[r]))) {
          e[r].~T();
        } else {
          if (w != r) relocate(e + w, e + r, 1);
          ++w;
        }
      }
      const size_type removed = head_->count - w;
      head_->count = w;
      size_ = w;
      if (removed != 0) note_erase(removed, w);
      shrink_small();
      verify();
      return removed;
    }
    detach();
    // The write finger fills slabs from slot 0.
    for (slab* s = head_; s != nullptr; s = s->next) normalize(*s);
    // Two fingers over the chain: the write finger packs survivors into full
    // slabs, so the result is compact and needs no separate compaction.
    slab* ws = head_;
    std::uint32_t wi = 0;
    size_type kept = 0;
    for (slab* rs = head_; rs != nullptr; rs = rs->next) {
      T* re = elems(rs);
      const std::uint32_t n = rs->count;
      for (std::uint32_t r = 0; r < n; ++r) {
        if (pred(std::as_const(re[r]))) {
          re[r].~T();
          continue;
        }
        if (wi == kCap) {
          ws->count = kCap;
          ws = ws->next;
          wi = 0;
        }
        if (ws != rs || wi != r) relocate(elems(ws) + wi, re + r, 1);
        ++wi;
        ++kept;
      }
      if (rs != ws) rs->count = 0;  // emptied; freed below
    }
    const size_type removed = size_ - kept;
    const size_type slabs_before = slabs_;
    size_ = kept;
    if (kept == 0) {
      // everything went: free all slabs
      for (slab* s = head_; s != nullptr;) {
        slab* nx = s->next;
        pool_.deallocate(s);
        s = nx;
      }
      head_ = tail_ = nullptr;
      slabs_ = 0;
    } else {
      ws->count = wi;
      slab* s = ws->next;
      ws->next = nullptr;
      tail_ = ws;
      while (s != nullptr) {
        slab* nx = s->next;
        pool_.deallocate(s);
        --slabs_;
        s = nx;
      }
    }
    note_slabs_freed(slabs_before - slabs_);
    if (removed != 0) note_erase(removed, 0);
    // Freed slabs leave room: this cannot fail.
    if (slabs_ > opts_.sublayer_threshold) build_index(true);
    cursor_ = 0;
    after_shrink();
    verify();
    return removed;
  }

  // ---- comparison ----
  friend bool operator==(const basic_slab_list& a, const basic_slab_list& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }

  // ---- invariants ----
  // Verifies order, slab ranges and counts, links, fill ratio and every
  // sublayer's keys, children and counts. O(n).
  // A broken invariant also fires the `nexus:list_invariant_failed` probe.
  [[nodiscard]] bool check_invariants() const {
    const char* m = violation();
    if (m != nullptr) NEXUS_PROBE(list_invariant_failed, this, opts_.name, m);
    return m == nullptr;
  }
  // The first broken invariant, or nullptr.
  [[nodiscard]] const char* violation() const {
    if (small_) {
      if (slabs_ != 0 || height_ != 0)
        return "small mode has slabs or sublayers";
      if (head_ == nullptr)
        return size_ == 0 && small_cap_ == 0
                   ? nullptr
                   : "small mode: size without buffer";
      if (head_ != tail_ || head_->prev || head_->next)
        return "small mode: buffer links";
      if (head_->count != size_) return "small mode: count != size";
      if (head_->start != 0) return "small mode: buffer start moved";
      if (size_ >= kSmallMax) return "small mode: too many elements";
      if (small_cap_ < size_ || small_cap_ > 2 * size_ + 1)
        return "small mode: buffer capacity out of bounds";
      if (const char* m = check_sorted(head_)) return m;
      return nullptr;
    }
    size_type total = 0, n = 0;
    slab* prev = nullptr;
    for (slab* s = head_; s != nullptr; s = s->next) {
      if (s->prev != prev) return "slab prev link";
      if (s->count == 0 || s->count > kCap) return "slab count out of range";
      if (s->start > kCap - s->count) return "slab elements past its end";
      if (const char* m = check_sorted(s)) return m;
      if (prev != nullptr && out_of_order(last_of(prev), first_of(s)))
        return "slab ranges overlap or out of order";
      total += s->count;
      ++n;
      prev = s;
    }
    if (prev != tail_) return "tail pointer";
    if (total != size_) return "element count != size()";
    if (n != slabs_) return "slab count != slab_count()";
    if (ratio_broken(ratio_)) return "fill below min_capacity_ratio";
    if (height_ == 0) {
      if (root_ != nullptr) return "root without height";
      if (slabs_ > opts_.sublayer_threshold)
        return "sublayers not attached above threshold";
      return nullptr;
    }
    if (height_ > max_sublayers) return "too many sublayers";
    if (root_ == nullptr) return "height without root";
    if (slabs_ * 2 <= opts_.sublayer_threshold)
      return "sublayers not detached below threshold";
    slab* walk = head_;
    size_type cnt = 0;
    const T* mn = nullptr;
    const T* mx = nullptr;
    if (const char* m = check_node(root_, 0, nullptr, true, walk, cnt, mn, mx))
      return m;
    if (walk != nullptr) return "sublayers miss slabs";
    if (cnt != size_) return "sublayer counts != size()";
    return nullptr;
  }

 private:
  enum class status : std::uint8_t { inserted, exists, oom };
  struct core_result {
    const_iterator it;
    status st;
  };

  insert_return_type unwrap(const core_result& r) {
    if (r.st == status::oom)
      throw_oom("slab_list::insert: region refused memory");
    if constexpr (Multi) {
      return r.it;
    } else {
      return {r.it, r.st == status::inserted};
    }
  }

  // ---- tracing and statistics (probes: nexus/detail/probes.hpp) ----
  void note_insert(const core_result& r) noexcept {
    if (r.st == status::inserted) {
      ++ctr_.inserts;
      NEXUS_PROBE(list_add, this, opts_.name, size_, r.it.s_->count,
                  small_ ? size_type{small_cap_} : slab_capacity);
    } else if (r.st == status::oom) {
      ++ctr_.rejected;
      NEXUS_PROBE(list_oom, this, opts_.name, size_);
    }
  }
  // n elements erased; `fill` = elements left in their slab (0 if several).
  void note_erase(size_type n, size_type fill) noexcept {
    ctr_.erases += n;
    NEXUS_PROBE(list_remove, this, opts_.name, size_, n, fill);
  }
  void note_slabs_freed(size_type n) noexcept {
    if (n == 0) return;
    ++shape_;
    ctr_.slab_frees += n;
    NEXUS_PROBE(list_slab_free, this, opts_.name, slabs_, n);
  }
  void note_attach() noexcept {
    ++ctr_.attaches;
    NEXUS_PROBE(list_sublayer_attach, this, opts_.name, height_, slabs_);
  }
  void note_detach() noexcept {
    ++ctr_.detaches;
    NEXUS_PROBE(list_sublayer_detach, this, opts_.name, height_, slabs_);
  }

  void verify() const {
#if defined(NEXUS_SLAB_LIST_CHECK_INVARIANTS)
    if (const char* m = violation()) {
      NEXUS_PROBE(list_invariant_failed, this, opts_.name, m);
      std::fprintf(stderr, "nexus: slab_list '%s' invariant broken: %s\n",
                   opts_.name ? opts_.name : "", m);
      std::abort();
    }
#endif
  }

  // ---- comparisons ----
  template <class A, class B>
  bool less(const A& a, const B& b) const {
    return static_cast<bool>(cmp_(a, b));
  }
  // Adjacent elements a, b (a first) violate the order?
  bool out_of_order(const T& a, const T& b) const {
    if constexpr (kOrdered)
      return (void)a, (void)b, false;  // any order is valid
    else if constexpr (Multi)
      return less(b, a);
    else
      return !less(a, b);
  }
  const char* check_sorted(slab* s) const {
    const T* e = elems(s);
    for (std::uint32_t i = 1; i < s->count; ++i)
      if (out_of_order(e[i - 1], e[i]))
        return "elements out of order in a slab";
    return nullptr;
  }

  // ---- element moves (nothrow) ----
  static void relocate(T* dst, T* src,
                       std::size_t n) noexcept {  // dst <= src or disjoint
    if constexpr (std::is_trivially_copyable_v<T>) {
      if (n)
        std::memmove(static_cast<void*>(dst), static_cast<const void*>(src),
                     n * sizeof(T));
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        ::new (static_cast<void*>(dst + i)) T(std::move(src[i]));
        src[i].~T();
      }
    }
  }
  static void relocate_back(T* dst, T* src,
                            std::size_t n) noexcept {  // dst > src
    if constexpr (std::is_trivially_copyable_v<T>) {
      if (n)
        std::memmove(static_cast<void*>(dst), static_cast<const void*>(src),
                     n * sizeof(T));
    } else {
      for (std::size_t i = n; i-- > 0;) {
        ::new (static_cast<void*>(dst + i)) T(std::move(src[i]));
        src[i].~T();
      }
    }
  }
  static void destroy_n(T* p, std::size_t n) noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>)
      for (std::size_t i = 0; i < n; ++i) p[i].~T();
  }

  // ---- searching inside a slab ----
  // True when y sorts before the lower (upper) bound of x.
  template <bool Upper, class K>
  bool before_bound(const T& y, const K& x) const {
    if constexpr (Upper)
      return !less(x, y);
    else
      return less(y, x);
  }
  // Branchless binary search: number of elements before the lower (upper)
  // bound of x among e[0..n).
  template <bool Upper, class K>
  std::uint32_t search_n(const T* e, std::uint32_t n, const K& x) const {
    if (n == 0) return 0;
    const T* b = e;
    while (n > 1) {
      const std::uint32_t half = n / 2;
      b = before_bound<Upper>(b[half], x) ? b + half : b;
      n -= half;
    }
    return static_cast<std::uint32_t>(b - e) +
           (before_bound<Upper>(*b, x) ? 1u : 0u);
  }
  // The same bound with a step count fixed by Max (1 <= n <= Max): the loop
  // unrolls and never mispredicts its exit, so the CPU runs ahead into the
  // next operation. Lookups descend the sublayers with it: find measured
  // 15-20% faster at 10^7 random keys. Inserts and erases use search_ends
  // (search_n behind two end checks): search_n measured as fast or faster
  // for them (their stores follow the search, and running ahead did not
  // pay).
  template <bool Upper, std::uint32_t Max, class K>
  std::uint32_t search_fixed(const T* e, std::uint32_t n, const K& x) const {
    std::uint32_t lo = 0;
    for (std::uint32_t step = std::bit_floor(Max); step != 0; step >>= 1) {
      const std::uint32_t probe = lo + step;
      const bool in = probe <= n;
      const T& y = e[(in ? probe : n) - 1];  // never past the n elements
      lo = (in && before_bound<Upper>(y, x)) ? probe : lo;
    }
    return lo;
  }
  // search_n with the two ends checked first, for inserts and erases:
  // ascending or descending keys, front and back erasures and appends land
  // on an end at every level and skip the binary search (ascending inserts
  // measured 2x faster and erasures 3-4x at 10^7). For random keys the
  // extra branches predict well. Lookups do without: a mispredicted end
  // check stops the CPU running ahead into the next lookup (find measured
  // 7-10% slower with them).
  template <bool Upper, class K>
  std::uint32_t search_ends(const T* e, std::uint32_t n, const K& x) const {
    if (n == 0 || !before_bound<Upper>(e[0], x)) return 0;
    if (before_bound<Upper>(e[n - 1], x)) return n;
    // Now n >= 2 and the bound lies in [1, n - 1].
    return 1 + search_n<Upper>(e + 1, n - 2, x);
  }
  template <bool Upper, bool Ends = true, class K>
  std::uint32_t search_slab(slab* s, const K& x) const {
    if constexpr (Ends)
      return search_ends<Upper>(elems(s), s->count, x);
    else
      return search_n<Upper>(elems(s), s->count, x);
  }

  // The separator of child j of node x at level l (inline copy, or the first
  // element of the child's leftmost slab).
  const T& key_at(inode* x, std::uint32_t j, std::uint32_t l) const noexcept {
    if constexpr (kInlineKeys) {
      (void)l;
      return keys(x)[j];
    } else {
      void* c = links(x)[j].child;
      for (std::uint32_t d = l + 1; d < height_; ++d)
        c = links(static_cast<inode*>(c))[0].child;
      return first_of(static_cast<slab*>(c));
    }
  }

  // Child of x whose range may hold the lower (or upper) bound of k.
  template <bool Upper, bool Fixed, class K>
  std::uint32_t child_for(inode* x, const K& k, std::uint32_t l) const {
    if constexpr (kInlineKeys) {
      (void)l;
      if constexpr (Fixed) {
        if (x->n <= 1) return 0;
        return search_fixed<Upper, static_cast<std::uint32_t>(kFanoutMax)>(
            keys(x) + 1, x->n - 1, k);
      }
      return search_ends<Upper>(keys(x) + 1, x->n - 1, k);
    } else {
      std::uint32_t lo = 1, len = x->n - 1;
      while (len > 0) {
        const std::uint32_t half = len / 2;
        const bool go_right = before_bound<Upper>(key_at(x, lo + half, l), k);
        if (go_right) {
          lo += half + 1;
          len -= half + 1;
        } else {
          len = half;
        }
      }
      return lo - 1;
    }
  }

  // A search touches several lines of a node at dependent addresses; asking
  // for all of them up front overlaps the misses. In the bottom sublayer
  // (the one that misses at scale: ~2 MiB of nodes at 10^7 elements) that
  // includes the links, whose line is known only after the key search and
  // whose count an insert or erase then updates: prefetching them made
  // random inserts and erases at 10^7 ~5-10% faster on the Xeon VM, finds
  // unchanged. Higher up they are usually cached, and fetching all 16 lines
  // at every level cost ascending inserts 15-25%; at the bottom only, 5-11%.
  template <bool WithLinks = false>
  static void prefetch_node(void* x) noexcept {
    if constexpr (kInlineKeys) {
      const char* b = static_cast<const char*>(x);
      constexpr std::size_t end = WithLinks ? kSlabBytes : kLinksOff;
      for (std::size_t o = 0; o < end; o += 64) detail::prefetch(b + o);
    } else {
      (void)x;
    }
  }
  static void prefetch_slab(void* x) noexcept {
    const char* b = static_cast<const char*>(x);
    // All 16 lines: the binary search and the insert's shift touch most of
    // them; fetching them together measured 1.5-2x faster than on demand.
    for (std::size_t o = 0; o < kSlabBytes; o += 64) detail::prefetch(b + o);
  }

  // The element at offset i lives in slot start + i, so reading it waits for
  // the header first. The front gap (start) is rarely more than a line's
  // worth of elements, so asking for the header and the two lines from slot
  // i on at once usually overlaps the two misses (positional access at 10^7
  // was ~45% slower without this).
  static void prefetch_element(slab* s, std::uint32_t i) noexcept {
    const char* b = reinterpret_cast<const char*>(s);
    detail::prefetch(b);
    const std::size_t at = kElemOff + std::size_t{i} * sizeof(T);
    if (at < kSlabBytes) detail::prefetch(b + at);
    if (at + 64 < kSlabBytes) detail::prefetch(b + at + 64);
  }

  // Every line of a slab about to be rewritten (a spill's neighbour, a
  // window's slabs), for writing, kept out of L1: all the misses then overlap
  // instead of arriving one slab at a time (~3% faster random inserts at
  // 10^7, where windows are mostly cold).
  static void prefetch_slab_for_write(void* x) noexcept {
    const char* b = static_cast<const char*>(x);
    for (std::size_t o = 0; o < kSlabBytes; o += 64)
      detail::prefetch<true, 2>(b + o);
  }

  // Slab where the bound of k lies (or the slab before it); fills p when
  // sublayers are attached. Precondition: slab mode, non-empty.
  template <bool Upper, bool Fixed = false, class K>
  slab* descend(const K& k, path_t& p) const {
    if (height_ == 0) {
      slab* s = head_;
      if constexpr (Upper) {
        while (s->next != nullptr && !less(k, last_of(s))) s = s->next;
      } else {
        while (s->next != nullptr && less(last_of(s), k)) s = s->next;
      }
      return s;
    }
    void* x = root_;
    if (height_ == 1)
      prefetch_node<true>(x);
    else
      prefetch_node(x);
    for (std::uint32_t l = 0; l < height_; ++l) {
      inode* nd = static_cast<inode*>(x);
      const std::uint32_t j = child_for<Upper, Fixed>(nd, k, l);
      p.node[l] = nd;
      p.idx[l] = j;
      x = links(nd)[j].child;
      if (l + 2 == height_)
        prefetch_node<true>(x);
      else if (l + 1 < height_)
        prefetch_node(x);
      else
        prefetch_slab(x);
    }
    return static_cast<slab*>(x);
  }

  template <bool Upper, class K>
  const_iterator bound(const K& k) const {
    if (size_ == 0) return end();
    path_t p;
    slab* s = descend<Upper, true>(k, p);
    std::uint32_t i = search_slab<Upper, false>(s, k);
    if (i == s->count) {
      s = s->next;
      i = 0;
    }
    return {this, s, i};
  }

  template <class K>
  const_iterator find_impl(const K& k) const {
    const_iterator it = bound<false>(k);
    if (it.s_ == nullptr || less(k, *it)) return end();
    return it;
  }

  template <class K>
  size_type count_impl(const K& k) const {
    if constexpr (!Multi) {
      return find_impl(k) != end() ? 1 : 0;
    } else {
      const_iterator a = bound<false>(k);
      if (a.s_ == nullptr || less(k, *a)) return 0;
      return index_of(bound<true>(k)) - index_of(a);
    }
  }

  // ---- paths ----
  bool path_next(path_t& p) const noexcept {
    std::int32_t l = static_cast<std::int32_t>(height_) - 1;
    while (l >= 0 && p.idx[l] + 1 >= p.node[l]->n) --l;
    if (l < 0) return false;
    ++p.idx[l];
    for (std::uint32_t d = static_cast<std::uint32_t>(l) + 1; d < height_;
         ++d) {
      p.node[d] = static_cast<inode*>(links(p.node[d - 1])[p.idx[d - 1]].child);
      p.idx[d] = 0;
    }
    return true;
  }
  slab* leaf_at(const path_t& p) const noexcept {
    return static_cast<slab*>(
        links(p.node[height_ - 1])[p.idx[height_ - 1]].child);
  }
  // Path to slab s (sublayers attached).
  void locate(slab* s, path_t& p) const {
    if constexpr (kOrdered) {
      // No keys: climb the parent pointers, finding each child in its node.
      void* c = s;
      for (std::uint32_t l = height_; l-- > 0;) {
        inode* x = parent_of(c);
        std::uint32_t j = 0;
        while (links(x)[j].child != c) ++j;
        p.node[l] = x;
        p.idx[l] = j;
        c = x;
      }
    } else {
      slab* t = descend<false>(first_of(s), p);
      while (t != s) {
        const bool ok = path_next(p);
        NEXUS_ASSERT(ok, "slab_list: slab not found in sublayers");
        (void)ok;
        t = leaf_at(p);
      }
    }
  }
  size_type rank_of(const path_t& p) const noexcept {
    size_type r = 0;
    for (std::uint32_t l = 0; l < height_; ++l) {
      const link* c = links(p.node[l]);
      for (std::uint32_t j = 0; j < p.idx[l]; ++j) r += c[j].count;
    }
    return r;
  }
  // Slab holding element `rank`, with its path and offset.
  slab* find_rank(size_type rank, path_t& p,
                  std::uint32_t& off) const noexcept {
    void* x = root_;
    size_type total = size_;
    for (std::uint32_t l = 0; l < height_; ++l) {
      inode* nd = static_cast<inode*>(x);
      const std::uint32_t j = child_at(nd, rank, total);
      p.node[l] = nd;
      p.idx[l] = j;
      total = links(nd)[j].count;
      x = links(nd)[j].child;
    }
    off = static_cast<std::uint32_t>(rank);
    return static_cast<slab*>(x);
  }
  // The child of x (holding `total` elements) that holds element `rank`
  // (the last child for rank == total); rank becomes the offset in it.
  // Scans the counts from the nearer end, so positions near either end
  // (push/pop at the back, the last slab) cost O(1) per level.
  static std::uint32_t child_at(inode* x, size_type& rank,
                                size_type total) noexcept {
    const link* c = links(x);
    if (rank < total / 2) {
      std::uint32_t j = 0;
      while (j + 1 < x->n && rank >= c[j].count) {
        rank -= c[j].count;
        ++j;
      }
      return j;
    }
    std::uint32_t j = x->n - 1;
    size_type before = total - c[j].count;  // elements left of child j
    while (j > 0 && rank < before) {
      --j;
      before -= c[j].count;
    }
    rank -= before;
    return j;
  }

  // ---- node helpers ----
  slab* new_slab(pool_type& pool) noexcept {
    ++ctr_.slab_creates;
    ++shape_;
    NEXUS_PROBE(list_slab_create, this, opts_.name, slabs_ + 1);
    slab* s = static_cast<slab*>(pool.allocate());
    s->prev = s->next = nullptr;
    s->count = 0;
    s->start = 0;
    return s;
  }
  slab* append_new_slab(pool_type& pool) noexcept {
    slab* s = new_slab(pool);
    s->prev = tail_;
    if (tail_)
      tail_->next = s;
    else
      head_ = s;
    tail_ = s;
    ++slabs_;
    return s;
  }
  void link_after(slab* a, slab* s) noexcept {
    s->prev = a;
    s->next = a->next;
    if (a->next)
      a->next->prev = s;
    else
      tail_ = s;
    a->next = s;
  }
  void unlink_free(slab* s) noexcept {
    if (s->prev)
      s->prev->next = s->next;
    else
      head_ = s->next;
    if (s->next)
      s->next->prev = s->prev;
    else
      tail_ = s->prev;
    pool_.deallocate(s);
    --slabs_;
    note_slabs_freed(1);
  }
  inode* new_inode() noexcept {
    ++shape_;
    inode* x = static_cast<inode*>(pool_.allocate());
    x->n = 0;
    return x;
  }
  void free_inode(inode* x) noexcept {
    ++shape_;
    pool_.deallocate(x);
  }
  static std::size_t sum_counts(inode* x) noexcept {
    std::size_t t = 0;
    for (std::uint32_t j = 0; j < x->n; ++j) t += links(x)[j].count;
    return t;
  }
  // Copy of the key for a new entry: the first element of the child.
  const T& child_min(void* c, std::uint32_t child_level) const noexcept {
    for (std::uint32_t d = child_level; d < height_; ++d)
      c = links(static_cast<inode*>(c))[0].child;
    return first_of(static_cast<slab*>(c));
  }
  void set_key(inode* x, std::uint32_t j, const T& k) {
    if constexpr (kInlineKeys)
      keys(x)[j] = k;
    else
      (void)x, (void)j, (void)k;
  }
  // Opens a gap of one entry at pos.
  static void open_gap(inode* x, std::uint32_t pos) noexcept {
    const std::uint32_t n = x->n;
    if constexpr (kInlineKeys)
      relocate_back(keys(x) + pos + 1, keys(x) + pos, n - pos);
    std::memmove(static_cast<void*>(links(x) + pos + 1), links(x) + pos,
                 (n - pos) * sizeof(link));
    ++x->n;
  }
  void put_entry(inode* x, std::uint32_t pos, const T* key, void* child,
                 std::size_t cnt) {
    ++shape_;
    open_gap(x, pos);
    if constexpr (kInlineKeys)
      ::new (static_cast<void*>(keys(x) + pos)) T(*key);
    else
      (void)key;
    links(x)[pos].child = child;
    links(x)[pos].count = cnt;
    set_parent(child, x);
  }
  // Removes entry pos. Removing entry 0 keeps key 0 (the node's lower bound,
  // equal to its parent's separator) and drops key 1 instead.
  void remove_entry(inode* x, std::uint32_t pos) noexcept {
    ++shape_;
    const std::uint32_t n = x->n;
    if constexpr (kInlineKeys) {
      const std::uint32_t kp = (pos == 0 && n > 1) ? 1 : pos;
      keys(x)[kp].~T();
      relocate(keys(x) + kp, keys(x) + kp + 1, n - kp - 1);
    }
    std::memmove(static_cast<void*>(links(x) + pos), links(x) + pos + 1,
                 (n - pos - 1) * sizeof(link));
    --x->n;
  }
  // Moves entries [from, from+k) of src to dst at dpos (gap must be open).
  void move_entries(inode* dst, std::uint32_t dpos, inode* src,
                    std::uint32_t from, std::uint32_t k) noexcept {
    ++shape_;
    if constexpr (kInlineKeys) relocate(keys(dst) + dpos, keys(src) + from, k);
    std::memcpy(static_cast<void*>(links(dst) + dpos), links(src) + from,
                k * sizeof(link));
    if constexpr (kOrdered)
      for (std::uint32_t j = 0; j < k; ++j)
        set_parent(links(dst)[dpos + j].child, dst);
  }

  // Inserts an entry into p.node[l] at pos, splitting up the path as needed.
  // Nodes were ensured by the caller. Counts of ancestors must already
  // include the new child's elements.
  void insert_entry(path_t& p, std::uint32_t l, std::uint32_t pos, const T* key,
                    void* child, std::size_t cnt) {
    inode* x = p.node[l];
    if (x->n < fanout_) {
      put_entry(x, pos, key, child, cnt);
      return;
    }
    if (l > 0 && spill_entry(p, l, pos, key, child, cnt)) return;
    inode* y = new_inode();
    const std::uint32_t h = x->n / 2;
    move_entries(y, 0, x, h, x->n - h);
    y->n = x->n - h;
    x->n = h;
    if (pos <= h)
      put_entry(x, pos, key, child, cnt);
    else
      put_entry(y, pos - h, key, child, cnt);
    const std::size_t cy = sum_counts(y);
    if (l == 0) {
      inode* r = new_inode();
      const T& kx = kInlineKeys ? keys(x)[0] : child_min(x, 0);
      const T& ky = kInlineKeys ? keys(y)[0] : child_min(y, 0);
      put_entry(r, 0, &kx, x, sum_counts(x));
      put_entry(r, 1, &ky, y, cy);
      root_ = r;
      ++height_;
      note_attach();
      return;
    }
    inode* g = p.node[l - 1];
    links(g)[p.idx[l - 1]].count -= cy;
    const T& ky = kInlineKeys ? keys(y)[0] : child_min(y, l);
    insert_entry(p, l - 1, p.idx[l - 1] + 1, &ky, y, cy);
  }

  // Full node x = p.node[l]: if a sibling has room, share x's entries with
  // it and put the new one where it falls. Splitting at once left the bottom
  // sublayer ~66% full at 10^7 random keys; spilling first keeps it ~83% full
  // (640 KiB fewer nodes there, 0.06 byte per element). Nodes are hot from
  // the descent, so a spill costs a few hundred bytes of copying.
  bool spill_entry(const path_t& p, std::uint32_t l, std::uint32_t pos,
                   const T* key, void* child, std::size_t cnt) {
    inode* x = p.node[l];
    inode* g = p.node[l - 1];
    const std::uint32_t gi = p.idx[l - 1];
    auto sibling = [&](std::uint32_t j) {
      return static_cast<inode*>(links(g)[j].child);
    };
    if (gi > 0 && sibling(gi - 1)->n + 2 <= fanout_) {
      inode* a = sibling(gi - 1);
      const std::uint32_t before = a->n;
      balance_nodes(g, gi - 1, (a->n + x->n + 1) / 2);
      const std::uint32_t k = a->n - before;  // entries x gave to a
      if (pos <= k) {
        put_entry(a, before + pos, key, child, cnt);
        links(g)[gi - 1].count += cnt;
        links(g)[gi].count -= cnt;
      } else {
        put_entry(x, pos - k, key, child, cnt);
      }
      return true;
    }
    if (gi + 1 < g->n && sibling(gi + 1)->n + 2 <= fanout_) {
      inode* b = sibling(gi + 1);
      const std::uint32_t keep = (x->n + b->n) / 2;
      balance_nodes(g, gi, keep);
      if (pos <= keep) {
        put_entry(x, pos, key, child, cnt);
      } else {
        put_entry(b, pos - keep, key, child, cnt);
        links(g)[gi].count -= cnt;
        links(g)[gi + 1].count += cnt;
      }
      return true;
    }
    return false;
  }

  // Restores the fill of p.node[l] after entries were removed.
  void fix_node(path_t& p, std::uint32_t l) {
    inode* x = p.node[l];
    if (l == 0) {
      if (x->n == 1 && height_ > 1) {
        root_ = static_cast<inode*>(links(x)[0].child);
        if constexpr (kInlineKeys) destroy_n(keys(x), 1);
        free_inode(x);
        --height_;
        note_detach();
      } else if (x->n == 1) {
        detach();
      }
      return;
    }
    const std::uint32_t minfill = fanout_ / 2;
    if (x->n >= minfill) return;
    inode* g = p.node[l - 1];
    const std::uint32_t gi = p.idx[l - 1];
    const bool use_right = gi + 1 < g->n;
    const std::uint32_t li = use_right ? gi : gi - 1;  // left of the pair
    inode* a = static_cast<inode*>(links(g)[li].child);
    inode* b = static_cast<inode*>(links(g)[li + 1].child);
    if (a->n + b->n <= fanout_) {
      move_entries(a, a->n, b, 0, b->n);
      a->n += b->n;
      b->n = 0;
      links(g)[li].count += links(g)[li + 1].count;
      free_inode(b);
      remove_entry(g, li + 1);
      p.idx[l - 1] = li + 1;
      fix_node(p, l - 1);
      return;
    }
    // Borrow so that both hold about half.
    balance_nodes(g, li, (a->n + b->n) / 2);
  }

  // Moves entries between the siblings li and li + 1 of g so that the left
  // one holds want_a, keeping g's counts and separators right.
  void balance_nodes(inode* g, std::uint32_t li, std::uint32_t want_a) {
    inode* a = static_cast<inode*>(links(g)[li].child);
    inode* b = static_cast<inode*>(links(g)[li + 1].child);
    if (a->n < want_a) {  // b's first entries move to a's end
      const std::uint32_t k = want_a - a->n;
      std::size_t moved = 0;
      for (std::uint32_t j = 0; j < k; ++j) moved += links(b)[j].count;
      move_entries(a, a->n, b, 0, k);
      a->n += k;
      if constexpr (kInlineKeys) {
        // keys(b)[k] becomes b's lower bound; keep the others packed.
        relocate(keys(b), keys(b) + k, b->n - k);
      }
      std::memmove(static_cast<void*>(links(b)), links(b) + k,
                   (b->n - k) * sizeof(link));
      b->n -= k;
      links(g)[li].count += moved;
      links(g)[li + 1].count -= moved;
      if constexpr (kInlineKeys) keys(g)[li + 1] = keys(b)[0];
    } else {  // a's last entries move to b's front
      const std::uint32_t k = a->n - want_a;
      std::size_t moved = 0;
      for (std::uint32_t j = a->n - k; j < a->n; ++j)
        moved += links(a)[j].count;
      if constexpr (kInlineKeys) relocate_back(keys(b) + k, keys(b), b->n);
      std::memmove(static_cast<void*>(links(b) + k), links(b),
                   b->n * sizeof(link));
      move_entries(b, 0, a, a->n - k, k);
      b->n += k;
      a->n -= k;
      links(g)[li].count -= moved;
      links(g)[li + 1].count += moved;
      if constexpr (kInlineKeys) keys(g)[li + 1] = keys(b)[0];
    }
  }

  // Number of sublayer nodes an index over `leaves` slabs takes.
  size_type index_nodes_for(size_type leaves, bool full) const noexcept {
    size_type nodes = 0, items = leaves;
    do {
      const size_type per = full ? fanout_ : (fanout_ * 3) / 4;
      size_type k = (items + per - 1) / per;
      if (k == 0) k = 1;
      nodes += k;
      items = k;
    } while (items > 1);
    return nodes;
  }
  // Builds the sublayers bottom-up over the slab chain. Nodes must be
  // available (ensured, or freed by a preceding detach of a larger index).
  // While building, the nodes of one level are threaded through the spare
  // last child slot (fanout_ < kFanoutMax).
  void build_index(bool full) {
    NEXUS_ASSERT(height_ == 0 && slabs_ > 0, "build_index");
    size_type per = full ? fanout_ : (fanout_ * 3) / 4;
    if (per < 2) per = 2;
    constexpr std::uint32_t spare = static_cast<std::uint32_t>(kFanoutMax - 1);
    slab* s = head_;
    inode* below = nullptr;  // first node of the level below (after level 1)
    size_type items = slabs_;
    std::uint32_t h = 0;
    do {
      size_type k = (items + per - 1) / per;
      if (k > 1 && items / k < fanout_ / 2) k = (items + fanout_ - 1) / fanout_;
      inode* first = nullptr;
      inode* last = nullptr;
      inode* c = below;
      for (size_type i = 0; i < k; ++i) {
        const size_type take = items / k + (i < items % k ? 1 : 0);
        inode* x = new_inode();
        for (size_type j = 0; j < take; ++j) {
          if (h == 0) {
            put_entry(x, x->n, &first_of(s), s, s->count);
            s = s->next;
          } else {
            inode* nx = static_cast<inode*>(links(c)[spare].child);
            const T& kc = kInlineKeys ? keys(c)[0] : first_of(head_);
            put_entry(x, x->n, &kc, c, sum_counts(c));
            c = nx;
          }
        }
        if (last)
          links(last)[spare].child = x;
        else
          first = x;
        last = x;
      }
      below = first;
      items = k;
      ++h;
    } while (items > 1);
    root_ = below;
    height_ = h;
    note_attach();
    NEXUS_ASSERT(height_ <= max_sublayers, "too many sublayers");
  }

  void destroy_index(void* x, std::uint32_t l) noexcept {
    if (l == height_) return;
    inode* nd = static_cast<inode*>(x);
    for (std::uint32_t j = 0; j < nd->n; ++j)
      destroy_index(links(nd)[j].child, l + 1);
    if constexpr (kInlineKeys) destroy_n(keys(nd), nd->n);
    free_inode(nd);
  }
  void detach() noexcept {
    if (height_ == 0) return;
    destroy_index(root_, 0);
    root_ = nullptr;
    height_ = 0;
    note_detach();
  }

  // ---- small-list mode ----
  static slab* alloc_small(std::uint32_t cap) noexcept {
    void* p = ::operator new(kElemOff + cap * sizeof(T), std::align_val_t{64},
                             std::nothrow);
    if (p == nullptr) return nullptr;
    slab* s = static_cast<slab*>(p);
    s->prev = s->next = nullptr;
    s->count = 0;
    s->start = 0;  // small mode never moves it
    return s;
  }
  static void free_small(slab* s) noexcept {
    ::operator delete(s, std::align_val_t{64});
  }
  // Replaces the small buffer with one of capacity cap; false on OOM.
  bool resize_small(std::uint32_t cap) noexcept {
    slab* n = alloc_small(cap);
    if (n == nullptr) return false;
    if (head_ != nullptr) {
      relocate(elems(n), elems(head_), head_->count);
      n->count = head_->count;
      free_small(head_);
    }
    head_ = tail_ = n;
    small_cap_ = cap;
    return true;
  }
  void shrink_small() noexcept {
    if (!small_) return;
    if (size_ == 0) {
      if (head_) free_small(head_);
      head_ = tail_ = nullptr;
      small_cap_ = 0;
    } else if (small_cap_ > 2 * size_) {
      static_cast<void>(
          resize_small(static_cast<std::uint32_t>(size_ + (size_ + 1) / 2)));
    }
  }
  // Small buffer -> full slabs (plus sublayers if that makes enough slabs).
  // Reserves room for one more slab so the insert that triggered this does
  // not need memory. False on OOM (nothing changed).
  bool to_slab_mode() {
    const size_type leaves = size_ / kCap + 1;
    if (!pool_.ensure(leaves + 1 + index_nodes_for(leaves + 1, true)))
      return false;
    slab* old = head_;
    head_ = tail_ = nullptr;
    small_ = false;
    const std::uint32_t n = old != nullptr ? old->count : 0;
    for (std::uint32_t i = 0; i < n;) {
      slab* s = append_new_slab(pool_);
      const std::uint32_t k = std::min(n - i, kCap);
      relocate(elems(s), elems(old) + i, k);
      s->count = k;
      i += k;
    }
    if (old) free_small(old);
    small_cap_ = 0;
    if (slabs_ > opts_.sublayer_threshold) build_index(true);
    return true;
  }
  // Slabs -> small buffer below half of small_list_max (the hysteresis keeps
  // insert/erase at the boundary from converting back and forth). Keeps the
  // slabs if the heap refuses the buffer.
  void try_to_small() noexcept {
    if (small_ || pinned_ || size_ >= kSmallMax / 2) return;
    if (size_ == 0) {
      small_ = true;
      pool_.release_all();
      return;
    }
    slab* n = alloc_small(static_cast<std::uint32_t>(size_ + (size_ + 1) / 2));
    if (n == nullptr) return;
    detach();
    n->count = 0;
    for (slab* s = head_; s != nullptr; s = s->next) {
      relocate(elems(n) + n->count, elems(s), s->count);
      n->count += s->count;
    }
    small_cap_ = static_cast<std::uint32_t>(size_ + (size_ + 1) / 2);
    head_ = tail_ = n;
    const size_type freed = slabs_;
    slabs_ = 0;
    note_slabs_freed(freed);
    small_ = true;
    pool_.release_all();
  }

  // ---- insertion ----
  template <class Arg>
  core_result insert_core(Arg&& v) {
    core_result r = insert_core2(std::forward<Arg>(v));
    note_insert(r);
    if (r.st == status::inserted) verify();
    return r;
  }

  template <class Arg>
  core_result insert_core2(Arg&& v) {
    if (small_) {
      std::uint32_t pos = 0;
      if (head_ != nullptr) {
        pos = search_slab<Multi>(head_, v);
        if constexpr (!Multi) {
          if (pos < head_->count && !less(v, elems(head_)[pos]))
            return {{this, head_, pos}, status::exists};
        }
      }
      if (size_ + 1 >= kSmallMax) {
        if (!to_slab_mode()) return {end(), status::oom};
        return slab_insert(std::forward<Arg>(v));
      }
      if (size_ == small_cap_) {
        std::uint32_t nc = small_cap_ ? 2 * small_cap_ : 1;
        if (nc > kSmallMax - 1) nc = kSmallMax - 1;
        if constexpr (!std::is_same_v<std::remove_cvref_t<Arg>, T> ||
                      std::is_lvalue_reference_v<Arg>) {
          T tmp(v);  // copy first: resize must not precede a throwing copy
          if (!resize_small(nc)) return {end(), status::oom};
          return small_put(pos, std::move(tmp));
        } else {
          if (!resize_small(nc)) return {end(), status::oom};
          return small_put(pos, std::forward<Arg>(v));
        }
      }
      if constexpr (std::is_lvalue_reference_v<Arg>) {
        T tmp(v);
        return small_put(pos, std::move(tmp));
      } else {
        return small_put(pos, std::forward<Arg>(v));
      }
    }
    return slab_insert(std::forward<Arg>(v));
  }

  core_result small_put(std::uint32_t pos, T&& v) noexcept {
    T* e = elems(head_);
    relocate_back(e + pos + 1, e + pos, head_->count - pos);
    ::new (static_cast<void*>(e + pos)) T(std::move(v));
    ++head_->count;
    ++size_;
    return {{this, head_, pos}, status::inserted};
  }

  template <class Arg>
  core_result slab_insert(Arg&& v) {
    if (head_ == nullptr) {  // empty list in slab mode
      if (!pool_.ensure(1)) return {end(), status::oom};
      if constexpr (std::is_lvalue_reference_v<Arg>) {
        T tmp(v);
        slab* s = append_new_slab(pool_);
        ::new (static_cast<void*>(elems(s))) T(std::move(tmp));
        s->count = 1;
      } else {
        slab* s = append_new_slab(pool_);
        ::new (static_cast<void*>(elems(s))) T(std::forward<Arg>(v));
        s->count = 1;
      }
      size_ = 1;
      return {{this, head_, 0}, status::inserted};
    }
    path_t p;
    slab* s = descend<Multi>(v, p);
    std::uint32_t pos = search_slab<Multi>(s, v);
    if constexpr (!Multi) {
      if (pos < s->count) {
        if (!less(v, elems(s)[pos])) return {{this, s, pos}, status::exists};
      } else if (s->next != nullptr && !less(v, first_of(s->next))) {
        return {{this, s->next, 0}, status::exists};
      }
    }
    if (s->count < kCap) {
      if constexpr (std::is_lvalue_reference_v<Arg>) {
        T tmp(v);
        return slab_put(p, s, pos, std::move(tmp));
      } else {
        return slab_put(p, s, pos, std::forward<Arg>(v));
      }
    }
    if constexpr (std::is_lvalue_reference_v<Arg>) {
      T tmp(v);
      return full_insert(p, s, pos, tmp);
    } else {
      return full_insert(p, s, pos, v);
    }
  }

  core_result slab_put(path_t& p, slab* s, std::uint32_t pos, T&& v) noexcept {
    T* e = elems(s);
    const std::uint32_t n = s->count;
    // Front half with a gap before it: move the elements before pos one slot
    // down. Otherwise move those after pos up; if the only room is the front
    // gap, recentre first, so a run of appends after front erasures does not
    // shift the slab each time.
    const bool front = s->start != 0 && pos < n - pos;
    if (!front && s->start + n == kCap) {
      normalize(*s);
      e = elems(s);
    }
    if (front) {
      relocate(e - 1, e, pos);
      --s->start;
      --e;
    } else {
      relocate_back(e + pos + 1, e + pos, n - pos);
    }
    ::new (static_cast<void*>(e + pos)) T(std::move(v));
    ++s->count;
    ++size_;
    for (std::uint32_t l = 0; l < height_; ++l)
      ++links(p.node[l])[p.idx[l]].count;
    return {{this, s, pos}, status::inserted};
  }

  // Insert into the full slab s at pos. v is moved from only on success.
  core_result full_insert(path_t& p, slab* s, std::uint32_t pos, T& v) {
    slab* w[kWindow + 1];
    std::uint32_t m = 0, ins = 0, first_idx = 0;
    const bool indexed = height_ != 0;
    inode* P = indexed ? p.node[height_ - 1] : nullptr;
    const std::uint32_t li = indexed ? p.idx[height_ - 1] : 0;
    auto cnt_at = [&](std::uint32_t j) -> std::uint32_t {
      return static_cast<std::uint32_t>(links(P)[j].count);
    };
    // Immediate neighbours with room: rebalance just the two.
    slab* left = nullptr;
    slab* right = nullptr;
    std::uint32_t room_l = 0, room_r = 0;
    if (indexed) {
      if (li > 0)
        left = static_cast<slab*>(links(P)[li - 1].child),
        room_l = kCap - cnt_at(li - 1);
      if (li + 1 < P->n)
        right = static_cast<slab*>(links(P)[li + 1].child),
        room_r = kCap - cnt_at(li + 1);
    } else {
      left = s->prev;
      right = s->next;
      if (left) room_l = kCap - left->count;
      if (right) room_r = kCap - right->count;
    }
    bool grow = false;
    // Appending past the last element (ascending input): start a new slab
    // and leave this one full, as an append-only list would.
    const bool append =
        right == nullptr && s->next == nullptr && pos == s->count;
    if (append) {
      w[0] = s, m = 1, ins = 0, first_idx = li, grow = true;
    } else if (room_l >= kSlack * 2 || room_r >= kSlack * 2) {
      // Prefer the left neighbour: it only gains elements at its end, while
      // spilling right shifts the whole (cold) right neighbour.
      if (room_l < kSlack * 2) {
        w[0] = s, w[1] = right, m = 2, ins = 0, first_idx = li;
      } else {
        w[0] = left, w[1] = s, m = 2, ins = 1, first_idx = li - 1;
      }
      prefetch_slab_for_write(w[1 - ins]);
    } else {
      // Window of up to kWindow slabs around s.
      std::uint32_t a = 0, b = 0;  // extent left / right of s
      slab* lo = s;
      slab* hi = s;
      std::uint32_t total = kCap + 1;
      bool can_l = true, can_r = true;
      // Widen the window until it has room to spread (2 * kSlack free slots
      // per slab) or reaches kWindow slabs; a small window keeps the moves
      // local.
      while (a + b + 1 < kWindow && (can_l || can_r) &&
             (a + b == 0 ||
              (a + b + 1) * kCap < total + (a + b + 1) * 2 * kSlack)) {
        if (can_r) {
          slab* nx = indexed
                         ? (li + b + 1 < P->n
                                ? static_cast<slab*>(links(P)[li + b + 1].child)
                                : nullptr)
                         : hi->next;
          if (nx) {
            hi = nx;
            ++b;
            total += indexed ? cnt_at(li + b) : nx->count;
          } else {
            can_r = false;
          }
        }
        if (a + b + 1 < kWindow && can_l) {
          slab* pv = indexed
                         ? (li >= a + 1
                                ? static_cast<slab*>(links(P)[li - a - 1].child)
                                : nullptr)
                         : lo->prev;
          if (pv) {
            lo = pv;
            ++a;
            total += indexed ? cnt_at(li - a) : pv->count;
          } else {
            can_l = false;
          }
        }
      }
      m = a + b + 1;
      slab* c = lo;
      if (indexed) {
        // From the parent: walking the chain would be a miss per slab.
        for (std::uint32_t j = 0; j < m; ++j)
          w[j] = static_cast<slab*>(links(P)[li - a + j].child);
      } else {
        for (std::uint32_t j = 0; j < m; ++j, c = c->next) w[j] = c;
      }
      // The window's slabs are usually cold: start all their misses at once.
      for (std::uint32_t j = 0; j < m; ++j) prefetch_slab_for_write(w[j]);
      ins = a;
      first_idx = li - a;
      // Short of room: add a slab rather than spread a few free slots
      // (which would soon ripple again).
      grow = total + m * 2 * kSlack > m * kCap;
    }
    if (grow) {
      // Every node this insert may need is mapped before anything changes.
      if (!pool_.ensure(nodes_for_new_slab(p))) return {end(), status::oom};
      slab* n = new_slab(pool_);
      link_after(w[m - 1], n);
      ++slabs_;
      w[m++] = n;
    }
    std::pair<slab*, std::uint32_t> where;
    if (append) {
      slab* n = w[1];
      ::new (static_cast<void*>(elems(n))) T(std::move(v));
      n->count = 1;
      where = {n, 0};
    } else if (!grow && m == 2) {
      // Two slabs: move the boundary run directly, then insert.
      slab* a = w[0];
      slab* b = w[1];
      const std::uint32_t g = ins == 0 ? pos : a->count + pos;
      balance_two(a, b);
      where = g <= a->count ? std::pair<slab*, std::uint32_t>{a, g}
                            : std::pair<slab*, std::uint32_t>{b, g - a->count};
      T* e = elems(where.first);
      relocate_back(e + where.second + 1, e + where.second,
                    where.first->count - where.second);
      ::new (static_cast<void*>(e + where.second)) T(std::move(v));
      ++where.first->count;
      ++ctr_.spills;
      NEXUS_PROBE(list_spill, this, opts_.name, w[ins]->count,
                  w[1 - ins]->count);
    } else {
      // Gather (with v in place), then scatter evenly.
      std::size_t gpos = 0;
      where = redistribute(w, m, ins, pos, v, gpos);
      ++ctr_.ripples;
      NEXUS_PROBE(list_ripple, this, opts_.name, m, grow ? 1 : 0);
    }
    ++size_;
    if (indexed) {
      for (std::uint32_t l = 0; l + 1 < height_; ++l)
        ++links(p.node[l])[p.idx[l]].count;
      const std::uint32_t existing = grow ? m - 1 : m;
      for (std::uint32_t j = 0; j < existing; ++j) {
        links(P)[first_idx + j].count = w[j]->count;
        if (j > 0) set_key(P, first_idx + j, first_of(w[j]));
      }
      if (grow)
        insert_entry(p, height_ - 1, first_idx + existing, &first_of(w[m - 1]),
                     w[m - 1], w[m - 1]->count);
    } else if (slabs_ > opts_.sublayer_threshold) {
      build_index(false);
    }
    const_iterator it{this, where.first, where.second};
    if (grow) it = compact_after_grow(it);
    return {it, status::inserted};
  }

  // Nodes that adding one slab below path p may take (the slab, node splits
  // up the path, a new root, or a first index).
  std::size_t nodes_for_new_slab(const path_t& p) const {
    std::size_t need = 1;
    if (height_ != 0) {
      std::int32_t l = static_cast<std::int32_t>(height_) - 1;
      while (l >= 0 && p.node[l]->n >= fanout_) {
        ++need;
        --l;
      }
      if (l < 0) {
        ++need;
        if (height_ >= max_sublayers)
          throw_or_abort<std::length_error>("slab_list: more than 8 sublayers");
      }
    } else if (slabs_ + 1 > opts_.sublayer_threshold) {
      need += index_nodes_for(slabs_ + 1, false);
    }
    return need;
  }

  // A new slab may break the fill ratio: compact, keeping `it`'s position.
  const_iterator compact_after_grow(const_iterator it) {
    if (!ratio_broken(ratio_)) return it;
    const size_type rk = index_of(it);
    compact_if_needed();
    if (height_ != 0 && slabs_ * 2 <= opts_.sublayer_threshold) detach();
    return nth(rk);
  }

  // ---- ordered lists: insertion by position ----
  // Inserts v before position rank (<= size()); v is moved from only on
  // success. Same slabs, spills and windows as the sorted insert.
  core_result insert_at(size_type rank, T& v) {
    const core_result r = insert_at_impl(rank, v);
    note_insert(r);
    if (r.st == status::inserted) verify();
    return r;
  }
  core_result insert_at_impl(size_type rank, T& v) {
    if (small_ && size_ + 1 >= kSmallMax && !to_slab_mode())
      return {end(), status::oom};
    if (small_) {
      if (size_ == small_cap_) {
        std::uint32_t nc = small_cap_ ? 2 * small_cap_ : 1;
        if (nc > kSmallMax - 1) nc = kSmallMax - 1;
        if (!resize_small(nc)) return {end(), status::oom};
      }
      return small_put(static_cast<std::uint32_t>(rank), std::move(v));
    }
    if (head_ == nullptr) {  // empty, in slab mode (reserve())
      if (!pool_.ensure(1)) return {end(), status::oom};
      slab* s = append_new_slab(pool_);
      ::new (static_cast<void*>(elems(s))) T(std::move(v));
      s->count = 1;
      size_ = 1;
      return {{this, s, 0}, status::inserted};
    }
    path_t p;
    std::uint32_t off = 0;
    slab* s = head_;
    if (rank == size_ || rank == 0) {
      // push_back / push_front: follow the outermost children, no scans.
      void* x = root_;
      for (std::uint32_t l = 0; l < height_; ++l) {
        inode* nd = static_cast<inode*>(x);
        p.node[l] = nd;
        p.idx[l] = rank == 0 ? 0 : nd->n - 1;
        x = links(nd)[p.idx[l]].child;
      }
      s = rank == 0 ? head_ : tail_;
      NEXUS_ASSERT(height_ == 0 || x == s, "slab_list: outermost path");
      off = rank == 0 ? 0 : s->count;
    } else if (height_ == 0) {
      while (s->next != nullptr && rank >= s->count) {
        rank -= s->count;
        s = s->next;
      }
      off = static_cast<std::uint32_t>(rank);
    } else {
      s = find_rank(rank, p, off);
    }
    // Prvalues straight into the caller's slot: assigning a core_result
    // here cost a store-forwarding stall per push_back (measured).
    if (s->count < kCap) return slab_put(p, s, off, std::move(v));
    if (s == head_ && off == 0) return prepend_slab(p, v);
    return full_insert(p, s, off, v);
  }

  // Inserting before a full first slab starts a new first slab (the mirror
  // of appending), so push_front leaves full slabs behind it.
  core_result prepend_slab(path_t& p, T& v) {
    if (!pool_.ensure(nodes_for_new_slab(p))) return {end(), status::oom};
    slab* n = new_slab(pool_);
    n->next = head_;
    head_->prev = n;
    head_ = n;
    ++slabs_;
    ::new (static_cast<void*>(elems(n))) T(std::move(v));
    n->count = 1;
    ++size_;
    if (height_ != 0) {
      for (std::uint32_t l = 0; l + 1 < height_; ++l)
        ++links(p.node[l])[p.idx[l]].count;
      insert_entry(p, height_ - 1, 0, &first_of(n), n, 1);
    } else if (slabs_ > opts_.sublayer_threshold) {
      build_index(false);
    }
    return {compact_after_grow({this, n, 0}), status::inserted};
  }

  // Evens out two adjacent slabs (a before b) by moving their boundary run.
  static void balance_two(slab* a, slab* b) noexcept {
    normalize(*a);
    normalize(*b);
    const std::uint32_t ta = (a->count + b->count + 1) / 2;
    if (a->count > ta) {
      const std::uint32_t k = a->count - ta;
      relocate_back(elems(b) + k, elems(b), b->count);
      relocate(elems(b), elems(a) + ta, k);
      b->count += k;
    } else if (a->count < ta) {
      const std::uint32_t k = ta - a->count;
      relocate(elems(a) + a->count, elems(b), k);
      relocate(elems(b), elems(b) + k, b->count - k);
      b->count -= k;
    }
    a->count = ta;
  }

  // Moves the elements of w[0..m) (plus v at slab ins, position pos) into a
  // buffer and back, spread evenly. Returns where v landed.
  std::pair<slab*, std::uint32_t> redistribute(slab** w, std::uint32_t m,
                                               std::uint32_t ins,
                                               std::uint32_t pos, T& v,
                                               std::size_t& gpos) noexcept {
    alignas(T) unsigned char
        raw[std::size_t{kWindow + 1} * kCap * sizeof(T) + sizeof(T)];
    T* buf = reinterpret_cast<T*>(raw);
    std::size_t total = 0;
    for (std::uint32_t j = 0; j < m; ++j) {
      slab* s = w[j];
      if (j == ins) {
        relocate(buf + total, elems(s), pos);
        gpos = total + pos;
        // NOLINTNEXTLINE(bugprone-use-after-move): j == ins happens once
        ::new (static_cast<void*>(buf + gpos)) T(std::move(v));
        relocate(buf + gpos + 1, elems(s) + pos, s->count - pos);
        total += s->count + 1;
      } else {
        relocate(buf + total, elems(s), s->count);
        total += s->count;
      }
      s->count = 0;
      s->start = 0;
    }
    const std::size_t base = total / m, extra = total % m;
    std::size_t off = 0;
    std::pair<slab*, std::uint32_t> where{nullptr, 0};
    for (std::uint32_t j = 0; j < m; ++j) {
      const std::size_t k = base + (j < extra ? 1 : 0);
      relocate(elems(w[j]), buf + off, k);
      w[j]->count = static_cast<std::uint32_t>(k);
      if (gpos >= off && gpos < off + k)
        where = {w[j], static_cast<std::uint32_t>(gpos - off)};
      off += k;
    }
    return where;
  }

  // ---- erasure ----
  template <class K>
  size_type erase_key(const K& k) {
    if constexpr (!Multi) {
      if (size_ == 0) return 0;
      if (!small_) {
        // Within the hinted slab's range, p is still that slab's path.
        // Otherwise descend, which overwrites p and so drops the hint.
        path_t& p = hint_.p;
        slab* s = hint_.s;
        if (s == nullptr || hint_.shape != shape_ || less(k, first_of(s)) ||
            less(last_of(s), k)) {
          hint_.s = nullptr;
          s = descend<false>(k, p);
        }
        std::uint32_t i = search_slab<false>(s, k);
        if (i == s->count) {  // only after a descent: k > last_of(s)
          if (s->next == nullptr || less(k, first_of(s->next))) return 0;
          s = s->next;
          i = 0;
          if (height_ != 0) path_next(p);
        } else if (less(k, elems(s)[i])) {
          return 0;
        }
        const std::uint64_t shape = shape_;
        erase_in_slab(p, s, i, 1);
        hint_.s = shape == shape_ ? s : nullptr;
        hint_.shape = shape_;
        verify();
        return 1;
      }
    }
    const_iterator a = bound<false>(k);
    if (a.s_ == nullptr || less(k, *a)) return 0;
    size_type n = 1;
    size_type ra;
    if constexpr (Multi) {
      ra = index_of(a);
      n = index_of(bound<true>(k)) - ra;
    } else {
      ra = index_of(a);
    }
    erase_positions(ra, n);
    verify();
    return n;
  }

  // Erases n elements starting at rank r.
  void erase_positions(size_type r, size_type n) {
    while (n > 0) {
      if (small_) {
        T* e = elems(head_);
        const std::uint32_t i = static_cast<std::uint32_t>(r);
        const std::uint32_t k = static_cast<std::uint32_t>(n);
        destroy_n(e + i, k);
        relocate(e + i, e + i + k, head_->count - i - k);
        head_->count -= k;
        size_ -= n;
        note_erase(n, head_->count);
        shrink_small();
        return;
      }
      path_t p;
      std::uint32_t off = 0;
      slab* s;
      if (height_ == 0) {
        s = head_;
        size_type rr = r;
        while (rr >= s->count) {
          rr -= s->count;
          s = s->next;
        }
        off = static_cast<std::uint32_t>(rr);
      } else {
        s = find_rank(r, p, off);
      }
      const std::uint32_t k =
          static_cast<std::uint32_t>(std::min<size_type>(n, s->count - off));
      erase_in_slab(p, s, off, k);
      n -= k;
    }
  }

  void erase_in_slab(path_t& p, slab* s, std::uint32_t off, std::uint32_t k) {
    T* e = elems(s);
    destroy_n(e + off, k);
    const std::uint32_t after = s->count - off - k;
    if (off < after) {
      // Fewer elements before the gap: close it from the front.
      relocate_back(e + k, e, off);
      s->start += k;
    } else {
      relocate(e + off, e + off + k, after);
    }
    s->count -= k;
    size_ -= k;
    note_erase(k, s->count);
    const size_type slabs_before = slabs_;
    const bool emptied = s->count == 0;
    for (std::uint32_t l = 0; l < height_; ++l)
      links(p.node[l])[p.idx[l]].count -= k;
    // Empty slab: drop it. Otherwise merge with a neighbour when both fit
    // in one slab with room to spare (the spare avoids split/merge thrash).
    const std::uint32_t merge_limit = kCap - kCap / 8;
    const bool indexed = height_ != 0;
    if (s->count == 0) {
      remove_slab(p, s);
    } else if (indexed) {
      inode* P = p.node[height_ - 1];
      const std::uint32_t li = p.idx[height_ - 1];
      if (li + 1 < P->n && s->count + links(P)[li + 1].count <= merge_limit) {
        slab* r = static_cast<slab*>(links(P)[li + 1].child);
        normalize(*s);
        relocate(elems(s) + s->count, elems(r), r->count);
        s->count += r->count;
        r->count = 0;
        links(P)[li].count = s->count;
        links(P)[li + 1].count = 0;
        p.idx[height_ - 1] = li + 1;
        remove_slab(p, r);
      } else if (li > 0 && s->count + links(P)[li - 1].count <= merge_limit) {
        slab* l = static_cast<slab*>(links(P)[li - 1].child);
        normalize(*l);
        relocate(elems(l) + l->count, elems(s), s->count);
        l->count += s->count;
        s->count = 0;
        links(P)[li - 1].count = l->count;
        links(P)[li].count = 0;
        remove_slab(p, s);
      }
    } else {
      if (s->next && s->count + s->next->count <= merge_limit) {
        slab* r = s->next;
        normalize(*s);
        relocate(elems(s) + s->count, elems(r), r->count);
        s->count += r->count;
        r->count = 0;
        unlink_free(r);
      } else if (s->prev && s->count + s->prev->count <= merge_limit) {
        slab* l = s->prev;
        normalize(*l);
        relocate(elems(l) + l->count, elems(s), s->count);
        l->count += s->count;
        s->count = 0;
        unlink_free(s);
      }
    }
    if (!emptied && slabs_ != slabs_before) {
      ++ctr_.merges;
      NEXUS_PROBE(list_merge, this, opts_.name, slabs_);
    }
    after_shrink();
  }

  // Removes the empty slab at p (or s when detached).
  void remove_slab(path_t& p, slab* s) {
    unlink_free(s);
    if (height_ != 0) {
      const std::uint32_t l = height_ - 1;
      remove_entry(p.node[l], p.idx[l]);
      fix_node(p, l);
    }
  }

  void after_shrink() {
    compact_if_needed();
    if (height_ != 0 && slabs_ * 2 <= opts_.sublayer_threshold) detach();
    try_to_small();
    maybe_trim();
  }

  // ---- returning memory ----
  // Moves every element into full slabs in one freshly mapped block and
  // unmaps the old chunks; no-op if the region refuses the new block.
  void repack() {
    const size_type leaves = (size_ + kCap - 1) / kCap;
    const size_type nodes = leaves + index_nodes_for(leaves, true);
    pool_type np(pool_.options());
    if (pool_.locked() && np.lock()) return;
    if (!np.reserve(nodes)) return;
    detach();
    slab* old = head_;
    head_ = tail_ = nullptr;
    const size_type old_slabs = slabs_;
    slabs_ = 0;
    ++ctr_.repacks;
    note_slabs_freed(old_slabs);
    slab* cur = nullptr;
    while (old != nullptr) {
      slab* nx = old->next;
      std::uint32_t i = 0;
      while (i < old->count) {
        if (cur == nullptr || cur->count == kCap) cur = append_new_slab(np);
        const std::uint32_t k = std::min(old->count - i, kCap - cur->count);
        relocate(elems(cur) + cur->count, elems(old) + i, k);
        cur->count += k;
        i += k;
      }
      old = nx;
    }
    pool_.swap(np);
    np.release_all();
    if (slabs_ > opts_.sublayer_threshold) build_index(true);
    cursor_ = 0;
    try_to_small();
  }
  // Erasing leaves freed slabs in the pool. Once more than 40% of a large
  // mapping is free (and no reserve() is in force), first unmap the chunks
  // that are wholly free (erasing in key order empties whole chunks); if
  // that leaves too much free, repack into exactly sized memory. Either is
  // O(n) at most, and only after Omega(n) erasures: amortized O(1).
  void maybe_trim() {
    constexpr std::size_t kMinTrimBytes = std::size_t{8} << 20;
    if (pinned_ || small_ || pool_.mapped_bytes() < kMinTrimBytes) return;
    if (!over_40_percent_free()) return;
    if (pool_.release_free_chunks() != 0) {
      ++ctr_.chunk_releases;
      if (!over_40_percent_free()) return;
    }
    repack();
  }
  bool over_40_percent_free() const noexcept {
    return pool_.in_use() * kSlabBytes * 5 < pool_.mapped_bytes() * 3;
  }

  // ---- compaction ----
  bool ratio_broken(double r) const noexcept {
    return slabs_ > ratio_min_slabs_ &&
           static_cast<double>(size_) < r * static_cast<double>(slabs_ * kCap);
  }
  void compact_if_needed() {
    if (!ratio_broken(ratio_)) return;
    const size_type before = slabs_;
    compact();
    ++ctr_.compactions;
    NEXUS_PROBE(list_reap, this, opts_.name, before, slabs_);
  }
  // Packs slabs until the fill ratio holds again (with a margin).
  void compact() {
    const double target =
        std::min(ratio_ + 0.02, 1.0 - 1.0 / static_cast<double>(fanout_));
    if (height_ == 0) {
      pack_chain();
      return;
    }
    // Sweep at most one full round (each step packs one bottom node).
    size_type seen = 0;
    while (height_ != 0 && seen <= size_ && ratio_broken(target)) {
      if (cursor_ >= size_) cursor_ = 0;
      path_t p;
      std::uint32_t off = 0;
      find_rank(cursor_, p, off);
      inode* P = p.node[height_ - 1];
      const size_type start = rank_of(p) - [&] {
        size_type t = 0;
        for (std::uint32_t j = 0; j < p.idx[height_ - 1]; ++j)
          t += links(P)[j].count;
        return t;
      }();
      const size_type total = sum_counts(P);
      if ((total + kCap - 1) / kCap < P->n) pack_node(p);
      cursor_ = start + total;
      seen += total;
    }
    if (height_ == 0 && ratio_broken(ratio_)) pack_chain();
  }

  // Packs all children of the bottom node p.node[h-1] into as few slabs as
  // possible, then removes the emptied ones.
  void pack_node(path_t& p) {
    const std::uint32_t l = height_ - 1;
    inode* P = p.node[l];
    const std::uint32_t n = P->n;
    std::uint32_t q = 1;
    for (std::uint32_t j = 0; j < n && q < n; ++j) {
      slab* d = static_cast<slab*>(links(P)[j].child);
      if (q <= j) q = j + 1;
      while (d->count < kCap && q < n) {
        slab* src = static_cast<slab*>(links(P)[q].child);
        if (src->count == 0) {
          ++q;
          continue;
        }
        const std::uint32_t k = std::min(kCap - d->count, src->count);
        normalize(*d);
        relocate(elems(d) + d->count, elems(src), k);
        src->start += k;  // the rest stays put
        d->count += k;
        src->count -= k;
      }
    }
    std::uint32_t keep = 0;
    for (std::uint32_t j = 0; j < n; ++j) {
      slab* d = static_cast<slab*>(links(P)[j].child);
      links(P)[j].count = d->count;
      if (d->count != 0) {
        if (j > 0) set_key(P, j, first_of(d));
        keep = j + 1;
      }
    }
    while (P->n > keep) {
      slab* d = static_cast<slab*>(links(P)[P->n - 1].child);
      unlink_free(d);
      remove_entry(P, P->n - 1);
    }
    fix_node(p, l);
  }

  void pack_chain() {
    slab* d = head_;
    slab* q = head_ ? head_->next : nullptr;
    while (d != nullptr && q != nullptr) {
      if (q == d) {
        q = q->next;
        continue;
      }
      if (d->count == kCap) {
        d = d->next;
        continue;
      }
      if (q->count == 0) {
        q = q->next;
        continue;
      }
      const std::uint32_t k = std::min(kCap - d->count, q->count);
      normalize(*d);
      relocate(elems(d) + d->count, elems(q), k);
      q->start += k;
      d->count += k;
      q->count -= k;
    }
    for (slab* s = head_; s != nullptr;) {
      slab* nx = s->next;
      if (s->count == 0) unlink_free(s);
      s = nx;
    }
  }

  // ---- copy / destroy ----
  void copy_from(const basic_slab_list& o) {
    if (o.size_ == 0) return;
    if (o.small_) {
      slab* n = alloc_small(static_cast<std::uint32_t>(o.size_));
      if (n == nullptr) throw_oom("slab_list: copy");
      head_ = tail_ = n;
      small_cap_ = static_cast<std::uint32_t>(o.size_);
      for (const T& x : o) {
        ::new (static_cast<void*>(elems(n) + n->count)) T(x);
        ++n->count;
        ++size_;
      }
      return;
    }
    const size_type leaves = (o.size_ + kCap - 1) / kCap;
    if (!pool_.reserve(leaves + index_nodes_for(leaves, true)))
      throw_oom("slab_list: copy: region refused memory");
    small_ = false;
    pinned_ = o.pinned_;
    slab* cur = nullptr;
    for (const T& x : o) {
      if (cur == nullptr || cur->count == kCap) cur = append_new_slab(pool_);
      ::new (static_cast<void*>(elems(cur) + cur->count)) T(x);
      ++cur->count;
      ++size_;
    }
    if (slabs_ > opts_.sublayer_threshold) build_index(true);
  }

  void destroy_all() noexcept {
    if (small_) {
      if (head_) {
        destroy_n(elems(head_), head_->count);
        free_small(head_);
      }
    } else {
      detach();
      for (slab* s = head_; s != nullptr; s = s->next)
        destroy_n(elems(s), s->count);
    }
    pool_.release_all();
  }

  // ---- invariant checking of sublayers ----
  // Keys on the leftmost spine are never compared (nothing lies left of
  // them), so they may exceed the minimum; every other key is a separator.
  const char* check_node(void* x, std::uint32_t l, const T* parent_key,
                         bool spine, slab*& walk, size_type& cnt, const T*& mn,
                         const T*& mx) const {
    if (l == height_) {
      slab* s = static_cast<slab*>(x);
      if (s != walk) return "sublayer children out of chain order";
      walk = s->next;
      cnt = s->count;
      mn = &first_of(s);
      mx = &last_of(s);
      return nullptr;
    }
    inode* nd = static_cast<inode*>(x);
    if (nd->n == 0 || nd->n > fanout_)
      return "sublayer node entry count out of range";
    if (l == 0 && height_ > 1 && nd->n < 2) return "root with a single child";
    if (l > 0 && nd->n < fanout_ / 2) return "sublayer node under half full";
    if constexpr (kInlineKeys) {
      if (parent_key != nullptr &&
          (less(*parent_key, keys(nd)[0]) || less(keys(nd)[0], *parent_key)))
        return "node key 0 differs from its parent's separator";
    } else {
      (void)parent_key;
    }
    size_type total = 0;
    const T* prev_max = nullptr;
    for (std::uint32_t j = 0; j < nd->n; ++j) {
      size_type c = 0;
      const T* cmn = nullptr;
      const T* cmx = nullptr;
      const T* pk = kInlineKeys ? &keys(nd)[j] : nullptr;
      if constexpr (kOrdered)
        if (parent_of(links(nd)[j].child) != nd)
          return "sublayer child's parent pointer is stale";
      if (const char* m = check_node(links(nd)[j].child, l + 1,
                                     l + 1 < height_ ? pk : nullptr,
                                     spine && j == 0, walk, c, cmn, cmx))
        return m;
      if (links(nd)[j].count != c)
        return "sublayer count differs from child's element count";
      if constexpr (kInlineKeys) {
        if (!(spine && j == 0)) {
          if (less(*cmn, keys(nd)[j]))
            return "separator above the child's minimum";
          if (prev_max != nullptr && less(keys(nd)[j], *prev_max))
            return "separator below the previous child's maximum";
        }
      }
      if (j == 0) mn = cmn;
      prev_max = cmx;
      total += c;
    }
    mx = prev_max;
    cnt = total;
    return nullptr;
  }

  [[no_unique_address]] Cmp cmp_;
  slab_list_options opts_;
  slab* head_ = nullptr;
  slab* tail_ = nullptr;
  inode* root_ = nullptr;
  std::uint32_t height_ = 0;
  std::uint32_t small_cap_ = 0;
  size_type size_ = 0;
  size_type slabs_ = 0;
  size_type cursor_ = 0;
  std::uint32_t fanout_ = 0;
  bool small_ = true;
  bool pinned_ = false;
  double ratio_ = 0.9;
  size_type ratio_min_slabs_ = 20;
  list_counters ctr_;
  // Bumped by every change to the list's shape: a slab or node allocated or
  // freed, an entry put, removed or moved, sublayers attached or detached.
  // The erase hint is good only while it has not moved.
  std::uint64_t shape_ = 0;
  erase_hint hint_;
  pool_type pool_;
};

}  // namespace detail

// Sorted set of unique elements stored in 1 KiB slabs.
template <class T, class Cmp = std::less<T>, class Region = nexus::mmap_region>
class slab_list : public detail::basic_slab_list<T, Cmp, Region, false> {
  using base = detail::basic_slab_list<T, Cmp, Region, false>;

 public:
  using base::base;
  slab_list() = default;
  friend bool operator==(const slab_list& a, const slab_list& b) {
    return static_cast<const base&>(a) == static_cast<const base&>(b);
  }
  friend void swap(slab_list& a, slab_list& b) noexcept { a.swap(b); }
};

// Sorted multiset: equal elements are kept in insertion order.
template <class T, class Cmp = std::less<T>, class Region = nexus::mmap_region>
class slab_multilist : public detail::basic_slab_list<T, Cmp, Region, true> {
  using base = detail::basic_slab_list<T, Cmp, Region, true>;

 public:
  using base::base;
  slab_multilist() = default;
  friend bool operator==(const slab_multilist& a, const slab_multilist& b) {
    return static_cast<const base&>(a) == static_cast<const base&>(b);
  }
  friend void swap(slab_multilist& a, slab_multilist& b) noexcept { a.swap(b); }
};

template <class T, class Cmp, class Region, class Pred>
typename slab_list<T, Cmp, Region>::size_type erase_if(
    slab_list<T, Cmp, Region>& l, Pred pred) {
  return l.remove_if(std::move(pred));
}
template <class T, class Cmp, class Region, class Pred>
typename slab_multilist<T, Cmp, Region>::size_type erase_if(
    slab_multilist<T, Cmp, Region>& l, Pred pred) {
  return l.remove_if(std::move(pred));
}

}  // namespace nexus

// slab_list<T, insertion_order, Region>: the ordered list.
#include <nexus/detail/ordered_slab_list.hpp>
