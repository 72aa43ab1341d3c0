// Cell<T>: a latest-value cell. One writer publishes records; any number of readers get the
// newest complete record whenever they ask, never a torn one, and never slow the writer.
//
//   auto writer = shmrec::Cell<school::Student>::writer("TestMemShare", shmrec::OpenMode::open_or_create);
//   (void)writer.try_write(student);
//
//   auto reader = shmrec::Cell<school::Student>::reader("TestMemShare");
//   school::Student s;
//   switch (reader.read(s, std::chrono::seconds(1))) { ... }   // waits for a newer record
//
// Protocol: a seqlock (detail/seqlock.hpp) over two alternating slots (layout in
// detail/cell_layout.hpp). Record n (n >= 1) goes to slot n % 2 with stamp n; then
//   writer: latest = n (release), then the doorbell handshake (detail/endpoint.hpp)
//   reader: n = latest (acquire), then the seqlock load of slot n % 2 with stamp n.
// A reader that finds slot n % 2 already holding n + 2 retries with the new `latest`. A writer
// killed at any point leaves `latest` naming a complete slot.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/endpoint.hpp"
#include "shmrec/detail/seqlock.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/status.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {

template <Record T>
class CellWriter;
template <Record T>
class CellReader;

template <Record T>
struct Cell {
    // The record is copied word by word into memory other processes map: it must be trivially
    // copyable (enforced by Record) and no more aligned than a cache line.
    static_assert(alignof(T) <= detail::cache_line, "records aligned beyond 64 bytes are not supported");

    using Writer = CellWriter<T>;
    using Reader = CellReader<T>;

    // create_only (default): a new region, already_exists if the name is taken by a live one.
    // open_only: take over an existing cell (writer_active if its writer is alive).
    // open_or_create: either.
    static Writer writer(const Location& where, OpenMode mode = OpenMode::create_only,
                         const RegionOptions& options = {}, const WaitOptions& wait = {}) {
        return Writer(detail::writer_region<detail::CellDescriptor, T>(
                          where, detail::CellDescriptor::slot_count, mode, options),
                      wait);
    }
    static Reader reader(const Location& where, const RegionOptions& options = {},
                         const WaitOptions& wait = {}) {
        return Reader(detail::open_channel<detail::CellDescriptor, T>(where, Role::reader, options),
                      wait);
    }
};

namespace detail {

inline constexpr SeqlockFaultPoints cell_fault_points{"cell.after_claim", "cell.mid_payload",
                                                      "cell.before_commit"};

// Addresses inside a cell's data area, from the validated private geometry. R is the record
// type, or DynamicRecord for a handle whose record size is known only at run time.
template <class R>
struct CellView {
    using Slots = SlotsFor<CellDescriptor, R>;

    CellControl* control = nullptr;
    std::byte* slots = nullptr;
    [[no_unique_address]] Slots shape{};

    CellView() = default;
    explicit CellView(const Region& region, Slots s = {})
        : control(reinterpret_cast<CellControl*>(RegionAccess::data(region))),
          slots(RegionAccess::data(region) + sizeof(CellControl)), shape(s) {}

    std::atomic<std::uint64_t>& version(std::uint64_t n) const noexcept {
        return *reinterpret_cast<std::atomic<std::uint64_t>*>(
            slots + (n % CellDescriptor::slot_count) * shape.stride);
    }
    std::uint64_t* payload(std::uint64_t n) const noexcept {
        return reinterpret_cast<std::uint64_t*>(
            slots + (n % CellDescriptor::slot_count) * shape.stride + shape.payload_offset);
    }
    Doorbell doorbell() const noexcept { return Doorbell(control->doorbell); }
};

// The cell's writer protocol, once for CellWriter<T> and untyped::CellWriter: records are
// passed as the address of record_size() bytes.
template <class R>
class CellWriterCore : public BoardWriter {
public:
    // Records published into this cell so far (by any of its writers); 0 if unusable.
    std::uint64_t written() const noexcept { return usable() ? published_ : 0; }

protected:
    CellWriterCore(Region region, const WaitOptions& wait, SlotsFor<CellDescriptor, R> shape = {})
        : BoardWriter(std::move(region), wait, CellView<R>(region, shape).doorbell()),
          view_(region_, shape),
          // Only writers store `latest` and we hold the writer role: relaxed is enough. A
          // previous writer's records keep their numbers; ours continue after them.
          published_(view_.control->latest.load(std::memory_order_relaxed)) {}
    CellWriterCore(CellWriterCore&&) noexcept = default;
    CellWriterCore& operator=(CellWriterCore&&) noexcept = default;
    ~CellWriterCore() = default;

    WriteStatus write_record(const void* record) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        const std::uint64_t n = published_ + 1;
        seqlock_store(view_.version(n), view_.payload(n), n, record, view_.shape.record_size,
                      cell_fault_points);
        SHMREC_FAULT_POINT("cell.before_publish");
        // Publish. Release pairs with the reader's acquire load of `latest`.
        view_.control->latest.store(n, std::memory_order_release);
        published_ = n;
        notify();
        return WriteStatus::ok;
    }

    CellView<R> view_;
    std::uint64_t published_ = 0;
};

// The cell's reader protocol, once for CellReader<T> and untyped::CellReader.
template <class R>
class CellReaderCore : public BoardReader {
public:
    // True when a record newer than the last one read is available (false if unusable).
    bool has_update() const noexcept {
        // Relaxed: a hint only; try_read() does the synchronising load.
        return usable() && view_.control->latest.load(std::memory_order_relaxed) != seen_;
    }
    // Stamp of the last record read (0 before the first read).
    std::uint64_t sequence() const noexcept { return seen_; }

    // After `closed` or `writer_gone`: waits up to `timeout` for a replacement writer to attach
    // (ok), without polling the channel; then read() resumes with its records.
    [[nodiscard]] ReadStatus wait_for_writer(std::chrono::nanoseconds timeout) noexcept {
        return await_board_writer(timeout);
    }

    // True while the writer holds its liveness lock (a stopped writer counts as alive).
    bool writer_alive() const noexcept { return writer_is_alive(); }
    // True once the writer closed the cell cleanly.
    bool closed() const noexcept { return region_is_closed(); }

protected:
    static constexpr int max_attempts = 1024;

    CellReaderCore(Region region, const WaitOptions& wait, SlotsFor<CellDescriptor, R> shape = {})
        : BoardReader(std::move(region), wait, CellView<R>(region, shape).doorbell()),
          view_(region_, shape) {}
    CellReaderCore(CellReaderCore&&) noexcept = default;
    CellReaderCore& operator=(CellReaderCore&&) noexcept = default;
    ~CellReaderCore() = default;

    // CellReader<T>::try_read on record_size() bytes at `out`.
    ReadStatus read_record(void* out) noexcept {
        if (!usable()) return refusal<ReadStatus>();
        // A healthy writer stores latest = n + 1 before it begins record n + 2 in slot n % 2,
        // so a slot found newer than `latest` means `latest` moves on. One that stays put on
        // every attempt while its slot claims a later record is a lie (a forged or regressed
        // latest): corrupt, not contended, or read() would retry it until its deadline.
        std::uint64_t first = 0;
        bool moving = false;  // latest changed, or a copy tore: a live writer is at work
        for (int attempt = 0; attempt < max_attempts; ++attempt) {
            // Acquire pairs with the writer's release store of `latest`.
            const std::uint64_t n = view_.control->latest.load(std::memory_order_acquire);
            if (n == 0) return ReadStatus::empty;
            if (attempt == 0) {
                first = n;
            } else if (n != first) {
                moving = true;
            }
            switch (seqlock_try_load(view_.version(n), view_.payload(n), n, out,
                                     view_.shape.record_size)) {
                case SeqlockLoad::ok: return accepted(n);
                // The writer completes slot n before it stores latest = n: a version behind
                // n is impossible for a healthy writer.
                case SeqlockLoad::not_yet: return ReadStatus::corrupt;
                case SeqlockLoad::newer: cpu_relax(); break;
                case SeqlockLoad::torn:
                    moving = true;
                    cpu_relax();
                    break;
            }
        }
        return moving ? ReadStatus::contended : ReadStatus::corrupt;
    }

    // CellReader<T>::read on record_size() bytes at `out`.
    ReadStatus read_record(void* out, std::chrono::nanoseconds timeout) noexcept {
        if (!usable()) return refusal<ReadStatus>();
        const auto deadline = deadline_after(timeout);
        auto news_or_closed = [&] { return has_update() || closed(); };
        const auto outcome = wait_until(
            timeout, news_or_closed, [&] { return writer_alive(); },
            [&](std::chrono::nanoseconds slice) { park_for(slice, news_or_closed); });
        // A record published before the writer closed or died is still news. A writer that
        // overwrote it on every attempt (contended) is retried until the deadline.
        if (has_update()) {
            ReadStatus s;
            while ((s = read_record(out)) == ReadStatus::contended &&
                   SteadyClock::now() < deadline) {
            }
            return s;
        }
        if (closed()) return ReadStatus::closed;
        return outcome == WaitOutcome::peer_gone ? ReadStatus::writer_gone : ReadStatus::timeout;
    }

    CellView<R> view_;
    std::uint64_t seen_ = 0;

private:
    // Record n was copied: ok if it is news to this reader, unchanged if read before.
    ReadStatus accepted(std::uint64_t n) noexcept {
        if (n == seen_) return ReadStatus::unchanged;
        // Records published between two reads were never seen by this reader: its `lost` on the
        // cursor (a cell keeps only the latest). Not counted before the first read.
        if (seen_ != 0 && ahead(n, seen_) > 1) lost_ += n - seen_ - 1;
        seen_ = n;
        ++received_;
        publish_cursor(n, received_, lost_);
        return ReadStatus::ok;
    }

    std::uint64_t received_ = 0;  // for the cursor only
    std::uint64_t lost_ = 0;
};

}  // namespace detail

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Record T>
class CellWriter : public detail::CellWriterCore<T> {
public:
    CellWriter(CellWriter&&) noexcept = default;
    CellWriter& operator=(CellWriter&&) noexcept = default;
    ~CellWriter() = default;  // BoardWriter closes: readers see `closed`, not `writer_gone`

    // Publishes `record` as the newest value. Wait-free; no system call unless a reader sleeps
    // in read(timeout).
    [[nodiscard]] WriteStatus try_write(const T& record) noexcept {
        return this->write_record(&record);
    }
    // The same: a cell never waits for room. For code written against every channel alike.
    [[nodiscard]] WriteStatus write(const T& record, std::chrono::nanoseconds /*timeout*/) noexcept {
        return try_write(record);
    }

private:
    friend struct Cell<T>;
    CellWriter(Region region, const WaitOptions& wait)
        : detail::CellWriterCore<T>(std::move(region), wait) {}
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Record T>
class CellReader : public detail::CellReaderCore<T> {
public:
    CellReader(CellReader&&) noexcept = default;
    CellReader& operator=(CellReader&&) noexcept = default;
    ~CellReader() = default;

    // Copies the newest complete record into `out`: ok when it is newer than the last one this
    // reader read, unchanged when it is the same one. Otherwise empty (nothing published yet),
    // contended (the writer overwrote it on every attempt), corrupt (also a `latest` whose slot
    // claims a later record while `latest` never moves), or the handle's refusal.
    // `out` is unspecified unless the status is ok or unchanged.
    [[nodiscard]] ReadStatus try_read(T& out) noexcept { return this->read_record(&out); }

    // Waits up to `timeout` (nanoseconds::max(): for ever) for a record newer than the last one
    // read, then copies it: ok, timeout, closed, writer_gone, corrupt or contended. Survives
    // signals and spurious wake-ups, keeping the deadline; a dead writer is noticed within the
    // liveness interval.
    [[nodiscard]] ReadStatus read(T& out, std::chrono::nanoseconds timeout) noexcept {
        return this->read_record(&out, timeout);
    }

    // The newest record, or nothing when there is none (try_read tells why).
    std::optional<T> try_read() noexcept {
        T record;
        const ReadStatus s = try_read(record);
        if (s != ReadStatus::ok && s != ReadStatus::unchanged) return std::nullopt;
        return record;
    }

private:
    friend struct Cell<T>;
    CellReader(Region region, const WaitOptions& wait)
        : detail::CellReaderCore<T>(std::move(region), wait) {}
};

}  // namespace shmrec
