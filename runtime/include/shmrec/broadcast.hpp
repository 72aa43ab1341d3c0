// Broadcast<T>: one writer, any number of readers, and readers never slow the writer. The
// writer overwrites the oldest slot; each reader keeps its cursor privately, maps the region
// read-only, and when it was lapped learns exactly how many records it lost:
// received() + lost() == position() - start_position(), always.
//
//   auto writer = shmrec::Broadcast<school::Student>::writer("Prices", 4096);
//   writer.publish(student);
//
//   auto reader = shmrec::Broadcast<school::Student>::reader("Prices", shmrec::StartAt::oldest);
//   school::Student s;
//   while (reader.read(s, 1s) == shmrec::ReadStatus::ok) ...
//
// Protocol: a seqlock per slot (layout in detail/ring_layout.hpp). Record p goes to slot
// p & mask, whose version is 2p+1 while it is written and 2p+2 once complete.
//
//   writer, record p                            reader, position r
//   1. version = 2p+1               (relaxed)   a. v1 = version(r)       (acquire)
//   2. fence(release)                              v1 <  2r+2: not there yet (empty)
//   3. payload words                (relaxed)      v1 >  2r+2: lapped, see (e)
//   4. version = 2p+2               (release)   b. payload words         (relaxed)
//   5. tail = p+1                   (release)   c. fence(acquire)
//   6. fence(seq_cst); wake if board.waiters    d. accept iff version(r) == v1 (relaxed)
//                                               e. lapped: t = tail (acquire); continue at
//                                                  max(r+1, t+1-capacity), counting the skip
//                                                  as lost (slot t&mask may be mid-write).
//
// Readers copy out and validate: a zero-copy view into a slot the writer may overwrite at
// any moment would be a data race in the C++ memory model, and whatever the reader did with
// it before noticing would have used torn data. For the same reason the writer has no
// loan(): its stores into a slot must be the atomic word stores of step 3.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/cpu.hpp"
#include "shmrec/detail/fault.hpp"
#include "shmrec/detail/fork_guard.hpp"
#include "shmrec/detail/futex.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/detail/wait_loop.hpp"
#include "shmrec/detail/word_copy.hpp"
#include "shmrec/error.hpp"
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

template <Record T>
class BroadcastWriter;
template <Record T>
class BroadcastReader;

template <Record T>
struct Broadcast {
    static_assert(alignof(T) <= detail::cache_line, "records aligned beyond 64 bytes are not supported");

    using Writer = BroadcastWriter<T>;
    using Reader = BroadcastReader<T>;

    static constexpr std::uint64_t payload_offset = detail::cell_payload_offset(alignof(T));
    static constexpr std::size_t words = detail::cell_payload_words(sizeof(T));
    static constexpr std::uint64_t stride = detail::round_up_to(payload_offset + 8 * words,
                                                                detail::cache_line);

    static Writer writer(const Location& where, std::uint64_t capacity,
                         OpenMode mode = OpenMode::create_only, const RegionOptions& options = {});
    static Reader reader(const Location& where, StartAt start = StartAt::oldest,
                         const RegionOptions& options = {}, const WaitOptions& wait = {});

    // capacity 0: what an opener expects (the header decides, check_slot_geometry checks).
    static RegionSpec spec(std::uint64_t capacity) noexcept {
        return detail::record_spec<T>(
            ChannelKind::broadcast, capacity, stride,
            capacity == 0 ? 0 : detail::broadcast_data_size(capacity, stride));
    }
};

namespace detail {

template <class T>
struct BroadcastView {
    BroadcastControl* control;
    std::byte* slots;
    ReaderBoard* board;
    const std::atomic<std::uint32_t>* state;  // the header's state word, polled while waiting
    std::uint64_t mask;

    explicit BroadcastView(const Region& region)
        : control(reinterpret_cast<BroadcastControl*>(region.data())),
          slots(region.data() + sizeof(BroadcastControl)),
          board(&region.board()),
          state(&region.header().state),
          mask(region.geometry().capacity - 1) {}

    bool closed() const noexcept { return region_closed(*state); }

    std::atomic<std::uint64_t>& version(std::uint64_t position) const noexcept {
        return *reinterpret_cast<std::atomic<std::uint64_t>*>(
            slots + (position & mask) * Broadcast<T>::stride);
    }
    std::uint64_t* payload(std::uint64_t position) const noexcept {
        return reinterpret_cast<std::uint64_t*>(slots + (position & mask) * Broadcast<T>::stride +
                                                Broadcast<T>::payload_offset);
    }
    std::uint64_t capacity() const noexcept { return mask + 1; }
};

template <class T>
union BroadcastBuffer {
    std::uint64_t words[Broadcast<T>::words];
    std::byte bytes[Broadcast<T>::words * 8];
};

}  // namespace detail

template <Record T>
class BroadcastWriter {
public:
    BroadcastWriter(BroadcastWriter&& other) noexcept
        : region_(std::move(other.region_)), view_(other.view_), fork_(other.fork_),
          tail_(other.tail_), open_(std::exchange(other.open_, false)) {}
    BroadcastWriter& operator=(BroadcastWriter&&) = delete;
    BroadcastWriter(const BroadcastWriter&) = delete;
    BroadcastWriter& operator=(const BroadcastWriter&) = delete;
    ~BroadcastWriter() { close(); }

    // Publishes one record, overwriting the oldest. Wait-free; no system call unless a reader
    // sleeps. Returns false, publishing nothing, in a child that inherited this writer through
    // fork().
    bool publish(const T& record) noexcept {
        if (fork_.forked()) return false;
        const std::uint64_t p = tail_;
        write_slot(p, record);
        ++tail_;
        announce(p);
        return true;
    }

    // Publishes a batch; the tail and the wake-up check are published once.
    bool publish(std::span<const T> records) noexcept {
        if (fork_.forked()) return false;
        if (records.empty()) return true;
        const std::uint64_t first = tail_;
        for (const T& r : records) {
            write_slot(tail_, r);
            ++tail_;
        }
        announce(first);
        return true;
    }

    std::uint64_t written() const noexcept { return tail_; }
    std::uint64_t capacity() const noexcept { return view_.capacity(); }

    // Marks the channel closed and wakes every reader; they drain what they can, then get
    // ReadStatus::closed. Idempotent; the destructor calls it.
    void close() noexcept {
        if (!open_) return;
        open_ = false;
        if (fork_.forked()) return;  // the parent's writer, not ours to close
        region_.mark_closed();
        detail::futex_wake_all(detail::low_half(view_.version(tail_)));
    }

    const Region& region() const noexcept { return region_; }

private:
    friend struct Broadcast<T>;

    explicit BroadcastWriter(Region region) : region_(std::move(region)), view_(region_) {
        // A replacing writer continues after its predecessor. A record it was writing when it
        // died (odd version) is simply overwritten; readers never accepted it. Relaxed: we
        // hold the writer role, so nobody else writes these.
        std::uint64_t t = view_.control->tail.load(std::memory_order_relaxed);
        if (view_.version(t).load(std::memory_order_relaxed) == 2 * t + 2) ++t;
        tail_ = t;
    }

    void write_slot(std::uint64_t p, const T& record) noexcept {
        detail::BroadcastBuffer<T> buffer{};
        std::memcpy(buffer.bytes, &record, sizeof(T));
        auto& version = view_.version(p);
        // 1-2: odd version before any payload word changes (the release fence orders it
        // before the payload stores for a reader whose acquire fence (c) follows a load that
        // saw one of them).
        version.store(2 * p + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        SHMREC_FAULT_POINT("broadcast.after_claim");
        detail::store_words_faultable(view_.payload(p), buffer.words, Broadcast<T>::words,
                                      "broadcast.mid_payload");
        SHMREC_FAULT_POINT("broadcast.before_commit");
        // 4. SYNC POINT WRITE: payload. Pairs with the reader's acquire load (a).
        version.store(2 * p + 2, std::memory_order_release);
    }

    void announce(std::uint64_t first) noexcept {
        // 5. Release pairs with a lapped reader's acquire load of tail (e).
        view_.control->tail.store(tail_, std::memory_order_release);
        // 6. Dekker pair with the reader's park(): see CellWriter::publish.
        detail::full_fence();
        if (view_.board->waiters.load(std::memory_order_relaxed) != 0) {
            detail::futex_wake_all(detail::low_half(view_.version(first)));
        }
    }

    Region region_;
    detail::BroadcastView<T> view_;
    detail::ForkStamp fork_;
    std::uint64_t tail_ = 0;
    bool open_ = true;
};

template <Record T>
class BroadcastReader {
public:
    BroadcastReader(BroadcastReader&&) noexcept = default;
    BroadcastReader& operator=(BroadcastReader&&) = delete;
    BroadcastReader(const BroadcastReader&) = delete;
    BroadcastReader& operator=(const BroadcastReader&) = delete;
    ~BroadcastReader() = default;

    // Copies the next record into `out`. After a lap it continues from the oldest intact
    // record and adds the skipped ones to lost().
    [[nodiscard]] ReadStatus try_read(T& out) noexcept {
        if (fork_.forked()) return ReadStatus::handle_forked;
        for (int attempt = 0; attempt < max_attempts; ++attempt) {
            const std::uint64_t r = position_;
            auto& version = view_.version(r);
            // (a) SYNC POINT READ: payload. Acquire pairs with the writer's release (4).
            const std::uint64_t v1 = version.load(std::memory_order_acquire);
            const std::int64_t d = detail::ahead(v1, 2 * r + 2);
            if (d < 0) {
                const ReadStatus s = empty_status(r);
                if (s == ReadStatus::ok) continue;  // it arrived meanwhile
                return s;
            }
            if (d == 0) {
                detail::BroadcastBuffer<T> buffer;
                detail::load_words(buffer.words, view_.payload(r), Broadcast<T>::words);
                std::atomic_thread_fence(std::memory_order_acquire);  // (c)
                if (version.load(std::memory_order_relaxed) == v1) {  // (d)
                    std::memcpy(&out, buffer.bytes, sizeof(T));
                    ++position_;
                    ++received_;
                    return ReadStatus::ok;
                }
            }
            if (!skip_lapped(r)) return ReadStatus::corrupt;
        }
        // Lapped on every attempt: the writer outruns the copy. Report, don't spin forever.
        return ReadStatus::empty;
    }

    // Waits up to `timeout` for the next record.
    [[nodiscard]] ReadStatus read(T& out, std::chrono::nanoseconds timeout) noexcept {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const ReadStatus s = try_read(out);
            if (s != ReadStatus::empty) return s;
            if (std::chrono::steady_clock::now() >= deadline) return ReadStatus::timeout;
            const auto outcome = detail::wait_loop(
                deadline - std::chrono::steady_clock::now(), wait_, liveness_,
                [&] { return available() || closed(); }, [&] { return region_.writer_alive(); },
                [&](std::chrono::nanoseconds slice) { park(slice); });
            if (outcome == detail::WaitOutcome::ready) continue;
            const ReadStatus last = try_read(out);
            if (last != ReadStatus::empty) return last;
            return outcome == detail::WaitOutcome::peer_gone ? ReadStatus::writer_gone
                                                             : ReadStatus::timeout;
        }
    }

    std::uint64_t received() const noexcept { return received_; }
    std::uint64_t lost() const noexcept { return lost_; }
    std::uint64_t position() const noexcept { return position_; }  // next record to read
    std::uint64_t start_position() const noexcept { return start_; }
    std::uint64_t capacity() const noexcept { return view_.capacity(); }
    bool writer_alive() const noexcept { return region_.writer_alive(); }
    bool closed() const noexcept { return view_.closed(); }

    const Region& region() const noexcept { return region_; }

private:
    friend struct Broadcast<T>;
    static constexpr int max_attempts = 64;
    static constexpr std::int64_t max_plausible_lead = std::int64_t{1} << 48;

    BroadcastReader(Region region, StartAt start, const WaitOptions& wait)
        : region_(std::move(region)), view_(region_), wait_(wait) {
        // Acquire pairs with the writer's release of tail (5).
        const std::uint64_t t = view_.control->tail.load(std::memory_order_acquire);
        const std::uint64_t cap = view_.capacity();
        if (start == StartAt::newest) {
            start_ = t > 0 ? t - 1 : 0;
        } else {
            start_ = t > cap ? t - cap : 0;  // a lap during the first read is caught as usual
        }
        position_ = start_;
    }

    // True when the slot at our position holds our record or a later one.
    bool available() const noexcept {
        // Relaxed: a hint for the wait loop; try_read() does the synchronising load.
        return detail::ahead(view_.version(position_).load(std::memory_order_relaxed),
                             2 * position_ + 2) >= 0;
    }

    // Moves past a lap: the writer is at least one capacity ahead, so everything from our
    // position up to the oldest slot it cannot be rewriting right now is lost.
    bool skip_lapped(std::uint64_t r) noexcept {
        // (e) Acquire pairs with the writer's release of tail (5).
        const std::uint64_t t = view_.control->tail.load(std::memory_order_acquire);
        const std::int64_t lead = detail::ahead(t, r);
        // A healthy writer's tail is never behind a position whose slot it already rewrote,
        // nor 2^48 records (days at 10^9 records/s) ahead of a reader: a forged tail is
        // reported as corrupt instead of becoming an absurd lost() count.
        if (lead < 0 || lead > max_plausible_lead) return false;
        // Positions [t + 1 - capacity, t) are intact (slot t may be mid-write); skip at least r.
        const std::uint64_t cap = view_.capacity();
        const auto span = static_cast<std::uint64_t>(lead) + 1;
        const std::uint64_t skip = span > cap ? span - cap : 1;
        lost_ += skip;
        position_ = r + skip;
        return true;
    }

    ReadStatus empty_status(std::uint64_t r) noexcept {
        auto complete = [&] {
            return detail::ahead(view_.version(r).load(std::memory_order_acquire), 2 * r + 2) >= 0;
        };
        // Acquire (Region::state) pairs with the writer's release in mark_closed.
        if (closed()) return complete() ? ReadStatus::ok : ReadStatus::closed;
        if (!liveness_.peer_alive(wait_.liveness_interval, [&] { return region_.writer_alive(); })) {
            return complete() ? ReadStatus::ok : ReadStatus::writer_gone;
        }
        return ReadStatus::empty;
    }

    void park(std::chrono::nanoseconds slice) noexcept {
        // Dekker pair with the writer's announce(): register, then re-check with seq_cst.
        view_.board->waiters.fetch_add(1, std::memory_order_seq_cst);
        auto& version = view_.version(position_);
        const std::uint64_t v = version.load(std::memory_order_seq_cst);
        if (detail::ahead(v, 2 * position_ + 2) < 0 && !closed()) {
            SHMREC_FAULT_POINT("wait.before_sleep");
            detail::futex_wait(detail::low_half(version), static_cast<std::uint32_t>(v), slice);
        }
        // Relaxed: the count only decides whether the writer bothers to wake anyone.
        view_.board->waiters.fetch_sub(1, std::memory_order_relaxed);
    }

    Region region_;
    detail::BroadcastView<T> view_;
    WaitOptions wait_;
    detail::LivenessClock liveness_;
    detail::ForkStamp fork_;
    std::uint64_t start_ = 0;
    std::uint64_t position_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t lost_ = 0;
};

template <Record T>
BroadcastWriter<T> Broadcast<T>::writer(const Location& where, std::uint64_t capacity,
                                        OpenMode mode, const RegionOptions& options) {
    return detail::resolve_open_mode(
        mode,
        [&] {
            detail::check_capacity(where, "broadcast", capacity);
            return BroadcastWriter<T>(Region::create(where, spec(capacity), options));
        },
        [&] {
            Region region = Region::open(where, Role::writer, spec(0), options);
            detail::check_slot_geometry(region, sizeof(detail::BroadcastControl), stride);
            return BroadcastWriter<T>(std::move(region));
        });
}

template <Record T>
BroadcastReader<T> Broadcast<T>::reader(const Location& where, StartAt start,
                                        const RegionOptions& options, const WaitOptions& wait) {
    Region region = Region::open(where, Role::reader, spec(0), options);
    detail::check_slot_geometry(region, sizeof(detail::BroadcastControl), stride);
    return BroadcastReader<T>(std::move(region), start, wait);
}

}  // namespace shmrec
