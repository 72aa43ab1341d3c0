// Cell<T>: a latest-value cell. One writer publishes records; any number of readers get the
// newest complete record whenever they ask, never a torn one, and never slow the writer.
//
//   auto writer = shmrec::Cell<school::Student>::writer("TestMemShare");
//   writer.publish(student);
//
//   auto reader = shmrec::Cell<school::Student>::reader("TestMemShare");
//   if (auto s = reader.try_read()) use(*s);
//   reader.wait_for_change(std::chrono::seconds(1));
//
// Protocol (a seqlock over two alternating slots; layout in detail/cell_layout.hpp):
//
//   writer, record n                          reader
//   1. slot[n%2].version = 2n-1   (relaxed)   a. n = latest            (acquire)
//   2. fence(release)                         b. v1 = slot[n%2].version (acquire)
//   3. payload words              (relaxed)      retry unless v1 == 2n
//   4. slot[n%2].version = 2n     (release)   c. payload words         (relaxed)
//   5. latest = n                 (release)   d. fence(acquire)
//   6. fence(seq_cst); wake if board.waiters  e. v2 = slot[n%2].version (relaxed)
//                                                accept only if v2 == v1
//
// If any word read in (c) came from a later write (1-3 of record n+2), the release fence (2)
// and the acquire fence (d) order that write's odd version before (e), so v2 != v1 and the
// copy is discarded. A writer killed at any point leaves `latest` naming a complete slot.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/cpu.hpp"
#include "shmrec/detail/fault.hpp"
#include "shmrec/detail/fork_guard.hpp"
#include "shmrec/detail/futex.hpp"
#include "shmrec/detail/sequence.hpp"
#include "shmrec/detail/wait_loop.hpp"
#include "shmrec/detail/word_copy.hpp"
#include "shmrec/error.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/wait.hpp"

namespace shmrec {

enum class CellRead : std::uint8_t {
    ok,         // `out` holds the newest complete record
    empty,      // nothing has been published yet
    contended,  // the writer overwrote the slot on every attempt; try again
    corrupt,    // the shared counters are impossible for a healthy writer (hostile or damaged)
    handle_forked,  // this handle was inherited through fork(): only its creator may use it
};

constexpr std::string_view to_string(CellRead r) noexcept {
    switch (r) {
        case CellRead::ok: return "ok";
        case CellRead::empty: return "empty";
        case CellRead::contended: return "contended";
        case CellRead::corrupt: return "corrupt";
        case CellRead::handle_forked: return "handle_forked";
    }
    return "unknown";
}

template <Record T>
class CellWriter;
template <Record T>
class CellReader;

template <Record T>
struct Cell {
    // The record is copied byte-wise into memory other processes map: it must be trivially
    // copyable (enforced by Record) and no more aligned than a cache line.
    static_assert(alignof(T) <= detail::cache_line, "records aligned beyond 64 bytes are not supported");

    using Writer = CellWriter<T>;
    using Reader = CellReader<T>;

    // create_only (default): a new region, already_exists if the name is taken.
    // open_only: take over an existing cell (writer_active if its writer is alive).
    // open_or_create: either.
    static Writer writer(const Location& where, OpenMode mode = OpenMode::create_only,
                         const RegionOptions& options = {});
    static Reader reader(const Location& where, const RegionOptions& options = {});

    static RegionSpec spec() noexcept {
        return detail::record_spec<T>(ChannelKind::cell, detail::cell_slot_count,
                                      detail::cell_slot_stride(sizeof(T), alignof(T)),
                                      detail::cell_data_size(sizeof(T), alignof(T)));
    }
};

namespace detail {

// Addresses inside a cell's data area, computed once from the validated private geometry.
template <class T>
struct CellView {
    static constexpr std::size_t words = cell_payload_words(sizeof(T));
    static constexpr std::uint64_t payload_offset = cell_payload_offset(alignof(T));
    static constexpr std::uint64_t stride = cell_slot_stride(sizeof(T), alignof(T));

    CellControl* control = nullptr;
    std::byte* slots = nullptr;
    ReaderBoard* board = nullptr;
    const std::atomic<std::uint32_t>* state = nullptr;

    explicit CellView(const Region& region)
        : control(reinterpret_cast<CellControl*>(region.data())),
          slots(region.data() + sizeof(CellControl)),
          board(&region.board()),
          state(&region.header().state) {}

    bool closed() const noexcept { return region_closed(*state); }

    CellSlotHeader& slot(std::uint64_t n) const noexcept {
        return *reinterpret_cast<CellSlotHeader*>(slots + (n % cell_slot_count) * stride);
    }
    std::uint64_t* payload(std::uint64_t n) const noexcept {
        return reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::byte*>(&slot(n)) +
                                                payload_offset);
    }
};

template <class T>
union WordBuffer {
    std::uint64_t words[CellView<T>::words];
    std::byte bytes[CellView<T>::words * 8];
};

}  // namespace detail

template <Record T>
class CellWriter {
public:
    CellWriter(CellWriter&& other) noexcept
        : region_(std::move(other.region_)), view_(other.view_), fork_(other.fork_),
          published_(other.published_), open_(std::exchange(other.open_, false)) {}
    CellWriter& operator=(CellWriter&& other) noexcept {
        if (this != &other) {
            close();
            region_ = std::move(other.region_);
            view_ = other.view_;
            fork_ = other.fork_;
            published_ = other.published_;
            open_ = std::exchange(other.open_, false);
        }
        return *this;
    }
    CellWriter(const CellWriter&) = delete;
    CellWriter& operator=(const CellWriter&) = delete;
    // Closing is the clean end: readers see `closed`, not `writer_gone`.
    ~CellWriter() { close(); }

    // Publishes `record` as the newest value. Wait-free, no system call unless a reader is
    // sleeping in wait_for_change. Returns false, publishing nothing, in a child that
    // inherited this writer through fork().
    bool publish(const T& record) noexcept {
        if (fork_.forked()) return false;
        const std::uint64_t n = published_ + 1;
        detail::WordBuffer<T> buffer{};
        std::memcpy(buffer.bytes, &record, sizeof(T));
        auto& slot = view_.slot(n);
        // 1-2: mark the slot busy before any payload word changes. Relaxed store + release
        // fence: the fence orders this store before the payload stores below, for any reader
        // whose acquire fence (d) follows a load that saw one of them.
        slot.version.store(2 * n - 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        SHMREC_FAULT_POINT("cell.after_claim");
        detail::store_words_faultable(view_.payload(n), buffer.words, detail::CellView<T>::words,
                                      "cell.mid_payload");
        SHMREC_FAULT_POINT("cell.before_commit");
        // 4. SYNC POINT WRITE: payload. Pairs with the reader's acquire load of the version (b).
        slot.version.store(2 * n, std::memory_order_release);
        SHMREC_FAULT_POINT("cell.before_publish");
        // 5. Publish. Pairs with the reader's acquire load of `latest` (a).
        view_.control->latest.store(n, std::memory_order_release);
        published_ = n;
        // 6. Dekker pair with the reader's seq_cst increment of board.waiters followed by its
        // seq_cst re-load of `latest`: either the reader sees n and does not sleep, or this
        // load sees its registration and wakes it. The futex itself re-checks the word.
        detail::full_fence();
        if (view_.board->waiters.load(std::memory_order_relaxed) != 0) {
            detail::futex_wake_all(detail::low_half(view_.control->latest));
        }
        return true;
    }

    // Number of records published into this cell so far (by any writer of it).
    std::uint64_t published() const noexcept { return published_; }

    // Marks the cell closed and wakes every waiting reader. Idempotent; the destructor calls it.
    void close() noexcept {
        if (!open_) return;
        open_ = false;
        if (fork_.forked()) return;  // the parent's writer, not ours to close
        region_.mark_closed();
        detail::futex_wake_all(detail::low_half(view_.control->latest));
    }

    const Region& region() const noexcept { return region_; }

private:
    friend struct Cell<T>;
    explicit CellWriter(Region region)
        : region_(std::move(region)), view_(region_),
          // Only writers store `latest` and we hold the writer role: relaxed is enough. A
          // previous writer's records keep their numbers; ours continue after them.
          published_(view_.control->latest.load(std::memory_order_relaxed)) {}

    Region region_;
    detail::CellView<T> view_;
    detail::ForkStamp fork_;
    std::uint64_t published_;
    bool open_ = true;
};

template <Record T>
class CellReader {
public:
    CellReader(CellReader&&) noexcept = default;
    CellReader& operator=(CellReader&&) noexcept = default;
    CellReader(const CellReader&) = delete;
    CellReader& operator=(const CellReader&) = delete;
    ~CellReader() = default;

    // Copies the newest complete record into `out`.
    [[nodiscard]] CellRead read(T& out) noexcept {
        if (fork_.forked()) return CellRead::handle_forked;
        for (int attempt = 0; attempt < max_attempts; ++attempt) {
            // a. Acquire pairs with the writer's release store (5).
            const std::uint64_t n = view_.control->latest.load(std::memory_order_acquire);
            if (n == 0) return CellRead::empty;
            const auto& slot = view_.slot(n);
            // b. SYNC POINT READ: payload. Acquire pairs with the writer's release (4).
            const std::uint64_t v1 = slot.version.load(std::memory_order_acquire);
            if (v1 != 2 * n) {
                // A healthy writer only moves a slot's version forward from 2n.
                if (detail::ahead(v1, 2 * n) < 0) return CellRead::corrupt;
                detail::cpu_relax();
                continue;
            }
            detail::WordBuffer<T> buffer;
            detail::load_words(buffer.words, view_.payload(n), detail::CellView<T>::words);
            // d-e. See the protocol comment at the top of this file.
            std::atomic_thread_fence(std::memory_order_acquire);
            if (slot.version.load(std::memory_order_relaxed) != v1) continue;
            std::memcpy(&out, buffer.bytes, sizeof(T));
            seen_ = n;
            return CellRead::ok;
        }
        return CellRead::contended;
    }

    // The newest record, or nothing when none was published (or the cell is unreadable:
    // read() tells which).
    std::optional<T> try_read() noexcept {
        T record;
        if (read(record) != CellRead::ok) return std::nullopt;
        return record;
    }

    // True when a record newer than the last one read is available.
    bool has_update() const noexcept {
        // Relaxed: a hint only; read() does the synchronising load.
        return view_.control->latest.load(std::memory_order_relaxed) != seen_;
    }

    // Publish number of the last record read (0 before the first read).
    std::uint64_t sequence() const noexcept { return seen_; }

    // Blocks until a record newer than the last one read is available, the writer closes the
    // cell or dies, or `timeout` passes. Survives EINTR and spurious wake-ups, keeping the
    // deadline (steady clock). A dead writer is noticed within options.liveness_interval.
    [[nodiscard]] WaitStatus wait_for_change(std::chrono::nanoseconds timeout,
                                             const WaitOptions& options = {}) noexcept {
        if (fork_.forked()) return WaitStatus::handle_forked;
        const auto outcome = detail::wait_loop(
            timeout, options, liveness_, [&] { return has_update() || closed(); },
            [&] { return writer_alive(); }, [&](std::chrono::nanoseconds slice) { park(slice); });
        // A record published before the writer closed or died is still news.
        if (has_update()) return WaitStatus::changed;
        if (closed()) return WaitStatus::closed;
        return outcome == detail::WaitOutcome::peer_gone ? WaitStatus::writer_gone
                                                         : WaitStatus::timeout;
    }

    // True while the writer holds its liveness lock (a stopped writer counts as alive).
    bool writer_alive() const noexcept { return region_.writer_alive(); }
    // True once the writer closed the cell cleanly.
    bool closed() const noexcept { return view_.closed(); }

    const Region& region() const noexcept { return region_; }

private:
    friend struct Cell<T>;
    static constexpr int max_attempts = 1024;

    explicit CellReader(Region region) : region_(std::move(region)), view_(region_) {}

    void park(std::chrono::nanoseconds slice) noexcept {
        // Dekker pair with the writer's step 6: register, then re-check with seq_cst.
        view_.board->waiters.fetch_add(1, std::memory_order_seq_cst);
        if (view_.control->latest.load(std::memory_order_seq_cst) == seen_ && !closed()) {
            SHMREC_FAULT_POINT("wait.before_sleep");
            detail::futex_wait(detail::low_half(view_.control->latest),
                               static_cast<std::uint32_t>(seen_), slice);
        }
        // Relaxed: the count only decides whether the writer bothers to wake anyone.
        view_.board->waiters.fetch_sub(1, std::memory_order_relaxed);
    }

    Region region_;
    detail::CellView<T> view_;
    detail::LivenessClock liveness_;
    detail::ForkStamp fork_;
    std::uint64_t seen_ = 0;
};

template <Record T>
CellWriter<T> Cell<T>::writer(const Location& where, OpenMode mode, const RegionOptions& options) {
    return detail::resolve_open_mode(
        mode, [&] { return CellWriter<T>(Region::create(where, spec(), options)); },
        [&] { return CellWriter<T>(Region::open(where, Role::writer, spec(), options)); });
}

template <Record T>
CellReader<T> Cell<T>::reader(const Location& where, const RegionOptions& options) {
    return CellReader<T>(Region::open(where, Role::reader, spec(), options));
}

}  // namespace shmrec
