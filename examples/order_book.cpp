// SPDX-License-Identifier: MIT OR Apache-2.0
// An order book: resting orders live in a nexus::slab (pre-faulted, locked
// when permitted) so order entry and cancel never allocate or fault; the bid
// and ask price ladders are sorted nexus::slab_lists of price levels.
#include <nexus/slab.hpp>
#include <nexus/slab_list.hpp>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <system_error>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#endif

namespace {

long minor_faults() {
#if defined(__linux__)
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
#else
  return 0;
#endif
}

enum class side : std::uint8_t { buy, sell };

struct order {
  std::uint64_t id;
  std::int64_t price;  // in ticks
  std::uint32_t quantity;
  side direction;
};

// A price level: the price and the total quantity resting there. Levels are
// ordered by price alone, so lookups can use a bare price.
struct level {
  std::int64_t price;
  mutable std::uint64_t quantity;  // not part of the ordering
};
struct by_price {
  using is_transparent = void;
  bool operator()(const level& a, const level& b) const {
    return a.price < b.price;
  }
  bool operator()(const level& a, std::int64_t b) const { return a.price < b; }
  bool operator()(std::int64_t a, const level& b) const { return a < b.price; }
};

class order_book {
 public:
  std::error_code init(std::size_t max_orders) {
    if (auto ec = orders_.alloc(max_orders)) return ec;
    locked_ =
        !orders_.mlock();  // best effort: needs CAP_IPC_LOCK/RLIMIT_MEMLOCK
    return {};
  }

  // Rests an order; an empty optional means the book is at capacity.
  std::optional<nexus::key> add(const order& o) {
    auto k = orders_.try_insert(o);
    if (!k) return std::nullopt;
    auto& ladder = o.direction == side::buy ? bids_ : asks_;
    auto [it, inserted] = ladder.insert(level{o.price, 0});
    it->quantity += o.quantity;
    return k;
  }

  bool cancel(nexus::key k) {
    auto removed = orders_.remove(k);
    if (!removed) return false;  // stale or unknown key: answered, not UB
    auto& ladder = removed->direction == side::buy ? bids_ : asks_;
    auto it = ladder.find(removed->price);
    it->quantity -= removed->quantity;
    if (it->quantity == 0) ladder.erase(it);
    return true;
  }

  const level* best_bid() const {
    return bids_.empty() ? nullptr : &bids_.back();
  }
  const level* best_ask() const {
    return asks_.empty() ? nullptr : &asks_.front();
  }
  std::size_t resting() const { return orders_.size(); }
  std::size_t levels() const { return bids_.size() + asks_.size(); }
  bool locked() const { return locked_; }

 private:
  nexus::slab<order> orders_;
  nexus::slab_list<level, by_price> bids_;
  nexus::slab_list<level, by_price> asks_;
  bool locked_ = false;
};

}  // namespace

int main() {
  order_book book;
  if (auto ec = book.init(100'000)) {
    std::printf("init: %s\n", ec.message().c_str());
    return 1;
  }
  std::mt19937_64 rng(1);
  std::vector<nexus::key> live;
  live.reserve(100'000);
  std::uint64_t next_id = 1;
  std::size_t adds = 0;
  std::size_t cancels = 0;
  const long faults_before = minor_faults();
  for (int step = 0; step < 300'000; ++step) {
    if (live.size() < 50'000 || rng() % 2 == 0) {
      const bool buy = rng() % 2 == 0;
      // Bids rest below 10'000 ticks, asks above: the book never crosses.
      const std::int64_t price =
          buy ? 9'999 - static_cast<std::int64_t>(rng() % 200)
              : 10'001 + static_cast<std::int64_t>(rng() % 200);
      const order o{next_id++, price,
                    1 + static_cast<std::uint32_t>(rng() % 100),
                    buy ? side::buy : side::sell};
      if (auto k = book.add(o)) {
        live.push_back(*k);
        ++adds;
      }
    } else {
      const std::size_t i = rng() % live.size();
      if (book.cancel(live[i])) ++cancels;
      live[i] = live.back();
      live.pop_back();
    }
  }
  const long faults = minor_faults() - faults_before;
  std::printf(
      "%zu adds, %zu cancels, %zu resting orders on %zu price levels "
      "(orders locked in RAM: %s)\n",
      adds, cancels, book.resting(), book.levels(),
      book.locked() ? "yes" : "no");
  std::printf("best bid %" PRId64 " x %" PRIu64 ", best ask %" PRId64
              " x %" PRIu64 "\n",
              book.best_bid()->price, book.best_bid()->quantity,
              book.best_ask()->price, book.best_ask()->quantity);
  std::printf("page faults during trading: %ld\n", faults);
  return book.best_bid()->price < book.best_ask()->price ? 0 : 1;
}
