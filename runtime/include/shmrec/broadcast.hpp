// Broadcast<T>: one writer, any number of readers, and readers never slow the writer. The
// writer overwrites the oldest slot; each reader keeps its cursor privately, maps the region
// read-only, and when it was lapped learns exactly how many records it lost:
// received() + lost() == position() - start_position(), always.
//
//   auto writer = shmrec::Broadcast<school::Student>::writer("Prices", 4096);
//   (void)writer.try_write(student);
//
//   auto reader = shmrec::Broadcast<school::Student>::reader("Prices", shmrec::StartAt::oldest);
//   school::Student s;
//   while (reader.read(s, 1s) == shmrec::ReadStatus::ok) ...
//
// Protocol: a seqlock per slot (detail/seqlock.hpp; layout in detail/broadcast_layout.hpp).
// Record p goes to slot p & mask with stamp p + 1 (version 2p+1 while written, 2p+2 once
// complete). The writer publishes `tail` (release) once per call and then does the doorbell
// handshake (detail/endpoint.hpp). A reader at position r loads slot r:
//   complete for r: accept (seqlock check);
//   older than r (or r being written): nothing new yet;
//   newer than r: lapped. The version it saw names a position p' the writer has at least
//     begun, so the writer's front is f = max(tail, p'); positions [f + 1 - capacity, f)
//     may still be intact. Continue at max(r + 1, f + 1 - capacity), counting the skip as
//     lost. Deriving f from the version (not from tail alone) keeps a batch longer than the
//     capacity, whose tail is published only at its end, from looking like a forged tail.
//
// Readers copy out and validate: a zero-copy view into a slot the writer may overwrite at
// any moment would be a data race in the C++ memory model, and whatever the reader did with
// it before noticing would have used torn data. For the same reason the writer has no
// loan: its stores into a slot must be the atomic word stores of the seqlock.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "shmrec/detail/broadcast_layout.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/endpoint.hpp"
#include "shmrec/detail/seqlock.hpp"
#include "shmrec/detail/sequence.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {

// Where a new broadcast reader starts.
enum class StartAt : std::uint8_t {
    oldest,  // the oldest record still retained
    newest,  // the most recent record (or the first one, if none was written yet)
};

constexpr std::string_view to_string(StartAt s) noexcept {
    switch (s) {
        case StartAt::oldest: return "oldest";
        case StartAt::newest: return "newest";
    }
    return "unknown";
}

template <Record T>
class BroadcastWriter;
template <Record T>
class BroadcastReader;

template <Record T>
struct Broadcast {
    static_assert(alignof(T) <= detail::cache_line, "records aligned beyond 64 bytes are not supported");

    using Writer = BroadcastWriter<T>;
    using Reader = BroadcastReader<T>;
    // Bytes per slot: a ring of capacity c holds about c * slot_stride bytes of shared memory.
    static constexpr std::uint64_t slot_stride =
        detail::SlotGeometry<detail::BroadcastDescriptor, T>::stride;

    // create_only (default) makes a broadcast ring of `capacity` records (a power of two);
    // open_only takes over the writer role of an existing one (capacity ignored);
    // open_or_create: either.
    static Writer writer(const Location& where, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {}) {
        return Writer(
            detail::writer_region<detail::BroadcastDescriptor, T>(where, capacity, mode, options),
            wait);
    }
    static Reader reader(const Location& where, StartAt start = StartAt::oldest,
                         const RegionOptions& options = {}, const WaitOptions& wait = {}) {
        return Reader(
            detail::open_channel<detail::BroadcastDescriptor, T>(where, Role::reader, options),
            start, wait);
    }
};

namespace detail {

inline constexpr SeqlockFaultPoints broadcast_fault_points{
    "broadcast.after_claim", "broadcast.mid_payload", "broadcast.before_commit"};

// R is the record type, or DynamicRecord for a record size known only at run time.
template <class R>
struct BroadcastView {
    using Slots = SlotsFor<BroadcastDescriptor, R>;

    BroadcastControl* control = nullptr;
    std::byte* slots = nullptr;
    std::uint64_t mask = 0;
    [[no_unique_address]] Slots shape{};

    BroadcastView() = default;
    explicit BroadcastView(const Region& region, Slots s = {})
        : control(reinterpret_cast<BroadcastControl*>(RegionAccess::data(region))),
          slots(RegionAccess::data(region) + sizeof(BroadcastControl)),
          mask(region.geometry().capacity - 1), shape(s) {}

    std::atomic<std::uint64_t>& version(std::uint64_t position) const noexcept {
        return *reinterpret_cast<std::atomic<std::uint64_t>*>(slots +
                                                              (position & mask) * shape.stride);
    }
    std::uint64_t* payload(std::uint64_t position) const noexcept {
        return reinterpret_cast<std::uint64_t*>(slots + (position & mask) * shape.stride +
                                                shape.payload_offset);
    }
    std::uint64_t capacity() const noexcept { return mask + 1; }
    Doorbell doorbell() const noexcept { return Doorbell(control->doorbell); }
};

// The broadcast writer's protocol, once for BroadcastWriter<T> and untyped::BroadcastWriter.
template <class R>
class BroadcastWriterCore : public BoardWriter {
public:
    // Records written into this ring so far (by any of its writers); 0 if unusable.
    std::uint64_t written() const noexcept { return usable() ? tail_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }

protected:
    BroadcastWriterCore(Region region, const WaitOptions& wait,
                        SlotsFor<BroadcastDescriptor, R> shape = {})
        : BoardWriter(std::move(region), wait, BroadcastView<R>(region, shape).doorbell()),
          view_(region_, shape) {
        // A replacing writer continues after every record its predecessor completed: from the
        // published tail, past every complete slot (a predecessor killed mid-batch completed
        // slots it never announced, and readers may have read them: re-using their positions
        // would renumber records). A record it was writing when it died (odd version) is
        // simply overwritten; readers never accepted it. Relaxed: we hold the writer role, so
        // nobody else writes these.
        std::uint64_t t = view_.control->tail.load(std::memory_order_relaxed);
        for (std::uint64_t n = 0; n < view_.capacity(); ++n, ++t) {
            if (view_.version(t).load(std::memory_order_relaxed) != 2 * t + 2) break;
        }
        tail_ = t;
    }
    BroadcastWriterCore(BroadcastWriterCore&&) noexcept = default;
    BroadcastWriterCore& operator=(BroadcastWriterCore&&) noexcept = default;
    ~BroadcastWriterCore() = default;

    // One record at `record`.
    WriteStatus write_record(const void* record) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        write_slot(tail_, record);
        ++tail_;
        announce();
        return WriteStatus::ok;
    }

    // `count` records, `stride` bytes apart from `first`; the tail and the wake-up check are
    // published once for all of them.
    BatchWrite write_records(const std::byte* first, std::size_t count,
                             std::size_t stride) noexcept {
        if (!usable()) return {0, refusal<WriteStatus>()};
        if (count == 0) return {0, WriteStatus::ok};
        for (std::size_t i = 0; i < count; ++i) {
            write_slot(tail_, first + i * stride);
            ++tail_;
            // Publish tail at least once per lap: a replacing writer scans at most a lap of
            // complete slots past tail, so a batch longer than the capacity whose writer dies
            // inside it must not leave tail more than a lap behind.
            if ((tail_ & view_.mask) == 0) {
                // Release: as in announce(), pairs with a lapped reader's acquire of tail.
                view_.control->tail.store(tail_, std::memory_order_release);
            }
        }
        announce();
        return {count, WriteStatus::ok};
    }

    BroadcastView<R> view_;
    std::uint64_t tail_ = 0;

private:
    void write_slot(std::uint64_t p, const void* record) noexcept {
        seqlock_store(view_.version(p), view_.payload(p), p + 1, record, view_.shape.record_size,
                      broadcast_fault_points);
    }

    void announce() noexcept {
        // Release pairs with a lapped reader's acquire load of tail.
        view_.control->tail.store(tail_, std::memory_order_release);
        notify();
    }
};

// The broadcast reader's protocol (position, laps, waiting), once for BroadcastReader<T> and
// untyped::BroadcastReader.
template <class R>
class BroadcastReaderCore : public BoardReader {
public:
    // After `closed` or `writer_gone`: waits up to `timeout` for a replacement writer to attach
    // (ok), without polling the channel; then read() resumes with its records.
    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return await_board_writer(timeout);
    }

    // Counts and positions of this reader (0 if unusable).
    std::uint64_t received() const noexcept { return usable() ? received_ : 0; }
    std::uint64_t lost() const noexcept { return usable() ? lost_ : 0; }
    std::uint64_t position() const noexcept { return usable() ? position_ : 0; }  // next to read
    std::uint64_t start_position() const noexcept { return usable() ? start_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    bool writer_alive() const noexcept { return writer_is_alive(); }
    bool closed() const noexcept { return region_is_closed(); }

protected:
    static constexpr int max_attempts = 64;

    BroadcastReaderCore(Region region, StartAt start, const WaitOptions& wait,
                        SlotsFor<BroadcastDescriptor, R> shape = {})
        : BoardReader(std::move(region), wait, BroadcastView<R>(region, shape).doorbell()),
          view_(region_, shape) {
        // Acquire pairs with the writer's release of tail.
        const std::uint64_t t = view_.control->tail.load(std::memory_order_acquire);
        const std::uint64_t cap = view_.capacity();
        if (start == StartAt::newest) {
            start_ = t > 0 ? t - 1 : 0;
        } else {
            start_ = t > cap ? t - cap : 0;  // a lap during the first read is caught as usual
        }
        position_ = start_;
        publish_cursor(position_, 0, 0);
    }
    BroadcastReaderCore(BroadcastReaderCore&&) noexcept = default;
    BroadcastReaderCore& operator=(BroadcastReaderCore&&) noexcept = default;
    ~BroadcastReaderCore() = default;

    // BroadcastReader<T>::try_read on record_size() bytes at `out`.
    ReadStatus read_record(void* out) noexcept {
        if (!usable()) return refusal<ReadStatus>();
        ReadStatus s = next(out);
        if (s == ReadStatus::empty) {
            s = empty_status();
            if (s == ReadStatus::ok) s = next(out);  // it arrived meanwhile
        }
        if (s == ReadStatus::ok) publish_cursor(position_, received_, lost_);
        return s;
    }

    // What a batch read does at a lap found after its first record.
    enum class AtLap : std::uint8_t {
        skip,       // move past it (lost() counts it) and go on: the batch may span the gap
        end_batch,  // end the batch before it; the next read moves past it, so a batch is
                    // always consecutive positions and lost() counts only records before it
    };

    // Up to `count` records into `count` buffers `stride` bytes apart from `first`.
    BatchRead read_records(std::byte* first, std::size_t count, std::size_t stride,
                           AtLap at_lap = AtLap::skip) noexcept {
        if (!usable()) return {0, refusal<ReadStatus>()};
        if (count == 0) return {0, ReadStatus::ok};
        std::size_t n = 0;
        ReadStatus s = ReadStatus::ok;
        while (n < count && (s = next(first + n * stride,
                                      n > 0 && at_lap == AtLap::end_batch)) == ReadStatus::ok) {
            ++n;
        }
        if (n == 0 && s == ReadStatus::empty) {
            s = empty_status();
            if (s == ReadStatus::ok) s = next(first);
            if (s == ReadStatus::ok) n = 1;
        }
        if (n == 0) return {0, s};
        publish_cursor(position_, received_, lost_);
        return {n, ReadStatus::ok};
    }

    // Calls attempt() until it returns something other than empty or contended, waiting for a
    // record while empty and retrying while contended, until `deadline`.
    template <class Attempt>
    ReadStatus read_until(SteadyClock::time_point deadline, Attempt&& attempt) noexcept {
        for (;;) {
            const ReadStatus s = attempt();
            if (s != ReadStatus::empty && s != ReadStatus::contended) return s;
            const auto now = SteadyClock::now();
            if (now >= deadline) return s == ReadStatus::empty ? ReadStatus::timeout : s;
            if (s == ReadStatus::contended) continue;  // lapped again: the next lap may do
            const ReadStatus w = wait_for_record(deadline - now);
            if (w != ReadStatus::ok) return w;
        }
    }

    BroadcastView<R> view_;
    std::uint64_t start_ = 0;
    std::uint64_t position_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t lost_ = 0;

private:
    // The record at our position, moving past laps: ok, empty (not there yet), corrupt, or
    // contended (lapped on every attempt: the writer outruns the copy). With `stop_at_lap`, a
    // lap is not moved past but answered as empty, position and lost() untouched.
    ReadStatus next(void* out, bool stop_at_lap = false) noexcept {
        for (int attempt = 0; attempt < max_attempts; ++attempt) {
            const std::uint64_t r = position_;
            switch (seqlock_try_load(view_.version(r), view_.payload(r), r + 1, out,
                                     view_.shape.record_size)) {
                case SeqlockLoad::ok:
                    ++position_;
                    ++received_;
                    return ReadStatus::ok;
                case SeqlockLoad::not_yet: return ReadStatus::empty;
                case SeqlockLoad::newer:
                    if (stop_at_lap) return ReadStatus::empty;
                    if (!skip_lapped(r)) return ReadStatus::corrupt;
                    break;
                case SeqlockLoad::torn: break;  // look again: likely lapped now
            }
        }
        return ReadStatus::contended;
    }

    // Moves past a lap (see the protocol at the top of this file).
    bool skip_lapped(std::uint64_t r) noexcept {
        // Acquire: pairs with the writer's release of the slot's version or of tail.
        const std::uint64_t v = view_.version(r).load(std::memory_order_acquire);
        const std::uint64_t t = view_.control->tail.load(std::memory_order_acquire);
        // Version 2p+1 or 2p+2: the writer has begun position p, p - r = ceil(d / 2) for
        // d = v - (2r+2) (wrap-aware: positions themselves may wrap).
        const std::int64_t d = ahead(v, 2 * r + 2);
        const std::int64_t by_version = d > 0 ? d / 2 + (d & 1) : 0;
        const std::uint64_t begun = r + static_cast<std::uint64_t>(by_version);
        // A healthy writer rewrote this slot with a position a whole number of laps ahead of
        // r, and is not max_plausible_lead (detail/sequence.hpp) ahead of any reader: anything
        // else is reported as corrupt instead of becoming an absurd lost() count.
        if (by_version <= 0 || by_version > max_plausible_lead ||
            (static_cast<std::uint64_t>(by_version) & view_.mask) != 0) {
            return false;
        }
        const std::int64_t by_tail = ahead(t, r);
        const std::uint64_t front =
            by_tail > by_version && by_tail <= max_plausible_lead ? t : begun;
        const std::uint64_t oldest_intact = front + 1 - view_.capacity();
        const std::uint64_t next = ahead(oldest_intact, r + 1) > 0 ? oldest_intact : r + 1;
        lost_ += next - r;
        position_ = next;
        return true;
    }

    // True when the slot at our position holds our record or a later one.
    bool available() const noexcept {
        // Relaxed: a hint for the wait loop; next() does the synchronising load.
        return ahead(view_.version(position_).load(std::memory_order_relaxed),
                     2 * position_ + 2) >= 0;
    }

    // The slot was empty: tell "not yet" from "never again". Returns ok when a record
    // arrived meanwhile, so one committed just before the writer closed or died is not lost.
    ReadStatus empty_status() noexcept {
        // Acquire (region_closed) pairs with the writer's release in mark_closed: every record
        // written before closing is visible to the re-check.
        if (closed()) return available() ? ReadStatus::ok : ReadStatus::closed;
        if (!peer_alive([&] { return region_.writer_alive(); })) {
            return available() ? ReadStatus::ok : ReadStatus::writer_gone;
        }
        return ReadStatus::empty;
    }

    // ok once a record (or a lap) is there; else timeout, closed or writer_gone.
    ReadStatus wait_for_record(std::chrono::nanoseconds timeout) noexcept {
        auto ready = [&] { return available() || closed(); };
        const auto outcome = wait_until(
            timeout, ready, [&] { return region_.writer_alive(); },
            [&](std::chrono::nanoseconds slice) { park_for(slice, ready); });
        if (available()) return ReadStatus::ok;
        if (closed()) return ReadStatus::closed;
        return outcome == WaitOutcome::peer_gone ? ReadStatus::writer_gone : ReadStatus::timeout;
    }
};

}  // namespace detail

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Record T>
class BroadcastWriter : public detail::BroadcastWriterCore<T> {
public:
    BroadcastWriter(BroadcastWriter&&) noexcept = default;
    BroadcastWriter& operator=(BroadcastWriter&&) noexcept = default;
    ~BroadcastWriter() = default;  // BoardWriter closes

    // Publishes one record, overwriting the oldest. Wait-free; no system call unless a reader
    // sleeps.
    [[nodiscard]] WriteStatus try_write(const T& record) noexcept {
        return this->write_record(&record);
    }
    // Publishes a batch; the tail and the wake-up check are published once for all of it.
    [[nodiscard]] BatchWrite try_write(std::span<const T> records) noexcept {
        return this->write_records(reinterpret_cast<const std::byte*>(records.data()),
                                   records.size(), sizeof(T));
    }
    // The same: a broadcast never waits for room. For code written against every channel alike.
    [[nodiscard]] WriteStatus write(const T& record, std::chrono::nanoseconds /*timeout*/) noexcept {
        return try_write(record);
    }
    [[nodiscard]] BatchWrite write(std::span<const T> records,
                                   std::chrono::nanoseconds /*timeout*/) noexcept {
        return try_write(records);
    }

private:
    friend struct Broadcast<T>;
    BroadcastWriter(Region region, const WaitOptions& wait)
        : detail::BroadcastWriterCore<T>(std::move(region), wait) {}
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Record T>
class BroadcastReader : public detail::BroadcastReaderCore<T> {
public:
    BroadcastReader(BroadcastReader&&) noexcept = default;
    BroadcastReader& operator=(BroadcastReader&&) noexcept = default;
    ~BroadcastReader() = default;

    // Copies the next record into `out`. After a lap it continues from the oldest intact
    // record and adds the skipped ones to lost(). `out` is unspecified unless the status is ok.
    [[nodiscard]] ReadStatus try_read(T& out) noexcept { return this->read_record(&out); }

    // Copies up to out.size() records that are ready now: {count, ok} when at least one was
    // read, else {0, why}.
    [[nodiscard]] BatchRead try_read(std::span<T> out) noexcept {
        return this->read_records(reinterpret_cast<std::byte*>(out.data()), out.size(), sizeof(T));
    }

    // Waits up to `timeout` (nanoseconds::max(): for ever) for the next record. A reader the
    // writer keeps lapping (contended) keeps trying until the deadline.
    [[nodiscard]] ReadStatus read(T& out, std::chrono::nanoseconds timeout) noexcept {
        if (!this->usable()) return this->template refusal<ReadStatus>();
        return this->read_until(detail::deadline_after(timeout), [&] { return try_read(out); });
    }
    // Waits up to `timeout` for at least one record, then reads up to out.size().
    [[nodiscard]] BatchRead read(std::span<T> out, std::chrono::nanoseconds timeout) noexcept {
        if (!this->usable()) return {0, this->template refusal<ReadStatus>()};
        std::size_t count = 0;
        const ReadStatus s = this->read_until(detail::deadline_after(timeout), [&] {
            const BatchRead r = try_read(out);
            count = r.count;
            return r.status;
        });
        return {count, s};
    }

private:
    friend struct Broadcast<T>;
    BroadcastReader(Region region, StartAt start, const WaitOptions& wait)
        : detail::BroadcastReaderCore<T>(std::move(region), start, wait) {}
};

}  // namespace shmrec
