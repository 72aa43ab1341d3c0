// TableRing<T>: FlatBuffers tables (variable-size records) from one process to another through
// a ByteRing: lossless, in order, with backpressure. T is the table's C++ type as flatc
// generates it (school::Enrolment), described by shmrec-gen's TableTraits<T>.
//
//   auto writer = shmrec::TableRing<school::Enrolment>::writer("Enrolments", 1 << 20);
//   auto loan = writer.loan(256, 1s);                 // built in place, in shared memory
//   auto& fbb = loan.builder();
//   (void)loan.commit(school::CreateEnrolmentDirect(fbb, &student, &courses, "note"));
//
//   auto reader = shmrec::TableRing<school::Enrolment>::reader("Enrolments");
//   if (auto r = reader.peek(1s)) std::cout << r->note()->str();   // verified, in place
//
// Every record is checked with flatbuffers::Verifier (bounded depth and table count) before
// the reader hands it out. In place (the default), the bytes stay in the ring until the sample
// is released: the writer cannot reuse them, but a writer process could still change them
// after verification, so in-place reading trusts the writer for the record's lifetime. With
// TableReadOptions::copy the reader copies each record into memory the sample owns and verifies
// the copy. A record that fails verification is skipped, counted (rejected()) and reported
// once as `corrupt` with last_rejection() saying where and why; the reader goes on with the
// next one.
//
// Attaching compares schemas, not layouts: a reader opens a ring written with another version
// of the schema when FlatBuffers' evolution rules let it read those records (fields added at
// the end, deprecated, new enum values on the reader's side; docs/schema-evolution.md), and is
// refused with Error{incompatible_schema} naming the fields otherwise. A writer taking over an
// existing ring must have the very schema the ring was created with (fingerprint_mismatch).
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "shmrec/byte_ring.hpp"
#include "shmrec/detail/deadline.hpp"
#include "shmrec/table_traits.hpp"

namespace shmrec {

// How a table reader treats records (TableRing::reader).
struct TableReadOptions {
    // Copy each record out of the ring before verifying it (never trusts the writer after the
    // check; costs a copy and an allocation per record: each sample owns its copy, so samples
    // held at once stay valid and unchanged).
    bool copy = false;
    // flatbuffers::Verifier's bounds: nesting of tables and vectors, and tables per record.
    std::uint32_t max_depth = 64;
    std::uint32_t max_tables = 1'000'000;
};

// Why the last rejected record was rejected.
struct Rejection {
    std::uint64_t sequence = 0;  // the message's number in the ring
    std::uint64_t position = 0;  // where its frame starts, in bytes since the ring was created
    std::string reason;
};

template <Table T>
class TableRingWriter;
template <Table T>
class TableRingReader;
template <Table T>
class TableBroadcastReader;

template <Table T>
struct TableRing {
    using Writer = TableRingWriter<T>;
    using Reader = TableRingReader<T>;

    static constexpr MessageType type() noexcept {
        return {TableTraits<T>::name, TableTraits<T>::fingerprint, TableTraits<T>::schema,
                TableTraits<T>::binary_schema, /*evolves=*/true};
    }

    // create_only (default) makes a ring of `capacity` bytes (a power of two, 64 to 2^31; the
    // largest record is ByteRing::max_message(capacity)); open_only takes over the writer role
    // of an existing ring of this very schema; open_or_create: either.
    static Writer writer(const Location& where, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {},
                         const WaitOptions& wait = {}) {
        return Writer(ByteRing::writer(where, type(), capacity, mode, options, wait));
    }
    // Takes the ring's one consumer role. Throws Error{incompatible_schema} when the ring's
    // schema cannot be read with T's (see above).
    static Reader reader(const Location& where, const RegionOptions& options = {},
                         const WaitOptions& wait = {}, const TableReadOptions& read = {}) {
        return Reader(ByteRing::reader(where, type(), options, wait), read);
    }
};

// nullptr when `bytes` is a well-formed FlatBuffer whose root is a T, within `options`' bounds;
// else why not. Shared by the ring and broadcast readers.
template <Table T>
const char* verify_table(std::span<const std::uint8_t> bytes, const TableReadOptions& options) {
    using flatbuffers::soffset_t;  // FLATBUFFERS_MIN_BUFFER_SIZE names them unqualified
    using flatbuffers::uoffset_t;
    if (bytes.size() < FLATBUFFERS_MIN_BUFFER_SIZE) return "shorter than the smallest FlatBuffer";
    flatbuffers::Verifier::Options o;
    o.max_depth = options.max_depth;
    o.max_tables = options.max_tables;
    flatbuffers::Verifier verifier(bytes.data(), bytes.size(), o);
    if (!verifier.VerifyBuffer<T>(nullptr)) {
        return "flatbuffers::Verifier rejected it: an offset, length or alignment out of bounds, "
               "a string without its terminator, or deeper nesting or more tables than "
               "TableReadOptions allows";
    }
    return nullptr;
}

namespace detail {

// A FlatBufferBuilder's memory: the loaned bytes of the ring, so a record is built where it
// will be read. The builder grows downwards from the end of its first allocation, which this
// places at the end of the loan (16-aligned, as FlatBuffers aligns a buffer from its end). A
// record that outgrows the loan moves to the heap (FlatBuffers copies it there); commit() then
// copies it into the ring instead.
class LoanAllocator final : public flatbuffers::Allocator {
public:
    explicit LoanAllocator(std::span<std::byte> loan) noexcept : loan_(loan) {}

    std::uint8_t* allocate(std::size_t size) override {
        if (!lent_ && size <= loan_.size()) {
            lent_ = true;
            return reinterpret_cast<std::uint8_t*>(loan_.data() + loan_.size() - size);
        }
        return new std::uint8_t[size];
    }
    void deallocate(std::uint8_t* p, std::size_t) override {
        if (!in_loan(p)) delete[] p;
    }
    bool in_loan(const std::uint8_t* p) const noexcept {
        const auto* b = reinterpret_cast<const std::uint8_t*>(loan_.data());
        return p >= b && p <= b + loan_.size();
    }

private:
    std::span<std::byte> loan_;
    bool lent_ = false;
};

}  // namespace detail

// A record being built in the ring's memory (TableRingWriter::try_loan / loan). builder() is a
// FlatBufferBuilder over the loaned bytes; commit(root) finishes and publishes the record;
// dropping the loan publishes nothing. Not movable (the builder points at the loan's
// allocator): use it where try_loan() returned it.
template <Table T>
class TableLoan {
public:
    TableLoan(const TableLoan&) = delete;
    TableLoan& operator=(const TableLoan&) = delete;
    ~TableLoan() = default;

    explicit operator bool() const noexcept { return static_cast<bool>(loan_); }
    WriteStatus status() const noexcept { return loan_.status(); }
    flatbuffers::FlatBufferBuilder& builder() noexcept { return builder_; }

    // Finishes the record with `root` and publishes it: ok; or, publishing nothing, status()
    // when the loan holds nothing. A record that outgrew the loan is copied into the ring: that
    // may return full (try_loan) or wait (loan) like a write, or too_large.
    [[nodiscard]] WriteStatus commit(flatbuffers::Offset<T> root) noexcept {
        if (!loan_) return loan_.status();
        // A record whose largest alignment is 4 would end up 4 mod 8 from the loan's 16-aligned
        // end: pad it to a multiple of 8, so it starts 8-aligned and is read in place.
        builder_.TrackMinAlign(8);
        builder_.Finish(root);
        const std::span<const std::uint8_t> record(builder_.GetBufferPointer(), builder_.GetSize());
        if (allocator_.in_loan(record.data())) {
            const auto offset = static_cast<std::size_t>(
                reinterpret_cast<const std::byte*>(record.data()) - loan_.buffer().data());
            return loan_.commit(record.size(), offset);
        }
        ByteRingWriter* writer = loan_.writer();
        loan_.abandon();
        const auto bytes = std::as_bytes(record);
        return timeout_ == std::chrono::nanoseconds::zero() ? writer->try_write(bytes)
                                                            : writer->write(bytes, timeout_);
    }
    void abandon() noexcept { loan_.abandon(); }

private:
    friend class TableRingWriter<T>;
    // The builder's alignment unit stays FlatBuffers' default (8): a loan is a multiple of 8
    // bytes, so its first allocation is exactly the loan; the loan's end is 16-aligned.
    TableLoan(MessageLoan&& loan, std::chrono::nanoseconds timeout)
        : loan_(std::move(loan)), allocator_(loan_.buffer()),
          builder_(loan_.buffer().size(), &allocator_, false), timeout_(timeout) {}

    MessageLoan loan_;
    detail::LoanAllocator allocator_;  // before builder_: outlives it
    flatbuffers::FlatBufferBuilder builder_;
    std::chrono::nanoseconds timeout_;
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Table T>
class TableRingWriter {
public:
    // Copies a finished record (FlatBufferBuilder::GetBufferSpan()) into the ring: ok, full,
    // too_large, reader_gone, no_reader, loan_pending, or the handle's refusal.
    [[nodiscard]] WriteStatus try_write(std::span<const std::uint8_t> record) noexcept {
        return ring_.try_write(std::as_bytes(record));
    }
    [[nodiscard]] WriteStatus write(std::span<const std::uint8_t> record,
                                    std::chrono::nanoseconds timeout) noexcept {
        return ring_.write(std::as_bytes(record), timeout);
    }
    [[nodiscard]] WriteStatus try_write(const flatbuffers::FlatBufferBuilder& finished) noexcept {
        return try_write(std::span<const std::uint8_t>(finished.GetBufferPointer(), finished.GetSize()));
    }
    [[nodiscard]] WriteStatus write(const flatbuffers::FlatBufferBuilder& finished,
                                    std::chrono::nanoseconds timeout) noexcept {
        return write(std::span<const std::uint8_t>(finished.GetBufferPointer(), finished.GetSize()),
                     timeout);
    }

    // Zero-copy: a builder over `max_size` bytes of the ring (see TableLoan). Choose a size
    // most records fit in: the unused part travels with the record as slack.
    [[nodiscard]] TableLoan<T> try_loan(std::size_t max_size) noexcept {
        return TableLoan<T>(ring_.try_loan(max_size), std::chrono::nanoseconds::zero());
    }
    [[nodiscard]] TableLoan<T> loan(std::size_t max_size, std::chrono::nanoseconds timeout) noexcept {
        return TableLoan<T>(ring_.loan(max_size, timeout), timeout);
    }

    // Batches: `count` records built in place, record i by build(builder, i) returning its
    // root, each in a loan of `max_size` bytes; the ring's tail and the consumer's wake-up are
    // published once per batch (ByteRingWriter::batch). Returns how many were written, and ok
    // or why the next one was not (full, too_large, reader_gone, ...).
    template <class Build>
    [[nodiscard]] BatchWrite try_build(std::size_t count, std::size_t max_size, Build&& build) {
        return ring_.batch(count, [&](std::size_t i) {
            TableLoan<T> loan = try_loan(max_size);
            return commit_built(loan, build, i);
        });
    }
    // The same, waiting for room as needed, up to `timeout` in all.
    template <class Build>
    [[nodiscard]] BatchWrite build(std::size_t count, std::size_t max_size, Build&& build,
                                   std::chrono::nanoseconds timeout) {
        const auto deadline = detail::deadline_after(timeout);
        return ring_.batch(count, [&](std::size_t i) {
            TableLoan<T> loan = try_loan(max_size);
            // Wait where loan(timeout) would: a full ring, or one no consumer has opened yet.
            const bool wait =
                loan.status() == WriteStatus::full || loan.status() == WriteStatus::no_reader;
            if (loan || !wait) return commit_built(loan, build, i);
            TableLoan<T> waited = this->loan(max_size, deadline - detail::SteadyClock::now());
            return commit_built(waited, build, i);
        });
    }
    // Any writes batched: fill(i) writes record i through this writer (see
    // ByteRingWriter::batch), e.g. finished buffers with try_write.
    template <class Fill>
    [[nodiscard]] BatchWrite batch(std::size_t count, Fill&& fill) {
        return ring_.batch(count, std::forward<Fill>(fill));
    }

    [[nodiscard]] WriteStatus drain(std::chrono::nanoseconds timeout) noexcept {
        return ring_.drain(timeout);
    }
    void close() noexcept { ring_.close(); }

    std::uint64_t written() const noexcept { return ring_.written(); }
    std::uint64_t capacity() const noexcept { return ring_.capacity(); }
    std::uint64_t max_record() const noexcept { return ring_.max_message(); }
    bool consumer_alive() const noexcept { return ring_.consumer_alive(); }
    bool consumer_attached() const noexcept { return ring_.consumer_attached(); }
    const Region& region() const noexcept { return ring_.region(); }
    // The message channel underneath.
    ByteRingWriter& bytes() noexcept { return ring_; }

private:
    friend struct TableRing<T>;
    explicit TableRingWriter(ByteRingWriter&& ring) noexcept : ring_(std::move(ring)) {}

    template <class Build>
    static WriteStatus commit_built(TableLoan<T>& loan, Build& build, std::size_t i) {
        if (!loan) return loan.status();
        return loan.commit(build(loan.builder(), i));
    }

    ByteRingWriter ring_;
};

// A verified record (TableRingReader::try_peek / peek): get() is the table's root, valid until
// the sample is released (which consumes the record) or goes away.
template <Table T>
class TableSample {
public:
    TableSample() = default;
    // A moved-from sample holds nothing (its record may be released by the new owner).
    TableSample(TableSample&& other) noexcept
        : message_(std::move(other.message_)), copy_(std::move(other.copy_)),
          bytes_(std::exchange(other.bytes_, {})),
          root_(std::exchange(other.root_, nullptr)), sequence_(other.sequence_),
          status_(std::exchange(other.status_, ReadStatus::moved_from)) {}
    TableSample& operator=(TableSample&& other) noexcept {
        if (this != &other) {
            release();
            message_ = std::move(other.message_);
            copy_ = std::move(other.copy_);  // its heap buffer, where bytes_ points, moves along
            bytes_ = std::exchange(other.bytes_, {});
            root_ = std::exchange(other.root_, nullptr);
            sequence_ = other.sequence_;
            status_ = std::exchange(other.status_, ReadStatus::moved_from);
        }
        return *this;
    }
    TableSample(const TableSample&) = delete;
    TableSample& operator=(const TableSample&) = delete;

    explicit operator bool() const noexcept { return root_ != nullptr; }
    // ok while it holds a record; otherwise why it holds none (empty, timeout, closed,
    // writer_gone, corrupt: a record failed verification and was skipped, sample_pending, ...).
    ReadStatus status() const noexcept { return status_; }
    const T* get() const noexcept { return root_; }
    const T* operator->() const noexcept { return root_; }
    const T& operator*() const noexcept { return *root_; }
    // The record's bytes (a FlatBuffer whose root is a T).
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
    std::uint64_t sequence() const noexcept { return sequence_; }

    // Consumes the record (in place: its bytes go back to the writer). Idempotent.
    void release() noexcept {
        message_.release();
        copy_ = {};
        root_ = nullptr;
        bytes_ = {};
        status_ = ReadStatus::moved_from;
    }

private:
    friend class TableRingReader<T>;
    friend class TableBroadcastReader<T>;  // samples of its own copies (table_broadcast.hpp)
    explicit TableSample(ReadStatus why) noexcept : status_(why) {}
    TableSample(MessageSample&& message, std::vector<std::byte>&& copy,
                std::span<const std::uint8_t> bytes, std::uint64_t sequence) noexcept
        : message_(std::move(message)), copy_(std::move(copy)), bytes_(bytes),
          root_(flatbuffers::GetRoot<T>(bytes.data())), sequence_(sequence),
          status_(ReadStatus::ok) {}

    MessageSample message_;  // in place: holds the record's bytes in the ring
    std::vector<std::byte> copy_;  // a copied record's bytes (copy mode, misaligned, broadcast)
    std::span<const std::uint8_t> bytes_;
    const T* root_ = nullptr;
    std::uint64_t sequence_ = 0;
    ReadStatus status_ = ReadStatus::moved_from;
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Table T>
class TableRingReader {
public:
    // The next record, verified: ok, or empty, closed, writer_gone, corrupt (a record failed
    // verification: it was skipped, see last_rejection(); or the ring's framing is broken, and
    // the reader stays put), sample_pending, or the handle's refusal. Never blocks.
    [[nodiscard]] TableSample<T> try_peek() { return checked(ring_.try_peek()); }
    [[nodiscard]] TableSample<T> peek(std::chrono::nanoseconds timeout) {
        return checked(ring_.peek(timeout));
    }

    // Up to `max` verified records, in order: visit(const T& record) or
    // visit(const T& record, std::uint64_t sequence) for each (returning false ends the batch
    // after that record), then all of them are consumed at once (the head goes back to the
    // writer once per batch: ByteRingReader::try_read_batch). The record is in place, or with
    // TableReadOptions::copy in one buffer the reader keeps (no allocation per record); either
    // way the reference is valid during its visit only. visit must not use the reader.
    // Returns how many were visited and ok; or, when none was, why (empty, closed, ...). A
    // record that fails verification ends the batch: it is skipped and counted as try_peek
    // does, and the batch returns the records visited before it with `corrupt`.
    template <class Visit>
    [[nodiscard]] BatchRead try_read_batch(std::size_t max, Visit&& visit) {
        bool rejected = false;
        const BatchRead r = ring_.try_read_batch(max, verified_visit(visit, rejected));
        return rejected ? BatchRead{r.count - 1, ReadStatus::corrupt} : r;
    }
    // The same, waiting up to `timeout` for the first record.
    template <class Visit>
    [[nodiscard]] BatchRead read_batch(std::size_t max, Visit&& visit,
                                       std::chrono::nanoseconds timeout) {
        bool rejected = false;
        const BatchRead r = ring_.read_batch(max, verified_visit(visit, rejected), timeout);
        return rejected ? BatchRead{r.count - 1, ReadStatus::corrupt} : r;
    }

    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return ring_.wait_for_writer(timeout);
    }

    // Records consumed (verified or rejected) and records rejected by verification.
    std::uint64_t consumed() const noexcept { return ring_.consumed(); }
    std::uint64_t rejected() const noexcept { return rejected_; }
    const Rejection& last_rejection() const noexcept { return last_rejection_; }
    std::uint64_t capacity() const noexcept { return ring_.capacity(); }
    bool writer_alive() const noexcept { return ring_.writer_alive(); }
    bool closed() const noexcept { return ring_.closed(); }
    const Region& region() const noexcept { return ring_.region(); }
    ByteRingReader& bytes() noexcept { return ring_; }

private:
    friend struct TableRing<T>;
    TableRingReader(ByteRingReader&& ring, const TableReadOptions& options)
        : ring_(std::move(ring)), options_(options) {}

    // A batch's visit of one message: verified (on the reader's copy in copy mode), then
    // visit(record[, sequence]); false ends the batch after a rejected record.
    template <class Visit>
    auto verified_visit(Visit& visit, bool& rejected) {
        return [this, &visit, &rejected](const MessageView& m) {
            std::span<const std::uint8_t> bytes(
                reinterpret_cast<const std::uint8_t*>(m.data.data()), m.data.size());
            if (options_.copy || reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 != 0) {
                scratch_.resize((bytes.size() + 7) / 8);
                if (!bytes.empty()) std::memcpy(scratch_.data(), bytes.data(), bytes.size());
                bytes = {reinterpret_cast<const std::uint8_t*>(scratch_.data()), bytes.size()};
            }
            if (const char* why = verify_table<T>(bytes, options_)) {
                reject(m.sequence, m.position, why);
                rejected = true;
                return false;
            }
            const T& record = *flatbuffers::GetRoot<T>(bytes.data());
            if constexpr (std::is_invocable_v<Visit&, const T&, std::uint64_t>) {
                return detail::visit_goes_on(visit, record, m.sequence);
            } else {
                return detail::visit_goes_on(visit, record);
            }
        };
    }

    void reject(std::uint64_t sequence, std::uint64_t position, const char* why) {
        ++rejected_;
        last_rejection_ = {sequence, position, why};
    }

    TableSample<T> checked(MessageSample message) {
        if (!message) return TableSample<T>(message.status());
        const auto data = message.data();
        std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()),
                                            data.size());
        const std::uint64_t sequence = message.sequence();
        const std::uint64_t position = message.position();
        std::vector<std::byte> copy;
        // In place only where every field the Verifier checks is aligned in memory too: it
        // checks alignment from the record's start, so the start must be 8-aligned (healthy
        // writers place it so). Otherwise the record is copied into aligned memory.
        const bool aligned = reinterpret_cast<std::uintptr_t>(data.data()) % 8 == 0;
        if (options_.copy || !aligned) {
            copy.assign(data.begin(), data.end());
            message.release();
            bytes = {reinterpret_cast<const std::uint8_t*>(copy.data()), copy.size()};
        }
        if (const char* why = verify_table<T>(bytes, options_)) {
            reject(sequence, position, why);
            message.release();  // skipped: the next read goes on after it
            return TableSample<T>(ReadStatus::corrupt);
        }
        return TableSample<T>(std::move(message), std::move(copy), bytes, sequence);
    }

    ByteRingReader ring_;
    TableReadOptions options_;
    std::uint64_t rejected_ = 0;
    Rejection last_rejection_;
    std::vector<std::uint64_t> scratch_;  // a batch's copy of one record (8-aligned)
};

}  // namespace shmrec
