// TableBroadcast<T>: FlatBuffers tables (variable-size records) from one writer to any number of
// readers through a ByteBroadcast: readers never slow the writer, and a reader that falls a lap
// behind is told exactly how many records it lost. T is flatc's table type, described by
// shmrec-gen's TableTraits<T>.
//
//   auto writer = shmrec::TableBroadcast<school::Enrolment>::writer("Enrolments", 1 << 20);
//   flatbuffers::FlatBufferBuilder fbb;
//   fbb.Finish(school::CreateEnrolment(fbb, ...));
//   (void)writer.try_write(fbb);
//
//   auto reader = shmrec::TableBroadcast<school::Enrolment>::reader("Enrolments");
//   if (auto e = reader.read(1s)) std::cout << e->note()->str();
//
// A broadcast reader always copies a record out before verifying it (the writer may overwrite
// the bytes at any moment; detail in byte_broadcast.hpp), so a record is built off the ring and
// copied in: no loans. Each record a reader returns owns its copy (one allocation per record). Verification, rejections and schema evolution on attach are as for TableRing<T>
// (table_ring.hpp).
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "shmrec/byte_broadcast.hpp"
#include "shmrec/table_ring.hpp"

namespace shmrec {

template <Table T>
class TableBroadcastWriter;

template <Table T>
struct TableBroadcast {
    using Writer = TableBroadcastWriter<T>;
    using Reader = TableBroadcastReader<T>;

    // create_only (default) makes a broadcast of `capacity` bytes (a power of two, 64 to 2^31;
    // the largest record is ByteBroadcast::max_message(capacity)); open_only takes over the
    // writer role of an existing one of this very schema; open_or_create: either.
    static Writer writer(const Location& where, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {}) {
        return Writer(ByteBroadcast::writer(where, TableRing<T>::type(), capacity, mode, options, wait));
    }
    // A reader (any number). Throws Error{incompatible_schema} when the broadcast's schema
    // cannot be read with T's. TableReadOptions::copy does not apply: it always copies.
    static Reader reader(const Location& where, StartAt start = StartAt::oldest,
                         const RegionOptions& options = {}, const WaitOptions& wait = {},
                         const TableReadOptions& read = {}) {
        return Reader(ByteBroadcast::reader(where, TableRing<T>::type(), start, options, wait), read);
    }
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Table T>
class TableBroadcastWriter {
public:
    // Copies a finished record into the broadcast: ok, too_large, or the handle's refusal.
    [[nodiscard]] WriteStatus try_write(std::span<const std::uint8_t> record) noexcept {
        return ring_.try_write(std::as_bytes(record));
    }
    [[nodiscard]] WriteStatus try_write(const flatbuffers::FlatBufferBuilder& finished) noexcept {
        return try_write(std::span<const std::uint8_t>(finished.GetBufferPointer(), finished.GetSize()));
    }
    void close() noexcept { ring_.close(); }

    std::uint64_t written() const noexcept { return ring_.written(); }
    std::uint64_t capacity() const noexcept { return ring_.capacity(); }
    std::uint64_t max_record() const noexcept { return ring_.max_message(); }
    std::uint32_t readers() const noexcept { return ring_.readers(); }
    [[nodiscard]] WriteStatus wait_for_readers(std::uint32_t count, std::chrono::nanoseconds timeout) noexcept {
        return ring_.wait_for_readers(count, timeout);
    }
    const Region& region() const noexcept { return ring_.region(); }

private:
    friend struct TableBroadcast<T>;
    explicit TableBroadcastWriter(ByteBroadcastWriter&& ring) noexcept : ring_(std::move(ring)) {}

    ByteBroadcastWriter ring_;
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Table T>
class TableBroadcastReader {
public:
    // The next record, copied and verified (the sample owns the copy): ok, or empty, closed,
    // writer_gone, corrupt (a record failed verification and was skipped: last_rejection();
    // or the broadcast's framing is impossible), contended (the writer outran the copy every
    // time: try again), or the handle's refusal.
    [[nodiscard]] TableSample<T> try_read() {
        std::vector<std::byte> record;
        const ReadStatus s = ring_.try_read(record);
        return checked(s, std::move(record));
    }
    [[nodiscard]] TableSample<T> read(std::chrono::nanoseconds timeout) {
        std::vector<std::byte> record;
        const ReadStatus s = ring_.read(record, timeout);
        return checked(s, std::move(record));
    }
    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return ring_.wait_for_writer(timeout);
    }

    // Records received (verified or rejected), lost to laps, and rejected by verification:
    // received() + lost() == records from this reader's start to its last.
    std::uint64_t received() const noexcept { return ring_.received(); }
    std::uint64_t lost() const noexcept { return ring_.lost(); }
    std::uint64_t rejected() const noexcept { return rejected_; }
    const Rejection& last_rejection() const noexcept { return last_rejection_; }
    bool writer_alive() const noexcept { return ring_.writer_alive(); }
    bool closed() const noexcept { return ring_.closed(); }
    const Region& region() const noexcept { return ring_.region(); }

private:
    friend struct TableBroadcast<T>;
    TableBroadcastReader(ByteBroadcastReader&& ring, const TableReadOptions& options)
        : ring_(std::move(ring)), options_(options) {}

    // The sample owns its copy (new storage: 16-aligned), so it stays valid across later reads.
    TableSample<T> checked(ReadStatus s, std::vector<std::byte>&& record) {
        if (s != ReadStatus::ok) return TableSample<T>(s);
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(record.data()),
                                                  record.size());
        const std::uint64_t sequence = ring_.next_sequence() - 1;
        if (const char* why = verify_table<T>(bytes, options_)) {
            ++rejected_;
            last_rejection_ = {sequence, ring_.position(), why};
            return TableSample<T>(ReadStatus::corrupt);
        }
        return TableSample<T>(MessageSample{}, std::move(record), bytes, sequence);
    }

    ByteBroadcastReader ring_;
    TableReadOptions options_;
    std::uint64_t rejected_ = 0;
    Rejection last_rejection_;
};

}  // namespace shmrec
