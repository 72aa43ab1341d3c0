// The doorbell: one 32-bit event word per direction of a channel, the only word anybody sleeps
// on. A publisher bumps it (and makes the wake system call) when its waiter registry says
// someone waits, and always when it closes; a waiter parks on it (detail/endpoint.hpp, park).
// Position words are for data only: waking by the doorbell cannot miss a batch whose first
// record was not the one the waiter looked at, and a 32-bit word changes on every bump, at any
// capacity.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "shmrec/detail/event_word.hpp"

namespace shmrec::detail {

class Doorbell {
public:
    Doorbell() = default;
    explicit Doorbell(std::atomic<std::uint32_t>& word) : word_(&word) {}

    // Waiter: the value to sleep against, read after registering (see park()). Acquire pairs
    // with ring(): a waiter that reads a bumped value sees what was published before the bump.
    std::uint32_t value() const noexcept { return word_->load(std::memory_order_acquire); }

    // Sleeps while nobody rang since `seen` was read, at most `slice`. `sleeper` is the
    // caller's bit in the doorbell's waiter registry, set before (detail/endpoint.hpp, park).
    void sleep(std::uint32_t seen, std::chrono::nanoseconds slice,
               std::uint32_t sleeper) const noexcept {
        (void)wait_on_word(*word_, seen, slice, sleeper);
    }

    // Publisher: the release RMW pairs with value(); the wake reaches every sleeper registered
    // in `sleepers`. Only the publisher side of a direction rings it (readers map it
    // read-only).
    void ring(const WaiterRegistry& sleepers) const noexcept {
        word_->fetch_add(1, std::memory_order_release);
        wake_word(*word_, sleepers);
    }

private:
    std::atomic<std::uint32_t>* word_ = nullptr;
};

}  // namespace shmrec::detail
