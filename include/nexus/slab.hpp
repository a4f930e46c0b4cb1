// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: `nexus::slab<T, Region>`, a fixed-capacity slab with O(1)
// insert, get and remove, whose memory is mapped once from a region (by
// default straight from the OS), can be locked in RAM and put on huge pages,
// and never grows.
//
// Memory layout of the single mapped block:
//
//   [ slot 0 | slot 1 | ... | slot cap-1 ][pad to 64][ vacancy map ]
//
// A slot holds either a live T or, while vacant and recycled, the link to
// the next free slot (a LIFO free list threaded through the vacant slots, so
// a freed slot comes back while still in cache). The list's head word also
// holds its length, which gives size() without a counter to update. Slots
// of 16+ bytes also keep a skip link to the entry two below, so a refill of
// cold slots has two misses in flight instead of one. Never-used slots are
// handed out by a bump cursor: a first fill neither reads a cold slot nor
// touches the vacancy map. Occupancy is known without reading T: slot i is
// live iff i < bump cursor and its byte in the separate vacancy map is clear,
// so `get`/`contains` on a vacant key never read a dead T and iteration skips
// 8 vacant slots per load.
//
// One byte per slot, not one bit: a bit shares its word with 63 neighbours,
// so an insert and a remove of one slot (or of two slots 64 apart) would
// each read-modify-write the same word, a store-to-load chain the core must
// wait out. Bytes are written with plain stores (insert+remove pair of
// `uint64_t` at 10^4 slots: 3.2x -> 1.7x the std::vector baseline's time on
// a Xeon VM; the price is 7/8 byte more per slot).
//
// Keys are plain 32-bit indices without a generation counter: once a slot is
// freed and reused, a stale key reaches the new value. Track validity
// yourself if you need ABA protection.
//
// T's constructors, when an insert runs them, must not insert into or
// remove from the same slab (asserted in debug builds): the insert commits
// its bookkeeping after the constructor returns, for the strong guarantee.
// A destructor run by erase() or remove() may erase other keys of the slab;
// one run by clear() or ~slab() may not.
//
// After alloc*() returns, no operation allocates heap memory, makes a system
// call or takes a page fault (the region pre-faults every page).
#pragma once

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include <nexus/detail/config.hpp>
#include <nexus/detail/probes.hpp>
#include <nexus/key.hpp>
#include <nexus/mmap_region.hpp>
#include <nexus/region.hpp>

namespace nexus {

// Thrown by slab::insert / slab::emplace (and their vacant-entry-free
// relatives) when every slot is taken. With exceptions disabled, those calls
// print one line and abort instead; use try_insert to handle "full" locally.
class slab_full : public std::length_error {
 public:
  slab_full() : std::length_error("nexus::slab is full") {}
  explicit slab_full(const char* what) : std::length_error(what) {}
};

// A snapshot of a slab's shape and counters (see slab::stats()).
struct slab_stats {
  std::size_t capacity = 0;  // slots
  std::size_t size = 0;      // live values
  // Insert attempts refused because the slab was full or unallocated.
  // (The slab keeps no count of inserts and removals: every counter costs
  // its hot path a read-modify-write. The slab_insert/slab_remove probes
  // count them when you trace.)
  std::uint64_t rejected_inserts = 0;
  std::size_t bytes_mapped = 0;  // memory_size()
  std::size_t bytes_locked = 0;  // bytes_mapped when mlock()ed, else 0
  // Huge-page mode the block was mapped with (none for regions that cannot
  // tell).
  nexus::huge_pages huge_pages = nexus::huge_pages::none;
};

template <class T, region Region = mmap_region>
class slab {
  static_assert(std::is_object_v<T> && !std::is_array_v<T> &&
                    !std::is_const_v<T> && !std::is_volatile_v<T>,
                "nexus::slab<T>: T must be a non-const, non-array object type");
  static_assert(std::is_nothrow_destructible_v<T>,
                "nexus::slab<T>: T's destructor must not throw");
  // Regions hand out page-aligned memory; a stricter alignment cannot be met.
  static_assert(alignof(T) <= 4096,
                "nexus::slab<T>: alignof(T) above the page size (4096)");

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using key_type = nexus::key;
  using region_type = Region;

  // Keys are 32-bit, and index key::max_index is the "no slot" sentinel.
  static constexpr size_type max_capacity = key::max_index;

  // A slot is a T or a free-list link (4 bytes, or the 8-byte head word when
  // the slot is 8-aligned), rounded up to T's alignment.
  static constexpr size_type slot_align = alignof(T) > alignof(std::uint32_t)
                                              ? alignof(T)
                                              : alignof(std::uint32_t);
  static constexpr size_type slot_size =
      ((sizeof(T) > sizeof(std::uint32_t) ? sizeof(T) : sizeof(std::uint32_t)) +
       slot_align - 1) /
      slot_align * slot_align;

  class vacant_slot;
  // Returned by vacant_entry(): empty (contextually false) when the slab is
  // full, otherwise `e->key()`, `e->insert(value)`, `e->emplace(args...)`.
  using vacant_entry_type = std::optional<vacant_slot>;

  template <bool Const>
  class basic_iterator;
  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  // ---- construction ------------------------------------------------------

  // An unallocated slab: capacity() == 0, owns no memory, every insert fails.
  slab() noexcept = default;

  slab(slab&& other) noexcept
      : slots_(std::exchange(other.slots_, nullptr)),
        free_(std::exchange(other.free_, empty_list)),
        end_(std::exchange(other.end_, nullptr)),
        bump_(std::exchange(other.bump_, nullptr)),
        vacancy_(std::exchange(other.vacancy_, nullptr)),
        second_(std::exchange(other.second_, no_second)),
        rejected_(std::exchange(other.rejected_, 0)),
        region_(std::move(other.region_)) {}

  slab& operator=(slab&& other) noexcept {
    if (this != &other) {
      slab tmp(std::move(other));
      swap(tmp);
    }
    return *this;
  }

  slab(const slab&) = delete;
  slab& operator=(const slab&) = delete;

  // Destroys every live value, then the region releases (and unlocks) the
  // memory.
  ~slab() {
    destroy_values();
    if (!region_.empty()) {
      NEXUS_PROBE(slab_free, this, capacity(), region_.size());
    }
  }

  void swap(slab& other) noexcept {
    using std::swap;
    swap(slots_, other.slots_);
    swap(free_, other.free_);
    swap(second_, other.second_);
    swap(bump_, other.bump_);
    swap(end_, other.end_);
    swap(vacancy_, other.vacancy_);
    swap(rejected_, other.rejected_);
    swap(region_, other.region_);
  }
  friend void swap(slab& a, slab& b) noexcept { a.swap(b); }

  // ---- memory control ----------------------------------------------------
  // Each alloc* maps the slab's one block of memory. Errors (nothing changes
  // on failure):
  //   std::errc::device_or_resource_busy  the slab is already allocated
  //   std::errc::invalid_argument         n == 0, or max_bytes too small to
  //                                       hold one slot in whole pages
  //   std::errc::value_too_large          the capacity needs more than 32-bit
  //                                       keys, or the byte size overflows
  //   anything the region's map() reports (e.g. not_enough_memory,
  //   nexus::errc::huge_pages_unavailable for alloc_hugetlb).

  // At least `min_capacity` slots; the block is rounded up to whole pages and
  // the slack becomes extra capacity. Blocks of 2 MiB or more ask for
  // transparent huge pages. Every page is pre-faulted.
  [[nodiscard]] std::error_code alloc(size_type min_capacity) {
    return alloc_capacity(min_capacity, huge_pages::none);
  }

  // As many slots as fit in at most `max_bytes` (rounded down to whole
  // pages): memory_size() <= max_bytes.
  [[nodiscard]] std::error_code alloc_bytes(size_type max_bytes) {
    if (!region_.empty()) return make(std::errc::device_or_resource_busy);
    const size_type page = Region::granularity(huge_pages::none);
    const size_type bytes = max_bytes / page * page;
    if (bytes == 0) return make(std::errc::invalid_argument);
    const size_type cap = fit(bytes);
    if (cap == 0) return make(std::errc::invalid_argument);
    if (cap > max_capacity) return make(std::errc::value_too_large);
    return map_block(bytes, thp_for(bytes), max_bytes);
  }

  // At least `min_capacity` slots on guaranteed huge pages (Linux
  // MAP_HUGETLB), or an error when the system has too few reserved.
  [[nodiscard]] std::error_code alloc_hugetlb(size_type min_capacity) {
    return alloc_capacity(min_capacity, huge_pages::required);
  }

  // Pins the block in RAM (Linux: needs CAP_IPC_LOCK or RLIMIT_MEMLOCK).
  // std::errc::invalid_argument on an unallocated slab.
  [[nodiscard]] std::error_code mlock() {
    if (region_.empty()) return make(std::errc::invalid_argument);
    const std::error_code ec = region_.lock();
    NEXUS_PROBE(slab_mlock, this, region_.size(), ec.value());
    return ec;
  }

  // Undoes mlock(). std::errc::invalid_argument on an unallocated slab.
  [[nodiscard]] std::error_code munlock() {
    if (region_.empty()) return make(std::errc::invalid_argument);
    const std::error_code ec = region_.unlock();
    NEXUS_PROBE(slab_munlock, this, region_.size(), ec.value());
    return ec;
  }

  // Best-effort request to back the block with huge pages after the fact
  // (Linux 6.1+ MADV_COLLAPSE); std::errc::not_supported where impossible,
  // std::errc::invalid_argument on an unallocated slab.
  [[nodiscard]] std::error_code try_collapse() {
    if (region_.empty()) return make(std::errc::invalid_argument);
    return region_.collapse();
  }

  // Bytes mapped (slots + vacancy map + page slack); 0 if unallocated.
  [[nodiscard]] size_type memory_size() const noexcept {
    return region_.size();
  }
  [[nodiscard]] bool locked() const noexcept { return region_.locked(); }
  [[nodiscard]] const Region& region() const noexcept { return region_; }

  // Shape and the refused-insert count, without tracing. O(1).
  [[nodiscard]] slab_stats stats() const noexcept {
    slab_stats st;
    st.capacity = capacity();
    st.size = size();
    st.rejected_inserts = rejected_;
    st.bytes_mapped = region_.size();
    st.bytes_locked = region_.locked() ? region_.size() : 0;
    if constexpr (requires { region_.huge(); }) {
      st.huge_pages = region_.huge();
    }
    return st;
  }

  // Verifies the free list and the vacancy marks against size(): every
  // map byte is live or vacant, and live at and past the bump cursor; every
  // free-list entry is a vacant slot below the bump cursor, each appears
  // once, and they are exactly the vacant slots. O(capacity). On failure a
  // `nexus:slab_invariant_failed` probe fires with the broken invariant.
  [[nodiscard]] bool check_invariants() const noexcept {
    const char* what = violation();
    if (what != nullptr) NEXUS_PROBE(slab_invariant_failed, this, what);
    return what == nullptr;
  }

  // ---- insertion ---------------------------------------------------------
  // try_*: when full (or unallocated) nothing happens: no T is constructed
  // and the argument is not moved from. If T's constructor throws, the slab
  // is unchanged.

  [[nodiscard]] std::optional<key> try_insert(T&& value) {
    if (NEXUS_UNLIKELY(full())) return refuse();
    return key(emplace_slot(std::move(value)));
  }

  [[nodiscard]] std::optional<key> try_insert(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    if (NEXUS_UNLIKELY(full())) return refuse();
    return key(emplace_slot(value));
  }

  template <class... Args>
  [[nodiscard]] std::optional<key> try_emplace(Args&&... args) {
    if (NEXUS_UNLIKELY(full())) return refuse();
    return key(emplace_slot(std::forward<Args>(args)...));
  }

  // Throw nexus::slab_full when full (abort without exceptions).
  key insert(T&& value) {
    if (NEXUS_UNLIKELY(full())) throw_full();
    return key(emplace_slot(std::move(value)));
  }

  key insert(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    if (NEXUS_UNLIKELY(full())) throw_full();
    return key(emplace_slot(value));
  }

  template <class... Args>
  key emplace(Args&&... args) {
    if (NEXUS_UNLIKELY(full())) throw_full();
    return key(emplace_slot(std::forward<Args>(args)...));
  }

  // The slot the next insertion will use, so a value can learn its own key
  // before it is built. Valid until the slab is next modified; dropping it
  // without inserting changes nothing.
  [[nodiscard]] vacant_entry_type vacant_entry() noexcept {
    if (full()) return std::nullopt;
    return vacant_entry_type(vacant_slot(this, index_of(next_slot())));
  }

  // ---- access ------------------------------------------------------------

  // nullptr for a vacant or out-of-range key.
  [[nodiscard]] T* get(key k) noexcept {
    return contains(k) ? value_at(k.index()) : nullptr;
  }
  [[nodiscard]] const T* get(key k) const noexcept {
    return contains(k) ? value_at(k.index()) : nullptr;
  }

  [[nodiscard]] bool contains(key k) const noexcept {
    const size_type i = k.index();
    // Byte offsets, not slot pointers: an out-of-range key must not form
    // a pointer past the array.
    // The map pointer is read whatever the bound check says, so that
    // compilers may hoist it out of a loop of lookups: GCC 12 reloads, on
    // every iteration, a load that only some iterations execute. Measured
    // on the Xeon VM (slab_latency, three alternating runs of each): u64
    // remove at 10^4 slots 1.13-1.24x -> 1.06-1.09x the std::vector
    // baseline, get 0.96-0.97x -> 0.91-0.92x.
    const slot_state* const map = vacancy_;
    return i * slot_size < byte_offset(bump_) && map[i] == slot_state::live;
  }

  // Unchecked: `k` must name a live value (asserted in debug builds).
  [[nodiscard]] T& operator[](key k) noexcept {
    NEXUS_ASSERT(contains(k), "nexus::slab::operator[]: vacant key");
    return *value_at(k.index());
  }
  [[nodiscard]] const T& operator[](key k) const noexcept {
    NEXUS_ASSERT(contains(k), "nexus::slab::operator[]: vacant key");
    return *value_at(k.index());
  }

  // The key of a value stored in this slab, by pointer arithmetic. `value`
  // must be a live element of this slab (asserted in debug builds).
  [[nodiscard]] key key_of(const T& value) const noexcept {
    const auto addr = reinterpret_cast<std::uintptr_t>(std::addressof(value));
    const auto base = reinterpret_cast<std::uintptr_t>(slots_);
    NEXUS_ASSERT(addr >= base && addr < base + byte_offset(end_) &&
                     (addr - base) % slot_size == 0,
                 "nexus::slab::key_of: value is not an element of this slab");
    const key k((addr - base) / slot_size);
    NEXUS_ASSERT(contains(k), "nexus::slab::key_of: slot is vacant");
    return k;
  }

  // ---- removal -----------------------------------------------------------

  // Moves the value out and frees its slot; empty for a vacant key. If T's
  // move constructor throws, the slab is unchanged.
  [[nodiscard]] std::optional<T> remove(key k)
    requires std::is_move_constructible_v<T>
  {
    std::optional<T> out;
    if (contains(k)) {
      T* p = value_at(k.index());
      out.emplace(std::move(*p));
      std::destroy_at(p);
      release(static_cast<std::uint32_t>(k.index()));
    }
    return out;
  }

  // Destroys the value in place (works for immovable T); false if vacant.
  bool erase(key k) noexcept {
    if (!contains(k)) return false;
    std::destroy_at(value_at(k.index()));
    release(static_cast<std::uint32_t>(k.index()));
    return true;
  }

  // Destroys every value. The memory (and its lock) is kept; the next
  // inserts refill from slot 0 without touching the free list.
  void clear() noexcept {
    destroy_values();
    const size_type used = index_of(bump_);
    if (used != 0) std::memset(static_cast<void*>(vacancy_), 0, used);
    free_ = empty_list;
    second_ = no_second;
    bump_ = slots_;
  }

  // ---- size --------------------------------------------------------------

  [[nodiscard]] size_type size() const noexcept {
    return index_of(bump_) - vacant_count();
  }
  [[nodiscard]] size_type capacity() const noexcept { return index_of(end_); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  // The free list is empty and the bump cursor reached the end.
  [[nodiscard]] bool full() const noexcept {
    return free_ == empty_list && bump_ == end_;
  }

  // ---- iteration ---------------------------------------------------------
  // Occupied slots in key order, as (key, reference) pairs:
  //   for (auto [k, v] : s) ...   // v is T& (const T& on a const slab)
  // Erasing the element an iterator points to is allowed (then increment
  // it); inserting or clearing invalidates iterators.

  [[nodiscard]] iterator begin() noexcept { return {this, next_live(0)}; }
  [[nodiscard]] iterator end() noexcept { return {this, index_of(bump_)}; }
  [[nodiscard]] const_iterator begin() const noexcept {
    return {this, next_live(0)};
  }
  [[nodiscard]] const_iterator end() const noexcept {
    return {this, index_of(bump_)};
  }
  [[nodiscard]] const_iterator cbegin() const noexcept { return begin(); }
  [[nodiscard]] const_iterator cend() const noexcept { return end(); }

  // ---- nested types ------------------------------------------------------

  class vacant_slot {
   public:
    vacant_slot(vacant_slot&&) noexcept = default;
    vacant_slot& operator=(vacant_slot&&) noexcept = default;
    vacant_slot(const vacant_slot&) = delete;
    vacant_slot& operator=(const vacant_slot&) = delete;
    ~vacant_slot() = default;

    // The key the value will have.
    [[nodiscard]] nexus::key key() const noexcept { return nexus::key(index_); }

    T& insert(T&& value) { return emplace(std::move(value)); }
    T& insert(const T& value)
      requires std::is_copy_constructible_v<T>
    {
      return emplace(value);
    }

    // Builds the value at key(). Use once, before any other change to the
    // slab (asserted in debug builds).
    template <class... Args>
    T& emplace(Args&&... args) {
      NEXUS_ASSERT(slab_ != nullptr && !slab_->full() &&
                       slab_->index_of(slab_->next_slot()) == index_,
                   "nexus::slab::vacant_entry used twice or after a change");
      T& ref =
          *slab_->value_at(slab_->emplace_slot(std::forward<Args>(args)...));
      slab_ = nullptr;
      return ref;
    }

   private:
    friend class slab;
    vacant_slot(slab* s, std::uint32_t index) noexcept
        : slab_(s), index_(index) {}

    slab* slab_;
    std::uint32_t index_;
  };

  // Forward iterator over live slots; dereferences to a (key, T&) pair.
  template <bool Const>
  class basic_iterator {
    using owner = std::conditional_t<Const, const slab, slab>;
    using ref_type = std::conditional_t<Const, const T&, T&>;

   public:
    using value_type = std::pair<nexus::key, ref_type>;
    using reference = value_type;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::forward_iterator_tag;
    // The reference is a proxy, so only an input iterator to C++17 code.
    using iterator_category = std::input_iterator_tag;

    struct pointer {
      value_type pair;
      const value_type* operator->() const noexcept { return &pair; }
    };

    basic_iterator() noexcept = default;

    // iterator -> const_iterator
    template <bool OtherConst>
      requires(Const && !OtherConst)
    basic_iterator(const basic_iterator<OtherConst>& other) noexcept  // NOLINT
        : slab_(other.slab_), index_(other.index_) {}

    [[nodiscard]] reference operator*() const noexcept {
      return {nexus::key(index_), *slab_->value_at(index_)};
    }
    [[nodiscard]] pointer operator->() const noexcept { return {**this}; }

    basic_iterator& operator++() noexcept {
      index_ = slab_->next_live(index_ + 1);
      return *this;
    }
    basic_iterator operator++(int) noexcept {
      basic_iterator old = *this;
      ++*this;
      return old;
    }

    [[nodiscard]] friend bool operator==(const basic_iterator& a,
                                         const basic_iterator& b) noexcept {
      return a.index_ == b.index_;
    }

   private:
    friend class slab;
    template <bool>
    friend class basic_iterator;

    basic_iterator(owner* s, size_type index) noexcept
        : slab_(s), index_(index) {}

    owner* slab_ = nullptr;
    size_type index_ = 0;
  };

 private:
  // A map byte per slot below the bump cursor. `live` is zero so that the
  // zero-filled map of a fresh or cleared block says "live" for whatever the
  // cursor hands out, and a first fill never writes it. A scoped enum, not
  // a character type: stores through it cannot alias the slab's fields.
  enum class slot_state : std::uint8_t { live = 0, vacant = 1 };
  struct alignas(slot_align) slot_t {
    std::byte raw[slot_size];
  };
  static_assert(sizeof(slot_t) == slot_size);

  static std::error_code make(std::errc e) noexcept {
    return std::make_error_code(e);
  }

  // Refused insert (full or unallocated): counted, traced, kept off the
  // hot path.
  NEXUS_COLD std::nullopt_t refuse() noexcept {
    ++rejected_;
    NEXUS_PROBE(slab_full, this, capacity());
    return std::nullopt;
  }

  [[noreturn]] NEXUS_COLD void throw_full() {
    static_cast<void>(refuse());
    detail::throw_or_abort<slab_full>("nexus::slab::insert: slab is full");
  }

  // The first broken invariant, or nullptr (see check_invariants()).
  const char* violation() const noexcept {
    if (slots_ == nullptr) {
      return free_ == empty_list && second_ == no_second && bump_ == nullptr &&
                     end_ == nullptr
                 ? nullptr
                 : "unallocated slab has cursors";
    }
    const size_type used = index_of(bump_);
    if (used > capacity()) return "bump cursor past the end";
    const size_type vacant = vacant_count();
    if (vacant > used) return "more vacant slots than used slots";
    if ((top_of(free_) == no_link) != (vacant == 0)) {
      return "free list head: top and length disagree";
    }
    // contains() and the iterators read a map byte differently (== live vs
    // bit 0), so only the two enumerators are consistent; and a slot the
    // cursor hands out next counts as live without its byte being written.
    for (size_type i = 0; i < capacity(); ++i) {
      if (vacancy_[i] == slot_state::live) continue;
      if (i >= used) return "map byte at or past the bump cursor not clear";
      if (vacancy_[i] != slot_state::vacant) return "map byte not a state";
    }
    size_type marked = 0;
    for (size_type i = 0; i < used; ++i) {
      if (!contains(nexus::key(i))) ++marked;
    }
    if (marked != vacant) return "vacancy marks disagree with size()";
    size_type listed = 0;
    // The entries two above and one above i, for the skip links.
    std::uint32_t two_up = no_link;
    std::uint32_t one_up = no_link;
    // Walks indices, checking each before it becomes an address.
    for (std::uint32_t i = top_of(free_); i != no_link; ++listed) {
      if (listed >= vacant) return "free list longer than the vacant count";
      if (i >= used) return "free list entry at or past the bump cursor";
      if (contains(nexus::key(i))) return "free list entry is marked live";
      if constexpr (skip_links) {
        if (listed == 1 && second_ != second_entry{i}) {
          return "second entry is not the free list's second";
        }
        if (two_up != no_link &&
            load_skip(slots_ + two_up) != second_entry{i}) {
          return "free list skip link does not name the entry two below";
        }
      }
      two_up = std::exchange(one_up, i);
      // Pop slot i as an insert would, from the head the list has at this
      // depth; word links bring their own length, which is checked.
      const free_head below = popped(slots_ + i, head_word(vacant - listed, i));
      if (vacant_count(below) != vacant - listed - 1) {
        return "free list link holds a wrong length";
      }
      i = top_of(below);
    }
    if (listed != vacant) return "free list shorter than the vacant count";
    if constexpr (skip_links) {
      // The last two entries have nothing two below them.
      for (const std::uint32_t last : {two_up, one_up}) {
        if (last != no_link && load_skip(slots_ + last) != no_second) {
          return "free list skip link past the end of the list";
        }
      }
      if (vacant < 2 && second_ != no_second) {
        return "second entry set on a list shorter than two";
      }
    } else if (second_ != no_second) {
      return "second entry set without skip links";
    }
    return nullptr;
  }

  // Byte offset of the vacancy map: the slot array rounded up to a cache
  // line.
  static constexpr size_type map_offset(size_type cap) noexcept {
    return (cap * slot_size + 63) / 64 * 64;
  }
  // One byte per slot, rounded up to a cache line: next_live() reads the
  // map 8 bytes at a time and never past its end.
  static constexpr size_type map_bytes(size_type cap) noexcept {
    return (cap + 63) / 64 * 64;
  }
  static constexpr size_type bytes_for(size_type cap) noexcept {
    return map_offset(cap) + map_bytes(cap);
  }
  // Largest capacity whose slots and map fit in `bytes`, capped at
  // max_capacity + 1 (which callers treat as "too large").
  static constexpr size_type fit(size_type bytes) noexcept {
    size_type lo = 0;
    size_type hi = std::min(bytes / slot_size, max_capacity + 1);
    while (lo < hi) {  // invariant: bytes_for(lo) <= bytes
      const size_type mid = lo + (hi - lo + 1) / 2;
      if (bytes_for(mid) <= bytes) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  static huge_pages thp_for(size_type bytes) noexcept {
    return bytes >= (size_type{2} << 20) ? huge_pages::transparent
                                         : huge_pages::none;
  }

  std::error_code alloc_capacity(size_type n, huge_pages huge) {
    if (!region_.empty()) return make(std::errc::device_or_resource_busy);
    if (n == 0) return make(std::errc::invalid_argument);
    // Keep bytes_for(n) far from overflow; no real block is that large.
    // The two bounds coincide for some T:
    // NOLINTNEXTLINE(misc-redundant-expression)
    if (n > max_capacity || n > (SIZE_MAX / 2) / slot_size) {
      return make(std::errc::value_too_large);
    }
    const size_type bytes = bytes_for(n);
    if (huge == huge_pages::none) huge = thp_for(bytes);
    return map_block(bytes, huge, SIZE_MAX);
  }

  // Maps the block and adopts it, or returns the error with *this untouched.
  std::error_code map_block(size_type bytes, huge_pages huge,
                            size_type max_bytes) {
    Region r;
    region_options opts;
    opts.huge = huge;
    opts.prefault = true;
    if (std::error_code ec = r.map(bytes, opts)) return ec;
    void* base = r.data();
    const size_type mapped = r.size();
    if (base == nullptr || mapped > max_bytes ||
        reinterpret_cast<std::uintptr_t>(base) % slot_align != 0) {
      return make(std::errc::invalid_argument);  // r unmaps on return
    }
    const size_type cap = std::min(fit(mapped), max_capacity);
    if (cap == 0) return make(std::errc::invalid_argument);
    auto* bytes_base = static_cast<std::byte*>(base);
    // Regions need not hand out zeroed memory (heap_region does not).
    std::memset(bytes_base + map_offset(cap), 0, map_bytes(cap));
    region_ = std::move(r);
    slots_ = reinterpret_cast<slot_t*>(bytes_base);
    vacancy_ = reinterpret_cast<slot_state*>(bytes_base + map_offset(cap));
    free_ = empty_list;
    second_ = no_second;
    bump_ = slots_;
    end_ = slots_ + cap;
    NEXUS_PROBE(slab_alloc, this, cap, region_.size());
    return {};
  }

  T* value_at(size_type i) const noexcept {
    return std::launder(reinterpret_cast<T*>(slots_[i].raw));
  }
  static T* value_in(slot_t* slot) noexcept {
    return std::launder(reinterpret_cast<T*>(slot->raw));
  }
  size_type index_of(const slot_t* slot) const noexcept {
    return static_cast<size_type>(slot - slots_);
  }
  size_type byte_offset(const slot_t* slot) const noexcept {
    return static_cast<size_type>(reinterpret_cast<const std::byte*>(slot) -
                                  reinterpret_cast<const std::byte*>(slots_));
  }
  // Ends the free list; never a slot index (capacity <= key::max_index).
  static constexpr std::uint32_t no_link = key::max_index;

  // The free list's head: bits 0-31 the top slot's index (no_link when the
  // list is empty), bits 32-63 the list's length, which is the number of
  // vacant slots below the bump cursor and so gives size(). One word that
  // every insert and remove rewrites anyway, rather than a live count (or a
  // count per operation kind) updated by a read-modify-write of its own:
  // each such counter cost the hot path a load and a store. Measured on the
  // Xeon VM (slab_latency, 64-op batches, against the std::vector free-list
  // baseline, g++ 12): u64 insert+remove pair 1.39-1.72x -> 1.10-1.27x,
  // 64-byte 0.41-0.46x -> 0.33-0.35x; remove and insert unchanged. A scoped
  // enum, not an integer, so that stores of T or of keys cannot alias it and
  // compilers need not reload it (with a plain u64, clang-16's churn loop
  // ran 15% slower in a micro-benchmark).
  enum class free_head : std::uint64_t {};
  static constexpr free_head empty_list = free_head{no_link};

  static constexpr std::uint32_t top_of(free_head h) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(h));
  }
  static constexpr size_type vacant_count(free_head h) noexcept {
    return static_cast<size_type>(static_cast<std::uint64_t>(h) >> 32);
  }
  static constexpr free_head head_word(size_type length,
                                       std::uint32_t top) noexcept {
    return free_head{(static_cast<std::uint64_t>(length) << 32) | top};
  }
  // The head once slot i is pushed: length + 1, top i. OR-ing in the low
  // half's ones and adding one carries the length up by one in two ALU ops.
  static constexpr free_head pushed(free_head h, std::uint32_t i) noexcept {
    return free_head{(static_cast<std::uint64_t>(h) | 0xFFFFFFFFu) + 1 + i};
  }

  // Vacant slots keep their link as an object of its own type. A slot of 8+
  // bytes, 8-aligned, keeps the whole head word it was pushed onto, so a pop
  // makes it the head as is (the length comes with it, no arithmetic on
  // the way). Smaller slots keep the next index (4 bytes) and a pop derives
  // the length from the current head. Stored as typed objects, not via
  // memcpy, so compilers know they cannot alias the slab's own fields.
  static constexpr bool word_links = slot_size >= 8 && slot_align >= 8;

  static void store_link(slot_t* slot, free_head below) noexcept {
    if constexpr (word_links) {
      ::new (static_cast<void*>(slot->raw)) free_head(below);
    } else {
      ::new (static_cast<void*>(slot->raw)) std::uint32_t(top_of(below));
    }
  }
  // The head once `slot`, the top of a list headed by h, is popped.
  static free_head popped(const slot_t* slot, free_head h) noexcept {
    if constexpr (word_links) {
      return *std::launder(reinterpret_cast<const free_head*>(slot->raw));
    } else {
      const std::uint32_t next =
          *std::launder(reinterpret_cast<const std::uint32_t*>(slot->raw));
      return head_word(vacant_count(h) - 1, next);
    }
  }
  // Skip links. A vacant slot with room past its link (8-aligned slots of
  // 16+ bytes) also keeps the index of the entry two below it, and the slab
  // keeps the list's second entry. An insert then prefetches the slot it
  // will pop after the next one: refilling slots freed in random order is a
  // chain of dependent misses (each pop reads the next index from the slot
  // it pops), and the skip lets two of them be in flight at once. Measured
  // on the Xeon VM (micro-benchmark of 64-op batches refilling 10^6
  // 64-byte slots freed in random order, against the std::vector
  // free-list baseline): 415-422 -> 229-233 ticks per insert, 0.95x ->
  // 0.52x. Not for 8-byte slots, where the skip would displace the head
  // word: tried that way (4-byte link + 4-byte skip), the u64 insert+remove
  // pair ran 2.8x slower in the same micro-benchmark, warm insert 0.88x ->
  // 0.67x.
  static constexpr bool skip_links = word_links && slot_size >= 16;
  enum class second_entry : std::uint32_t {};
  static constexpr second_entry no_second = second_entry{no_link};
  // The skip sits right after the head word.
  static void store_skip(slot_t* slot, second_entry e) noexcept {
    ::new (static_cast<void*>(slot->raw + sizeof(free_head))) second_entry(e);
  }
  // no_second for slots without skip links.
  static second_entry load_skip(const slot_t* slot) noexcept {
    if constexpr (skip_links) {
      return *std::launder(
          reinterpret_cast<const second_entry*>(slot->raw + sizeof(free_head)));
    } else {
      static_cast<void>(slot);
      return no_second;
    }
  }

  void mark_vacant(size_type i) noexcept { vacancy_[i] = slot_state::vacant; }
  void mark_occupied(size_type i) noexcept { vacancy_[i] = slot_state::live; }
  size_type vacant_count() const noexcept { return vacant_count(free_); }

  // Restores a recycled slot's free-list link if T's constructor throws
  // after scribbling over it.
  struct relink_on_throw {
    slot_t* slot;
    free_head below;
    second_entry after;
    bool armed;
    ~relink_on_throw() {
      if (!armed) return;
      store_link(slot, below);
      if constexpr (skip_links) store_skip(slot, after);
    }
  };

  template <class... Args>
  static void construct(T* p, Args&&... args) {
    if constexpr (std::is_constructible_v<T, Args...>) {
      ::new (static_cast<void*>(p)) T(std::forward<Args>(args)...);
    } else {
      ::new (static_cast<void*>(p)) T{std::forward<Args>(args)...};
    }
  }

  // How far ahead of the bump cursor a first fill prefetches: 16 slots of
  // 64 bytes or more (at most a page), 2 KiB for smaller slots. A line must
  // arrive before the insert that writes it even when inserts come one at
  // a time (~20 ns apart here, against ~150 ns to DRAM); a store to a line
  // still in flight holds up the stores behind it and any load that must
  // wait for them (a value built on the stack and copied in, say).
  // Measured on the Xeon VM, slab_latency, 64-byte values: 4 lines ahead
  // (the old fixed distance) left 1% of single first-fill inserts at ~450
  // ticks (p99) at 10^6 slots; 16 lines ahead, p99 54 ticks and batched
  // fill 12-28% faster. Small slots fill a line in a few back-to-back
  // inserts, so they need more lines in flight: for 8-byte slots, 2 KiB
  // ahead instead of 256 bytes made batched first fill at 10^6 slots
  // 3.04-3.15 -> 2.19-2.28 ticks per insert on 4 KiB pages and 2.69-2.93
  // -> 1.85-1.95 on THP (three alternating runs; 10^4 slots, single
  // inserts' tails and bench_slab's insert-first unchanged; 1 KiB gained
  // about as much).
  static constexpr std::uintptr_t kFillPrefetch =
      sizeof(slot_t) < 64
          ? 2048
          : std::clamp<std::uintptr_t>(16 * sizeof(slot_t), 256, 4096);

  // The slot the next insertion fills. Precondition: !full().
  slot_t* next_slot() const noexcept {
    return free_ != empty_list ? slots_ + top_of(free_) : bump_;
  }

  // Builds a T in the next free slot and returns its index. Precondition:
  // !full(). The bookkeeping is committed only after the constructor
  // returns, so a throwing constructor leaves the slab unchanged.
  template <class... Args>
  std::uint32_t emplace_slot(Args&&... args) {
    if (free_ == empty_list) {
      // A never-used slot: nothing to read, no map byte or free list to
      // touch, just the cursor.
      slot_t* const slot = bump_;
      construct(value_in(slot), std::forward<Args>(args)...);
      NEXUS_ASSERT(bump_ == slot,
                   "nexus::slab: T's constructor changed the slab");
      bump_ = slot + 1;
      // A first fill streams through cold lines: ask for the one
      // kFillPrefetch bytes ahead, for writing. Prefetches never fault, even
      // past the end of the block.
      // Integer arithmetic: the address may lie past the array.
      // A hint, never dereferenced: the int-to-pointer cast costs nothing.
      // NOLINTBEGIN(performance-no-int-to-ptr)
      detail::prefetch<true>(reinterpret_cast<const void*>(
          reinterpret_cast<std::uintptr_t>(slot) + kFillPrefetch));
      // NOLINTEND(performance-no-int-to-ptr)
      NEXUS_PROBE(slab_insert, this, index_of(slot), size());
      return static_cast<std::uint32_t>(index_of(slot));
    }
    const std::uint32_t i = top_of(free_);
    slot_t* const slot = slots_ + i;
    const free_head next = popped(slot, free_);
    // The entry after next (with skip links), read before T overwrites it.
    const second_entry after = load_skip(slot);
    if constexpr (std::is_nothrow_constructible_v<T, Args...>) {
      construct(value_in(slot), std::forward<Args>(args)...);
    } else {
      relink_on_throw guard{slot, next, after, true};
      construct(value_in(slot), std::forward<Args>(args)...);
      guard.armed = false;
    }
    NEXUS_ASSERT(top_of(free_) == i,
                 "nexus::slab: T's constructor changed the slab");
    free_ = next;
    mark_occupied(i);
    // The free list is LIFO, so after removals in random order its next
    // slot is anywhere in the block, and reading its link is what the next
    // insert waits on. Ask for it now, so that work the caller does between
    // inserts hides the miss. Measured on the Xeon VM, slab_latency at 10^6
    // slots, single warm inserts: u64 p50 140-148 -> 52-54 ticks, 64-byte
    // 418-436 -> 306-324; 64-op batches unchanged (back-to-back inserts
    // leave no time to hide it), 10^4 slots 2-5% faster. The price
    // is a compare and a prefetch: bench_slab's u64 churn pair (~1 ns, all
    // in L1) went from 1.00-1.04x to 1.08-1.12x the baseline's time; without
    // the branch (prefetching slot 0 at the end of the list) 1.15-1.18x.
    if (next != empty_list) detail::prefetch<true>(slots_ + top_of(next));
    if constexpr (skip_links) {
      second_ = after;
      if (after != no_second) {
        detail::prefetch<true>(slots_ + static_cast<std::uint32_t>(after));
      }
    }
    NEXUS_PROBE(slab_insert, this, i, size());
    return i;
  }

  // Pushes slot i (already destroyed) on the LIFO free list.
  void release(std::uint32_t i) noexcept {
    slot_t* const slot = slots_ + i;
    mark_vacant(i);
    const free_head head = free_;
    store_link(slot, head);
    if constexpr (skip_links) {
      store_skip(slot, second_);
      second_ = second_entry{top_of(head)};
    }
    free_ = pushed(head, i);
    NEXUS_PROBE(slab_remove, this, i, size());
  }

  // First live index >= from, or index_of(bump_) if none (slots at or past
  // the bump cursor were never used; below it, live = not vacant).
  size_type next_live(size_type from) const noexcept {
    const size_type used = index_of(bump_);
    if (from >= used) return used;
    // Eight map bytes per step; in the result, bit 0 of byte j is set when
    // slot 8w+j is live. Bytes at or past `used` read as live (zero): the
    // result is clamped to `used`.
    static_assert(static_cast<unsigned>(slot_state::live) == 0 &&
                  static_cast<unsigned>(slot_state::vacant) == 1);
    const auto live_bits = [this](size_type group) {
      std::uint64_t bytes;
      std::memcpy(&bytes, vacancy_ + group * 8, sizeof bytes);
      return ~bytes & 0x0101010101010101u;
    };
    size_type w = from >> 3;
    const size_type last = (used - 1) >> 3;
    std::uint64_t word = live_bits(w) & (~std::uint64_t{0} << ((from & 7) * 8));
    while (word == 0) {
      if (++w > last) return used;
      word = live_bits(w);
    }
    return std::min(
        used, (w << 3) + static_cast<size_type>(std::countr_zero(word)) / 8);
  }

  void destroy_values() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const size_type used = index_of(bump_);
      for (size_type i = next_live(0); i < used; i = next_live(i + 1)) {
        std::destroy_at(value_at(i));
      }
    }
  }

  // Hot fields first, all in one cache line. The cursors are pointers
  // rather than integers on purpose: stores of T, of keys or of map bytes
  // (all non-pointer types) cannot alias them, so compilers keep them in
  // registers across inlined loops. Fields written together are never
  // adjacent: GCC's SLP vectorizer would otherwise merge two 8-byte stores
  // into one 16-byte store, and the next operation's 8-byte reload of it
  // stalls store-to-load forwarding (measured 4x slower first fill).
  slot_t* slots_ = nullptr;
  // Top of the free list as a slot index, with the list's length (see
  // free_head). An index, not a pointer: the link popped from a slot is
  // stored here as is and the one pushed is this value, so neither path
  // converts between the two (u64 at 10^4 slots in slab_latency: churn
  // 10.9-11.2 -> 10.1-10.3 ticks per op, remove and churn p50 98 -> 74
  // ticks; session 8).
  free_head free_ = empty_list;
  slot_t* end_ = nullptr;          // slots_ + capacity()
  slot_t* bump_ = nullptr;         // first never-used slot
  slot_state* vacancy_ = nullptr;  // below bump_: one byte per slot
  // The free list's second entry, kept only with skip links (no_second
  // otherwise, and when the list is shorter than two).
  second_entry second_ = no_second;
  std::uint64_t rejected_ = 0;
  Region region_;
};

}  // namespace nexus
