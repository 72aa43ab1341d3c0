// Records whose type a program knows only at run time: the `shmrec` tool (tail, stat, record,
// replay), bridges, recorders. The same channels and the same protocol as the typed handles of
// cell.hpp / broadcast.hpp / ring.hpp, with the record's size, alignment and identity taken from
// a RecordType instead of RecordTraits<T>; records are copied as bytes (record_size() of them).
// A region made by an untyped writer is indistinguishable from one made by a typed writer of
// the same record, and the other way round.
//
//   auto reader = shmrec::untyped::broadcast_reader("Prices");        // any record type
//   std::vector<std::byte> record(reader.type().size);
//   while (reader.read(record, 1s) == shmrec::ReadStatus::ok) ...
//
// The ring's two roles are untyped::ring_writer / ring_reader; the reader can also peek a
// batch and release it later (a bridge that must not lose a record it has taken).
//
// Inspection without a role: ChannelMonitor reads a region's live positions (for `shmrec info`
// and `stat`), RingObserver copies a ring's records without consuming them, ByteRingObserver
// a byte ring's messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "shmrec/broadcast.hpp"
#include "shmrec/byte_ring.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/detail/fault.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {

// What RecordTraits<T> says at compile time, at run time.
struct RecordType {
    std::string name;  // qualified: "school.Student"
    std::uint32_t size = 0;
    std::uint32_t alignment = 0;
    std::uint64_t fingerprint = 0;
    std::string schema;                       // schema text
    std::vector<std::uint8_t> binary_schema;  // .bfbs; may be empty

    // What a region holds (from inspect_region).
    static RecordType of(const RegionInfo& info);
    template <Record T>
    static RecordType of() {
        using Traits = RecordTraits<T>;
        return {std::string(Traits::name), static_cast<std::uint32_t>(Traits::size),
                static_cast<std::uint32_t>(Traits::alignment), Traits::fingerprint,
                std::string(Traits::schema),
                std::vector<std::uint8_t>(Traits::binary_schema.begin(), Traits::binary_schema.end())};
    }
};

// One live reader of a cell or broadcast, from its cursor on the board (format 2.1). Figures are
// published relaxed by the reader itself: for people, not for the protocol.
struct ReaderState {
    std::uint32_t slot = 0;      // reader slot (0..255)
    std::uint64_t position = 0;  // next record it will read (cell: records published when it last read)
    std::uint64_t received = 0;  // records it has read
    std::uint64_t lost = 0;      // broadcast: records it lost to laps; cell: records published
                                 // between two of its reads that it never saw
    bool waiting = false;        // asleep on the doorbell now
};

// A channel's live positions, read without taking any role.
struct ChannelState {
    ChannelKind kind = ChannelKind::cell;
    std::uint64_t capacity = 0;  // records; a byte ring's in bytes
    std::uint64_t written = 0;  // records published so far (cell: its latest record's number)
    std::uint64_t oldest = 0;   // broadcast: oldest position retained; ring and byte ring: the
                                // consumer's position (records consumed); cell: the latest
                                // record's number
    bool writer_waiting = false;    // ring, byte ring: the writer sleeps for room
    bool consumer_waiting = false;  // ring, byte ring: the consumer sleeps for records
    bool cursors = false;  // false for a ring, and for a format 2.0 region: `readers` has no figures
    std::vector<ReaderState> readers;  // cell and broadcast: every live reader, by slot
};

namespace untyped {

class CellWriter;
class CellReader;
class BroadcastWriter;
class BroadcastReader;
class RingWriter;
class RingReader;
class RingObserver;
class ByteRingObserver;

// Writers create (or take over, as the typed factories do) a region of `type`; readers accept
// any record type and say which (type()). Errors as the typed factories (shmrec::Error); a
// `type` no channel can carry (size 0, alignment not a power of two up to 64, a name of more
// than 111 bytes) is invalid_argument.
CellWriter cell_writer(const Location& where, const RecordType& type,
                       OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                       const WaitOptions& wait = {});
CellReader cell_reader(const Location& where, const RegionOptions& options = {},
                       const WaitOptions& wait = {});
BroadcastWriter broadcast_writer(const Location& where, const RecordType& type,
                                 std::uint64_t capacity, OpenMode mode = OpenMode::create_only,
                                 const RegionOptions& options = {}, const WaitOptions& wait = {});
BroadcastReader broadcast_reader(const Location& where, StartAt start = StartAt::oldest,
                                 const RegionOptions& options = {}, const WaitOptions& wait = {});
// A ring (Ring<T>) of `type`: its writer creates it (or takes it over, as Ring<T>::writer);
// its reader takes the ring's one consumer role (reader_active while another live consumer
// holds it) and accepts any record type (type()). wrong_kind for another channel.
RingWriter ring_writer(const Location& where, const RecordType& type, std::uint64_t capacity,
                       OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                       const WaitOptions& wait = {});
RingReader ring_reader(const Location& where, const RegionOptions& options = {},
                       const WaitOptions& wait = {});
// Copies a ring's records as they pass, never taking one from its consumer and holding no role
// (the consumer and the writer do not know it is there). It can miss records: those the
// consumer freed and the writer overwrote before the observer copied them (missed() counts
// them), and those written before it started.
RingObserver ring_observer(const Location& where, const RegionOptions& options = {},
                           const WaitOptions& wait = {});
// The same for a byte ring (ByteRing, TableRing<T>): copies its messages as they pass, from the
// oldest the consumer has not taken yet (StartAt::oldest) or from the next one written
// (StartAt::newest). Throws as the factories above (wrong_kind for another channel).
ByteRingObserver byte_ring_observer(const Location& where, StartAt start = StartAt::oldest,
                                    const RegionOptions& options = {},
                                    const WaitOptions& wait = {});

// Record spans must be exactly type().size bytes: anything else is refused with
// WriteStatus::wrong_size / ReadStatus::wrong_size, nothing copied and no position moved.
// Every other status means what it means for the typed handle of the same channel.

// Not thread-safe: one thread uses a handle at a time (move it to hand it over). Inherits
// written(), close(), readers(), wait_for_readers(), region(), usable() (CellWriter<T>'s).
class CellWriter : public detail::CellWriterCore<detail::DynamicRecord> {
public:
    CellWriter(CellWriter&&) noexcept = default;
    CellWriter& operator=(CellWriter&&) noexcept = default;
    ~CellWriter() = default;

    [[nodiscard]] WriteStatus try_write(std::span<const std::byte> record) noexcept {
        if (record.size() != type_.size) return WriteStatus::wrong_size;
        return write_record(record.data());
    }
    [[nodiscard]] WriteStatus write(std::span<const std::byte> record,
                                    std::chrono::nanoseconds /*timeout*/) noexcept {
        return try_write(record);
    }
    const RecordType& type() const noexcept { return type_; }

private:
    friend CellWriter cell_writer(const Location&, const RecordType&, OpenMode,
                                  const RegionOptions&, const WaitOptions&);
    CellWriter(Region region, RecordType type, const WaitOptions& wait);
    RecordType type_;
};

// Not thread-safe. Inherits has_update(), sequence(), wait_for_writer(), writer_alive(),
// closed(), region(), usable() (CellReader<T>'s).
class CellReader : public detail::CellReaderCore<detail::DynamicRecord> {
public:
    CellReader(CellReader&&) noexcept = default;
    CellReader& operator=(CellReader&&) noexcept = default;
    ~CellReader() = default;

    // As CellReader<T>::try_read: ok, unchanged, empty, contended, corrupt, or a refusal.
    [[nodiscard]] ReadStatus try_read(std::span<std::byte> out) noexcept {
        if (out.size() != type_.size) return ReadStatus::wrong_size;
        return read_record(out.data());
    }
    // As CellReader<T>::read: waits for a record newer than the last one read.
    [[nodiscard]] ReadStatus read(std::span<std::byte> out,
                                  std::chrono::nanoseconds timeout) noexcept {
        if (out.size() != type_.size) return ReadStatus::wrong_size;
        return read_record(out.data(), timeout);
    }
    const RecordType& type() const noexcept { return type_; }

private:
    friend CellReader cell_reader(const Location&, const RegionOptions&, const WaitOptions&);
    CellReader(Region region, RecordType type, const WaitOptions& wait);
    RecordType type_;
};

// Not thread-safe. Inherits written(), capacity(), close(), readers(), wait_for_readers().
class BroadcastWriter : public detail::BroadcastWriterCore<detail::DynamicRecord> {
public:
    BroadcastWriter(BroadcastWriter&&) noexcept = default;
    BroadcastWriter& operator=(BroadcastWriter&&) noexcept = default;
    ~BroadcastWriter() = default;

    [[nodiscard]] WriteStatus try_write(std::span<const std::byte> record) noexcept {
        if (record.size() != type_.size) return WriteStatus::wrong_size;
        return write_record(record.data());
    }
    // A batch: records.size() must be a multiple of type().size (records back to back).
    [[nodiscard]] BatchWrite try_write_batch(std::span<const std::byte> records) noexcept {
        if (type_.size == 0 || records.size() % type_.size != 0) return {0, WriteStatus::wrong_size};
        return write_records(records.data(), records.size() / type_.size, type_.size);
    }
    [[nodiscard]] WriteStatus write(std::span<const std::byte> record,
                                    std::chrono::nanoseconds /*timeout*/) noexcept {
        return try_write(record);
    }
    const RecordType& type() const noexcept { return type_; }

private:
    friend BroadcastWriter broadcast_writer(const Location&, const RecordType&, std::uint64_t,
                                            OpenMode, const RegionOptions&, const WaitOptions&);
    BroadcastWriter(Region region, RecordType type, const WaitOptions& wait);
    RecordType type_;
};

// Not thread-safe. An ordinary reader: takes a reader slot, publishes its cursor, sleeps on
// the doorbell. Inherits received(), lost(), position(), start_position(), capacity(),
// wait_for_writer(), writer_alive(), closed().
class BroadcastReader : public detail::BroadcastReaderCore<detail::DynamicRecord> {
public:
    BroadcastReader(BroadcastReader&&) noexcept = default;
    BroadcastReader& operator=(BroadcastReader&&) noexcept = default;
    ~BroadcastReader() = default;

    // As BroadcastReader<T>::try_read.
    [[nodiscard]] ReadStatus try_read(std::span<std::byte> out) noexcept {
        if (out.size() != type_.size) return ReadStatus::wrong_size;
        return read_record(out.data());
    }
    // As BroadcastReader<T>::read.
    [[nodiscard]] ReadStatus read(std::span<std::byte> out,
                                  std::chrono::nanoseconds timeout) noexcept {
        if (out.size() != type_.size) return ReadStatus::wrong_size;
        if (!usable()) return refusal<ReadStatus>();
        return read_until(detail::deadline_after(timeout),
                          [&] { return read_record(out.data()); });
    }
    // Up to out.size() / type().size records that are ready now, back to back.
    [[nodiscard]] BatchRead try_read_batch(std::span<std::byte> out) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        return read_records(out.data(), out.size() / type_.size, type_.size);
    }
    // As try_read_batch, but the records are at consecutive positions: a lap found after the
    // first record ends the batch before it (the next call moves past it). So the batch is
    // positions [position() - count, position()), and lost() counts only records lost before
    // its first one (what a bridge needs to place every gap exactly).
    [[nodiscard]] BatchRead try_read_run(std::span<std::byte> out) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        return read_records(out.data(), out.size() / type_.size, type_.size, AtLap::end_batch);
    }
    // Waits up to `timeout` for at least one record, then as try_read_run.
    [[nodiscard]] BatchRead read_run(std::span<std::byte> out,
                                     std::chrono::nanoseconds timeout) noexcept {
        std::size_t count = 0;
        const ReadStatus s = read_until(detail::deadline_after(timeout), [&] {
            const BatchRead r = try_read_run(out);
            count = r.count;
            return r.status;
        });
        return {count, s};
    }
    const RecordType& type() const noexcept { return type_; }

private:
    friend BroadcastReader broadcast_reader(const Location&, StartAt, const RegionOptions&,
                                            const WaitOptions&);
    BroadcastReader(Region region, StartAt start, RecordType type, const WaitOptions& wait);
    RecordType type_;
};

// A ring's writer (see ring_writer()), detail::RingWriterCore<DynamicRecord> as
// RingWriter<T> is RingWriterCore<T>: the same protocol, the same shared words. No Loans (a
// bridge copies). Statuses as RingWriter<T>'s (full, reader_gone, no_reader, timeout, ...);
// batches are records back to back, records.size() a multiple of type().size. Not
// thread-safe. Inherits drain(), written(), capacity(), close(), consumer_alive(),
// consumer_attached().
class RingWriter : public detail::RingWriterCore<detail::DynamicRecord> {
public:
    RingWriter(RingWriter&&) noexcept = default;
    RingWriter& operator=(RingWriter&&) noexcept = default;
    ~RingWriter() = default;  // WriterEndpoint closes

    // One record if there is room now.
    [[nodiscard]] WriteStatus try_write(std::span<const std::byte> record) noexcept {
        if (record.size() != type_.size) return WriteStatus::wrong_size;
        if (!usable()) return refusal<WriteStatus>();
        return write_records(record.data(), 1, type_.size).status;
    }
    // One record, waiting up to `timeout` for room.
    [[nodiscard]] WriteStatus write(std::span<const std::byte> record,
                                    std::chrono::nanoseconds timeout) noexcept {
        if (record.size() != type_.size) return WriteStatus::wrong_size;
        if (!usable()) return refusal<WriteStatus>();
        return write_record(record.data(), timeout);
    }
    // As many of the records as fit now ({count, full} when not all did); tail and wake-up
    // check published once.
    [[nodiscard]] BatchWrite try_write_batch(std::span<const std::byte> records) noexcept {
        if (type_.size == 0 || records.size() % type_.size != 0) return {0, WriteStatus::wrong_size};
        if (!usable()) return {0, refusal<WriteStatus>()};
        return write_records(records.data(), records.size() / type_.size, type_.size);
    }
    // All of the records, waiting for room (backpressure) up to `timeout` in all; count says
    // how many were written when the status is not ok.
    [[nodiscard]] BatchWrite write_batch(std::span<const std::byte> records,
                                         std::chrono::nanoseconds timeout) noexcept {
        if (type_.size == 0 || records.size() % type_.size != 0) return {0, WriteStatus::wrong_size};
        if (!usable()) return {0, refusal<WriteStatus>()};
        return write_all(records.data(), records.size() / type_.size, type_.size, timeout);
    }
    const RecordType& type() const noexcept { return type_; }

private:
    friend RingWriter ring_writer(const Location&, const RecordType&, std::uint64_t, OpenMode,
                                  const RegionOptions&, const WaitOptions&);
    RingWriter(Region region, RecordType type, const WaitOptions& wait);
    RecordType type_;  // size >= 1 (check_record)
};

// A ring's consumer (see ring_reader()), detail::RingReaderCore<DynamicRecord>: reads as
// RingReader<T> does, and adds a two-step consume for a consumer that must not lose a record
// it has taken (a bridge: copy, publish elsewhere, only then consume):
//
//   auto in = shmrec::untyped::ring_reader("Prices");
//   std::vector<std::byte> batch(64 * in.type().size);
//   const auto r = in.peek_batch(batch, 1s);          // copies, consumes nothing
//   if (r.status == ReadStatus::ok && send(batch.data(), r.count)) in.release(r.count);
//
// Peek/release contract:
// - try_peek_batch / peek_batch copy the records at positions [consumed(), consumed() + count)
//   and consume none: a second peek returns the same records (and perhaps more).
// - try_peek_more / peek_more copy the records after those peeked, and add them to the peeked
//   ones: a consumer may keep several batches out and release each when it is done with it.
// - release(n) consumes the first n of the records peeked (by the last peek_batch and the
//   peek_more calls since) and not yet released,
//   at most that many (it returns how many it consumed; 0 without a peek). It publishes the
//   head once and wakes a writer waiting for room, exactly as a read does. A later release
//   continues with the rest of that peek; a new peek, or any read, replaces what the last peek
//   copied (after a read, release() consumes nothing until the next peek).
// - The ring is the record's only home until release: a consumer that dies (or is killed)
//   between peek and release leaves those records unconsumed, and the next consumer gets them
//   first, at the same positions. So delivery is at least once across consumers: whatever it
//   did with them before dying may be repeated by its successor.
// - Holding records unreleased holds their slots: the writer sees the ring fill up (full,
//   then waits) until they are released.
//
// Statuses as RingReader<T>'s (empty, closed, writer_gone, corrupt, timeout, ...); buffers
// hold records back to back, a multiple of type().size bytes (wrong_size otherwise). Not
// thread-safe. Inherits wait_for_writer(), consumed(), capacity(), writer_alive(), closed().
class RingReader : public detail::RingReaderCore<detail::DynamicRecord> {
public:
    RingReader(RingReader&&) noexcept = default;
    RingReader& operator=(RingReader&&) noexcept = default;
    ~RingReader() = default;

    // One record, copied and consumed (out: exactly type().size bytes).
    [[nodiscard]] ReadStatus try_read(std::span<std::byte> out) noexcept {
        if (out.size() != type_.size) return ReadStatus::wrong_size;
        if (!usable()) return refusal<ReadStatus>();
        peeked_ = 0;
        return read_record(out.data());
    }
    // Waits up to `timeout` for a record, then as try_read.
    [[nodiscard]] ReadStatus read(std::span<std::byte> out,
                                  std::chrono::nanoseconds timeout) noexcept {
        if (out.size() != type_.size) return ReadStatus::wrong_size;
        if (!usable()) return refusal<ReadStatus>();
        peeked_ = 0;  // any read ends the window, also one whose wait finds nothing
        if (const auto s = wait_for_record(timeout); s != ReadStatus::ok) return s;
        return try_read(out);
    }
    // Copies and consumes up to out.size() / type().size records that are ready now; the head
    // is published once.
    [[nodiscard]] BatchRead try_read_batch(std::span<std::byte> out) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        if (!usable()) return {0, refusal<ReadStatus>()};
        peeked_ = 0;
        return read_records(out.data(), out.size() / type_.size, type_.size);
    }
    // Waits up to `timeout` for at least one record, then as try_read_batch.
    [[nodiscard]] BatchRead read_batch(std::span<std::byte> out,
                                       std::chrono::nanoseconds timeout) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        if (!usable()) return {0, refusal<ReadStatus>()};
        peeked_ = 0;  // as read()
        if (const auto s = ready_for(out, timeout); s != ReadStatus::ok) return {0, s};
        return try_read_batch(out);
    }
    // Copies up to out.size() / type().size records that are ready now WITHOUT consuming them
    // (see the contract above): {count, ok}, or {0, why}.
    [[nodiscard]] BatchRead try_peek_batch(std::span<std::byte> out) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        if (!usable()) return {0, refusal<ReadStatus>()};
        const BatchRead r = copy_ready(out.data(), out.size() / type_.size, type_.size);
        peeked_ = r.count;
        return r;
    }
    // Waits up to `timeout` for at least one record, then as try_peek_batch. A refusal
    // (wrong_size, an unusable handle) keeps the window; a peek that finds nothing empties it.
    [[nodiscard]] BatchRead peek_batch(std::span<std::byte> out,
                                       std::chrono::nanoseconds timeout) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        if (!usable()) return {0, refusal<ReadStatus>()};
        if (const auto s = ready_for(out, timeout); s != ReadStatus::ok) {
            peeked_ = 0;
            return {0, s};
        }
        return try_peek_batch(out);
    }
    // Copies the records after those peeked and not yet released (from position consumed() +
    // peeked()), without consuming them, and adds them to what release() may consume: a
    // consumer can keep several batches out (sent on, not yet confirmed) and release each as
    // it is confirmed. {count, ok}, or {0, why}: empty also when every slot is peeked.
    [[nodiscard]] BatchRead try_peek_more(std::span<std::byte> out) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        if (!usable()) return {0, refusal<ReadStatus>()};
        const BatchRead r = copy_ready(out.data(), out.size() / type_.size, type_.size, peeked_);
        peeked_ += r.count;
        return r;
    }
    // Waits up to `timeout` for a record after those peeked, then as try_peek_more. A window
    // that holds every slot answers at once, as try_peek_more (empty, closed, writer_gone): no
    // record can come before a release.
    [[nodiscard]] BatchRead peek_more(std::span<std::byte> out,
                                      std::chrono::nanoseconds timeout) noexcept {
        if (type_.size == 0 || out.size() % type_.size != 0) return {0, ReadStatus::wrong_size};
        if (!usable()) return {0, refusal<ReadStatus>()};
        if (out.empty()) return {0, ReadStatus::ok};
        if (peeked_ >= capacity()) return try_peek_more(out);
        if (const auto s = wait_for_record(timeout, peeked_); s != ReadStatus::ok) return {0, s};
        // A hostile writer may take the record back here: the copy then finds `empty`.
        SHMREC_FAULT_POINT("peek_more.after_wait");
        return try_peek_more(out);
    }
    // Consumes min(n, records peeked and not yet released) records, oldest first; returns how
    // many (0 on an unusable handle).
    std::size_t release(std::size_t n) noexcept {
        if (!usable()) return 0;
        const std::size_t k = n < peeked_ ? n : peeked_;
        if (k == 0) return 0;
        peeked_ -= k;
        advance(k);
        return k;
    }
    // Records the last peek copied that are not released yet.
    std::size_t peeked() const noexcept { return usable() ? peeked_ : 0; }
    const RecordType& type() const noexcept { return type_; }

private:
    friend RingReader ring_reader(const Location&, const RegionOptions&, const WaitOptions&);
    RingReader(Region region, RecordType type, const WaitOptions& wait);

    // The wait of a batch call whose checks passed: ok when a record is ready, or at once for
    // an empty buffer (the call then copies nothing).
    ReadStatus ready_for(std::span<std::byte> out, std::chrono::nanoseconds timeout) noexcept {
        if (out.empty()) return ReadStatus::ok;
        return wait_for_record(timeout);
    }

    RecordType type_;         // size >= 1 (the region's, validated by open_channel)
    std::size_t peeked_ = 0;  // records peeked (from the head on), not yet released
};

// Copies a ring's records without consuming them (see ring_observer()). It maps the ring
// read-only, holds no role, writes no shared byte, and neither the writer nor the consumer
// ever waits for it. It starts at the consumer's position (the oldest unconsumed record) and
// copies slot p seqlock-style: seq == p + 1 (acquire), payload words (relaxed), fence
// (acquire), seq still p + 1 and the writer's `claimed` (RingControl: it stores t + n before
// it changes the payload of positions [t, t + n)) not past p + capacity. So a copy that
// overlapped an overwrite of the slot is discarded. A slot already holding a later lap, or a
// claim past p + capacity, means record p is gone: it moves on to the oldest position that may
// still be intact and adds every position it skipped to missed(), so
// received() + missed() == position() - start_position(), always.
//
// Waiting: the ring's waiter bits and doorbells belong to its two roles, so read() polls,
// sleeping about 1 ms between looks (detail::sleep_a_little): a record is seen up to ~1 ms
// late. A dead writer is noticed within the liveness interval (writer_gone), a closed ring
// at once (closed), once everything still in the ring was copied.
//
// The writer's payload stores are plain (memcpy, or a Loan filled in place) while the
// observer's loads are atomic words: formally a data race in the C++ memory model, caught in
// practice by the seq/claimed check around the copy. ThreadSanitizer would report it if the
// two ran concurrently in one process; the observer is meant for another process (shmrec
// tail), and is tested so (in one process only step by step, never concurrently).
class RingObserver : public detail::Endpoint {
public:
    RingObserver(RingObserver&&) noexcept = default;
    RingObserver& operator=(RingObserver&&) noexcept = default;
    ~RingObserver() = default;

    // The next record: ok, empty, closed, writer_gone, corrupt (a slot claims a position no
    // healthy writer could have reached), contended (overwritten on every attempt), wrong_size,
    // or the handle's refusal.
    [[nodiscard]] ReadStatus try_read(std::span<std::byte> out) noexcept;
    // Waits up to `timeout` (polling, see above): ok, timeout, closed, writer_gone, corrupt.
    [[nodiscard]] ReadStatus read(std::span<std::byte> out,
                                  std::chrono::nanoseconds timeout) noexcept;

    std::uint64_t received() const noexcept { return usable() ? received_ : 0; }
    std::uint64_t missed() const noexcept { return usable() ? missed_ : 0; }
    std::uint64_t position() const noexcept { return usable() ? position_ : 0; }  // next
    std::uint64_t start_position() const noexcept { return usable() ? start_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    bool writer_alive() const noexcept { return writer_is_alive(); }
    bool closed() const noexcept { return region_is_closed(); }
    const RecordType& type() const noexcept { return type_; }

private:
    friend RingObserver ring_observer(const Location&, const RegionOptions&, const WaitOptions&);
    RingObserver(Region region, RecordType type, const WaitOptions& wait);

    ReadStatus next(std::byte* out) noexcept;
    bool skip_to(std::uint64_t p, std::uint64_t front) noexcept;
    ReadStatus empty_status(std::byte* out) noexcept;

    detail::RingView<detail::DynamicRecord> view_;
    RecordType type_;
    std::uint64_t start_ = 0;
    std::uint64_t position_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t missed_ = 0;
};

// Copies a byte ring's messages without consuming them (see byte_ring_observer()). Like
// RingObserver it maps the region read-only, holds no role, writes no shared byte, and neither
// the writer nor the consumer ever waits for it. It walks the frames from a frame start (the
// consumer's head, or the writer's tail) as the consumer does (docs/byte-ring-protocol.md),
// but copies instead of reading in place, because the bytes it reads are not reserved for it:
//
//   observer, at frame start p                         writer (ByteRingWriter::reserve/commit)
//   1. s = state(p)                         (acquire)   claimed = c, the end of the frame it
//      not "committed in lap(p)": if tail (acquire)     is about to write        (relaxed)
//      has passed p, p was overwritten: resync;         fence                    (release)
//      otherwise nothing yet                            frame bytes, the word at c (plain)
//   2. size word, sequence word, the payload's words    state = committed        (release)
//      (relaxed atomic 8-byte loads, load_words)        tail = c                 (release)
//   3. fence                                (acquire)
//   4. c = claimed                          (relaxed)
//      c > p + capacity: the writer has begun a frame
//      that reuses the bytes at p: the copy may be torn,
//      discard it and resync; otherwise it is intact
//
// (3)-(4): if any word copied in (1)-(2) was stored by the writer for a later lap, the store
// came after the writer's claim and release fence, so the acquire fence makes that claim (or
// a later one) visible to (4). A frame that ends at c - capacity and the word the writer clears
// at c (step 3 of the protocol, which may be p's state word once the copy started) do not
// touch p's header or payload: claimed == p + capacity is still intact.
//
// Resync: the observer lost its place (its frame was reused before it copied it) and frames
// carry no back-pointers, so it continues at the oldest known frame start that may be intact:
// the start of the writer's current lap (a lap always starts with a frame), or the consumer's
// head when that is older (untyped.cpp, resync()). Frames carry their sequence numbers: the
// messages between two copied ones (or before the first) are added to missed() when the later
// one is copied, so while the writer's numbering is continuous,
// received() + missed() == next_sequence() - start_sequence().
//
// Every value from shared memory is checked before it is used: positions must be frame
// starts (16-aligned), extents inside the buffer, sizes and offsets inside their frame, so no
// read leaves the buffer whatever the ring holds; a frame that cannot be right and was not
// overwritten is `corrupt` and the observer stays where it is. Each call looks at a bounded
// number of frames (`contended` when the writer keeps overwriting what it tries).
//
// Waiting polls (about 1 ms between looks), as RingObserver's. The writer's frame stores are
// plain (memcpy) while the observer's loads are atomic words: formally a data race in the C++
// memory model, caught by the claimed check. ThreadSanitizer reports it when both run in one
// process; the concurrent test skips itself under TSan (see the report in
// tests/channels/byte_ring_observer_test.cpp).
class ByteRingObserver : public detail::Endpoint {
public:
    ByteRingObserver(ByteRingObserver&&) noexcept = default;
    ByteRingObserver& operator=(ByteRingObserver&&) noexcept = default;
    ~ByteRingObserver() = default;

    // Copies the next message into `out` (resized: this allocates, up to the ring's largest
    // message): ok, empty, closed, writer_gone (once everything committed was copied),
    // corrupt (a frame no healthy writer makes), contended (overwritten on every attempt), or
    // the handle's refusal.
    [[nodiscard]] ReadStatus try_read(std::vector<std::byte>& out);
    // Waits up to `timeout` (polling, see above): ok, timeout, closed, writer_gone, corrupt.
    [[nodiscard]] ReadStatus read(std::vector<std::byte>& out, std::chrono::nanoseconds timeout);

    std::uint64_t received() const noexcept { return usable() ? received_ : 0; }
    std::uint64_t missed() const noexcept { return usable() ? missed_ : 0; }
    // The number of the message last copied (valid after an ok).
    std::uint64_t sequence() const noexcept { return usable() ? sequence_ : 0; }
    // The number the next message is expected to carry, and that of the first expected.
    std::uint64_t next_sequence() const noexcept { return usable() ? next_sequence_ : 0; }
    std::uint64_t start_sequence() const noexcept { return usable() ? start_sequence_ : 0; }
    // Where the next frame starts, in bytes since the ring was created.
    std::uint64_t position() const noexcept { return usable() ? position_ : 0; }
    std::uint64_t capacity() const noexcept { return usable() ? view_.capacity() : 0; }
    bool writer_alive() const noexcept { return writer_is_alive(); }
    bool closed() const noexcept { return region_is_closed(); }
    // The messages' type as the header records it (size and alignment 1).
    const RecordType& type() const noexcept { return type_; }

private:
    friend ByteRingObserver byte_ring_observer(const Location&, StartAt, const RegionOptions&,
                                               const WaitOptions&);
    ByteRingObserver(Region region, StartAt start, RecordType type, const WaitOptions& wait);

    ReadStatus next(std::vector<std::byte>& out);
    bool resync(std::uint64_t p) noexcept;
    void count(std::uint64_t sequence) noexcept;
    ReadStatus empty_status(std::vector<std::byte>& out);

    detail::ByteRingView view_;
    RecordType type_;
    std::uint64_t position_ = 0;
    std::uint64_t start_sequence_ = 0;
    std::uint64_t next_sequence_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t missed_ = 0;
};

}  // namespace untyped

// Live state of any region, by name, without a role: for `shmrec info` and `shmrec stat`.
class ChannelMonitor {
public:
    static ChannelMonitor open(const Location& where, const RegionOptions& options = {});
    ChannelMonitor(ChannelMonitor&&) noexcept;
    ChannelMonitor& operator=(ChannelMonitor&&) noexcept;
    ~ChannelMonitor();

    const RegionInfo& info() const noexcept;  // as at open()
    ChannelState state() const;               // now
    bool writer_alive() const noexcept;

private:
    struct Impl;
    explicit ChannelMonitor(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace shmrec
