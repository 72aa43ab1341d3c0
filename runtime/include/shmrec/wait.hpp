// Results and knobs of blocking waits.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace shmrec {

enum class WaitStatus : std::uint8_t {
    changed,      // there is something new to read
    timeout,      // nothing new within the timeout
    closed,       // the writer closed the channel cleanly; nothing more will come
    writer_gone,  // the writer died without closing (its liveness lock was released)
    handle_forked,  // this handle was inherited through fork(): only its creator may use it
};

constexpr std::string_view to_string(WaitStatus s) noexcept {
    switch (s) {
        case WaitStatus::changed: return "changed";
        case WaitStatus::timeout: return "timeout";
        case WaitStatus::closed: return "closed";
        case WaitStatus::writer_gone: return "writer_gone";
        case WaitStatus::handle_forked: return "handle_forked";
    }
    return "unknown";
}

// How a blocked call waits once its short spin found nothing.
enum class WaitStrategy : std::uint8_t {
    busy_spin,   // poll continuously: lowest latency, burns a core while waiting
    spin_yield,  // poll, yielding the CPU between polls
    futex,       // sleep on a futex in the region; the peer wakes it (the default)
};

struct WaitOptions {
    WaitStrategy strategy = WaitStrategy::futex;
    // Polls of the shared counter before registering for a futex wake: covers a writer that
    // is about to publish without paying for two system calls.
    std::uint32_t spin_iterations = 256;
    // How often a waiter re-checks its peer's liveness lock (and the longest single futex
    // sleep): a peer that died is reported within about this bound.
    std::chrono::milliseconds liveness_interval{50};
};

}  // namespace shmrec
