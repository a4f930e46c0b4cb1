// SPDX-License-Identifier: MIT OR Apache-2.0
// nexus-slab: a pool of fixed 1 KiB nodes carved from region-mapped chunks.
// Used by nexus::slab_list for its slabs and sublayer nodes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <system_error>
#include <utility>
#include <vector>

#include <nexus/detail/config.hpp>
#include <nexus/region.hpp>

namespace nexus::detail {

// Hands out 1 KiB, 64-byte aligned nodes. Memory comes from `Region` chunks
// that grow geometrically from one page to 2 MiB (so a small list does not pin
// 2 MiB) and are returned by release_all(), or one by one by
// release_free_chunks() once every node in them is free. Each new chunk is half
// of what is already mapped, so a fresh mapping never takes the total past 1.5x
// the memory in use: growing by doubling would let a list that just filled its
// chunks hold under half of its mapped bytes. Free nodes form an
// intrusive LIFO list; never-used nodes are bumped from the newest chunk so a
// first fill does not read cold free-list links.
template <class Region>
  requires region<Region>
class node_pool {
 public:
  static constexpr std::size_t node_size = 1024;
  static constexpr std::size_t max_chunk = std::size_t{2} << 20;

  node_pool() = default;
  explicit node_pool(region_options opts) noexcept : opts_(opts) {}
  node_pool(const node_pool&) = delete;
  node_pool& operator=(const node_pool&) = delete;
  node_pool(node_pool&& o) noexcept { take(o); }
  node_pool& operator=(node_pool&& o) noexcept {
    if (this != &o) {
      release_all();
      take(o);
    }
    return *this;
  }
  ~node_pool() { release_all(); }

  // Nodes that can be handed out without mapping more memory.
  [[nodiscard]] std::size_t available() const noexcept {
    return free_count_ +
           static_cast<std::size_t>(bump_end_ - bump_) / node_size;
  }
  [[nodiscard]] std::size_t in_use() const noexcept { return in_use_; }
  [[nodiscard]] std::size_t mapped_bytes() const noexcept { return mapped_; }
  [[nodiscard]] bool locked() const noexcept { return locked_; }
  [[nodiscard]] const region_options& options() const noexcept { return opts_; }

  // Makes sure `n` more nodes can be allocated with no mapping. Returns false
  // (and changes nothing observable) when the region refuses memory.
  [[nodiscard]] bool ensure(std::size_t n) {
    const std::size_t have = available();
    if (have >= n) return true;
    return grow(n - have, 0);
  }

  // Like ensure(), but maps the whole shortfall as one chunk and reserves the
  // bookkeeping so that later ensure() calls within it never allocate.
  [[nodiscard]] bool reserve(std::size_t n) {
    const std::size_t have = available();
    if (have >= n) return true;
    return grow(n - have, n - have);
  }

  // Precondition: available() > 0 (call ensure() first).
  [[nodiscard]] void* allocate() noexcept {
    NEXUS_ASSERT(available() > 0, "node_pool::allocate without ensure()");
    ++in_use_;
    if (free_ != nullptr) {
      void* p = free_;
      free_ = *static_cast<void**>(p);
      --free_count_;
      return p;
    }
    void* p = bump_;
    bump_ += node_size;
    return p;
  }

  void deallocate(void* p) noexcept {
    --in_use_;
    push_free(p);
  }

  // Pins every chunk; chunks mapped later are pinned as they are mapped.
  // On failure nothing stays pinned by this call.
  std::error_code lock() {
    for (std::size_t i = 0; i < chunks_.size(); ++i) {
      if (std::error_code ec = chunks_[i].lock()) {
        for (std::size_t j = 0; j < i; ++j)
          static_cast<void>(chunks_[j].unlock());
        return ec;
      }
    }
    locked_ = true;
    return {};
  }
  std::error_code unlock() {
    std::error_code first;
    for (Region& r : chunks_) {
      std::error_code ec = r.unlock();
      if (ec && !first) first = ec;
    }
    locked_ = false;
    return first;
  }

  // Unmaps every chunk. Every node must have been given back (or abandoned).
  void release_all() noexcept {
    for (Region& r : chunks_) r.unmap();
    chunks_.clear();
    free_ = nullptr;
    free_count_ = 0;
    bump_ = bump_end_ = nullptr;
    mapped_ = 0;
    in_use_ = 0;
  }

  // Unmaps every chunk all of whose nodes are free, except the one new nodes
  // are bumped from. A list grown and then erased in key order frees its
  // slabs in the order it allocated them, so whole chunks empty out; returning
  // them is much cheaper than moving every live element into a fresh mapping.
  // One pass over the free list, O(free nodes * log chunks), and a second to
  // unlink the released nodes if any. Returns the bytes unmapped.
  std::size_t release_free_chunks() noexcept {
    const std::size_t c = chunks_.size();
    if (c < 2 || free_count_ == 0 || tally_.capacity() < c) return 0;
    tally_.clear();  // capacity reserved by grow(): no allocation here
    for (std::size_t i = 0; i < c; ++i) {
      char* b = static_cast<char*>(chunks_[i].data());
      tally_.push_back(
          {b, b + chunks_[i].size() / node_size * node_size, 0, i});
    }
    std::sort(tally_.begin(), tally_.end(),
              [](const tally& a, const tally& b) { return a.begin < b.begin; });
    for (void* p = free_; p != nullptr; p = *static_cast<void**>(p))
      ++owner(p)->free;
    std::size_t released_nodes = 0;
    bool any = false;
    for (tally& t : tally_) {
      const bool bumping =
          bump_ != nullptr && bump_ >= t.begin && bump_ < t.end;
      t.release =
          !bumping &&
          t.free == static_cast<std::size_t>(t.end - t.begin) / node_size;
      if (t.release) {
        released_nodes += t.free;
        any = true;
      }
    }
    if (!any) return 0;
    // Unlink the released chunks' nodes, keeping the rest in their order.
    void** link = &free_;
    while (*link != nullptr) {
      void* p = *link;
      if (owner(p)->release)
        *link = *static_cast<void**>(p);
      else
        link = static_cast<void**>(p);
    }
    free_count_ -= released_nodes;
    // Unmap, then drop the records (chunks_ keeps its mapping order).
    std::size_t bytes = 0;
    for (const tally& t : tally_) {
      if (!t.release) continue;
      bytes += chunks_[t.chunk].size();
      chunks_[t.chunk].unmap();
    }
    std::erase_if(chunks_, [](const Region& r) { return r.empty(); });
    mapped_ -= bytes;
    if (bump_ != nullptr && owner(bump_end_ - node_size)->release)
      bump_ = bump_end_ = nullptr;  // its chunk was used up and released
    return bytes;
  }

  void swap(node_pool& o) noexcept {
    std::swap(chunks_, o.chunks_);
    std::swap(tally_, o.tally_);
    std::swap(free_, o.free_);
    std::swap(free_count_, o.free_count_);
    std::swap(bump_, o.bump_);
    std::swap(bump_end_, o.bump_end_);
    std::swap(mapped_, o.mapped_);
    std::swap(in_use_, o.in_use_);
    std::swap(opts_, o.opts_);
    std::swap(locked_, o.locked_);
  }

 private:
  void push_free(void* p) noexcept {
    *static_cast<void**>(p) = free_;
    free_ = p;
    ++free_count_;
  }

  void take(node_pool& o) noexcept {
    chunks_ = std::move(o.chunks_);
    tally_ = std::move(o.tally_);
    o.tally_.clear();
    free_ = std::exchange(o.free_, nullptr);
    free_count_ = std::exchange(o.free_count_, 0);
    bump_ = std::exchange(o.bump_, nullptr);
    bump_end_ = std::exchange(o.bump_end_, nullptr);
    mapped_ = std::exchange(o.mapped_, 0);
    in_use_ = std::exchange(o.in_use_, 0);
    opts_ = o.opts_;
    locked_ = o.locked_;
    o.chunks_.clear();
  }

  // Maps chunks holding at least `nodes` nodes; `spare_slots` more chunk
  // records are reserved so later growth needs no heap allocation. All or
  // nothing: on failure nothing is mapped and nothing changed.
  bool grow(std::size_t nodes, std::size_t spare_slots) {
    const std::size_t gran = Region::granularity(opts_.huge);
    std::size_t step = mapped_ / 2 < max_chunk ? mapped_ / 2 : max_chunk;
    if (step < gran) step = gran;
    std::size_t bytes = nodes * node_size;
    if (bytes < step) bytes = step;
    bytes = (bytes + gran - 1) / gran * gran;
    // A THP block is mapped in whole huge pages. A large request that is not
    // a whole number of them (reserve(n), or the exact-size repack of
    // shrink_to_fit) would waste up to a huge page, so its bulk goes on THP
    // and the rest on plain pages, as a second chunk.
    std::size_t tail = 0;
    if constexpr (requires { Region::huge_page_size(); }) {
      const std::size_t huge = Region::huge_page_size();
      if (opts_.huge == huge_pages::transparent && bytes > huge &&
          bytes % huge != 0) {
        tail = bytes % huge;
        bytes -= tail;
      }
    }
    // Reserve the chunk records first: if the heap refuses, nothing changed.
    const std::size_t want =
        chunks_.size() + (tail ? 2 : 1) + (spare_slots ? 8 : 0);
    if (chunks_.capacity() < want) {
      const std::size_t cap =
          want < 2 * chunks_.size() ? 2 * chunks_.size() : want;
#if NEXUS_HAS_EXCEPTIONS
      try {
        chunks_.reserve(cap);
        tally_.reserve(cap);
      } catch (const std::bad_alloc&) {
        return false;
      }
#else
      chunks_.reserve(cap);
      tally_.reserve(cap);
#endif
    }
    Region bulk;
    Region rest;
    if (!map_chunk(bulk, bytes, opts_)) return false;
    if (tail != 0) {
      region_options plain = opts_;
      plain.huge = huge_pages::none;
      if (!map_chunk(rest, tail, plain)) {
        bulk.unmap();
        return false;
      }
      adopt(std::move(rest));
    }
    adopt(std::move(bulk));
    return true;
  }

  // Maps (and, in a locked pool, pins) one chunk; false, with `r` empty, if
  // the region refuses.
  bool map_chunk(Region& r, std::size_t bytes, const region_options& o) {
    if (r.map(bytes, o)) return false;
    if (locked_ && r.lock()) {
      r.unmap();
      return false;
    }
    return true;
  }

  // Makes `r` the chunk new nodes are bumped from. Precondition: a chunk
  // record is reserved.
  void adopt(Region&& r) noexcept {
    // Keep the unused tail of the previous chunk: thread it onto the free list.
    while (bump_ != nullptr && bump_ + node_size <= bump_end_) {
      push_free(bump_);
      bump_ += node_size;
    }
    bump_ = static_cast<char*>(r.data());
    bump_end_ = bump_ + r.size() / node_size * node_size;
    mapped_ += r.size();
    chunks_.push_back(std::move(r));
  }

  // Scratch for release_free_chunks(): one record per chunk, sorted by
  // address. Reserved with chunks_ so that releasing never allocates.
  struct tally {
    char* begin;
    char* end;
    std::size_t free;
    std::size_t chunk;  // index in chunks_
    bool release = false;
  };
  // The record of the chunk holding node p (tally_ sorted, p inside one).
  tally* owner(void* p) noexcept {
    const char* a = static_cast<const char*>(p);
    auto it = std::upper_bound(
        tally_.begin(), tally_.end(), a,
        [](const char* x, const tally& t) { return x < t.begin; });
    return &*(it - 1);
  }

  std::vector<Region> chunks_;
  std::vector<tally> tally_;
  void* free_ = nullptr;
  std::size_t free_count_ = 0;
  char* bump_ = nullptr;
  char* bump_end_ = nullptr;
  std::size_t mapped_ = 0;
  std::size_t in_use_ = 0;
  region_options opts_{};
  bool locked_ = false;
};

}  // namespace nexus::detail
