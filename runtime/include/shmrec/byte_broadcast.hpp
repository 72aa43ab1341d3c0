// ByteBroadcast: one writer, any number of readers, variable-size messages, and readers never
// slow the writer. The writer overwrites the oldest frames; each reader keeps its position
// privately, maps the region read-only, copies each message out and validates the copy, and
// when it was lapped learns exactly how many messages it lost:
// received() + lost() == messages from its first one to its last, always.
//
//   auto writer = shmrec::ByteBroadcast::writer("Quotes", {"md.Quote"}, 1 << 20);
//   (void)writer.try_write(bytes);
//   auto reader = shmrec::ByteBroadcast::reader("Quotes", {"md.Quote"}, shmrec::StartAt::oldest);
//   std::vector<std::byte> m;
//   while (reader.read(m, 1s) == shmrec::ReadStatus::ok) ...
//
// Frames as a byte ring's (detail/byte_ring_layout.hpp; payload at offset 0), in the buffer of
// detail/byte_broadcast_layout.hpp. The writer, for a message of n bytes at tail t:
//   1. padding first if the frame does not fit before the buffer's end; the frame ends at e
//   2. oldest = the first frame that survives bytes [t, e + 16) being rewritten   (relaxed)
//   3. claimed = e + 16 (release: orders 2 before it), then a release fence (orders it before
//      every store of 4-6: a seqlock's "begin"). Never lowered, not even by a replacing
//      writer: a predecessor killed in 4 changed bytes up to its claim
//   4. padding state, state(m) = (-f, lap), state(e) = 0, size, sequence, payload: relaxed
//      atomic 8-byte stores (readers may be copying those bytes right now)
//   5. state(m) = (+f, lap)                                                        (release)
//   6. latest = m, written, tail = e (release); the doorbell handshake
// A reader at position r (a frame start):
//   a. claimed (acquire) > r + capacity: bytes at r are (being) overwritten: lapped, move to
//      `oldest` (which 3 made visible) and count the messages skipped when the next one arrives
//   b. state(r) (acquire): not committed for this lap: nothing new (unless a re-read of claimed
//      says lapped); padding: r += extent; a message: bounds-checked, else `corrupt`
//   c. copy size, sequence and payload with relaxed 8-byte loads, acquire fence, re-read
//      claimed: past r + capacity means the copy may be torn: discard it, as in (a)
//   d. the sequence tells the loss: lost += sequence - expected (0 unless lapped)
// Readers copy out: a view into bytes the writer may overwrite at any moment would be a data
// race, and whatever was done with it before noticing would have used torn data. For the same
// reason the writer has no loan.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "shmrec/broadcast.hpp"
#include "shmrec/byte_ring.hpp"
#include "shmrec/detail/byte_broadcast_layout.hpp"
#include "shmrec/detail/frame_buffer.hpp"
#include "shmrec/detail/word_copy.hpp"

namespace shmrec {

class ByteBroadcastWriter;
class ByteBroadcastReader;

struct ByteBroadcast {
    using Writer = ByteBroadcastWriter;
    using Reader = ByteBroadcastReader;

    // create_only (default) makes a broadcast of `capacity` bytes (a power of two, 64 to 2^31);
    // open_only takes over the writer role of an existing one; open_or_create: either.
    static Writer writer(const Location& where, const MessageType& type, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {});
    // A reader (any number): from the oldest message still retained, or the newest.
    static Reader reader(const Location& where, const MessageType& type,
                         StartAt start = StartAt::oldest, const RegionOptions& options = {},
                         const WaitOptions& wait = {});

    static constexpr std::uint64_t max_message(std::uint64_t capacity) noexcept {
        return detail::ByteBroadcastDescriptor::max_message(capacity);
    }
};

namespace detail {

// A byte broadcast's control block and frames, from the validated private geometry.
struct ByteBroadcastView : FrameBuffer {
    ByteBroadcastControl* control = nullptr;

    ByteBroadcastView() = default;
    explicit ByteBroadcastView(const Region& region)
        : FrameBuffer(RegionAccess::data(region) + sizeof(ByteBroadcastControl),
                      region.geometry().capacity),
          control(reinterpret_cast<ByteBroadcastControl*>(RegionAccess::data(region))) {}

    // A frame's body as 8-byte words: readers copy it with relaxed word loads (word_copy.hpp).
    std::uint64_t* words(std::uint64_t position) const noexcept {
        return reinterpret_cast<std::uint64_t*>(body(position));
    }
    Doorbell doorbell() const noexcept { return Doorbell(control->doorbell); }
};

}  // namespace detail

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
class ByteBroadcastWriter : public detail::BoardWriter {
public:
    ByteBroadcastWriter(ByteBroadcastWriter&&) noexcept = default;
    ByteBroadcastWriter& operator=(ByteBroadcastWriter&&) noexcept = default;
    ~ByteBroadcastWriter() = default;

    // Publishes one message, overwriting the oldest ones as needed: ok, too_large (larger than
    // max_message()), or the handle's refusal. Never blocks, never allocates.
    [[nodiscard]] WriteStatus try_write(std::span<const std::byte> message) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        if (message.size() > max_message()) return WriteStatus::too_large;
        const std::uint64_t extent = detail::frame_extent(message.size());
        const std::uint64_t padding = view_.padding_before(tail_, extent);
        const std::uint64_t m = tail_ + padding;
        const std::uint64_t end = m + extent;
        auto& ctl = *view_.control;
        // (2)-(3)
        retire_frames_before(end + detail::frame_alignment, m);
        ctl.oldest.store(oldest_, std::memory_order_relaxed);
        // Never lowered: a predecessor that died in (4) changed bytes up to its claim.
        if (detail::ahead(end + detail::frame_alignment, claimed_) > 0) {
            claimed_ = end + detail::frame_alignment;
        }
        ctl.claimed.store(claimed_, std::memory_order_release);
        std::atomic_thread_fence(std::memory_order_release);
        // (4) Relaxed atomic stores throughout: readers may be copying these bytes.
        if (padding != 0) {
            view_.state(tail_).store(
                detail::pack_state(static_cast<std::int32_t>(padding),
                                   view_.lap(tail_) | detail::padding_tag_bit),
                std::memory_order_relaxed);
        }
        const auto ext32 = static_cast<std::int32_t>(extent);
        view_.state(m).store(detail::pack_state(-ext32, view_.lap(m)), std::memory_order_relaxed);
        view_.state(end).store(0, std::memory_order_relaxed);
        detail::FrameHeader& f = view_.frame(m);
        detail::store_word(&f.size, detail::pack_size(static_cast<std::uint32_t>(message.size()), 0));
        detail::store_word(&f.sequence, written_);
        detail::store_words(view_.words(m), message.data(), message.size(), 0,
                            detail::words_for(message.size()));
        SHMREC_FAULT_POINT("byte_broadcast.before_commit");
        // (5) SYNC POINT WRITE: the frame. Pairs with a reader's acquire load of the state (b).
        view_.state(m).store(detail::pack_state(ext32, view_.lap(m)), std::memory_order_release);
        tail_ = end;
        ++written_;
        publish(m);
        return WriteStatus::ok;
    }
    // Never waits: the same as try_write().
    [[nodiscard]] WriteStatus write(std::span<const std::byte> message) noexcept {
        return try_write(message);
    }

    std::uint64_t written() const noexcept { return usable() ? written_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    std::uint64_t max_message() const noexcept {
        return usable() ? ByteBroadcast::max_message(view_.capacity()) : 0;
    }

private:
    friend struct ByteBroadcast;

    ByteBroadcastWriter(Region region, const WaitOptions& wait)
        : BoardWriter(std::move(region), wait, detail::ByteBroadcastView(region).doorbell()),
          view_(region_) {
        resume_after_predecessor();
    }

    // A replacing writer continues after everything committed, as a byte ring's writer does:
    // from the published tail, past frames committed in this lap (a predecessor may die after
    // (5)). The kernel's writer lock orders our predecessor's stores before our attach: relaxed.
    void resume_after_predecessor() noexcept {
        auto& ctl = *view_.control;
        const std::uint64_t cap = view_.capacity();
        tail_ = ctl.tail.load(std::memory_order_relaxed);
        written_ = ctl.written.load(std::memory_order_relaxed);
        oldest_ = ctl.oldest.load(std::memory_order_relaxed);
        latest_ = ctl.latest.load(std::memory_order_relaxed);
        // Only frame starts (multiples of 16) are ever published: from any other tail our
        // frames' words would straddle the buffer's end. Start at the next frame start.
        if (tail_ % detail::frame_alignment != 0) {
            tail_ = detail::round_up_to(tail_, detail::frame_alignment);
            oldest_ = tail_;
        }
        for (std::uint64_t scanned = 0; scanned < cap;) {
            const std::uint64_t extent = detail::committed_extent(
                view_.state(tail_).load(std::memory_order_relaxed), tail_, view_.lap(tail_), cap);
            if (extent == 0) break;
            const std::uint64_t state = view_.state(tail_).load(std::memory_order_relaxed);
            if ((detail::state_tag(state) & detail::padding_tag_bit) == 0) {
                written_ = detail::load_word(&view_.frame(tail_).sequence) + 1;
                latest_ = tail_;
            }
            tail_ += extent;
            scanned += extent;
        }
        // A predecessor killed in (4) changed bytes up to its claim (at most a lap past its
        // tail) without committing them: readers must go on seeing them as changed, so our
        // claim never drops below its claim, even where our frames are smaller than its.
        const std::uint64_t claimed = ctl.claimed.load(std::memory_order_relaxed);
        const std::int64_t claim_lead = detail::ahead(claimed, tail_);
        claimed_ = claim_lead >= 0 && claim_lead <= static_cast<std::int64_t>(cap) ? claimed : tail_;
        // What is retained lies within one lap behind the tail, else nothing is.
        const auto misaligned = [](std::uint64_t p) { return p % detail::frame_alignment != 0; };
        if (misaligned(oldest_) || detail::ahead(tail_, oldest_) < 0 || tail_ - oldest_ > cap) {
            oldest_ = tail_;
        }
        if (misaligned(latest_) || detail::ahead(tail_, latest_) <= 0 || tail_ - latest_ > cap) {
            latest_ = oldest_;
        }
        publish(latest_);
    }

    // Moves oldest_ past every frame that rewriting the bytes below `limit_end` (this lap)
    // destroys: the frames starting before limit_end - capacity. They are our own frames (or a
    // predecessor's), but a state word that does not make sense ends the walk: nothing older
    // than the new frame, at `fresh`, is then offered to readers.
    void retire_frames_before(std::uint64_t limit_end, std::uint64_t fresh) noexcept {
        const std::uint64_t cap = view_.capacity();
        if (detail::ahead(limit_end, cap) <= 0) return;  // the first lap: nothing overwritten
        const std::uint64_t limit = limit_end - cap;
        while (detail::ahead(limit, oldest_) > 0) {
            const std::uint64_t extent = detail::committed_extent(
                view_.state(oldest_).load(std::memory_order_relaxed), oldest_, view_.lap(oldest_),
                cap);
            if (extent == 0 || detail::ahead(oldest_ + extent, tail_) > 0) {
                oldest_ = fresh;
                break;
            }
            oldest_ += extent;
        }
    }

    // (6) latest and the counts for readers starting and observers (relaxed: ordered by the
    // release on tail, which a starting reader loads with acquire).
    void publish(std::uint64_t latest) noexcept {
        latest_ = latest;
        auto& ctl = *view_.control;
        ctl.latest.store(latest_, std::memory_order_relaxed);
        ctl.written.store(written_, std::memory_order_relaxed);
        SHMREC_FAULT_POINT("byte_broadcast.before_tail");
        ctl.tail.store(tail_, std::memory_order_release);
        notify();
    }

    detail::ByteBroadcastView view_;
    std::uint64_t tail_ = 0;     // next byte position (private)
    std::uint64_t oldest_ = 0;   // the oldest frame still intact
    std::uint64_t latest_ = 0;   // the most recent message frame
    std::uint64_t written_ = 0;  // messages committed: the next message's sequence
    std::uint64_t claimed_ = 0;  // the claim published last: never lowered
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
class ByteBroadcastReader : public detail::BoardReader {
public:
    ByteBroadcastReader(ByteBroadcastReader&&) noexcept = default;
    ByteBroadcastReader& operator=(ByteBroadcastReader&&) noexcept = default;
    ~ByteBroadcastReader() = default;

    // Copies the next message into `out` (resized to fit: this may allocate): ok, empty, closed
    // or writer_gone (once everything published was read), corrupt, contended (lapped on every
    // attempt: the writer outruns the copy; try again), or the handle's refusal.
    [[nodiscard]] ReadStatus try_read(std::vector<std::byte>& out) {
        if (!usable()) return refusal<ReadStatus>();
        ReadStatus s = next(out);
        if (s == ReadStatus::empty) {
            s = empty_status();
            if (s == ReadStatus::ok) s = next(out);  // it arrived meanwhile
        }
        if (s == ReadStatus::ok) publish_cursor(position_, received_, lost_);
        return s;
    }
    // The same, waiting up to `timeout` (nanoseconds::max(): for ever) for a message.
    [[nodiscard]] ReadStatus read(std::vector<std::byte>& out, std::chrono::nanoseconds timeout) {
        const auto deadline = detail::deadline_after(timeout);
        for (;;) {
            const ReadStatus s = try_read(out);
            if (s != ReadStatus::empty && s != ReadStatus::contended) return s;
            const auto now = detail::SteadyClock::now();
            if (now >= deadline) return s == ReadStatus::empty ? ReadStatus::timeout : s;
            if (s == ReadStatus::contended) continue;
            auto ready = [&] { return something_at_position() || closed(); };
            const auto outcome = wait_until(
                deadline - now, ready, [&] { return region_.writer_alive(); },
                [&](std::chrono::nanoseconds slice) { park_for(slice, ready); });
            if (outcome == detail::WaitOutcome::timeout) return ReadStatus::timeout;
        }
    }

    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return await_board_writer(timeout);
    }

    // Messages copied out, and messages lost to laps (the writer overwrote them first).
    std::uint64_t received() const noexcept { return usable() ? received_ : 0; }
    std::uint64_t lost() const noexcept { return usable() ? lost_ : 0; }
    // The sequence number of the next message expected (of the first one, before any).
    std::uint64_t next_sequence() const noexcept { return usable() ? expected_ : 0; }
    // Where the next frame starts, in bytes since the broadcast was created.
    std::uint64_t position() const noexcept { return usable() ? position_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    bool writer_alive() const noexcept { return writer_is_alive(); }
    bool closed() const noexcept { return region_is_closed(); }

private:
    friend struct ByteBroadcast;
    static constexpr int max_attempts = 64;

    ByteBroadcastReader(Region region, StartAt start, const WaitOptions& wait)
        : BoardReader(std::move(region), wait, detail::ByteBroadcastView(region).doorbell()),
          view_(region_) {
        anchor(start);
        publish_cursor(position_, 0, 0);
    }

    // The first frame to read and its sequence, so that messages overwritten before the first
    // read count as lost too. Read as any frame is (claimed checked around it); retried while
    // the writer overwrites it. Should every attempt be lapped, the count starts with the first
    // message read instead.
    void anchor(StartAt start) noexcept {
        auto& ctl = *view_.control;
        const std::uint64_t cap = view_.capacity();
        for (int attempt = 0; attempt < max_attempts; ++attempt) {
            // Acquire pairs with the writer's release of tail: latest and oldest were stored
            // before it.
            const std::uint64_t tail = ctl.tail.load(std::memory_order_acquire);
            position_ = tail;
            if (tail == 0) {  // nothing written yet: the first message is number 0
                started_ = true;
                return;
            }
            std::uint64_t from = start == StartAt::newest ? ctl.latest.load(std::memory_order_relaxed)
                                                          : ctl.oldest.load(std::memory_order_relaxed);
            // Anything not within one lap behind the tail is not a frame start we can trust
            // (nor is a misaligned one: see frame_start()).
            if (!frame_start(from) || detail::ahead(tail, from) <= 0 || tail - from > cap) return;
            const std::uint64_t state = view_.state(from).load(std::memory_order_acquire);
            std::uint64_t extent = detail::committed_extent(state, from, view_.lap(from), cap);
            if (extent != 0 && (detail::state_tag(state) & detail::padding_tag_bit) != 0) {
                from += extent;  // the message after the padding, at the buffer's start
                if (from == tail) return;  // only padding retained: count from the first read
                extent = detail::committed_extent(view_.state(from).load(std::memory_order_acquire),
                                                  from, view_.lap(from), cap);
            }
            if (extent == 0) continue;
            const std::uint64_t sequence = detail::load_word(&view_.frame(from).sequence);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (lapped(ctl.claimed.load(std::memory_order_relaxed), from)) continue;
            position_ = from;
            expected_ = sequence;
            started_ = true;
            return;
        }
    }

    // Positions come from shared memory (tail, oldest, latest): a frame starts at a multiple of
    // 16, so its 8-byte state word lies inside the buffer, aligned. Anything else is corrupt.
    static bool frame_start(std::uint64_t position) noexcept {
        return position % detail::frame_alignment == 0;
    }

    bool lapped(std::uint64_t claimed, std::uint64_t r) const noexcept {
        return detail::ahead(claimed, r + view_.capacity()) > 0;
    }

    // (a) after a lap: continue at the oldest frame still intact (3 stored it before claimed).
    bool skip_lapped(std::uint64_t r) noexcept {
        const std::uint64_t oldest = view_.control->oldest.load(std::memory_order_acquire);
        // A healthy writer's oldest is past every frame it overwrote, so past r.
        if (!frame_start(oldest) || detail::ahead(oldest, r) <= 0 ||
            detail::ahead(oldest, r) > detail::max_plausible_lead) {
            return false;
        }
        position_ = oldest;
        return true;
    }

    // True when the state word at our position says "something to read" or we were lapped.
    bool something_at_position() const noexcept {
        const std::uint64_t r = position_;
        if (!frame_start(r)) return true;  // next() says corrupt
        if (lapped(view_.control->claimed.load(std::memory_order_acquire), r)) return true;
        return detail::committed_extent(view_.state(r).load(std::memory_order_acquire), r,
                                        view_.lap(r), view_.capacity()) != 0;
    }

    ReadStatus next(std::vector<std::byte>& out) {
        const std::uint64_t cap = view_.capacity();
        auto& ctl = *view_.control;
        for (int attempt = 0; attempt < max_attempts; ++attempt) {
            const std::uint64_t r = position_;
            if (!frame_start(r)) return ReadStatus::corrupt;  // a tail no writer publishes
            // (a)
            if (lapped(ctl.claimed.load(std::memory_order_acquire), r)) {
                if (!skip_lapped(r)) return ReadStatus::corrupt;
                continue;
            }
            // (b) SYNC POINT READ: the frame. Acquire pairs with the writer's release (5).
            const std::uint64_t state = view_.state(r).load(std::memory_order_acquire);
            const std::uint64_t extent = detail::committed_extent(state, r, view_.lap(r), cap);
            if (extent == 0) {
                if (lapped(ctl.claimed.load(std::memory_order_acquire), r)) continue;
                // Not committed for this lap. A well-formed extent that does not fit is another
                // matter: a healthy writer never writes one.
                const std::int32_t e = detail::state_extent(state);
                const bool ours = (detail::state_tag(state) & detail::lap_tag_mask) == view_.lap(r);
                if (ours && e > 0) return ReadStatus::corrupt;
                return ReadStatus::empty;
            }
            if ((detail::state_tag(state) & detail::padding_tag_bit) != 0) {
                position_ = r + extent;
                continue;
            }
            // (c)
            const detail::FrameHeader& f = view_.frame(r);
            const std::uint64_t packed = detail::load_word(&f.size);
            const std::uint64_t sequence = detail::load_word(&f.sequence);
            const auto size = static_cast<std::uint32_t>(packed);
            const auto offset = static_cast<std::uint32_t>(packed >> 32);
            const std::uint64_t body = extent - detail::frame_header_size;
            const bool fits = offset % 8 == 0 && offset <= body && size <= body - offset;
            if (fits) {
                out.resize(size);
                detail::load_words(out.data(), view_.words(r) + offset / 8, size);
            }
            std::atomic_thread_fence(std::memory_order_acquire);
            if (lapped(ctl.claimed.load(std::memory_order_relaxed), r)) continue;  // torn: again
            if (!fits) return ReadStatus::corrupt;  // read intact: the writer wrote it so
            // (d)
            if (started_) {
                const std::int64_t gap = detail::ahead(sequence, expected_);
                if (gap < 0 || gap > detail::max_plausible_lead) return ReadStatus::corrupt;
                lost_ += static_cast<std::uint64_t>(gap);
            }
            started_ = true;
            expected_ = sequence + 1;
            ++received_;
            position_ = r + extent;
            return ReadStatus::ok;
        }
        return ReadStatus::contended;
    }

    // Nothing new: tell "not yet" from "never again" (as ByteRingReader::empty_status).
    ReadStatus empty_status() noexcept {
        const bool closed_now = closed();
        if (!closed_now && peer_alive([&] { return region_.writer_alive(); })) {
            return ReadStatus::empty;
        }
        if (something_at_position()) return ReadStatus::ok;
        return closed_now ? ReadStatus::closed : ReadStatus::writer_gone;
    }

    detail::ByteBroadcastView view_;
    std::uint64_t position_ = 0;  // the next frame (bytes)
    std::uint64_t expected_ = 0;  // the next message's sequence, once started_
    std::uint64_t received_ = 0;
    std::uint64_t lost_ = 0;
    bool started_ = false;
};

inline ByteBroadcastWriter ByteBroadcast::writer(const Location& where, const MessageType& type,
                                                 std::uint64_t capacity, OpenMode mode,
                                                 const RegionOptions& options,
                                                 const WaitOptions& wait) {
    return ByteBroadcastWriter(detail::writer_region<detail::ByteBroadcastDescriptor>(
                                   where, detail::identity_of(type, Role::writer), capacity, mode,
                                   options),
                               wait);
}

inline ByteBroadcastReader ByteBroadcast::reader(const Location& where, const MessageType& type,
                                                 StartAt start, const RegionOptions& options,
                                                 const WaitOptions& wait) {
    return ByteBroadcastReader(detail::open_channel<detail::ByteBroadcastDescriptor>(
                                   where, Role::reader, detail::identity_of(type, Role::reader),
                                   options),
                               start, wait);
}

}  // namespace shmrec
