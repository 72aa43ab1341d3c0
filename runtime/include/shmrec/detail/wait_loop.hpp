// The one waiting loop every blocking call uses: spin, then wait by the chosen strategy, keep
// an absolute deadline on the steady clock (so EINTR and spurious wake-ups never extend or cut
// the timeout), and look at the peer's liveness lock every liveness_interval.
#pragma once

#include <sched.h>

#include <chrono>

#include "shmrec/detail/word_copy.hpp"
#include "shmrec/wait.hpp"

namespace shmrec::detail {

// Rate limit for liveness checks on the try_ paths: a syscall at most once per interval.
class LivenessClock {
public:
    bool due(std::chrono::milliseconds interval) noexcept {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_) return false;
        next_ = now + interval;
        return true;
    }

private:
    std::chrono::steady_clock::time_point next_{};
};

enum class WaitOutcome : std::uint8_t { ready, timeout, peer_gone };

// ready():      cheap check of the condition (shared-memory loads only)
// peer_alive(): false once the peer is gone for good (dead or closed); may make a syscall
// park(slice):  register as a waiter, re-check, sleep on the futex at most `slice`
template <class Ready, class PeerAlive, class Park>
WaitOutcome wait_loop(std::chrono::nanoseconds timeout, const WaitOptions& options, Ready&& ready,
                      PeerAlive&& peer_alive, Park&& park) {
    using Clock = std::chrono::steady_clock;
    for (std::uint32_t i = 0; i < options.spin_iterations; ++i) {
        if (ready()) return WaitOutcome::ready;
        cpu_relax();
    }
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    // The first liveness check comes one interval in: a wait that ends sooner costs no
    // syscall, and the bound on noticing a dead peer stays one interval.
    auto next_liveness_check = start + options.liveness_interval;
    for (;;) {
        if (ready()) return WaitOutcome::ready;
        const auto now = Clock::now();
        if (now >= next_liveness_check) {
            // Check the condition once more after the peer's death: what it published last
            // still counts.
            if (!peer_alive()) return ready() ? WaitOutcome::ready : WaitOutcome::peer_gone;
            next_liveness_check = now + options.liveness_interval;
        }
        if (now >= deadline) return WaitOutcome::timeout;
        switch (options.strategy) {
            case WaitStrategy::busy_spin:
                for (int i = 0; i < 64 && !ready(); ++i) cpu_relax();
                break;
            case WaitStrategy::spin_yield: ::sched_yield(); break;
            case WaitStrategy::futex:
                park(std::min(deadline, next_liveness_check) - now);
                break;
        }
    }
}

}  // namespace shmrec::detail
