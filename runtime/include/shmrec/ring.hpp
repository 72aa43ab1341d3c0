// Ring<T>: a lossless single-writer, single-reader queue of records between two processes.
// Records arrive exactly once and in order; a full ring makes the writer wait (backpressure).
//
//   auto writer = shmrec::Ring<school::Student>::writer("Students", 1024);
//   if (writer.write(student, 1s) != shmrec::WriteStatus::ok) ...
//
//   auto reader = shmrec::Ring<school::Student>::reader("Students");
//   school::Student s;
//   if (reader.read(s, 1s) == shmrec::ReadStatus::ok) ...
//
// Protocol (layout in detail/ring_layout.hpp, walk-through in docs/ring-protocol.md). Position
// p lives in slot p & mask; seq(p) is that slot's sequence word.
//
//   writer, record p                           consumer, position r
//   1. room: p - head < capacity                a. seq(r) == r + 1 ?     (acquire)
//      (head reloaded with acquire only when       else empty
//      the cached copy says full)               b. copy the payload
//   2. write the payload (plain stores)         c. head = r + 1          (release)
//   3. seq(p) = p + 1              (release)    d. fence(seq_cst); wake the writer if it
//   4. tail = p + 1 (once per batch; observers)    registered in writer_waiting
//   5. fence(seq_cst); wake the consumer if it
//      registered in consumer_waiting
//
// (3)→(a): the consumer sees the payload of every slot whose seq it saw (release/acquire).
// (c)→(1): the writer reuses a slot only after the consumer's copy of it finished.
// Signal and data share the slot's cache line, so a record moves between cores as one line.
// A writer killed before (3) leaves nothing visible; one killed after it has delivered.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/cpu.hpp"
#include "shmrec/detail/fault.hpp"
#include "shmrec/detail/fork_guard.hpp"
#include "shmrec/detail/futex.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/detail/wait_loop.hpp"
#include "shmrec/error.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {

template <Record T>
class RingWriter;
template <Record T>
class RingReader;

template <Record T>
struct Ring {
    static_assert(alignof(T) <= detail::cache_line, "records aligned beyond 64 bytes are not supported");

    using Writer = RingWriter<T>;
    using Reader = RingReader<T>;

    static constexpr std::uint64_t stride = detail::ring_slot_stride(sizeof(T), alignof(T));

    // create_only (default) makes a ring of `capacity` records (a power of two); open_only
    // takes over the writer role of an existing ring (capacity ignored); open_or_create: either.
    static Writer writer(const Location& where, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {});
    // Takes the ring's one reader role (reader_active while another live consumer holds it).
    static Reader reader(const Location& where, const RegionOptions& options = {},
                         const WaitOptions& wait = {});

    // capacity 0: what an opener expects (the header decides, check_slot_geometry checks).
    static RegionSpec spec(std::uint64_t capacity) noexcept {
        return detail::record_spec<T>(
            ChannelKind::ring, capacity, stride,
            capacity == 0 ? 0 : detail::ring_data_size(capacity, stride));
    }
};

namespace detail {

// Addresses inside a ring's data area, from the validated private geometry.
template <class T>
struct RingView {
    RingControl* control;
    std::byte* slots;
    const std::atomic<std::uint32_t>* state;  // the header's state word, polled while waiting
    std::uint64_t mask;

    explicit RingView(const Region& region)
        : control(reinterpret_cast<RingControl*>(region.data())),
          slots(region.data() + sizeof(RingControl)),
          state(&region.header().state),
          mask(region.geometry().capacity - 1) {}

    bool closed() const noexcept { return region_closed(*state); }

    RingSlotHeader& slot(std::uint64_t position) const noexcept {
        return *reinterpret_cast<RingSlotHeader*>(slots + (position & mask) * Ring<T>::stride);
    }
    std::byte* payload(std::uint64_t position) const noexcept {
        return reinterpret_cast<std::byte*>(&slot(position)) + ring_payload_offset(alignof(T));
    }
    std::uint64_t capacity() const noexcept { return mask + 1; }
};

}  // namespace detail

template <Record T>
class RingWriter {
public:
    RingWriter(RingWriter&& other) noexcept
        : region_(std::move(other.region_)), view_(other.view_), wait_(other.wait_),
          fork_(other.fork_), tail_(other.tail_), cached_head_(other.cached_head_),
          loaned_(other.loaned_), open_(std::exchange(other.open_, false)) {}
    RingWriter& operator=(RingWriter&&) = delete;
    RingWriter(const RingWriter&) = delete;
    RingWriter& operator=(const RingWriter&) = delete;
    ~RingWriter() { close(); }

    // Writes one record if there is room. Never blocks, never allocates; reports reader_gone
    // (checked at most once per liveness_interval) when the ring is full and its consumer died.
    [[nodiscard]] WriteStatus try_write(const T& record) noexcept {
        if (fork_.forked()) return WriteStatus::handle_forked;
        if (room(1) == 0) return full_status();
        std::memcpy(view_.payload(tail_), &record, sizeof(T));
        commit_slot(tail_);
        ++tail_;
        publish(tail_ - 1);
        return WriteStatus::ok;
    }

    // Writes one record, waiting up to `timeout` for room.
    [[nodiscard]] WriteStatus write(const T& record, std::chrono::nanoseconds timeout) noexcept {
        if (fork_.forked()) return WriteStatus::handle_forked;
        if (room(1) == 0) {
            if (const auto s = wait_for_room(timeout); s != WriteStatus::ok) return s;
        }
        return try_write(record);
    }

    // Writes as many of `records` as fit now; the tail and the wake-up check are published
    // once for the whole batch.
    [[nodiscard]] BatchWrite try_write(std::span<const T> records) noexcept {
        if (fork_.forked()) return {0, WriteStatus::handle_forked};
        const std::size_t n = room(records.size());
        if (n == 0) return {0, records.empty() ? WriteStatus::ok : full_status()};
        const std::uint64_t first = tail_;
        for (std::size_t i = 0; i < n; ++i) {
            std::memcpy(view_.payload(tail_), &records[i], sizeof(T));
            commit_slot(tail_);
            ++tail_;
        }
        publish(first);
        return {n, n == records.size() ? WriteStatus::ok : WriteStatus::full};
    }

    // Writes all of `records`, waiting for room as needed, up to `timeout` in all.
    [[nodiscard]] BatchWrite write(std::span<const T> records,
                                   std::chrono::nanoseconds timeout) noexcept {
        if (fork_.forked()) return {0, WriteStatus::handle_forked};
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t done = 0;
        while (done < records.size()) {
            const auto r = try_write(records.subspan(done));
            done += r.count;
            if (done == records.size()) break;
            const auto left = deadline - std::chrono::steady_clock::now();
            if (const auto s = wait_for_room(left); s != WriteStatus::ok) return {done, s};
        }
        return {done, WriteStatus::ok};
    }

    // Zero-copy: the slot the next record goes to, to fill in place; nullptr when full. The
    // record becomes visible at commit(). Implicit-lifetime (trivially copyable) types only,
    // so the slot's bytes are the object; fields left unset keep a previous record's bytes.
    [[nodiscard]] T* try_loan() noexcept {
        if (fork_.forked() || room(1) == 0) return nullptr;
        loaned_ = true;
        return std::launder(reinterpret_cast<T*>(view_.payload(tail_)));
    }
    // Publishes the loaned slot. Without a loan outstanding it does nothing.
    void commit() noexcept {
        if (!loaned_ || fork_.forked()) return;
        loaned_ = false;
        commit_slot(tail_);
        ++tail_;
        publish(tail_ - 1);
    }

    // Waits up to `timeout` until the consumer has read everything written: ok, timeout, or
    // reader_gone. Call it before removing a ring whose reader may still be catching up.
    [[nodiscard]] WriteStatus drain(std::chrono::nanoseconds timeout) noexcept {
        if (fork_.forked()) return WriteStatus::handle_forked;
        auto& ctl = *view_.control;
        auto drained = [&] {
            // Acquire pairs with the consumer's release of head (c).
            return ctl.head.load(std::memory_order_acquire) == tail_;
        };
        const auto outcome = detail::wait_loop(
            timeout, wait_, liveness_, drained, [&] { return !consumer_gone(); },
            [&](std::chrono::nanoseconds slice) { park_on_head(slice, 0); });
        switch (outcome) {
            case detail::WaitOutcome::ready: return WriteStatus::ok;
            case detail::WaitOutcome::timeout: return WriteStatus::timeout;
            case detail::WaitOutcome::peer_gone: return WriteStatus::reader_gone;
        }
        return WriteStatus::timeout;
    }

    // Records written by this ring's writers so far.
    std::uint64_t written() const noexcept { return tail_; }
    std::uint64_t capacity() const noexcept { return view_.capacity(); }
    // True while the ring's consumer holds its reader lock.
    bool reader_alive() const noexcept { return region_.reader_alive(); }

    // Marks the ring closed: the consumer reads what is left, then gets ReadStatus::closed.
    void close() noexcept {
        if (!open_) return;
        open_ = false;
        if (fork_.forked()) return;  // the parent's writer, not ours to close
        region_.mark_closed();
        // Unconditional: closing is rare, and a sleeping consumer sleeps on the next slot.
        detail::futex_wake_all(detail::low_half(view_.slot(tail_).seq));
    }

    const Region& region() const noexcept { return region_; }

private:
    friend struct Ring<T>;

    RingWriter(Region region, const WaitOptions& wait)
        : region_(std::move(region)), view_(region_), wait_(wait) {
        // A replacing writer continues after everything its predecessor committed: from the
        // published tail (or the head, if the tail is not within one lap of it), past every slot whose
        // seq already says "written" (a predecessor may die between steps 3 and 4). Relaxed:
        // we hold the writer role, and the consumer's head is re-read with acquire in room().
        auto& ctl = *view_.control;
        const std::uint64_t head = ctl.head.load(std::memory_order_acquire);
        const std::uint64_t tail = ctl.tail.load(std::memory_order_relaxed);
        std::uint64_t t = tail - head <= view_.capacity() ? tail : head;
        while (t - head < view_.capacity() &&
               view_.slot(t).seq.load(std::memory_order_relaxed) == t + 1) {
            ++t;
        }
        tail_ = t;
        cached_head_ = head;
    }

    // How many of `wanted` records fit, re-reading the consumer's head only when the cached
    // copy says there is not enough room.
    std::size_t room(std::size_t wanted) noexcept {
        const std::uint64_t cap = view_.capacity();
        std::uint64_t free = cap - (tail_ - cached_head_);
        if (free < wanted) {
            // SYNC POINT READ: slot reuse. Acquire pairs with the consumer's release store of
            // head (c): its copy out of every slot below head is complete.
            cached_head_ = view_.control->head.load(std::memory_order_acquire);
            const std::uint64_t used = tail_ - cached_head_;
            // A hostile consumer could claim a head beyond the tail: treat it as full, never
            // as more room than the ring has.
            free = used > cap ? 0 : cap - used;
        }
        return static_cast<std::size_t>(std::min<std::uint64_t>(free, wanted));
    }

    void commit_slot(std::uint64_t position) noexcept {
        SHMREC_FAULT_POINT("ring.before_commit");
        // SYNC POINT WRITE: payload. Pairs with the consumer's acquire load of seq (a).
        view_.slot(position).seq.store(position + 1, std::memory_order_release);
    }

    void publish(std::uint64_t first) noexcept {
        SHMREC_FAULT_POINT("ring.before_tail");
        auto& ctl = *view_.control;
        // Release: an observer that reads tail sees the slots below it (not the consumer's
        // synchronisation, which is per slot).
        ctl.tail.store(tail_, std::memory_order_release);
        // Dekker pair with the consumer's park(): it stores consumer_waiting then re-reads the
        // slot's seq, both seq_cst; this fence orders our seq store before the load below. So
        // either it sees the record and does not sleep, or we see it waiting and wake it. The
        // futex call re-checks the word, closing the gap between its check and its sleep.
        detail::full_fence();
        if (ctl.consumer_waiting.load(std::memory_order_relaxed) != 0) {
            detail::futex_wake_all(detail::low_half(view_.slot(first).seq));
        }
    }

    bool consumer_gone() const noexcept {
        // Relaxed: only consumers write the epoch, and a stale 0 just means "not gone yet".
        return view_.control->consumer_epoch.load(std::memory_order_relaxed) != 0 &&
               !region_.reader_alive();
    }

    WriteStatus full_status() noexcept {
        if (!liveness_.peer_alive(wait_.liveness_interval, [&] { return !consumer_gone(); })) {
            return WriteStatus::reader_gone;
        }
        return WriteStatus::full;
    }

    // Sleeps until the consumer moves its head, if at least `used_limit` slots are in use and
    // the ring is not empty (capacity: wait for room; 0: wait for the ring to drain).
    void park_on_head(std::chrono::nanoseconds slice, std::uint64_t used_limit) noexcept {
        auto& ctl = *view_.control;
        // Dekker pair with the consumer's step (d): register, then re-read head, both seq_cst.
        ctl.writer_waiting.store(1, std::memory_order_seq_cst);
        const std::uint64_t head = ctl.head.load(std::memory_order_seq_cst);
        if (tail_ - head >= used_limit && head != tail_) {
            detail::futex_wait(detail::low_half(ctl.head), static_cast<std::uint32_t>(head), slice);
        }
        // Relaxed: only decides whether the consumer bothers to wake us.
        ctl.writer_waiting.store(0, std::memory_order_relaxed);
    }

    WriteStatus wait_for_room(std::chrono::nanoseconds timeout) noexcept {
        const auto outcome = detail::wait_loop(
            timeout, wait_, liveness_, [&] { return room(1) != 0; },
            [&] { return !consumer_gone(); },
            [&](std::chrono::nanoseconds slice) { park_on_head(slice, view_.capacity()); });
        switch (outcome) {
            case detail::WaitOutcome::ready: return WriteStatus::ok;
            case detail::WaitOutcome::timeout: return WriteStatus::timeout;
            case detail::WaitOutcome::peer_gone: return WriteStatus::reader_gone;
        }
        return WriteStatus::timeout;
    }

    Region region_;
    detail::RingView<T> view_;
    WaitOptions wait_;
    detail::LivenessClock liveness_;
    detail::ForkStamp fork_;
    std::uint64_t tail_ = 0;         // next position to write (private)
    std::uint64_t cached_head_ = 0;  // last head seen: a lower bound of the real one
    bool loaned_ = false;
    bool open_ = true;
};

template <Record T>
class RingReader {
public:
    RingReader(RingReader&&) noexcept = default;
    RingReader& operator=(RingReader&&) = delete;
    RingReader(const RingReader&) = delete;
    RingReader& operator=(const RingReader&) = delete;
    ~RingReader() = default;

    // Reads the next record if there is one. Never blocks; reports closed, or writer_gone
    // (checked at most once per liveness_interval), once everything committed was read.
    [[nodiscard]] ReadStatus try_read(T& out) noexcept {
        if (fork_.forked()) return ReadStatus::handle_forked;
        ReadStatus s = next_state();
        if (s == ReadStatus::empty) s = empty_status();
        if (s != ReadStatus::ok) return s;
        std::memcpy(&out, view_.payload(head_), sizeof(T));
        advance(1);
        return ReadStatus::ok;
    }

    // Reads the next record, waiting up to `timeout`.
    [[nodiscard]] ReadStatus read(T& out, std::chrono::nanoseconds timeout) noexcept {
        if (fork_.forked()) return ReadStatus::handle_forked;
        if (const auto s = wait_for_record(timeout); s != ReadStatus::ok) return s;
        return try_read(out);
    }

    // Reads up to out.size() records that are ready now; the head is published once.
    [[nodiscard]] BatchRead try_read(std::span<T> out) noexcept {
        if (fork_.forked()) return {0, ReadStatus::handle_forked};
        std::size_t n = 0;
        ReadStatus s = ReadStatus::ok;
        while (n < out.size()) {
            s = state_of(head_ + n);
            if (s != ReadStatus::ok) break;
            std::memcpy(&out[n], view_.payload(head_ + n), sizeof(T));
            ++n;
        }
        if (n > 0) {
            advance(n);
            return {n, ReadStatus::ok};
        }
        if (out.empty()) return {0, ReadStatus::ok};
        if (s == ReadStatus::empty) s = empty_status();
        // empty_status() may find a record that arrived meanwhile: read it next time round.
        return {0, s == ReadStatus::ok ? ReadStatus::empty : s};
    }

    // Waits up to `timeout` for at least one record, then reads up to out.size().
    [[nodiscard]] BatchRead read(std::span<T> out, std::chrono::nanoseconds timeout) noexcept {
        if (fork_.forked()) return {0, ReadStatus::handle_forked};
        if (out.empty()) return {0, ReadStatus::ok};
        if (const auto s = wait_for_record(timeout); s != ReadStatus::ok) return {0, s};
        return try_read(out);
    }

    // Zero-copy: the next record in place, or nullptr when there is none. It stays valid and
    // unchanged (the writer cannot reuse the slot) until release(). A hostile writer could
    // still scribble on it; a fixed-size record has no lengths or offsets to misuse, but
    // validate the fields you rely on, or copy with try_read().
    [[nodiscard]] const T* try_peek() noexcept {
        if (fork_.forked() || next_state() != ReadStatus::ok) return nullptr;
        return std::launder(reinterpret_cast<const T*>(view_.payload(head_)));
    }
    // Frees the peeked record's slot for the writer.
    void release() noexcept {
        if (!fork_.forked() && next_state() == ReadStatus::ok) advance(1);
    }

    // Records consumed from this ring so far (by any of its consumers).
    std::uint64_t consumed() const noexcept { return head_; }
    std::uint64_t capacity() const noexcept { return view_.capacity(); }
    bool writer_alive() const noexcept { return region_.writer_alive(); }
    bool closed() const noexcept { return view_.closed(); }

    const Region& region() const noexcept { return region_; }

private:
    friend struct Ring<T>;

    RingReader(Region region, const WaitOptions& wait)
        : region_(std::move(region)), view_(region_), wait_(wait) {
        // We hold the consumer role: nobody else writes head.
        head_ = view_.control->head.load(std::memory_order_relaxed);
        // Relaxed: the writer only asks whether it is non-zero (consumer_gone), and a stale 0
        // there just delays reader_gone to its next liveness check.
        view_.control->consumer_epoch.fetch_add(1, std::memory_order_relaxed);
    }

    // ok when the record at `position` is ready, empty when not yet, corrupt when the slot
    // claims a position the writer cannot have reached.
    ReadStatus state_of(std::uint64_t position) const noexcept {
        // (a) SYNC POINT READ: payload. Acquire pairs with the writer's release (3).
        const std::uint64_t seq = view_.slot(position).seq.load(std::memory_order_acquire);
        const std::int64_t d = detail::ahead(seq, position + 1);
        if (d == 0) return ReadStatus::ok;
        // A healthy writer never fills a slot further than one lap ahead of the head.
        if (d > 0) return ReadStatus::corrupt;
        return ReadStatus::empty;
    }
    ReadStatus next_state() const noexcept { return state_of(head_); }

    void advance(std::size_t n) noexcept {
        SHMREC_FAULT_POINT("consume.before_release");
        head_ += n;
        auto& ctl = *view_.control;
        // (c) SYNC POINT WRITE: slot reuse. Pairs with the writer's acquire load of head (1).
        ctl.head.store(head_, std::memory_order_release);
        // (d) Dekker pair with the writer's wait_for_room park: see publish() for the argument.
        detail::full_fence();
        if (ctl.writer_waiting.load(std::memory_order_relaxed) != 0) {
            detail::futex_wake_all(detail::low_half(ctl.head));
        }
    }

    // The slot was empty: tell "not yet" from "never again". Returns ok when a record arrived
    // meanwhile, so a record committed just before the writer closed or died is not lost.
    ReadStatus empty_status() noexcept {
        // Acquire (in Region::state) pairs with the writer's release in mark_closed: every
        // record written before closing is visible to the re-check.
        if (closed()) return next_state() == ReadStatus::ok ? ReadStatus::ok : ReadStatus::closed;
        if (!liveness_.peer_alive(wait_.liveness_interval, [&] { return region_.writer_alive(); })) {
            return next_state() == ReadStatus::ok ? ReadStatus::ok : ReadStatus::writer_gone;
        }
        return ReadStatus::empty;
    }

    ReadStatus wait_for_record(std::chrono::nanoseconds timeout) noexcept {
        auto& ctl = *view_.control;
        const auto outcome = detail::wait_loop(
            timeout, wait_, liveness_,
            [&] { return next_state() != ReadStatus::empty || closed(); },
            [&] { return region_.writer_alive(); },
            [&](std::chrono::nanoseconds slice) {
                // Dekker pair with the writer's publish(): register, then re-check the slot.
                ctl.consumer_waiting.store(1, std::memory_order_seq_cst);
                auto& seq = view_.slot(head_).seq;
                const std::uint64_t s = seq.load(std::memory_order_seq_cst);
                if (s != head_ + 1 && !closed()) {
                    SHMREC_FAULT_POINT("wait.before_sleep");
                    detail::futex_wait(detail::low_half(seq), static_cast<std::uint32_t>(s),
                                       slice);
                }
                // Relaxed: only decides whether the writer bothers to wake us.
                ctl.consumer_waiting.store(0, std::memory_order_relaxed);
            });
        const ReadStatus s = next_state();
        if (s != ReadStatus::empty) return s;  // ok or corrupt
        if (closed()) return ReadStatus::closed;
        return outcome == detail::WaitOutcome::peer_gone ? ReadStatus::writer_gone
                                                         : ReadStatus::timeout;
    }

    Region region_;
    detail::RingView<T> view_;
    WaitOptions wait_;
    detail::LivenessClock liveness_;
    detail::ForkStamp fork_;
    std::uint64_t head_ = 0;  // next position to read (private)
};

template <Record T>
RingWriter<T> Ring<T>::writer(const Location& where, std::uint64_t capacity, OpenMode mode,
                              const RegionOptions& options, const WaitOptions& wait) {
    return detail::resolve_open_mode(
        mode,
        [&] {
            detail::check_capacity(where, "ring", capacity);
            return RingWriter<T>(Region::create(where, spec(capacity), options), wait);
        },
        [&] {
            Region region = Region::open(where, Role::writer, spec(0), options);
            detail::check_slot_geometry(region, sizeof(detail::RingControl), stride);
            return RingWriter<T>(std::move(region), wait);
        });
}

template <Record T>
RingReader<T> Ring<T>::reader(const Location& where, const RegionOptions& options,
                              const WaitOptions& wait) {
    Region region = Region::open(where, Role::consumer, spec(0), options);
    detail::check_slot_geometry(region, sizeof(detail::RingControl), stride);
    return RingReader<T>(std::move(region), wait);
}

}  // namespace shmrec
