// Ring<T>: a lossless single-writer, single-consumer queue of records between two processes.
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
//   3. seq(p) = p + 1              (release)    d. doorbell handshake towards the writer
//   4. tail = p + 1 (once per batch; observers)    (room doorbell, if it waits)
//   5. doorbell handshake towards the consumer
//      (data doorbell, if it waits)
//
// (3)→(a): the consumer sees the payload of every slot whose seq it saw (release/acquire).
// (c)→(1): the writer reuses a slot only after the consumer's copy of it finished.
// Signal and data share the slot's cache line, so a record moves between cores as one line.
// A writer killed before (3) leaves nothing visible; one killed after it has delivered. The
// handshakes (5, d) are detail/endpoint.hpp's park/Notifier pair.
//
// Zero-copy: try_loan() hands out a Loan, a slot to fill in place, published by commit() and
// given back if the Loan is dropped; try_peek() hands out a Sample, the next record in place,
// consumed when the Sample is released or dropped. While one is open its handle refuses the
// copying verbs (loan_pending / sample_pending), so the ring's order cannot be broken. A Loan
// or Sample must end before its handle is destroyed; if the handle goes first, it is detached
// and does nothing.
//
// The protocol is written once, in detail::RingWriterCore<R> and detail::RingReaderCore<R>
// (R = T, or detail::DynamicRecord for a record size known only at run time):
// RingWriter<T> / RingReader<T> add the record type, Loans and Samples on top, and
// untyped::RingWriter / untyped::RingReader (untyped.hpp) byte spans and a consumer's
// peek/release.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/endpoint.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/detail/sequence.hpp"
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
    // Bytes per slot: a ring of capacity c holds about c * slot_stride bytes of shared memory.
    static constexpr std::uint64_t slot_stride =
        detail::SlotGeometry<detail::RingDescriptor, T>::stride;

    // create_only (default) makes a ring of `capacity` records (a power of two); open_only
    // takes over the writer role of an existing ring (capacity ignored); open_or_create: either.
    static Writer writer(const Location& where, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {}) {
        return Writer(detail::writer_region<detail::RingDescriptor, T>(where, capacity, mode, options),
                      wait);
    }
    // Takes the ring's one consumer role (reader_active while another live consumer holds it).
    static Reader reader(const Location& where, const RegionOptions& options = {},
                         const WaitOptions& wait = {}) {
        return Reader(
            detail::open_channel<detail::RingDescriptor, T>(where, Role::consumer, options), wait);
    }
};

namespace detail {

// Addresses inside a ring's data area, from the validated private geometry. R is the record
// type, or DynamicRecord for a record size known only at run time (untyped::RingObserver).
template <class R>
struct RingView {
    using Slots = SlotsFor<RingDescriptor, R>;

    RingControl* control = nullptr;
    std::byte* slots = nullptr;
    std::uint64_t mask = 0;
    [[no_unique_address]] Slots shape{};

    RingView() = default;
    explicit RingView(const Region& region, Slots s = {})
        : control(reinterpret_cast<RingControl*>(RegionAccess::data(region))),
          slots(RegionAccess::data(region) + sizeof(RingControl)),
          mask(region.geometry().capacity - 1), shape(s) {}

    RingSlotHeader& slot(std::uint64_t position) const noexcept {
        return *reinterpret_cast<RingSlotHeader*>(slots + (position & mask) * shape.stride);
    }
    std::byte* payload(std::uint64_t position) const noexcept {
        return reinterpret_cast<std::byte*>(&slot(position)) + shape.payload_offset;
    }
    std::uint64_t capacity() const noexcept { return mask + 1; }

    // The consumer waits for data (registry bit 0 = the consumer's lock slot), the writer for
    // room (bit 0 = the writer's lock slot).
    WaiterRegistry consumer_waiters() const noexcept { return {&control->consumer_waiting, 1}; }
    WaiterRegistry writer_waiters() const noexcept { return {&control->writer_waiting, 1}; }
    Notifier towards_consumer() const noexcept {
        return {Doorbell(control->data_doorbell), consumer_waiters(),
                static_cast<std::uint32_t>(LockSlot::consumer)};
    }
    Notifier towards_writer() const noexcept {
        return {Doorbell(control->room_doorbell), writer_waiters(),
                static_cast<std::uint32_t>(LockSlot::writer)};
    }
};


// The ring writer's protocol (room, claim, commit, publish, waiting for room, taking over),
// once for RingWriter<T> and untyped::RingWriter. R is the record type, or DynamicRecord: the
// payload copies are memcpy of view_.shape.record_size bytes, a constant for a typed record.
// The protected copy functions leave the handle checks (usable(), an open Loan) to the caller.
template <class R>
class RingWriterCore : public WriterEndpoint {
public:
    // Waits up to `timeout` until the consumer has read everything written: ok, timeout,
    // reader_gone, or no_reader (nothing read, and no consumer ever attached). Call it before
    // removing a ring whose consumer may still be catching up.
    [[nodiscard]] WriteStatus drain(std::chrono::nanoseconds timeout) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        auto drained = [&] {
            // Acquire pairs with the consumer's release of head (c).
            return view_.control->head.load(std::memory_order_acquire) == tail_;
        };
        const auto outcome = wait_until(
            timeout, drained, [&] { return !consumer_gone(); },
            [&](std::chrono::nanoseconds slice) { park_for_room(slice, drained); });
        return status_of(outcome);
    }

    // Records written by this ring's writers so far (0 if unusable).
    std::uint64_t written() const noexcept { return usable() ? tail_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    // True while the ring's consumer holds its lock.
    bool consumer_alive() const noexcept { return usable() && region_.consumer_alive(); }
    // True once some consumer attached to this ring (since it was created).
    bool consumer_attached() const noexcept { return usable() && !never_consumed(); }

protected:
    RingWriterCore(Region region, const WaitOptions& wait, SlotsFor<RingDescriptor, R> shape = {})
        : WriterEndpoint(std::move(region), wait), view_(region_, shape),
          room_waiters_(view_.writer_waiters()), room_bell_(view_.control->room_doorbell) {
        notifier_ = view_.towards_consumer();
        // A writer taking over wakes a consumer waiting for one (see BoardWriter).
        if (!RegionAccess::created(region_)) notifier_.ring_always();
        // A predecessor that died asleep left its registration: it is ours to clear.
        room_waiters_.leave(0);
        // A replacing writer continues after everything its predecessor committed: from the
        // published tail (or the head, if the tail is not within one lap of it), past every
        // slot whose seq already says "written" (a predecessor may die between steps 3 and 4).
        // Acquire on head pairs with the last consumer's release (c), so the slots below it are
        // free; tail and the seqs only a writer stores, and the kernel's writer lock orders our
        // predecessor's stores before our attach: relaxed.
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
    RingWriterCore(RingWriterCore&&) noexcept = default;
    RingWriterCore& operator=(RingWriterCore&&) noexcept = default;
    ~RingWriterCore() = default;

    // Copies as many of `count` records (`stride` bytes apart from `first`) as fit now; the
    // tail and the wake-up check are published once for the whole batch. {0, full_status()}
    // when none fits.
    BatchWrite write_records(const std::byte* first, std::size_t count,
                             std::size_t stride) noexcept {
        const std::size_t n = room(count);
        if (n == 0) return {0, count == 0 ? WriteStatus::ok : full_status()};
        claim(n);
        for (std::size_t i = 0; i < n; ++i) {
            std::memcpy(view_.payload(tail_), first + i * stride, view_.shape.record_size);
            commit_slot(tail_);
            ++tail_;
        }
        publish();
        return {n, n == count ? WriteStatus::ok : WriteStatus::full};
    }

    // One record, waiting up to `timeout` for room.
    WriteStatus write_record(const void* record, std::chrono::nanoseconds timeout) noexcept {
        if (room(1) == 0) {
            if (const auto s = wait_for_room(timeout); s != WriteStatus::ok) return s;
        }
        return write_records(static_cast<const std::byte*>(record), 1, 0).status;
    }

    // All `count` records, waiting for room as needed, up to `timeout` in all.
    BatchWrite write_all(const std::byte* first, std::size_t count, std::size_t stride,
                         std::chrono::nanoseconds timeout) noexcept {
        const auto deadline = deadline_after(timeout);
        std::size_t done = 0;
        while (done < count) {
            done += write_records(first + done * stride, count - done, stride).count;
            if (done == count) break;
            const auto left = deadline - SteadyClock::now();
            if (const auto s = wait_for_room(left); s != WriteStatus::ok) return {done, s};
        }
        return {done, WriteStatus::ok};
    }

    // How many of `wanted` records fit, re-reading the consumer's head only when the cached
    // copy says there is not enough room.
    std::size_t room(std::size_t wanted) noexcept {
        const std::uint64_t cap = view_.capacity();
        std::uint64_t free = cap - (tail_ - cached_head_);
        if (free < wanted) {
            // SYNC POINT READ: slot reuse. Acquire pairs with the consumer's release store of
            // head (c): its copy out of every slot below head is complete.
            const std::uint64_t head = view_.control->head.load(std::memory_order_acquire);
            // A hostile consumer could claim a head beyond our tail, or more than a lap
            // behind it. Never cache such a head: it would promise more room than the ring has
            // on every later call. Treat the ring as full instead.
            if (tail_ - head > cap) return 0;
            cached_head_ = head;
            free = cap - (tail_ - head);
        }
        return static_cast<std::size_t>(std::min<std::uint64_t>(free, wanted));
    }

    // For observers only (RingControl::claimed): the next n positions are about to change.
    // Relaxed store + release fence, the seqlock's steps 1-2 (detail/seqlock.hpp): an
    // observer whose copy saw any payload byte we store after this, and which then fences
    // (acquire) and loads `claimed`, sees this value or a later one and discards its copy.
    // The line is the writer's own (tail's); on x86 the fence emits no instruction.
    void claim(std::size_t n) noexcept {
        view_.control->claimed.store(tail_ + n, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
    }

    void commit_slot(std::uint64_t position) noexcept {
        SHMREC_FAULT_POINT("ring.before_commit");
        // SYNC POINT WRITE: payload. Pairs with the consumer's acquire load of seq (a).
        view_.slot(position).seq.store(position + 1, std::memory_order_release);
    }

    void publish() noexcept {
        SHMREC_FAULT_POINT("ring.before_tail");
        // Release: an observer that reads tail sees the slots below it (not the consumer's
        // synchronisation, which is per slot).
        view_.control->tail.store(tail_, std::memory_order_release);
        notify();
    }

    bool never_consumed() const noexcept {
        // Relaxed: only consumers write the epoch (once, when they attach); a stale 0 reports
        // no_reader for a consumer that attached a moment ago, and the next call sees it.
        return view_.control->consumer_epoch.load(std::memory_order_relaxed) == 0;
    }
    bool consumer_gone() const noexcept { return !never_consumed() && !region_.consumer_alive(); }

    WriteStatus full_status() noexcept {
        if (never_consumed()) return WriteStatus::no_reader;
        if (!peer_alive([&] { return !consumer_gone(); })) return WriteStatus::reader_gone;
        return WriteStatus::full;
    }

    template <class Ready>
    void park_for_room(std::chrono::nanoseconds slice, Ready&& ready) noexcept {
        park(room_waiters_, 0, room_bell_, slice, ready);
    }

    // What a wait for the consumer (room, or a drained ring) ended with, as the writer says it.
    WriteStatus status_of(WaitOutcome outcome) const noexcept {
        switch (outcome) {
            case WaitOutcome::ready: return WriteStatus::ok;
            case WaitOutcome::timeout: return never_consumed() ? WriteStatus::no_reader
                                                               : WriteStatus::timeout;
            case WaitOutcome::peer_gone: return WriteStatus::reader_gone;
        }
        return WriteStatus::timeout;
    }

    WriteStatus wait_for_room(std::chrono::nanoseconds timeout) noexcept {
        auto has_room = [&] { return room(1) != 0; };
        const auto outcome = wait_until(
            timeout, has_room, [&] { return !consumer_gone(); },
            [&](std::chrono::nanoseconds slice) { park_for_room(slice, has_room); });
        return status_of(outcome);
    }

    RingView<R> view_;
    WaiterRegistry room_waiters_;
    Doorbell room_bell_;
    std::uint64_t tail_ = 0;         // next position to write (private)
    std::uint64_t cached_head_ = 0;  // last plausible head seen: a lower bound of the real one
};

// The ring consumer's protocol (slot states, consuming, waiting for records, taking over the
// consumer role), once for RingReader<T> and untyped::RingReader. As RingWriterCore, the
// protected copy functions leave the handle checks to the caller.
template <class R>
class RingReaderCore : public Endpoint {
public:
    // After `closed` or `writer_gone`: waits up to `timeout` for a replacement writer to attach
    // (ok), without polling the ring; then read() resumes with its records.
    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return await_writer(timeout, data_bell_, [&](std::chrono::nanoseconds slice, auto&& ready) {
            park(data_waiters_, 0, data_bell_, slice, ready);
        });
    }

    // Records consumed from this ring so far (by any of its consumers; 0 if unusable).
    std::uint64_t consumed() const noexcept { return usable() ? head_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    bool writer_alive() const noexcept { return writer_is_alive(); }
    bool closed() const noexcept { return region_is_closed(); }

protected:
    RingReaderCore(Region region, const WaitOptions& wait, SlotsFor<RingDescriptor, R> shape = {})
        : Endpoint(std::move(region), wait), view_(region_, shape),
          data_waiters_(view_.consumer_waiters()), data_bell_(view_.control->data_doorbell),
          towards_writer_(view_.towards_writer()) {
        // A predecessor that died asleep left its registration: it is ours to clear.
        data_waiters_.leave(0);
        // We hold the consumer role: nobody else writes head.
        head_ = view_.control->head.load(std::memory_order_relaxed);
        // Relaxed: the writer only asks whether it is non-zero (never_consumed); a stale 0
        // there makes it say no_reader once more, and its next call sees the attach.
        view_.control->consumer_epoch.fetch_add(1, std::memory_order_relaxed);
    }
    RingReaderCore(RingReaderCore&&) noexcept = default;
    RingReaderCore& operator=(RingReaderCore&&) noexcept = default;
    ~RingReaderCore() = default;

    // The next record into `out` and consumed: ok, empty, closed, writer_gone, corrupt.
    ReadStatus read_record(void* out) noexcept {
        ReadStatus s = next_state();
        if (s == ReadStatus::empty) s = empty_status();
        if (s != ReadStatus::ok) return s;
        std::memcpy(out, view_.payload(head_), view_.shape.record_size);
        advance(1);
        return ReadStatus::ok;
    }

    // Copies the records ready at positions [head_ + skip, head_ + skip + n), n <= count, into
    // buffers `stride` bytes apart from `first`, WITHOUT consuming them: {n, ok} when n > 0,
    // else {0, why} (empty, closed, writer_gone, corrupt; ok when count is 0). The slots from
    // the head on are ours until we consume them, so skipping some is safe. Only positions
    // below head_ + capacity are looked at (state_at): a skip of a whole capacity finds
    // nothing, and a batch ends before the lap however long it is.
    BatchRead copy_ready(std::byte* first, std::size_t count, std::size_t stride,
                         std::uint64_t skip = 0) noexcept {
        const std::uint64_t from = head_ + skip;
        std::size_t n = 0;
        ReadStatus s = ReadStatus::ok;
        while (n < count) {
            s = state_at(skip + n);
            if (s != ReadStatus::ok) break;
            std::memcpy(first + n * stride, view_.payload(from + n), view_.shape.record_size);
            ++n;
        }
        if (n > 0) return {n, ReadStatus::ok};
        if (count == 0) return {0, ReadStatus::ok};
        if (s == ReadStatus::empty) s = empty_status(skip);
        // empty_status() may find a record that arrived meanwhile: read it next time round.
        return {0, s == ReadStatus::ok ? ReadStatus::empty : s};
    }

    // copy_ready, then consumes what it copied (the head is published once).
    BatchRead read_records(std::byte* first, std::size_t count, std::size_t stride) noexcept {
        const BatchRead r = copy_ready(first, count, stride);
        if (r.count > 0) advance(r.count);
        return r;
    }

    // ok when the record at `position` is ready, empty when not yet, corrupt when the slot
    // claims a position the writer cannot have reached.
    ReadStatus state_of(std::uint64_t position) const noexcept {
        // (a) SYNC POINT READ: payload. Acquire pairs with the writer's release (3).
        const std::uint64_t seq = view_.slot(position).seq.load(std::memory_order_acquire);
        const std::int64_t d = ahead(seq, position + 1);
        if (d == 0) return ReadStatus::ok;
        // A healthy writer never fills a slot further than one lap ahead of the head.
        if (d > 0) return ReadStatus::corrupt;
        return ReadStatus::empty;
    }
    ReadStatus next_state() const noexcept { return state_of(head_); }
    // The state of position head_ + skip, within the one lap we may read: from head_ + capacity
    // on it is `empty` without looking. That slot is head_'s, which we have not released, so no
    // healthy writer can have reached it; a hostile one whose seq there claims head_ + capacity
    // must not make us copy the same slot a second time as a later record (and report and
    // then release positions a lap past what the writer had room for).
    ReadStatus state_at(std::uint64_t skip) const noexcept {
        if (skip >= view_.capacity()) return ReadStatus::empty;
        return state_of(head_ + skip);
    }

    // Consumes the next n records: every way of consuming (a read, a Sample's release, the
    // untyped release()) comes through here, so the fault point covers them all.
    void advance(std::size_t n) noexcept {
        SHMREC_FAULT_POINT("consume.before_release");
        head_ += n;
        // (c) SYNC POINT WRITE: slot reuse. Pairs with the writer's acquire load of head (1).
        view_.control->head.store(head_, std::memory_order_release);
        // (d) The doorbell handshake towards a writer waiting for room.
        towards_writer_.notify(region_, wait_.liveness_interval);
    }

    // The slot at head_ + skip was empty: tell "not yet" from "never again". Returns ok when
    // a record arrived meanwhile, so a record committed just before the writer closed or died
    // is not lost.
    ReadStatus empty_status(std::uint64_t skip = 0) noexcept {
        // Acquire (region_closed) pairs with the writer's release in mark_closed: every record
        // written before closing is visible to the re-check.
        const bool closed_now = closed();
        if (!closed_now && peer_alive([&] { return region_.writer_alive(); })) {
            return ReadStatus::empty;
        }
        // Closed or writer gone: what it committed before still counts (ok), and a slot that
        // turned impossible meanwhile is still `corrupt`.
        const ReadStatus again = state_at(skip);
        if (again != ReadStatus::empty) return again;
        return closed_now ? ReadStatus::closed : ReadStatus::writer_gone;
    }

    // ok once the record at head_ + skip is ready; else timeout, closed, writer_gone or
    // corrupt.
    ReadStatus wait_for_record(std::chrono::nanoseconds timeout, std::uint64_t skip = 0) noexcept {
        auto ready = [&] { return state_at(skip) != ReadStatus::empty || closed(); };
        const auto outcome = wait_until(
            timeout, ready, [&] { return region_.writer_alive(); },
            [&](std::chrono::nanoseconds slice) {
                park(data_waiters_, 0, data_bell_, slice, ready);
            });
        const ReadStatus s = state_at(skip);
        if (s != ReadStatus::empty) return s;  // ok or corrupt
        if (closed()) return ReadStatus::closed;
        return outcome == WaitOutcome::peer_gone ? ReadStatus::writer_gone : ReadStatus::timeout;
    }

    RingView<R> view_;
    WaiterRegistry data_waiters_;
    Doorbell data_bell_;
    Notifier towards_writer_;
    std::uint64_t head_ = 0;  // next position to read (private)
};

}  // namespace detail

// A slot of the ring lent to fill in place (RingWriter::try_loan). commit() publishes it;
// dropping the Loan without committing gives the slot back unpublished. Implicit-lifetime
// (trivially copyable) records only, so the slot's bytes are the object; fields left unset
// keep an older record's bytes.
template <Record T>
class RingLoan {
public:
    RingLoan() = default;
    RingLoan(RingLoan&& other) noexcept
        : writer_(std::exchange(other.writer_, nullptr)), slot_(other.slot_),
          status_(std::exchange(other.status_, WriteStatus::moved_from)) {
        if (writer_ != nullptr) writer_->loan_ = this;
    }
    RingLoan& operator=(RingLoan&& other) noexcept {
        if (this != &other) {
            abandon();
            writer_ = std::exchange(other.writer_, nullptr);
            slot_ = other.slot_;
            status_ = std::exchange(other.status_, WriteStatus::moved_from);
            if (writer_ != nullptr) writer_->loan_ = this;
        }
        return *this;
    }
    RingLoan(const RingLoan&) = delete;
    RingLoan& operator=(const RingLoan&) = delete;
    ~RingLoan() { abandon(); }

    // True while the loan holds a slot.
    explicit operator bool() const noexcept { return writer_ != nullptr; }
    // ok while it holds a slot; otherwise why it holds none: the status try_loan() met (full,
    // reader_gone, no_reader, loan_pending, ...), or moved_from once committed, abandoned,
    // moved or detached from a writer that went away.
    WriteStatus status() const noexcept { return status_; }

    // The slot; nullptr once the loan ended, and in a child of fork() (the mapping is gone).
    T* get() const noexcept { return writer_ != nullptr && writer_->usable() ? slot_ : nullptr; }
    T& operator*() const noexcept { return *get(); }
    T* operator->() const noexcept { return get(); }

    // Publishes the slot: ok; or, publishing nothing, status() when the loan holds none, or the
    // writer's refusal (handle_forked in a child of fork()).
    [[nodiscard]] WriteStatus commit() noexcept {
        if (writer_ == nullptr) return status_;
        const WriteStatus s = std::exchange(writer_, nullptr)->commit_loan();
        slot_ = nullptr;
        status_ = WriteStatus::moved_from;
        return s;
    }
    // Gives the slot back unpublished (the destructor does this too).
    void abandon() noexcept {
        if (writer_ == nullptr) return;
        std::exchange(writer_, nullptr)->loan_ = nullptr;
        slot_ = nullptr;
        status_ = WriteStatus::moved_from;
    }

private:
    friend class RingWriter<T>;
    RingLoan(RingWriter<T>* writer, T* slot) noexcept : writer_(writer), slot_(slot) {
        // The writer points back at its open loan, wherever the loan lives (a local, most
        // often); every move of the loan re-points it and its end clears it, so the pointer
        // never dangles. GCC cannot see that through the destructor.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
        writer_->loan_ = this;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    }
    explicit RingLoan(WriteStatus why) noexcept : status_(why) {}

    RingWriter<T>* writer_ = nullptr;
    T* slot_ = nullptr;
    WriteStatus status_ = WriteStatus::moved_from;
};

// The next record of the ring, in place (RingReader::try_peek). It stays valid and unchanged
// (the writer cannot reuse the slot) until release() or the Sample's end, which consume it. A
// hostile writer could still scribble on it: validate the fields you rely on, or copy with
// try_read().
template <Record T>
class RingSample {
public:
    RingSample() = default;
    RingSample(RingSample&& other) noexcept
        : reader_(std::exchange(other.reader_, nullptr)), record_(other.record_),
          status_(std::exchange(other.status_, ReadStatus::moved_from)) {
        if (reader_ != nullptr) reader_->sample_ = this;
    }
    RingSample& operator=(RingSample&& other) noexcept {
        if (this != &other) {
            release();
            reader_ = std::exchange(other.reader_, nullptr);
            record_ = other.record_;
            status_ = std::exchange(other.status_, ReadStatus::moved_from);
            if (reader_ != nullptr) reader_->sample_ = this;
        }
        return *this;
    }
    RingSample(const RingSample&) = delete;
    RingSample& operator=(const RingSample&) = delete;
    ~RingSample() { release(); }

    explicit operator bool() const noexcept { return reader_ != nullptr; }
    // ok while it holds a record; otherwise why it holds none (empty, closed, writer_gone,
    // corrupt, sample_pending, ...), or moved_from once released, moved or detached.
    ReadStatus status() const noexcept { return status_; }

    // The record; nullptr once released, and in a child of fork() (the mapping is gone).
    const T* get() const noexcept {
        return reader_ != nullptr && reader_->usable() ? record_ : nullptr;
    }
    const T& operator*() const noexcept { return *get(); }
    const T* operator->() const noexcept { return get(); }

    // Consumes the record: its slot goes back to the writer. Idempotent.
    void release() noexcept {
        if (reader_ == nullptr) return;
        std::exchange(reader_, nullptr)->release_sample();
        record_ = nullptr;
        status_ = ReadStatus::moved_from;
    }

private:
    friend class RingReader<T>;
    RingSample(RingReader<T>* reader, const T* record) noexcept : reader_(reader), record_(record) {
        reader_->sample_ = this;
    }
    explicit RingSample(ReadStatus why) noexcept : status_(why) {}

    RingReader<T>* reader_ = nullptr;
    const T* record_ = nullptr;
    ReadStatus status_ = ReadStatus::moved_from;
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over). The protocol
// is detail::RingWriterCore's; this layer adds the record type and Loans. Inherits drain(),
// written(), capacity(), consumer_alive(), consumer_attached().
template <Record T>
class RingWriter : public detail::RingWriterCore<T> {
    using Core = detail::RingWriterCore<T>;

public:
    RingWriter(RingWriter&& other) noexcept
        : Core(std::move(other)), loan_(std::exchange(other.loan_, nullptr)) {
        if (loan_ != nullptr) loan_->writer_ = this;
    }
    RingWriter& operator=(RingWriter&& other) noexcept {
        if (this != &other) {
            detach_loan();
            Core::operator=(std::move(other));
            loan_ = std::exchange(other.loan_, nullptr);
            if (loan_ != nullptr) loan_->writer_ = this;
        }
        return *this;
    }
    ~RingWriter() { close(); }

    // Writes one record if there is room: ok, full, reader_gone (full, and the consumer died;
    // checked at most once per liveness interval), no_reader (full, and no consumer ever
    // attached), loan_pending, or the handle's refusal. Never blocks, never allocates.
    [[nodiscard]] WriteStatus try_write(const T& record) noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return s;
        return this->write_records(reinterpret_cast<const std::byte*>(&record), 1, sizeof(T))
            .status;
    }

    // Writes one record, waiting up to `timeout` (nanoseconds::max(): for ever) for room.
    [[nodiscard]] WriteStatus write(const T& record, std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return s;
        return this->write_record(&record, timeout);
    }

    // Writes as many of `records` as fit now; the tail and the wake-up check are published
    // once for the whole batch.
    [[nodiscard]] BatchWrite try_write(std::span<const T> records) noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return {0, s};
        return this->write_records(reinterpret_cast<const std::byte*>(records.data()),
                                   records.size(), sizeof(T));
    }

    // Writes all of `records`, waiting for room as needed, up to `timeout` in all.
    [[nodiscard]] BatchWrite write(std::span<const T> records,
                                   std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return {0, s};
        return this->write_all(reinterpret_cast<const std::byte*>(records.data()), records.size(),
                               sizeof(T), timeout);
    }

    // Zero-copy: lends the slot the next record goes to (see RingLoan). An empty Loan says
    // why there is none in its status().
    [[nodiscard]] RingLoan<T> try_loan() noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return RingLoan<T>(s);
        if (this->room(1) == 0) return RingLoan<T>(this->full_status());
        this->claim(1);
        return RingLoan<T>(
            this, std::launder(reinterpret_cast<T*>(this->view_.payload(this->tail_))));
    }

    // Marks the ring closed (the consumer reads what is left, then gets `closed`). An open
    // Loan is given back unpublished first: nothing may follow `closed`.
    void close() noexcept {
        detach_loan();
        Core::close();
    }

private:
    friend struct Ring<T>;
    friend class RingLoan<T>;

    RingWriter(Region region, const WaitOptions& wait) : Core(std::move(region), wait) {}

    WriteStatus writable() const noexcept {
        if (!this->usable()) return this->template refusal<WriteStatus>();
        return loan_ != nullptr ? WriteStatus::loan_pending : WriteStatus::ok;
    }

    void detach_loan() noexcept {
        if (loan_ != nullptr) {
            loan_->writer_ = nullptr;
            loan_->slot_ = nullptr;
            loan_->status_ = WriteStatus::moved_from;
            loan_ = nullptr;
        }
    }

    WriteStatus commit_loan() noexcept {
        loan_ = nullptr;
        if (!this->usable()) return this->template refusal<WriteStatus>();
        this->commit_slot(this->tail_);
        ++this->tail_;
        this->publish();
        return WriteStatus::ok;
    }

    RingLoan<T>* loan_ = nullptr;  // the open Loan, if any
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over). The protocol
// is detail::RingReaderCore's; this layer adds the record type and Samples. Inherits
// wait_for_writer(), consumed(), capacity(), writer_alive(), closed().
template <Record T>
class RingReader : public detail::RingReaderCore<T> {
    using Core = detail::RingReaderCore<T>;

public:
    RingReader(RingReader&& other) noexcept
        : Core(std::move(other)), sample_(std::exchange(other.sample_, nullptr)) {
        if (sample_ != nullptr) sample_->reader_ = this;
    }
    RingReader& operator=(RingReader&& other) noexcept {
        if (this != &other) {
            detach_sample();
            Core::operator=(std::move(other));
            sample_ = std::exchange(other.sample_, nullptr);
            if (sample_ != nullptr) sample_->reader_ = this;
        }
        return *this;
    }
    ~RingReader() { detach_sample(); }

    // Reads the next record if there is one: ok, empty, closed or writer_gone (checked at most
    // once per liveness interval) once everything committed was read, corrupt, sample_pending,
    // or the handle's refusal. Never blocks.
    [[nodiscard]] ReadStatus try_read(T& out) noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return s;
        return this->read_record(&out);
    }

    // Reads the next record, waiting up to `timeout` (nanoseconds::max(): for ever).
    [[nodiscard]] ReadStatus read(T& out, std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return s;
        if (const auto s = this->wait_for_record(timeout); s != ReadStatus::ok) return s;
        return try_read(out);
    }

    // Reads up to out.size() records that are ready now; the head is published once.
    [[nodiscard]] BatchRead try_read(std::span<T> out) noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return {0, s};
        return this->read_records(reinterpret_cast<std::byte*>(out.data()), out.size(),
                                  sizeof(T));
    }

    // Waits up to `timeout` for at least one record, then reads up to out.size().
    [[nodiscard]] BatchRead read(std::span<T> out, std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return {0, s};
        if (out.empty()) return {0, ReadStatus::ok};
        if (const auto s = this->wait_for_record(timeout); s != ReadStatus::ok) return {0, s};
        return try_read(out);
    }

    // Zero-copy: the next record in place (see RingSample); an empty Sample says why there is
    // none in its status().
    [[nodiscard]] RingSample<T> try_peek() noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return RingSample<T>(s);
        ReadStatus s = this->next_state();
        if (s == ReadStatus::empty) s = this->empty_status();
        if (s != ReadStatus::ok) return RingSample<T>(s);
        return RingSample<T>(
            this, std::launder(reinterpret_cast<const T*>(this->view_.payload(this->head_))));
    }

private:
    friend struct Ring<T>;
    friend class RingSample<T>;

    RingReader(Region region, const WaitOptions& wait) : Core(std::move(region), wait) {}

    ReadStatus readable() const noexcept {
        if (!this->usable()) return this->template refusal<ReadStatus>();
        return sample_ != nullptr ? ReadStatus::sample_pending : ReadStatus::ok;
    }

    void detach_sample() noexcept {
        if (sample_ != nullptr) {
            sample_->reader_ = nullptr;
            sample_->record_ = nullptr;
            sample_->status_ = ReadStatus::moved_from;
            sample_ = nullptr;
        }
    }

    void release_sample() noexcept {
        sample_ = nullptr;
        if (this->usable()) this->advance(1);
    }

    RingSample<T>* sample_ = nullptr;  // the open Sample, if any
};

}  // namespace shmrec
