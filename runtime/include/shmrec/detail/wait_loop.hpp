// The one waiting loop every blocking call uses: spin, then wait by the chosen strategy, keep
// an absolute deadline on the steady clock (so EINTR and spurious wake-ups never extend or cut
// the timeout), and look at the peer's liveness lock every liveness_interval.
#pragma once

#include <chrono>

#include "shmrec/detail/cpu.hpp"
#include "shmrec/detail/deadline.hpp"
#include "shmrec/detail/event_word.hpp"
#include "shmrec/wait.hpp"

namespace shmrec::detail {

// When a handle next looks at its peer's liveness lock (a system call): at most once per
// interval, across all the handle's calls, so neither a stream of short waits nor a polling
// try_ loop makes it more often, and none of them goes longer without it. Once a check found
// the peer gone, every later call checks again (cheap, and it notices a new peer taking over),
// so a handle never reports "alive, nothing new" about a peer it knows is dead.
class LivenessClock {
public:
    using Clock = std::chrono::steady_clock;

    // Runs `alive()` if a check is due at `now`; returns false when the peer is gone.
    template <class Alive>
    bool peer_alive(Clock::time_point now, std::chrono::milliseconds interval, Alive&& alive) {
        if (!gone_ && now < next_) return true;
        next_ = now + interval;
        gone_ = !alive();
        return !gone_;
    }
    template <class Alive>
    bool peer_alive(std::chrono::milliseconds interval, Alive&& alive) {
        return peer_alive(Clock::now(), interval, alive);
    }
    Clock::time_point next() const noexcept { return next_; }

private:
    Clock::time_point next_{};  // the epoch: the first call checks
    bool gone_ = false;
};

enum class WaitOutcome : std::uint8_t { ready, timeout, peer_gone };

// ready():      cheap check of the condition (shared-memory loads only)
// peer_alive(): false once the peer is gone for good (dead or closed); a system call, made
//               when `liveness` says one is due
// park(slice):  register as a waiter, re-check, sleep on the doorbell at most `slice`
// A timeout of nanoseconds::max() waits for ever (the deadline saturates, deadline.hpp).
template <class Ready, class PeerAlive, class Park>
WaitOutcome wait_loop(std::chrono::nanoseconds timeout, const WaitOptions& options,
                      LivenessClock& liveness, Ready&& ready, PeerAlive&& peer_alive,
                      Park&& park) {
    using Clock = LivenessClock::Clock;
    for (std::uint32_t i = 0; i < options.spin_iterations; ++i) {
        if (ready()) return WaitOutcome::ready;
        cpu_relax();
    }
    const auto deadline = deadline_after(timeout);
    for (;;) {
        if (ready()) return WaitOutcome::ready;
        const auto now = Clock::now();
        // Check the condition once more after the peer's death: what it published last
        // still counts.
        if (!liveness.peer_alive(now, options.liveness_interval, peer_alive)) {
            return ready() ? WaitOutcome::ready : WaitOutcome::peer_gone;
        }
        if (now >= deadline) return WaitOutcome::timeout;
        switch (options.strategy) {
            case WaitStrategy::busy_spin:
                for (int i = 0; i < 64 && !ready(); ++i) cpu_relax();
                break;
            case WaitStrategy::spin_yield: yield_thread(); break;
            case WaitStrategy::futex:
                park(std::min(deadline, liveness.next()) - now);
                break;
        }
    }
}

}  // namespace shmrec::detail
