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

// Addresses inside a cell's data area, from the validated private geometry.
template <class T>
struct CellView {
    using Slots = SlotGeometry<CellDescriptor, T>;

    CellControl* control = nullptr;
    std::byte* slots = nullptr;

    CellView() = default;
    explicit CellView(const Region& region)
        : control(reinterpret_cast<CellControl*>(RegionAccess::data(region))),
          slots(RegionAccess::data(region) + sizeof(CellControl)) {}

    std::atomic<std::uint64_t>& version(std::uint64_t n) const noexcept {
        return *reinterpret_cast<std::atomic<std::uint64_t>*>(
            slots + (n % CellDescriptor::slot_count) * Slots::stride);
    }
    std::uint64_t* payload(std::uint64_t n) const noexcept {
        return reinterpret_cast<std::uint64_t*>(slots + (n % CellDescriptor::slot_count) * Slots::stride +
                                                Slots::payload_offset);
    }
    Doorbell doorbell() const noexcept { return Doorbell(control->doorbell); }
};

}  // namespace detail

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Record T>
class CellWriter : public detail::BoardWriter {
public:
    CellWriter(CellWriter&&) noexcept = default;
    CellWriter& operator=(CellWriter&&) noexcept = default;
    ~CellWriter() = default;  // BoardWriter closes: readers see `closed`, not `writer_gone`

    // Publishes `record` as the newest value. Wait-free; no system call unless a reader sleeps
    // in read(timeout).
    [[nodiscard]] WriteStatus try_write(const T& record) noexcept {
        if (!usable()) return refusal<WriteStatus>();
        const std::uint64_t n = published_ + 1;
        detail::Seqlock<T>::store(view_.version(n), view_.payload(n), n, record,
                                  detail::cell_fault_points);
        SHMREC_FAULT_POINT("cell.before_publish");
        // Publish. Release pairs with the reader's acquire load of `latest`.
        view_.control->latest.store(n, std::memory_order_release);
        published_ = n;
        notify();
        return WriteStatus::ok;
    }
    // The same: a cell never waits for room. For code written against every channel alike.
    [[nodiscard]] WriteStatus write(const T& record, std::chrono::nanoseconds /*timeout*/) noexcept {
        return try_write(record);
    }

    // Records published into this cell so far (by any of its writers); 0 if unusable.
    std::uint64_t written() const noexcept { return usable() ? published_ : 0; }

private:
    friend struct Cell<T>;
    CellWriter(Region region, const WaitOptions& wait)
        : BoardWriter(std::move(region), wait, detail::CellView<T>(region).doorbell()),
          view_(region_),
          // Only writers store `latest` and we hold the writer role: relaxed is enough. A
          // previous writer's records keep their numbers; ours continue after them.
          published_(view_.control->latest.load(std::memory_order_relaxed)) {}

    detail::CellView<T> view_;
    std::uint64_t published_ = 0;
};

// Not thread-safe: one thread uses a handle at a time (move it to hand it over).
template <Record T>
class CellReader : public detail::BoardReader {
public:
    CellReader(CellReader&&) noexcept = default;
    CellReader& operator=(CellReader&&) noexcept = default;
    ~CellReader() = default;

    // Copies the newest complete record into `out`: ok when it is newer than the last one this
    // reader read, unchanged when it is the same one. Otherwise empty (nothing published yet),
    // contended (the writer overwrote it on every attempt), corrupt (also a `latest` whose slot
    // claims a later record while `latest` never moves), or the handle's refusal.
    // `out` is unspecified unless the status is ok or unchanged.
    [[nodiscard]] ReadStatus try_read(T& out) noexcept {
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
            switch (detail::Seqlock<T>::try_load(view_.version(n), view_.payload(n), n, out)) {
                case detail::SeqlockLoad::ok: {
                    const bool same = n == seen_;
                    seen_ = n;
                    return same ? ReadStatus::unchanged : ReadStatus::ok;
                }
                // The writer completes slot n before it stores latest = n: a version behind
                // n is impossible for a healthy writer.
                case detail::SeqlockLoad::not_yet: return ReadStatus::corrupt;
                case detail::SeqlockLoad::newer: detail::cpu_relax(); break;
                case detail::SeqlockLoad::torn:
                    moving = true;
                    detail::cpu_relax();
                    break;
            }
        }
        return moving ? ReadStatus::contended : ReadStatus::corrupt;
    }

    // Waits up to `timeout` (nanoseconds::max(): for ever) for a record newer than the last one
    // read, then copies it: ok, timeout, closed, writer_gone, corrupt or contended. Survives
    // signals and spurious wake-ups, keeping the deadline; a dead writer is noticed within the
    // liveness interval.
    [[nodiscard]] ReadStatus read(T& out, std::chrono::nanoseconds timeout) noexcept {
        if (!usable()) return refusal<ReadStatus>();
        const auto deadline = detail::deadline_after(timeout);
        auto news_or_closed = [&] { return has_update() || closed(); };
        const auto outcome = wait_until(
            timeout, news_or_closed, [&] { return writer_alive(); },
            [&](std::chrono::nanoseconds slice) { park_for(slice, news_or_closed); });
        // A record published before the writer closed or died is still news. A writer that
        // overwrote it on every attempt (contended) is retried until the deadline.
        if (has_update()) {
            ReadStatus s;
            while ((s = try_read(out)) == ReadStatus::contended &&
                   detail::SteadyClock::now() < deadline) {
            }
            return s;
        }
        if (closed()) return ReadStatus::closed;
        return outcome == detail::WaitOutcome::peer_gone ? ReadStatus::writer_gone
                                                         : ReadStatus::timeout;
    }

    // The newest record, or nothing when there is none (try_read tells why).
    std::optional<T> try_read() noexcept {
        T record;
        const ReadStatus s = try_read(record);
        if (s != ReadStatus::ok && s != ReadStatus::unchanged) return std::nullopt;
        return record;
    }

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

private:
    friend struct Cell<T>;
    static constexpr int max_attempts = 1024;

    CellReader(Region region, const WaitOptions& wait)
        : BoardReader(std::move(region), wait, detail::CellView<T>(region).doorbell()),
          view_(region_) {}

    detail::CellView<T> view_;
    std::uint64_t seen_ = 0;
};

}  // namespace shmrec
