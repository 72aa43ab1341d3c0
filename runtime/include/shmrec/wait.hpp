// How blocking calls wait. Given when a handle is made; every blocking verb of the handle
// uses them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace shmrec {

// How a blocked call waits once its short spin found nothing.
enum class WaitStrategy : std::uint8_t {
    busy_spin,   // poll continuously: lowest latency, burns a core while waiting
    spin_yield,  // poll, yielding the CPU between polls
    futex,       // sleep on the channel's doorbell word; the peer wakes it (the default)
};

struct WaitOptions {
    WaitStrategy strategy = WaitStrategy::futex;
    // Polls of the shared counter before registering for a futex wake: covers a writer that
    // is about to publish without paying for two system calls.
    std::uint32_t spin_iterations = 256;
    // How often a waiter re-checks its peer's liveness lock (and the longest single sleep): a
    // peer that died is reported within about this bound. Also how often a writer reaps the
    // registrations of readers that died asleep.
    std::chrono::milliseconds liveness_interval{50};
};

constexpr std::string_view to_string(WaitStrategy s) noexcept {
    switch (s) {
        case WaitStrategy::busy_spin: return "busy_spin";
        case WaitStrategy::spin_yield: return "spin_yield";
        case WaitStrategy::futex: return "futex";
    }
    return "unknown";
}

}  // namespace shmrec
