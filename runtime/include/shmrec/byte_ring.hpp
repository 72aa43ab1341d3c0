// ByteRing: a lossless single-writer, single-consumer queue of variable-size messages between
// two processes. Messages arrive exactly once and in order; a full ring makes the writer wait
// (backpressure). The building block of table records (table_ring.hpp); usable on its own for
// opaque bytes.
//
//   auto writer = shmrec::ByteRing::writer("Frames", {"video.Frame"}, 1 << 20);
//   (void)writer.write(std::as_bytes(std::span(bytes)), 1s);
//
//   auto reader = shmrec::ByteRing::reader("Frames", {"video.Frame"});
//   if (auto m = reader.peek(1s)) use(m.data());   // in place until m is released
//
// Protocol (layout and frame format in detail/byte_ring_layout.hpp, walk-through with the byte
// diagram in docs/byte-ring-protocol.md). Positions count bytes; frames are 16-aligned.
//
//   writer, a message of n bytes at tail t            consumer, at head r
//   1. frame f = extent(n); padding to the buffer's    a. state(r)              (acquire)
//      end first if f does not fit before it; room:       extent <= 0 or another lap's
//      t + padding + f - head <= capacity                  tag: nothing yet
//      (head reloaded, acquire, only when the cached      padding: r += extent, again
//      copy says full)                                    message: bounds-checked
//   2. state(m) = (-f, lap(m))              (relaxed)  b. read the payload (copy or in place)
//   3. state(m + f) = 0 when that word is free         c. head = r + f           (release)
//                                           (relaxed)  d. doorbell handshake towards the writer
//   4. fill size, sequence, payload (plain stores)        (c-d once per call, or per batch)
//   5. the padding frame's state, if any    (release)
//   6. state(m) = (+f, lap(m))              (release)
//   7. tail = m + f, messages written (observers and a replacing writer), doorbell
//      handshake towards the consumer: once per call, or per batch (and before it waits)
//
// (6)→(a): the consumer sees the payload and step 3 of every frame whose state it saw. Step 3
// is why (a) never mistakes an older lap's payload bytes for a state word: the word after every
// frame is cleared before the frame is published, except when it is the head frame of the
// previous lap itself, whose lap tag then says "old". (c)→(1): the writer reuses bytes only after
// the consumer is done with them. A writer killed before (6) leaves nothing visible.
//
// Bad frames (an extent or size that cannot fit, from a corrupt or hostile writer) are reported
// as `corrupt` and the consumer stays where it is: framing is lost, so nothing after it can be
// trusted.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrec/detail/byte_ring_layout.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/endpoint.hpp"
#include "shmrec/detail/frame_buffer.hpp"
#include "shmrec/detail/sequence.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {

// What a byte ring's messages are, as its header records it: a name (a table's qualified name,
// or any name of the user's for opaque bytes), and optionally a fingerprint and the schema.
// Openers compare name and fingerprint exactly; with `evolves` (table records), a consumer
// whose fingerprint differs compares the embedded binary schema with its own by FlatBuffers'
// evolution rules instead (docs/schema-evolution.md). A writer taking over always needs the
// very fingerprint: the ring keeps the schema it was created with.
struct MessageType {
    std::string_view name;
    std::uint64_t fingerprint = 0;
    std::string_view schema = {};
    std::span<const std::uint8_t> binary_schema = {};
    bool evolves = false;
};

class ByteRingWriter;
class ByteRingReader;
class MessageLoan;
class MessageSample;

namespace detail {

// The header's description of a byte ring of `type`, for a writer (exact) or a consumer.
inline RecordIdentity identity_of(const MessageType& type, Role role) noexcept {
    RecordIdentity id{type.name, 1, 1, type.fingerprint, type.schema, type.binary_schema};
    id.schema_evolution = type.evolves && role != Role::writer;
    return id;
}

// A byte ring's control block and frames, from the validated private geometry.
struct ByteRingView : FrameBuffer {
    ByteRingControl* control = nullptr;

    ByteRingView() = default;
    explicit ByteRingView(const Region& region)
        : FrameBuffer(RegionAccess::data(region) + sizeof(ByteRingControl),
                      region.geometry().capacity),
          control(reinterpret_cast<ByteRingControl*>(RegionAccess::data(region))) {}

    WaiterRegistry consumer_waiters() const noexcept { return {&control->ring.consumer_waiting, 1}; }
    WaiterRegistry writer_waiters() const noexcept { return {&control->ring.writer_waiting, 1}; }
    Notifier towards_consumer() const noexcept {
        return {Doorbell(control->ring.data_doorbell), consumer_waiters(),
                static_cast<std::uint32_t>(LockSlot::consumer)};
    }
    Notifier towards_writer() const noexcept {
        return {Doorbell(control->ring.room_doorbell), writer_waiters(),
                static_cast<std::uint32_t>(LockSlot::writer)};
    }
};

// Calls a batch's visit(args...): true to go on (a visit that returns void always goes on).
template <class Visit, class... Args>
bool visit_goes_on(Visit& visit, const Args&... args) {
    if constexpr (std::is_void_v<std::invoke_result_t<Visit&, const Args&...>>) {
        visit(args...);
        return true;
    } else {
        return static_cast<bool>(visit(args...));
    }
}

// A frame the consumer found at its head: where, how long, and the payload inside it.
struct FrameRef {
    std::uint64_t position = 0;  // the frame's start (after any padding skipped)
    std::uint64_t extent = 0;
    std::uint64_t sequence = 0;
    const std::byte* payload = nullptr;
    std::uint32_t size = 0;
};

}  // namespace detail

struct ByteRing {
    using Writer = ByteRingWriter;
    using Reader = ByteRingReader;

    // create_only (default) makes a ring of `capacity` bytes (a power of two, 64 to 2^31);
    // open_only takes over the writer role of an existing one (capacity ignored);
    // open_or_create: either. The largest message is max_message(capacity) bytes.
    static Writer writer(const Location& where, const MessageType& type, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {});
    // Takes the ring's one consumer role (reader_active while another live consumer holds it).
    static Reader reader(const Location& where, const MessageType& type,
                         const RegionOptions& options = {}, const WaitOptions& wait = {});

    static constexpr std::uint64_t max_message(std::uint64_t capacity) noexcept {
        return detail::ByteRingDescriptor::max_message(capacity);
    }
};

// Bytes of the ring lent to fill in place (ByteRingWriter::try_loan): commit(size, offset)
// publishes the `size` bytes at `offset` of buffer(); dropping the loan without committing
// gives the bytes back unpublished. A FlatBufferBuilder builds at the end of its buffer, so the
// payload may sit anywhere in buffer(): the offset says where.
class MessageLoan {
public:
    MessageLoan() = default;
    MessageLoan(MessageLoan&& other) noexcept
        : writer_(std::exchange(other.writer_, nullptr)), buffer_(other.buffer_),
          status_(std::exchange(other.status_, WriteStatus::moved_from)) {
        relink();
    }
    MessageLoan& operator=(MessageLoan&& other) noexcept {
        if (this != &other) {
            abandon();
            writer_ = std::exchange(other.writer_, nullptr);
            buffer_ = other.buffer_;
            status_ = std::exchange(other.status_, WriteStatus::moved_from);
            relink();
        }
        return *this;
    }
    MessageLoan(const MessageLoan&) = delete;
    MessageLoan& operator=(const MessageLoan&) = delete;
    ~MessageLoan() { abandon(); }

    // True while the loan holds bytes of the ring.
    explicit operator bool() const noexcept { return writer_ != nullptr; }
    // ok while it holds bytes; otherwise why it holds none (full, too_large, reader_gone, ...),
    // or moved_from once committed, abandoned, moved or detached.
    WriteStatus status() const noexcept { return status_; }
    // The lent bytes (at least the size asked for, 8-aligned, ending 16-aligned); empty once
    // the loan ended, and in a child of fork().
    std::span<std::byte> buffer() const noexcept;

    // Publishes buffer()[offset, offset + size): ok; invalid_argument-like wrong_size (nothing
    // published, the loan stays open) when that range is not inside buffer(); or status() when
    // the loan holds nothing.
    [[nodiscard]] WriteStatus commit(std::size_t size, std::size_t offset = 0) noexcept;
    // Gives the bytes back unpublished (the destructor does this too).
    void abandon() noexcept;
    // The writer the loan belongs to (it follows the writer's moves); nullptr once it ended.
    ByteRingWriter* writer() const noexcept { return writer_; }

private:
    friend class ByteRingWriter;
    MessageLoan(ByteRingWriter* writer, std::span<std::byte> buffer) noexcept;
    explicit MessageLoan(WriteStatus why) noexcept : status_(why) {}
    void relink() noexcept;

    ByteRingWriter* writer_ = nullptr;
    std::span<std::byte> buffer_;
    WriteStatus status_ = WriteStatus::moved_from;
};

// One message of a batch read in place (ByteRingReader::try_read_batch): valid during the
// visit that receives it; consumed with the batch.
struct MessageView {
    std::span<const std::byte> data;
    std::uint64_t sequence = 0;  // 0 for the first message the ring ever carried
    std::uint64_t position = 0;  // where its frame starts, in bytes since the ring was created
};

// The next message of the ring, in place (ByteRingReader::try_peek). It stays valid and
// unchanged by a healthy writer (which cannot reuse the bytes) until release() or the Sample's
// end, which consume it. A hostile writer could still change the bytes: validate what you rely
// on (table rings verify), or copy.
class MessageSample {
public:
    MessageSample() = default;
    MessageSample(MessageSample&& other) noexcept
        : reader_(std::exchange(other.reader_, nullptr)), frame_(other.frame_),
          status_(std::exchange(other.status_, ReadStatus::moved_from)) {
        relink();
    }
    MessageSample& operator=(MessageSample&& other) noexcept {
        if (this != &other) {
            release();
            reader_ = std::exchange(other.reader_, nullptr);
            frame_ = other.frame_;
            status_ = std::exchange(other.status_, ReadStatus::moved_from);
            relink();
        }
        return *this;
    }
    MessageSample(const MessageSample&) = delete;
    MessageSample& operator=(const MessageSample&) = delete;
    ~MessageSample() { release(); }

    explicit operator bool() const noexcept { return reader_ != nullptr; }
    // ok while it holds a message; otherwise why it holds none (empty, timeout, closed,
    // writer_gone, corrupt, sample_pending, ...), or moved_from once released or moved.
    ReadStatus status() const noexcept { return status_; }
    // The message's bytes; empty once released, and in a child of fork().
    std::span<const std::byte> data() const noexcept;
    // The message's number: 0 for the first message the ring ever carried.
    std::uint64_t sequence() const noexcept { return frame_.sequence; }
    // Where its frame starts, in bytes since the ring was created (for error reports).
    std::uint64_t position() const noexcept { return frame_.position; }

    // Consumes the message: its bytes go back to the writer. Idempotent.
    void release() noexcept;

private:
    friend class ByteRingReader;
    MessageSample(ByteRingReader* reader, const detail::FrameRef& frame) noexcept;
    explicit MessageSample(ReadStatus why) noexcept : status_(why) {}
    void relink() noexcept;

    ByteRingReader* reader_ = nullptr;
    detail::FrameRef frame_{};
    ReadStatus status_ = ReadStatus::moved_from;
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
class ByteRingWriter : public detail::WriterEndpoint {
public:
    ByteRingWriter(ByteRingWriter&& other) noexcept
        : WriterEndpoint(std::move(other)), view_(other.view_), room_waiters_(other.room_waiters_),
          room_bell_(other.room_bell_), tail_(other.tail_), cached_head_(other.cached_head_),
          written_(other.written_), claim_(other.claim_),
          loan_(std::exchange(other.loan_, nullptr)), held_(std::exchange(other.held_, false)),
          unpublished_(std::exchange(other.unpublished_, false)) {
        if (loan_ != nullptr) loan_->writer_ = this;
    }
    ByteRingWriter& operator=(ByteRingWriter&& other) noexcept {
        if (this != &other) {
            detach_loan();
            WriterEndpoint::operator=(std::move(other));
            view_ = other.view_;
            room_waiters_ = other.room_waiters_;
            room_bell_ = other.room_bell_;
            tail_ = other.tail_;
            cached_head_ = other.cached_head_;
            written_ = other.written_;
            claim_ = other.claim_;
            loan_ = std::exchange(other.loan_, nullptr);
            if (loan_ != nullptr) loan_->writer_ = this;
            held_ = std::exchange(other.held_, false);
            unpublished_ = std::exchange(other.unpublished_, false);
        }
        return *this;
    }
    ~ByteRingWriter() { close(); }

    // Writes one message if there is room: ok, full, too_large (larger than max_message()),
    // reader_gone, no_reader, loan_pending, or the handle's refusal. Never blocks, never
    // allocates.
    [[nodiscard]] WriteStatus try_write(std::span<const std::byte> message) noexcept {
        if (const auto s = reserve(message.size()); s != WriteStatus::ok) return s;
        std::byte* body = view_.body(claim_.position);
        // The payload starts 8-aligned (a reader reads it in place only then) and as late as
        // that allows: a finished FlatBuffer's size is a multiple of its largest alignment, so
        // it ends aligned too, and one aligned to 16 starts 16-aligned (the frame ends so).
        const std::uint64_t offset = claim_.extent - detail::frame_header_size -
                                     detail::round_up_to(message.size(), 8);
        if (!message.empty()) std::memcpy(body + offset, message.data(), message.size());
        commit_frame(static_cast<std::uint32_t>(message.size()), static_cast<std::uint32_t>(offset));
        return WriteStatus::ok;
    }

    // Writes one message, waiting up to `timeout` (nanoseconds::max(): for ever) for room.
    [[nodiscard]] WriteStatus write(std::span<const std::byte> message,
                                    std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = wait_for_room(message.size(), timeout); s != WriteStatus::ok) return s;
        return try_write(message);
    }

    // Zero-copy: lends the bytes of a message of up to `max_size` bytes (see MessageLoan). An
    // empty loan says why there is none in its status().
    [[nodiscard]] MessageLoan try_loan(std::size_t max_size) noexcept {
        if (const auto s = reserve(max_size); s != WriteStatus::ok) return MessageLoan(s);
        return MessageLoan(this, {view_.body(claim_.position),
                                  static_cast<std::size_t>(claim_.extent - detail::frame_header_size)});
    }
    // The same, waiting up to `timeout` for room.
    [[nodiscard]] MessageLoan loan(std::size_t max_size, std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = wait_for_room(max_size, timeout); s != WriteStatus::ok) {
            return MessageLoan(s);
        }
        return try_loan(max_size);
    }

    // A batch: runs fill(i) for i = 0 .. count-1, each writing one message through this writer
    // (try_write, write, try_loan or loan, then commit) and returning that write's status, and
    // stops at the first that is not ok. Each message reaches the consumer as it commits (its
    // frame's state word); what a stream of small messages pays per message on top of that,
    // the tail and counters for observers and the wake-up check towards a sleeping consumer
    // (a full fence), is paid once, when the batch ends or before a wait for room inside it.
    // Returns how many fill() calls succeeded, and ok or the status of the one that did not.
    // fill() must not move or destroy the writer. A consumer already asleep on its doorbell
    // wakes only then (or at its next liveness check): a fill() that waits for something else
    // that consumer must do delays it up to WaitOptions::liveness_interval.
    template <class Fill>
    BatchWrite batch(std::size_t count, Fill&& fill) {
        if (const auto s = writable(); s != WriteStatus::ok) return {0, s};
        HeldPublication hold(*this);
        for (std::size_t i = 0; i < count; ++i) {
            if (const WriteStatus s = fill(i); s != WriteStatus::ok) return {i, s};
        }
        return {count, WriteStatus::ok};
    }

    // Waits up to `timeout` until the consumer has read everything written: ok, timeout,
    // reader_gone, or no_reader.
    [[nodiscard]] WriteStatus drain(std::chrono::nanoseconds timeout) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        publish_held();
        auto drained = [&] {
            // Acquire pairs with the consumer's release of head (c).
            return view_.control->ring.head.load(std::memory_order_acquire) == tail_;
        };
        const auto outcome = wait_until(
            timeout, drained, [&] { return !consumer_gone(); },
            [&](std::chrono::nanoseconds slice) { park_for_room(slice, drained); });
        return wait_status(outcome);
    }

    // Marks the ring closed (the consumer reads what is left, then gets `closed`). An open loan
    // is given back unpublished first: nothing may follow `closed`.
    void close() noexcept {
        detach_loan();
        publish_held();
        WriterEndpoint::close();
    }

    // Messages written by this ring's writers so far (0 if unusable).
    std::uint64_t written() const noexcept { return usable() ? written_ : 0; }
    // Bytes of the buffer, and the largest message it takes.
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    std::uint64_t max_message() const noexcept {
        return usable() ? ByteRing::max_message(view_.capacity()) : 0;
    }
    bool consumer_alive() const noexcept { return usable() && region_.consumer_alive(); }
    bool consumer_attached() const noexcept { return usable() && !never_consumed(); }

private:
    friend struct ByteRing;
    friend class MessageLoan;

    // The frame being written: reserve() fills it, commit_frame() publishes it.
    struct Claim {
        std::uint64_t position = 0;  // the message frame (after any padding)
        std::uint64_t extent = 0;
        std::uint64_t padding = 0;   // bytes of padding frame before it, at tail_
    };

    ByteRingWriter(Region region, const WaitOptions& wait)
        : WriterEndpoint(std::move(region), wait), view_(region_),
          room_waiters_(view_.writer_waiters()), room_bell_(view_.control->ring.room_doorbell) {
        notifier_ = view_.towards_consumer();
        // A writer taking over wakes a consumer waiting for one (see BoardWriter).
        if (!detail::RegionAccess::created(region_)) notifier_.ring_always();
        // A predecessor that died asleep left its registration: it is ours to clear.
        room_waiters_.leave(0);
        resume_after_predecessor();
    }

    // A replacing writer continues after everything its predecessor committed: from the
    // published tail (or the head, if the tail is not within one lap of it), past every frame
    // whose state says "committed in this lap" (a predecessor may die between steps 6 and 7).
    // Acquire on head pairs with the last consumer's release (c); tail, the counters and the
    // frames only writers store, and the kernel's writer lock orders our predecessor's stores
    // before our attach: relaxed.
    //
    // Both positions are peer-written (a consumer maps the region writable) and become frame
    // positions here: a frame starts at a multiple of 16, which is what keeps its 8-byte state
    // word inside the buffer. The head is rounded down (a lower bound: less room, never more)
    // and a tail that no frame can start at is impossible like one outside the lap.
    void resume_after_predecessor() noexcept {
        auto& ctl = *view_.control;
        const std::uint64_t cap = view_.capacity();
        const std::uint64_t head =
            ctl.ring.head.load(std::memory_order_acquire) & ~(detail::frame_alignment - 1);
        const std::uint64_t tail = ctl.ring.tail.load(std::memory_order_relaxed);
        std::uint64_t t = tail;
        std::uint64_t written = ctl.messages.written.load(std::memory_order_relaxed);
        if (tail % detail::frame_alignment != 0 || tail - head > cap) {  // start over at the head
            t = head;
            written = ctl.messages.read.load(std::memory_order_relaxed);
        }
        while (t - head < cap) {
            const std::uint64_t state = view_.state(t).load(std::memory_order_relaxed);
            const std::uint64_t extent = detail::committed_extent(state, t, view_.lap(t), cap);
            if (extent == 0 || t + extent - head > cap) break;
            if ((detail::state_tag(state) & detail::padding_tag_bit) == 0) {
                written = view_.frame(t).sequence + 1;
            }
            t += extent;
        }
        tail_ = t;
        cached_head_ = head;
        written_ = written;
        publish_counters();
    }

    WriteStatus writable() const noexcept {
        if (!usable()) return refusal<WriteStatus>();
        return loan_ != nullptr ? WriteStatus::loan_pending : WriteStatus::ok;
    }

    // Steps 1-3 for a message of `size` bytes: room, the frame marked "being filled", the
    // word after it cleared. Fills claim_.
    WriteStatus reserve(std::size_t size) noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return s;
        if (size > max_message()) return WriteStatus::too_large;
        const std::uint64_t extent = detail::frame_extent(size);
        const std::uint64_t padding = view_.padding_before(tail_, extent);
        if (!has_room(padding + extent)) return full_status();
        claim_ = {tail_ + padding, extent, padding};
        // For observers: the bytes up to here are about to change (as RingWriter::claim).
        view_.control->ring.claimed.store(claim_.position + extent, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        // (2) Relaxed: the consumer cannot pass the previous frame (or the padding, published
        // after this store with release) before seeing this word, and reads it as "not yet".
        view_.state(claim_.position)
            .store(detail::pack_state(-static_cast<std::int32_t>(extent), view_.lap(claim_.position)),
                   std::memory_order_relaxed);
        // (3) The word after the frame, if the consumer is done with it: relaxed, published by
        // the release in (6), before which the consumer cannot reach it.
        const std::uint64_t next = claim_.position + extent;
        if (has_room(next + detail::frame_alignment - tail_)) {
            view_.state(next).store(0, std::memory_order_relaxed);
        }
        return WriteStatus::ok;
    }

    // Steps 4-7, for the frame reserve() claimed: the payload is in place.
    void commit_frame(std::uint32_t size, std::uint32_t offset) noexcept {
        detail::FrameHeader& f = view_.frame(claim_.position);
        f.size = detail::pack_size(size, offset);
        f.sequence = written_;
        if (claim_.padding != 0) {
            // (5) Release: a consumer that sees the padding sees (2), so it stops at the frame.
            view_.state(tail_).store(
                detail::pack_state(static_cast<std::int32_t>(claim_.padding),
                                   view_.lap(tail_) | detail::padding_tag_bit),
                std::memory_order_release);
        }
        SHMREC_FAULT_POINT("byte_ring.before_commit");
        // (6) SYNC POINT WRITE: payload, size, sequence and (3). Pairs with the consumer's
        // acquire load of the state (a).
        view_.state(claim_.position)
            .store(detail::pack_state(static_cast<std::int32_t>(claim_.extent),
                                      view_.lap(claim_.position)),
                   std::memory_order_release);
        tail_ = claim_.position + claim_.extent;
        ++written_;
        if (held_) {
            unpublished_ = true;
            SHMREC_FAULT_POINT("byte_ring.held_commit");  // committed, tail not yet published
            return;
        }
        publish();
    }

    // Step 7, for every frame committed since the last time.
    void publish() noexcept {
        SHMREC_FAULT_POINT("byte_ring.before_tail");
        publish_counters();
        notify();
    }
    // Step 7 for the frames a batch committed so far: before the writer waits (the consumer
    // may be asleep, and the room we wait for comes from it) and when the batch ends.
    void publish_held() noexcept {
        if (!unpublished_ || !usable()) return;
        unpublished_ = false;
        publish();
    }

    // Holds step 7 back for the duration of a batch (batches nest: the outermost publishes).
    class HeldPublication {
    public:
        explicit HeldPublication(ByteRingWriter& w) noexcept : w_(w), outer_(!w.held_) {
            w.held_ = true;
        }
        HeldPublication(const HeldPublication&) = delete;
        HeldPublication& operator=(const HeldPublication&) = delete;
        ~HeldPublication() {
            if (!outer_) return;
            w_.held_ = false;
            w_.publish_held();
        }

    private:
        ByteRingWriter& w_;
        bool outer_;
    };

    // (7) Release on tail: an observer that reads it sees the frames below it. The message
    // count is for observers and a replacing writer: relaxed.
    void publish_counters() noexcept {
        view_.control->messages.written.store(written_, std::memory_order_relaxed);
        view_.control->ring.tail.store(tail_, std::memory_order_release);
    }

    // True when `bytes` more bytes from tail_ are free, re-reading the consumer's head only
    // when the cached copy says they are not.
    bool has_room(std::uint64_t bytes) noexcept {
        const std::uint64_t cap = view_.capacity();
        if (tail_ + bytes - cached_head_ <= cap) return true;
        // SYNC POINT READ: byte reuse. Acquire pairs with the consumer's release store of head
        // (c): its reads of every byte below head are complete.
        const std::uint64_t head = view_.control->ring.head.load(std::memory_order_acquire);
        // A hostile consumer could claim a head beyond our tail, or more than a lap behind it:
        // never cache it (it would promise more room than the ring has). Full instead.
        if (tail_ - head > cap) return false;
        cached_head_ = head;
        return tail_ + bytes - head <= cap;
    }

    void detach_loan() noexcept {
        if (loan_ != nullptr) {
            loan_->writer_ = nullptr;
            loan_->buffer_ = {};
            loan_->status_ = WriteStatus::moved_from;
            loan_ = nullptr;
        }
    }

    bool never_consumed() const noexcept {
        // Relaxed: only consumers write the epoch (once, when they attach); a stale 0 reports
        // no_reader for a consumer that attached a moment ago, and the next call sees it.
        return view_.control->ring.consumer_epoch.load(std::memory_order_relaxed) == 0;
    }
    bool consumer_gone() const noexcept { return !never_consumed() && !region_.consumer_alive(); }

    WriteStatus full_status() noexcept {
        if (never_consumed()) return WriteStatus::no_reader;
        if (!peer_alive([&] { return !consumer_gone(); })) return WriteStatus::reader_gone;
        return WriteStatus::full;
    }

    WriteStatus wait_status(detail::WaitOutcome outcome) const noexcept {
        switch (outcome) {
            case detail::WaitOutcome::ready: return WriteStatus::ok;
            case detail::WaitOutcome::timeout: return never_consumed() ? WriteStatus::no_reader
                                                                       : WriteStatus::timeout;
            case detail::WaitOutcome::peer_gone: return WriteStatus::reader_gone;
        }
        return WriteStatus::timeout;
    }

    template <class Ready>
    void park_for_room(std::chrono::nanoseconds slice, Ready&& ready) noexcept {
        detail::park(room_waiters_, 0, room_bell_, slice, ready);
    }

    // Waits until a message of `size` bytes fits (with its padding): ok, or why not.
    WriteStatus wait_for_room(std::size_t size, std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = writable(); s != WriteStatus::ok) return s;
        if (size > max_message()) return WriteStatus::too_large;
        const std::uint64_t extent = detail::frame_extent(size);
        auto fits = [&] { return has_room(view_.padding_before(tail_, extent) + extent); };
        if (fits()) return WriteStatus::ok;
        publish_held();
        return wait_status(wait_until(
            timeout, fits, [&] { return !consumer_gone(); },
            [&](std::chrono::nanoseconds slice) { park_for_room(slice, fits); }));
    }

    detail::ByteRingView view_;
    detail::WaiterRegistry room_waiters_;
    detail::Doorbell room_bell_;
    std::uint64_t tail_ = 0;         // next byte position to write (private)
    std::uint64_t cached_head_ = 0;  // last plausible head seen: a lower bound of the real one
    std::uint64_t written_ = 0;      // messages committed: the next message's sequence
    Claim claim_{};
    MessageLoan* loan_ = nullptr;    // the open loan, if any
    bool held_ = false;              // in a batch: step 7 waits for its end
    bool unpublished_ = false;       // frames committed since step 7 last ran
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
class ByteRingReader : public detail::Endpoint {
public:
    ByteRingReader(ByteRingReader&& other) noexcept
        : Endpoint(std::move(other)), view_(other.view_), data_waiters_(other.data_waiters_),
          data_bell_(other.data_bell_), towards_writer_(other.towards_writer_), head_(other.head_),
          read_(other.read_), sample_(std::exchange(other.sample_, nullptr)) {
        if (sample_ != nullptr) sample_->reader_ = this;
    }
    ByteRingReader& operator=(ByteRingReader&& other) noexcept {
        if (this != &other) {
            detach_sample();
            Endpoint::operator=(std::move(other));
            view_ = other.view_;
            data_waiters_ = other.data_waiters_;
            data_bell_ = other.data_bell_;
            towards_writer_ = other.towards_writer_;
            head_ = other.head_;
            read_ = other.read_;
            sample_ = std::exchange(other.sample_, nullptr);
            if (sample_ != nullptr) sample_->reader_ = this;
        }
        return *this;
    }
    ~ByteRingReader() { detach_sample(); }

    // The next message in place, if there is one (see MessageSample): its status() is ok, or
    // empty, closed or writer_gone (once everything committed was read), corrupt,
    // sample_pending, or the handle's refusal. Never blocks.
    [[nodiscard]] MessageSample try_peek() noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return MessageSample(s);
        detail::FrameRef frame;
        ReadStatus s = next_frame(frame);
        if (s == ReadStatus::empty) s = empty_status(frame);
        if (s != ReadStatus::ok) return MessageSample(s);
        return MessageSample(this, frame);
    }
    // The same, waiting up to `timeout` (nanoseconds::max(): for ever) for a message.
    [[nodiscard]] MessageSample peek(std::chrono::nanoseconds timeout) noexcept {
        if (const auto s = readable(); s != ReadStatus::ok) return MessageSample(s);
        if (const auto s = wait_for_message(timeout); s != ReadStatus::ok) return MessageSample(s);
        return try_peek();
    }

    // Up to `max` messages in place, in order: visit(const MessageView&) for each, then all of
    // them are consumed at once (the head goes back to the writer, and a writer waiting for
    // room is woken, once per batch: Aeron's ring buffer reads so). A visit that returns false
    // ends the batch after its message. Returns how many were visited and ok; or, when none
    // was: empty, closed, writer_gone, corrupt, sample_pending, or the handle's refusal. If
    // visit throws, the messages before the one it threw on are consumed, that one is not.
    // visit must not use the reader (a sample taken inside would release a stale head).
    template <class Visit>
    [[nodiscard]] BatchRead try_read_batch(std::size_t max, Visit&& visit) {
        if (const auto s = readable(); s != ReadStatus::ok) return {0, s};
        BatchRelease done(*this);
        detail::FrameRef frame;
        ReadStatus s = ReadStatus::ok;
        while (done.count < max) {
            s = next_frame(frame);
            if (s != ReadStatus::ok) break;
            const MessageView m{{frame.payload, frame.size}, frame.sequence, frame.position};
            const bool more = detail::visit_goes_on(visit, m);
            done.last = frame;
            ++done.count;
            head_ = frame.position + frame.extent;  // privately: consume() publishes it
            if (!more) break;
        }
        if (done.count > 0 || max == 0) return {done.count, ReadStatus::ok};
        if (s == ReadStatus::empty) s = empty_status(frame);
        // empty_status() may find a message that arrived meanwhile: it is read next time round.
        return {0, s == ReadStatus::ok ? ReadStatus::empty : s};
    }
    // The same, waiting up to `timeout` for the first message.
    template <class Visit>
    [[nodiscard]] BatchRead read_batch(std::size_t max, Visit&& visit,
                                       std::chrono::nanoseconds timeout) {
        if (const auto s = readable(); s != ReadStatus::ok) return {0, s};
        if (max == 0) return {0, ReadStatus::ok};
        if (const auto s = wait_for_message(timeout); s != ReadStatus::ok) return {0, s};
        return try_read_batch(max, std::forward<Visit>(visit));
    }

    // Copies the next message into `out` (resized to fit: this may allocate) and consumes it.
    [[nodiscard]] ReadStatus try_read(std::vector<std::byte>& out) {
        MessageSample m = try_peek();
        if (!m) return m.status();
        out.assign(m.data().begin(), m.data().end());
        return ReadStatus::ok;
    }
    [[nodiscard]] ReadStatus read(std::vector<std::byte>& out, std::chrono::nanoseconds timeout) {
        MessageSample m = peek(timeout);
        if (!m) return m.status();
        out.assign(m.data().begin(), m.data().end());
        return ReadStatus::ok;
    }

    // After `closed` or `writer_gone`: waits up to `timeout` for a replacement writer to attach
    // (ok), without polling the ring; then reading resumes with its messages.
    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return await_writer(timeout, data_bell_, [&](std::chrono::nanoseconds slice, auto&& ready) {
            detail::park(data_waiters_, 0, data_bell_, slice, ready);
        });
    }

    // Messages consumed from this ring so far (by any of its consumers; 0 if unusable).
    std::uint64_t consumed() const noexcept { return usable() ? read_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    // Where the next frame starts, in bytes since the ring was created (for error reports).
    std::uint64_t position() const noexcept { return usable() ? head_ : 0; }
    bool writer_alive() const noexcept { return writer_is_alive(); }
    bool closed() const noexcept { return region_is_closed(); }

private:
    friend struct ByteRing;
    friend class MessageSample;

    ByteRingReader(Region region, const WaitOptions& wait)
        : Endpoint(std::move(region), wait), view_(region_),
          data_waiters_(view_.consumer_waiters()), data_bell_(view_.control->ring.data_doorbell),
          towards_writer_(view_.towards_writer()) {
        // A predecessor that died asleep left its registration: it is ours to clear.
        data_waiters_.leave(0);
        // We hold the consumer role: nobody else writes head or the read count. Acquire on
        // head pairs with the writer's release of the frame after it (its step 3 included)
        // through our predecessor's reads, without leaning on the lock hand-over alone.
        head_ = view_.control->ring.head.load(std::memory_order_acquire);
        read_ = view_.control->messages.read.load(std::memory_order_relaxed);
        // Relaxed: the writer only asks whether it is non-zero (see ByteRingWriter).
        view_.control->ring.consumer_epoch.fetch_add(1, std::memory_order_relaxed);
    }

    ReadStatus readable() const noexcept {
        if (!usable()) return refusal<ReadStatus>();
        return sample_ != nullptr ? ReadStatus::sample_pending : ReadStatus::ok;
    }

    void detach_sample() noexcept {
        if (sample_ != nullptr) {
            sample_->reader_ = nullptr;
            sample_->status_ = ReadStatus::moved_from;
            sample_ = nullptr;
        }
    }

    // Steps (a)-(b): the message frame at head_, skipping a padding frame (privately: head is
    // published with the message after it). ok with `frame` filled, empty, or corrupt.
    ReadStatus next_frame(detail::FrameRef& frame) noexcept {
        const std::uint64_t cap = view_.capacity();
        // The head we started from is peer-written: a frame starts at a multiple of 16, which
        // keeps its 8-byte state word inside the buffer. (Ours only ever moves by checked,
        // 16-aligned extents.)
        if (head_ % detail::frame_alignment != 0) return ReadStatus::corrupt;
        for (int frames = 0; frames < 2; ++frames) {
            // (a) SYNC POINT READ: payload. Acquire pairs with the writer's release (5)/(6).
            const std::uint64_t state = view_.state(head_).load(std::memory_order_acquire);
            const std::int32_t extent = detail::state_extent(state);
            const std::uint32_t tag = detail::state_tag(state);
            if (extent <= 0 || (tag & detail::lap_tag_mask) != view_.lap(head_)) {
                return ReadStatus::empty;
            }
            const std::uint64_t room = cap - view_.offset(head_);
            const auto bytes = static_cast<std::uint64_t>(extent);
            if (bytes % detail::frame_alignment != 0 || bytes > room) return ReadStatus::corrupt;
            if ((tag & detail::padding_tag_bit) != 0) {
                if (bytes != room) return ReadStatus::corrupt;
                head_ += bytes;
                continue;
            }
            if (bytes < 2 * detail::frame_alignment) return ReadStatus::corrupt;
            const detail::FrameHeader& f = view_.frame(head_);
            const std::uint64_t packed = f.size;
            const auto size = static_cast<std::uint32_t>(packed);
            const auto offset = static_cast<std::uint32_t>(packed >> 32);
            const std::uint64_t body = bytes - detail::frame_header_size;
            if (offset > body || size > body - offset) return ReadStatus::corrupt;
            frame = {head_, bytes, f.sequence, view_.body(head_) + offset, size};
            return ReadStatus::ok;
        }
        return ReadStatus::corrupt;  // padding after padding: no healthy writer does that
    }

    // (c)-(d): the frame's bytes go back to the writer.
    void consume(const detail::FrameRef& frame) noexcept {
        SHMREC_FAULT_POINT("byte_ring.before_release");
        head_ = frame.position + frame.extent;
        // From the frame, not a count of our own: a predecessor that died between storing head
        // and the count left the count one behind.
        read_ = frame.sequence + 1;
        // Relaxed: the count is for observers and a replacing consumer (which holds the role
        // only after we are gone).
        view_.control->messages.read.store(read_, std::memory_order_relaxed);
        // (c) SYNC POINT WRITE: byte reuse. Pairs with the writer's acquire load of head (1).
        view_.control->ring.head.store(head_, std::memory_order_release);
        // (d) The doorbell handshake towards a writer waiting for room.
        towards_writer_.notify(region_, wait_.liveness_interval);
    }

    // Consumes a batch's messages when it ends, however it ends.
    struct BatchRelease {
        explicit BatchRelease(ByteRingReader& r) noexcept : reader(r) {}
        BatchRelease(const BatchRelease&) = delete;
        BatchRelease& operator=(const BatchRelease&) = delete;
        ~BatchRelease() {
            if (count > 0) reader.consume(last);
        }
        ByteRingReader& reader;
        std::size_t count = 0;
        detail::FrameRef last{};
    };

    void release_sample(const detail::FrameRef& frame) noexcept {
        sample_ = nullptr;
        if (usable()) consume(frame);
    }

    // Nothing at head: tell "not yet" from "never again". Returns ok (with `frame`) when a
    // message arrived meanwhile, so one committed just before the writer closed or died is not
    // lost.
    ReadStatus empty_status(detail::FrameRef& frame) noexcept {
        // Acquire (region_closed) pairs with the writer's release in mark_closed.
        const bool closed_now = closed();
        if (!closed_now && peer_alive([&] { return region_.writer_alive(); })) {
            return ReadStatus::empty;
        }
        const ReadStatus again = next_frame(frame);
        if (again != ReadStatus::empty) return again;
        return closed_now ? ReadStatus::closed : ReadStatus::writer_gone;
    }

    ReadStatus wait_for_message(std::chrono::nanoseconds timeout) noexcept {
        detail::FrameRef frame;
        auto ready = [&] { return next_frame(frame) != ReadStatus::empty || closed(); };
        const auto outcome = wait_until(
            timeout, ready, [&] { return region_.writer_alive(); },
            [&](std::chrono::nanoseconds slice) {
                detail::park(data_waiters_, 0, data_bell_, slice, ready);
            });
        const ReadStatus s = next_frame(frame);
        if (s != ReadStatus::empty) return s;  // ok or corrupt
        if (closed()) return ReadStatus::closed;
        return outcome == detail::WaitOutcome::peer_gone ? ReadStatus::writer_gone
                                                         : ReadStatus::timeout;
    }

    detail::ByteRingView view_;
    detail::WaiterRegistry data_waiters_;
    detail::Doorbell data_bell_;
    detail::Notifier towards_writer_;
    std::uint64_t head_ = 0;  // next byte position to read (private)
    std::uint64_t read_ = 0;  // messages consumed (private copy)
    MessageSample* sample_ = nullptr;
};

// ---- definitions that need both handle classes ----

inline ByteRingWriter ByteRing::writer(const Location& where, const MessageType& type,
                                       std::uint64_t capacity, OpenMode mode,
                                       const RegionOptions& options, const WaitOptions& wait) {
    return ByteRingWriter(detail::writer_region<detail::ByteRingDescriptor>(
                              where, detail::identity_of(type, Role::writer), capacity, mode,
                              options),
                          wait);
}

inline ByteRingReader ByteRing::reader(const Location& where, const MessageType& type,
                                       const RegionOptions& options, const WaitOptions& wait) {
    return ByteRingReader(detail::open_channel<detail::ByteRingDescriptor>(
                              where, Role::consumer, detail::identity_of(type, Role::consumer),
                              options),
                          wait);
}

inline MessageLoan::MessageLoan(ByteRingWriter* writer, std::span<std::byte> buffer) noexcept
    : writer_(writer), buffer_(buffer), status_(WriteStatus::ok) {
    relink();
}

inline void MessageLoan::relink() noexcept {
    // The writer points back at its open loan, wherever the loan lives; every move re-points
    // it and its end clears it, so the pointer never dangles (see RingLoan).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
    if (writer_ != nullptr) writer_->loan_ = this;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

inline std::span<std::byte> MessageLoan::buffer() const noexcept {
    return writer_ != nullptr && writer_->usable() ? buffer_ : std::span<std::byte>{};
}

inline WriteStatus MessageLoan::commit(std::size_t size, std::size_t offset) noexcept {
    if (writer_ == nullptr) return status_;
    if (offset > buffer_.size() || size > buffer_.size() - offset) return WriteStatus::wrong_size;
    ByteRingWriter* w = std::exchange(writer_, nullptr);
    w->loan_ = nullptr;
    buffer_ = {};
    status_ = WriteStatus::moved_from;
    if (!w->usable()) return w->refusal<WriteStatus>();
    w->commit_frame(static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(offset));
    return WriteStatus::ok;
}

inline void MessageLoan::abandon() noexcept {
    if (writer_ == nullptr) return;
    // Nothing was published: the frame's state still says "being filled", and the next
    // reserve() starts at the same tail and overwrites it.
    std::exchange(writer_, nullptr)->loan_ = nullptr;
    buffer_ = {};
    status_ = WriteStatus::moved_from;
}

inline MessageSample::MessageSample(ByteRingReader* reader, const detail::FrameRef& frame) noexcept
    : reader_(reader), frame_(frame), status_(ReadStatus::ok) {
    relink();
}

inline void MessageSample::relink() noexcept {
    if (reader_ != nullptr) reader_->sample_ = this;
}

inline std::span<const std::byte> MessageSample::data() const noexcept {
    if (reader_ == nullptr || !reader_->usable()) return {};
    return {frame_.payload, frame_.size};
}

inline void MessageSample::release() noexcept {
    if (reader_ == nullptr) return;
    std::exchange(reader_, nullptr)->release_sample(frame_);
    status_ = ReadStatus::moved_from;
}

}  // namespace shmrec
