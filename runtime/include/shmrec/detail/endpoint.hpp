// What every channel handle is made of: the Region it owns, the fork stamp and the liveness
// clock, its wait options, and the two halves of sleeping and waking — park() for a waiter,
// Notifier for a publisher. Each channel adds only its own position rules on top.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>

#include "shmrec/detail/cpu.hpp"
#include "shmrec/detail/deadline.hpp"
#include "shmrec/detail/doorbell.hpp"
#include "shmrec/detail/fault.hpp"
#include "shmrec/detail/fork_guard.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/detail/wait_loop.hpp"
#include "shmrec/detail/waiter_registry.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "shmrec/wait.hpp"

namespace shmrec::detail {

// Waiter side: registers in `waiters` under `slot`, then sleeps on `bell` at most `slice`
// unless `ready()` already holds.
//
//   waiter (park)                          publisher (Notifier::notify)
//   1. set my bit            (seq_cst)     a. publish the data       (release)
//   2. fence(seq_cst)                      b. fence(seq_cst)
//   3. seen = bell           (acquire)     c. any bit set?           (relaxed)
//   4. ready()?  no: sleep while bell == seen    yes: bell += 1 (release), wake
//
// The fences (2, b) make it a Dekker pair: either (c) sees the bit and the publisher rings,
// or (4) sees the data and the waiter does not sleep. If it rings after (3), the kernel finds
// bell != seen and the sleep returns at once, or the wake reaches the sleeper; if it rang
// before (3), (3) read the bumped value, which happens after (a), so (4) sees the data.
template <class Ready>
void park(const WaiterRegistry& waiters, std::uint32_t slot, const Doorbell& bell,
          std::chrono::nanoseconds slice, Ready&& ready) noexcept {
    waiters.enter(slot);
    full_fence();
    const std::uint32_t seen = bell.value();
    if (!ready()) {
        SHMREC_FAULT_POINT("wait.before_sleep");
        bell.sleep(seen, slice, slot);
    }
    waiters.leave(slot);
}

// Publisher side of one direction of a channel: rings the doorbell when a waiter is registered
// and reaps the registrations of waiters that died asleep (waiter_registry.hpp).
class Notifier {
public:
    Notifier() = default;
    // Registry bit i belongs to the holder of lock slot first_lock_slot + i.
    Notifier(Doorbell bell, WaiterRegistry waiters, std::uint32_t first_lock_slot)
        : bell_(bell), waiters_(waiters), first_lock_slot_(first_lock_slot) {}

    // After a publish: the (b)-(c) half of park()'s handshake. No system call while nobody
    // waits, including after a waiter died asleep (reaped within one reap interval). A waiter
    // that is stopped (SIGSTOP) while registered is alive and keeps its registration: each
    // publish wakes until it resumes. Any reader can set bits on the board it may write; that
    // costs the writer wake calls, never correctness.
    void notify(const Region& region, std::chrono::milliseconds reap_interval) noexcept {
        full_fence();
        if (!waiters_.anyone()) return;
        bell_.ring(waiters_);
        const auto now = SteadyClock::now();
        if (now >= next_reap_) {
            next_reap_ = now + reap_interval;
            reap(region);
        }
    }

    // Closing: always ring, whoever is registered (closing is rare; a waiter that registers
    // after this sees the closed state, see park()).
    void ring_always() noexcept {
        full_fence();
        bell_.ring(waiters_);
    }

    std::uint32_t reap(const Region& region) noexcept {
        return waiters_.reap(
            [&](std::uint32_t i) { return RegionAccess::try_hold(region, first_lock_slot_ + i); },
            [&](std::uint32_t i) { RegionAccess::release_hold(region, first_lock_slot_ + i); });
    }

    const WaiterRegistry& waiters() const noexcept { return waiters_; }

private:
    Doorbell bell_;
    WaiterRegistry waiters_;
    std::uint32_t first_lock_slot_ = 0;
    SteadyClock::time_point next_reap_{};
};

// The common part of every handle. A moved-from handle (its Region moved away) and a handle
// inherited through fork() refuse every call before touching shared memory.
class Endpoint {
public:
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;

    // The region this handle owns; Region::valid() is false once the handle was moved from.
    const Region& region() const noexcept { return region_; }
    // False for a moved-from handle and in a child that inherited it through fork().
    bool usable() const noexcept { return region_.valid() && !fork_.forked(); }

protected:
    Endpoint(Region&& region, const WaitOptions& wait)
        : region_(std::move(region)), wait_(wait),
          state_(&RegionAccess::header(region_).state) {}
    Endpoint(Endpoint&&) noexcept = default;
    Endpoint& operator=(Endpoint&&) noexcept = default;
    ~Endpoint() = default;

    // The status a refused call returns: Status::moved_from or Status::handle_forked.
    template <class Status>
    Status refusal() const noexcept {
        return region_.valid() ? Status::handle_forked : Status::moved_from;
    }

    // True once the writer marked the region closed (acquire: see region_closed()).
    bool region_is_closed() const noexcept { return usable() && region_closed(*state_); }
    bool writer_is_alive() const noexcept { return usable() && region_.writer_alive(); }

    // The wait loop with this handle's options and liveness clock.
    template <class Ready, class PeerAlive, class Park>
    WaitOutcome wait_until(std::chrono::nanoseconds timeout, Ready&& ready, PeerAlive&& alive,
                           Park&& park_for) noexcept {
        return wait_loop(timeout, wait_, liveness_, ready, alive, park_for);
    }
    // Waits until a live writer holds the region and it is not closed (a replacement for one
    // that closed or died): ok, or timeout. A writer rings `bell` when it attaches, so this
    // wakes at once; without the ring it looks again every liveness interval.
    template <class Park>
    ReadStatus await_writer(std::chrono::nanoseconds timeout, const Doorbell& bell,
                            Park&& park_for) noexcept {
        if (!usable()) return refusal<ReadStatus>();
        const auto deadline = deadline_after(timeout);
        for (;;) {
            const std::uint32_t before = bell.value();  // a ring after this ends the sleep
            if (!region_closed(*state_) && region_.writer_alive()) return ReadStatus::ok;
            const auto now = SteadyClock::now();
            if (now >= deadline) return ReadStatus::timeout;
            const std::chrono::nanoseconds slice = std::min<std::chrono::nanoseconds>(
                deadline - now, wait_.liveness_interval);
            park_for(slice, [&] { return bell.value() != before; });
        }
    }

    // A liveness check, at most once per interval (try_ calls report a dead peer with it).
    template <class Alive>
    bool peer_alive(Alive&& alive) noexcept {
        return liveness_.peer_alive(wait_.liveness_interval, alive);
    }

    Region region_;
    ForkStamp fork_;
    LivenessClock liveness_;
    WaitOptions wait_;
    const std::atomic<std::uint32_t>* state_ = nullptr;  // the header's state word
};

// A writer: its publish-side Notifier towards the readers, and close().
class WriterEndpoint : public Endpoint {
public:
    // Marks the channel closed and wakes every waiting reader; they read what is left, then get
    // ReadStatus::closed. Idempotent; the destructor calls it. Does nothing in a forked child
    // (the parent's writer is not ours to close) or on a moved-from handle.
    void close() noexcept {
        if (!open_ || !usable()) return;
        open_ = false;
        region_.mark_closed();
        notifier_.ring_always();
    }

protected:
    WriterEndpoint(Region&& region, const WaitOptions& wait)
        : Endpoint(std::move(region), wait) {}
    WriterEndpoint(WriterEndpoint&&) noexcept = default;
    WriterEndpoint& operator=(WriterEndpoint&& other) noexcept {
        if (this != &other) {
            close();
            Endpoint::operator=(std::move(other));
            notifier_ = other.notifier_;
            open_ = std::exchange(other.open_, false);
        }
        return *this;
    }
    ~WriterEndpoint() { close(); }

    void notify() noexcept { notifier_.notify(region_, wait_.liveness_interval); }

    Notifier notifier_;  // set by the channel's constructor
    bool open_ = true;
};

// The writer of a cell or broadcast: wakes the readers registered on the region's board.
class BoardWriter : public WriterEndpoint {
public:
    // Readers attached now (a system call per attached reader).
    std::uint32_t readers() const noexcept { return usable() ? region_.readers() : 0; }

    // Waits until at least `count` readers are attached: ok, or timeout. Attaching rings no
    // doorbell, so this polls every millisecond; it is for start-up, not for the data path.
    [[nodiscard]] WriteStatus wait_for_readers(std::uint32_t count,
                                               std::chrono::nanoseconds timeout) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        const auto deadline = deadline_after(timeout);
        while (readers() < count) {
            if (SteadyClock::now() >= deadline) return WriteStatus::timeout;
            sleep_a_little();
        }
        return WriteStatus::ok;
    }

protected:
    BoardWriter(Region&& region, const WaitOptions& wait, Doorbell bell)
        : WriterEndpoint(std::move(region), wait) {
        notifier_ = Notifier(bell, WaiterRegistry(RegionAccess::board(region_).waiting, max_readers),
                             reader_lock_slot(0));
        // A writer taking over wakes the readers waiting for one (await_writer), whether or not
        // they are registered yet: their wait reads nothing but the doorbell. (A new region has
        // nobody attached to wake, and its zero-filled channel area stays so.)
        if (!RegionAccess::created(region_)) notifier_.ring_always();
    }
    BoardWriter(BoardWriter&&) noexcept = default;
    BoardWriter& operator=(BoardWriter&&) noexcept = default;
    ~BoardWriter() = default;
};

// A reader of a cell or broadcast: holds one reader slot of the board (Region::open claimed
// it), where it registers before sleeping on the channel's doorbell.
class BoardReader : public Endpoint {
protected:
    BoardReader(Region&& region, const WaitOptions& wait, Doorbell bell)
        : Endpoint(std::move(region), wait), bell_(bell),
          waiters_(RegionAccess::board(region_).waiting, max_readers),
          slot_(RegionAccess::reader_slot(region_)),
          cursor_(RegionAccess::reader_cursor(region_, slot_)) {
        // A predecessor in this slot may have died asleep: its registration is ours to clear,
        // and its cursor figures are not ours.
        waiters_.leave(slot_);
        publish_cursor(0, 0, 0);
    }
    BoardReader(BoardReader&&) noexcept = default;
    BoardReader& operator=(BoardReader&&) noexcept = default;
    ~BoardReader() = default;

    template <class Ready>
    void park_for(std::chrono::nanoseconds slice, Ready&& ready) noexcept {
        park(waiters_, slot_, bell_, slice, ready);
    }
    ReadStatus await_board_writer(std::chrono::nanoseconds timeout) noexcept {
        return await_writer(timeout, bell_, [&](std::chrono::nanoseconds slice, auto&& ready) {
            park_for(slice, ready);
        });
    }

    // Publishes how far this reader has read into its slot's cursor on the board (format 2.1;
    // a 2.0 board has none): once per successful read or batch, never on an empty poll.
    // Relaxed is enough: the figures are for inspectors (ChannelMonitor), nobody synchronises
    // on them or reads anything else because of them; each is one atomic word, so never torn,
    // and an inspector may see the three from different moments (one read apart). Only the
    // holder of slot i writes cursor i (a hostile reader can falsify figures, not the protocol).
    void publish_cursor(std::uint64_t position, std::uint64_t received,
                        std::uint64_t lost) noexcept {
        if (cursor_ == nullptr) return;
        cursor_->position.store(position, std::memory_order_relaxed);
        cursor_->received.store(received, std::memory_order_relaxed);
        cursor_->lost.store(lost, std::memory_order_relaxed);
    }

    Doorbell bell_;
    WaiterRegistry waiters_;
    std::uint32_t slot_ = 0;
    ReaderCursor* cursor_ = nullptr;  // null on a format 2.0 board
};

}  // namespace shmrec::detail
