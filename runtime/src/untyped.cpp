// Run-time-typed channel handles, the ring and byte ring observers and the channel monitor
// (untyped.hpp).
// The protocols themselves are the typed channels' cores (cell.hpp, broadcast.hpp), here
// instantiated with detail::DynamicRecord; what is new is only the observer's position rule.
#include "shmrec/untyped.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <atomic>
#include <cstring>
#include <utility>

#include "region_names.hpp"
#include "shmrec/detail/broadcast_layout.hpp"
#include "shmrec/byte_broadcast.hpp"
#include "shmrec/detail/byte_ring_layout.hpp"
#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/event_word.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/detail/sequence.hpp"
#include "shmrec/detail/word_copy.hpp"
#include "shmrec/error.hpp"

namespace shmrec {

RecordType RecordType::of(const RegionInfo& info) {
    return {info.record_name, info.record_size,   info.record_alignment,
            info.fingerprint, info.schema,        info.binary_schema};
}

namespace {

detail::RecordIdentity identity(const RecordType& type) noexcept {
    return {type.name, type.size, type.alignment, type.fingerprint, type.schema,
            std::span<const std::uint8_t>(type.binary_schema)};
}

template <detail::ChannelDescriptor D>
detail::RuntimeSlots slots_of(const RecordType& type) noexcept {
    return detail::runtime_slots<D>(type.size, type.alignment);
}

// A reader opens whatever record type the region holds: the header says which, and
// open_channel then validates the region against it like any typed opener. The schemas are
// taken from the region actually opened (the name may have changed hands in between; if the
// record differs, open_channel has refused it).
template <detail::ChannelDescriptor D>
std::pair<Region, RecordType> open_any(const Location& where, Role role,
                                       const RegionOptions& options) {
    RecordType type = RecordType::of(inspect_region(where, options));
    Region region = detail::open_channel<D>(where, role, identity(type), options);
    type.schema = region.schema();
    type.binary_schema = region.binary_schema();
    return {std::move(region), std::move(type)};
}

// Describes a region and maps it without a role, making sure both are the same region: should
// the name change hands between inspect_region and the mapping, look again (a few tries).
std::pair<Region, RegionInfo> open_described(const Location& where, const RegionOptions& options) {
    for (int attempt = 0;; ++attempt) {
        RegionInfo info = inspect_region(where, options);
        Region region = detail::RegionAccess::open_inspector(where, options);
        const CreatorInfo c = region.creator();
        if (c.pid == info.creator.pid && c.start_time == info.creator.start_time &&
            c.creation_time_ns == info.creator.creation_time_ns) {
            return {std::move(region), std::move(info)};
        }
        if (attempt == 3) {
            throw Error(ErrorCode::init_timeout, where.name,
                        fmt::format("{} was replaced {} times while it was being opened",
                                    detail::display_name(where), attempt + 1));
        }
    }
}

void expect_kind(const Location& where, ChannelKind found, ChannelKind wanted) {
    if (found == wanted) return;
    throw Error(ErrorCode::wrong_kind, where.name,
                fmt::format("{} is a {}, not a {}", detail::display_name(where), to_string(found),
                            to_string(wanted)));
}

}  // namespace

namespace untyped {

CellWriter::CellWriter(Region region, RecordType type, const WaitOptions& wait)
    : CellWriterCore(std::move(region), wait, slots_of<detail::CellDescriptor>(type)),
      type_(std::move(type)) {}

CellReader::CellReader(Region region, RecordType type, const WaitOptions& wait)
    : CellReaderCore(std::move(region), wait, slots_of<detail::CellDescriptor>(type)),
      type_(std::move(type)) {}

BroadcastWriter::BroadcastWriter(Region region, RecordType type, const WaitOptions& wait)
    : BroadcastWriterCore(std::move(region), wait, slots_of<detail::BroadcastDescriptor>(type)),
      type_(std::move(type)) {}

BroadcastReader::BroadcastReader(Region region, StartAt start, RecordType type,
                                 const WaitOptions& wait)
    : BroadcastReaderCore(std::move(region), start, wait,
                          slots_of<detail::BroadcastDescriptor>(type)),
      type_(std::move(type)) {}

CellWriter cell_writer(const Location& where, const RecordType& type, OpenMode mode,
                       const RegionOptions& options, const WaitOptions& wait) {
    const auto id = identity(type);
    detail::check_record(where, id);
    return CellWriter(detail::writer_region<detail::CellDescriptor>(
                          where, id, detail::CellDescriptor::slot_count, mode, options),
                      type, wait);
}

CellReader cell_reader(const Location& where, const RegionOptions& options,
                       const WaitOptions& wait) {
    auto [region, type] = open_any<detail::CellDescriptor>(where, Role::reader, options);
    return CellReader(std::move(region), std::move(type), wait);
}

BroadcastWriter broadcast_writer(const Location& where, const RecordType& type,
                                 std::uint64_t capacity, OpenMode mode,
                                 const RegionOptions& options, const WaitOptions& wait) {
    const auto id = identity(type);
    detail::check_record(where, id);
    return BroadcastWriter(
        detail::writer_region<detail::BroadcastDescriptor>(where, id, capacity, mode, options),
        type, wait);
}

BroadcastReader broadcast_reader(const Location& where, StartAt start,
                                 const RegionOptions& options, const WaitOptions& wait) {
    auto [region, type] = open_any<detail::BroadcastDescriptor>(where, Role::reader, options);
    return BroadcastReader(std::move(region), start, std::move(type), wait);
}

// ---- ring writer and consumer ---------------------------------------------------------

RingWriter::RingWriter(Region region, RecordType type, const WaitOptions& wait)
    : RingWriterCore(std::move(region), wait, slots_of<detail::RingDescriptor>(type)),
      type_(std::move(type)) {}

RingReader::RingReader(Region region, RecordType type, const WaitOptions& wait)
    : RingReaderCore(std::move(region), wait, slots_of<detail::RingDescriptor>(type)),
      type_(std::move(type)) {}

RingWriter ring_writer(const Location& where, const RecordType& type, std::uint64_t capacity,
                       OpenMode mode, const RegionOptions& options, const WaitOptions& wait) {
    const auto id = identity(type);
    detail::check_record(where, id);
    return RingWriter(
        detail::writer_region<detail::RingDescriptor>(where, id, capacity, mode, options), type,
        wait);
}

RingReader ring_reader(const Location& where, const RegionOptions& options,
                       const WaitOptions& wait) {
    auto [region, type] = open_any<detail::RingDescriptor>(where, Role::consumer, options);
    return RingReader(std::move(region), std::move(type), wait);
}

// ---- ring observer ----------------------------------------------------------------------

namespace {

constexpr int observer_attempts = 64;

}  // namespace

RingObserver ring_observer(const Location& where, const RegionOptions& options,
                           const WaitOptions& wait) {
    auto [region, info] = open_described(where, options);
    expect_kind(where, info.kind, ChannelKind::ring);
    // A format 2.0 ring writer never stores RingControl::claimed, and without it a copy of a
    // slot being overwritten cannot be told from a good one: refuse rather than guess. (A 2.0
    // writer that takes a 2.1 ring over cannot be detected: docs/ring-protocol.md.)
    if (info.format_minor < 1) {
        throw Error(ErrorCode::version_mismatch, where.name,
                    fmt::format("{} is a format {}.{} ring: observing a ring needs format {}.1 "
                                "(its writer publishes the slot it is writing)",
                                info.name, info.format_major, info.format_minor, format_major));
    }
    // The stride bounds every payload copy: the mapped region must have the geometry its
    // record implies.
    RecordType type = RecordType::of(info);
    detail::check_geometry<detail::RingDescriptor>(region, type.size, type.alignment);
    return RingObserver(std::move(region), std::move(type), wait);
}

RingObserver::RingObserver(Region region, RecordType type, const WaitOptions& wait)
    : Endpoint(std::move(region), wait),
      view_(region_, slots_of<detail::RingDescriptor>(type)), type_(std::move(type)) {
    // Start at the consumer's position: the oldest record not yet consumed. Relaxed: which
    // position we start at is a matter of taste; every copy is validated by its slot's seq.
    start_ = view_.control->head.load(std::memory_order_relaxed);
    position_ = start_;
}

// The record at our position, moving past records overwritten before we copied them.
ReadStatus RingObserver::next(std::byte* out) noexcept {
    const std::uint64_t cap = view_.capacity();
    const auto& claimed = view_.control->claimed;
    for (int attempt = 0; attempt < observer_attempts; ++attempt) {
        const std::uint64_t p = position_;
        const auto& seq = view_.slot(p).seq;
        // SYNC POINT READ: payload. Acquire pairs with the writer's release commit of seq (3
        // in ring.hpp): the payload of record p is visible.
        const std::uint64_t v = seq.load(std::memory_order_acquire);
        if (v == p + 1) {
            detail::load_words(out, reinterpret_cast<const std::uint64_t*>(view_.payload(p)),
                               view_.shape.record_size);
            // As the seqlock's reader (c-d): if any word we copied came from a later record
            // (p + cap or beyond), the writer's claim of it (relaxed store + release fence
            // before its payload stores) is ordered before these relaxed loads.
            std::atomic_thread_fence(std::memory_order_acquire);
            const std::uint64_t c = claimed.load(std::memory_order_relaxed);
            if (seq.load(std::memory_order_relaxed) != v) continue;  // overwritten: look again
            if (detail::ahead(c, p + cap) <= 0) {  // the writer has not begun p + cap
                ++position_;
                ++received_;
                return ReadStatus::ok;
            }
            // The writer has begun p + cap: record p is going or gone.
            if (!skip_to(p, c - 1)) return ReadStatus::corrupt;
            continue;
        }
        // The slot holds another position: p + d.
        const std::int64_t d = detail::ahead(v, p + 1);
        if (d <= 0) return ReadStatus::empty;  // an older record: p is not written yet
        // A later lap. A healthy writer reuses a slot a whole number of laps on.
        if ((static_cast<std::uint64_t>(d) & view_.mask) != 0) return ReadStatus::corrupt;
        // Acquire pairs with the writer's release fence after its claim: it may have begun
        // more than p + d.
        const std::uint64_t c = claimed.load(std::memory_order_acquire);
        const std::uint64_t front =
            detail::ahead(c - 1, p + static_cast<std::uint64_t>(d)) > 0 ? c - 1
                                                                         : p + static_cast<std::uint64_t>(d);
        if (!skip_to(p, front)) return ReadStatus::corrupt;
    }
    return ReadStatus::contended;
}

// The writer has begun position `front`, so every position before it (it writes in order):
// the slots of positions below front + 1 - cap are overwritten or being so. Continue at
// max(p + 1, front + 1 - cap), counting every position skipped as missed. False when `front`
// is implausible (2^48 records ahead: a hostile or damaged region), never an absurd count.
bool RingObserver::skip_to(std::uint64_t p, std::uint64_t front) noexcept {
    const std::int64_t lead = detail::ahead(front, p);
    if (lead <= 0 || lead > detail::max_plausible_lead) return false;
    const std::uint64_t oldest_intact = front + 1 - view_.capacity();
    const std::uint64_t next = detail::ahead(oldest_intact, p + 1) > 0 ? oldest_intact : p + 1;
    missed_ += next - p;
    position_ = next;
    return true;
}

// Nothing at our position: tell "not yet" from "never again". What the writer committed
// before it closed or died still counts.
ReadStatus RingObserver::empty_status(std::byte* out) noexcept {
    // Acquire (region_closed) pairs with the writer's release in mark_closed.
    const bool closed_now = closed();
    if (!closed_now && peer_alive([&] { return region_.writer_alive(); })) {
        return ReadStatus::empty;
    }
    const ReadStatus again = next(out);
    if (again != ReadStatus::empty) return again;
    return closed_now ? ReadStatus::closed : ReadStatus::writer_gone;
}

ReadStatus RingObserver::try_read(std::span<std::byte> out) noexcept {
    if (!usable()) return refusal<ReadStatus>();
    if (out.size() != type_.size) return ReadStatus::wrong_size;
    ReadStatus s = next(out.data());
    if (s == ReadStatus::empty) s = empty_status(out.data());
    return s;
}

ReadStatus RingObserver::read(std::span<std::byte> out, std::chrono::nanoseconds timeout) noexcept {
    if (!usable()) return refusal<ReadStatus>();
    if (out.size() != type_.size) return ReadStatus::wrong_size;
    const auto deadline = detail::deadline_after(timeout);
    for (;;) {
        const ReadStatus s = try_read(out);
        if (s != ReadStatus::empty && s != ReadStatus::contended) return s;
        if (detail::SteadyClock::now() >= deadline) {
            return s == ReadStatus::empty ? ReadStatus::timeout : s;
        }
        // The ring's doorbells and waiter bits belong to its writer and consumer: poll. A
        // sleep is ~1 ms, so the deadline may be overrun by up to that.
        if (s == ReadStatus::empty) detail::sleep_a_little();
    }
}

// ---- byte ring observer -----------------------------------------------------------------

ByteRingObserver byte_ring_observer(const Location& where, StartAt start,
                                    const RegionOptions& options, const WaitOptions& wait) {
    auto [region, info] = open_described(where, options);
    expect_kind(where, info.kind, ChannelKind::byte_ring);
    // Every frame read is bounded by the capacity: the mapping must hold the buffer it claims.
    detail::check_geometry<detail::ByteRingDescriptor>(region, 1, 1);
    return ByteRingObserver(std::move(region), start, RecordType::of(info), wait);
}

ByteRingObserver::ByteRingObserver(Region region, StartAt start, RecordType type,
                                   const WaitOptions& wait)
    : Endpoint(std::move(region), wait), view_(region_), type_(std::move(type)) {
    const auto& ctl = *view_.control;
    // Acquire on head pairs with the consumer's release (c), on tail with the writer's (7):
    // the count each side stored (relaxed) before is visible, so it is at least the number of
    // the message at that position (a later one if the side moved on meanwhile; count() then
    // lowers the expectation without counting a loss). Where we start needs no more: every
    // frame is checked as it is copied.
    if (start == StartAt::newest) {
        position_ = ctl.ring.tail.load(std::memory_order_acquire);
        next_sequence_ = ctl.messages.written.load(std::memory_order_relaxed);
    } else {
        position_ = ctl.ring.head.load(std::memory_order_acquire);
        next_sequence_ = ctl.messages.read.load(std::memory_order_relaxed);
    }
    start_sequence_ = next_sequence_;
}

// The message at our position, moving past padding and past frames reused before we copied
// them. Steps as in the header comment.
ReadStatus ByteRingObserver::next(std::vector<std::byte>& out) {
    const std::uint64_t cap = view_.capacity();
    const auto& ring = view_.control->ring;
    for (int attempt = 0; attempt < observer_attempts; ++attempt) {
        const std::uint64_t p = position_;
        // A frame start is 16-aligned, so its state word lies inside the buffer. Only a hostile
        // head or tail (where we started or resynchronised) puts us anywhere else.
        if (p % detail::frame_alignment != 0) return ReadStatus::corrupt;
        // (1) SYNC POINT READ: frame. Acquire pairs with the writer's release of the state (5)
        // and (6): the size, sequence and payload of a committed frame are visible.
        std::uint64_t state = view_.state(p).load(std::memory_order_acquire);
        auto committed = [&] {
            return detail::state_extent(state) > 0 &&
                   (detail::state_tag(state) & detail::lap_tag_mask) == view_.lap(p);
        };
        if (!committed()) {
            // Not yet written, or written and reused since (the word cleared, a later frame
            // being filled, or a later lap's payload bytes). The claim is stored before every
            // frame, tail only once per batch (7): a claim a lap past us says "reused" even
            // while a batch holds tail back. Relaxed: a hint, resync() re-reads what it needs.
            // A claim resync() finds no plausible place for (one forged far ahead) leaves us
            // at p: then the tail decides, as if the claim were not there (not an endless
            // resync to p answered as contended).
            if (detail::ahead(ring.claimed.load(std::memory_order_relaxed), p + cap) > 0) {
                if (!resync(p)) return ReadStatus::corrupt;
                if (position_ != p) continue;
            }
            // Acquire pairs with the writer's release of tail (7): every frame below it was
            // committed before.
            const std::uint64_t t = ring.tail.load(std::memory_order_acquire);
            if (detail::ahead(t, p) <= 0) return ReadStatus::empty;
            // Committed before `t`: look again (acquire, as above); still not committed means
            // the writer has reused it.
            state = view_.state(p).load(std::memory_order_acquire);
            if (!committed()) {
                if (!resync(p)) return ReadStatus::corrupt;
                continue;
            }
        }
        const std::uint64_t extent = detail::committed_extent(state, p, view_.lap(p), cap);
        const bool padding = (detail::state_tag(state) & detail::padding_tag_bit) != 0;
        bool sane = extent != 0;
        std::uint64_t sequence = 0;
        std::size_t size = 0;
        if (sane && !padding) {
            // (2) Relaxed atomic words: the writer may be reusing these bytes right now; (3)-(4)
            // tell. Sizes are checked before any payload byte is read.
            const auto* frame = reinterpret_cast<const std::uint64_t*>(&view_.frame(p));
            const std::uint64_t packed = detail::load_word(frame + 1);
            sequence = detail::load_word(frame + 2);
            size = static_cast<std::uint32_t>(packed);
            const std::uint64_t offset = packed >> 32;
            const std::uint64_t body = extent - detail::frame_header_size;
            sane = offset <= body && size <= body - offset;
            if (sane) {
                // The payload starts anywhere: copy the 8-byte words that cover it (inside the
                // frame, whose end is 16-aligned), then drop the bytes before it.
                const std::uint64_t first = detail::frame_header_size + offset;
                const std::size_t lead = first % 8;
                out.resize(lead + size);
                detail::load_words(out.data(), frame + first / 8, lead + size);
                out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(lead));
            }
        }
        // (3)-(4) SYNC POINT READ: reuse. The acquire fence pairs with the writer's release
        // fence after its claim: a claim of bytes we copied is visible here.
        std::atomic_thread_fence(std::memory_order_acquire);
        const std::uint64_t c = ring.claimed.load(std::memory_order_relaxed);
        if (detail::ahead(c, p + cap) > 0) {  // the writer has begun reusing the bytes at p
            if (!resync(p)) return ReadStatus::corrupt;
            continue;
        }
        // Intact, and no healthy writer makes such a frame: framing is lost, stay here.
        if (!sane) return ReadStatus::corrupt;
        position_ = p + extent;
        if (padding) continue;
        count(sequence);
        return ReadStatus::ok;
    }
    return ReadStatus::contended;
}

// The frame at `p` was reused before we copied it; frames carry no back-pointers, so continue
// at the oldest position known to start a frame that may still be intact:
//   - the start of the writer's current lap (claimed rounded down to the capacity): a lap
//     always starts with a frame (padding fills the end of the buffer), and the writer has
//     not reused any byte of it yet; from there the observer walks the frames the consumer
//     freed but the writer has not reused, as it does when it keeps up;
//   - the consumer's head, when it is older (a consumer a lap behind): a healthy writer reuses
//     p only once the consumer is past it (head >= claimed - capacity > p), and nothing from
//     the head on is reused before the consumer moves on.
// Both relaxed: they only say where to look; the frame there is checked like any other. A
// candidate must be plausible: 16-aligned, after p, less than 2^48 ahead (a hostile or stale
// value is skipped). Failing both, the writer's tail (acquire, as in next()); failing that too,
// false (corrupt), unless the tail is not past p yet: then look at p again (the caller's
// attempts are bounded).
bool ByteRingObserver::resync(std::uint64_t p) noexcept {
    const auto& ring = view_.control->ring;
    auto plausible = [&](std::uint64_t q) {
        const std::int64_t lead = detail::ahead(q, p);
        return q % detail::frame_alignment == 0 && lead > 0 && lead <= detail::max_plausible_lead;
    };
    const std::uint64_t lap_start = ring.claimed.load(std::memory_order_relaxed) & ~view_.mask;
    const std::uint64_t head = ring.head.load(std::memory_order_relaxed);
    const bool lap_ok = plausible(lap_start);
    const bool head_ok = plausible(head);
    if (lap_ok || head_ok) {
        position_ = !head_ok                                   ? lap_start
                    : !lap_ok                                  ? head
                    : detail::ahead(lap_start, head) < 0 ? lap_start
                                                               : head;
        return true;
    }
    const std::uint64_t tail = ring.tail.load(std::memory_order_acquire);
    if (plausible(tail)) {
        position_ = tail;
        return true;
    }
    return tail % detail::frame_alignment == 0 && detail::ahead(tail, p) <= 0;
}

// A message numbered `sequence` was copied: the numbers between the expected one and it were
// missed. A number behind the expected one (a counter we read ahead of its frame, a writer that
// restarted its count after a damaged tail) or implausibly far ahead lowers or moves the
// expectation without counting anything.
void ByteRingObserver::count(std::uint64_t sequence) noexcept {
    const std::int64_t gap = detail::ahead(sequence, next_sequence_);
    if (gap > 0 && gap <= detail::max_plausible_lead) {
        missed_ += static_cast<std::uint64_t>(gap);
    } else if (gap < 0 && received_ == 0 && missed_ == 0) {
        start_sequence_ = sequence;  // the first message: our counter was read ahead of it
    }
    sequence_ = sequence;
    next_sequence_ = sequence + 1;
    ++received_;
}

ReadStatus ByteRingObserver::empty_status(std::vector<std::byte>& out) {
    // Acquire (region_closed) pairs with the writer's release in mark_closed.
    const bool closed_now = closed();
    if (!closed_now && peer_alive([&] { return region_.writer_alive(); })) {
        return ReadStatus::empty;
    }
    const ReadStatus again = next(out);
    if (again != ReadStatus::empty) return again;
    return closed_now ? ReadStatus::closed : ReadStatus::writer_gone;
}

ReadStatus ByteRingObserver::try_read(std::vector<std::byte>& out) {
    if (!usable()) return refusal<ReadStatus>();
    ReadStatus s = next(out);
    if (s == ReadStatus::empty) s = empty_status(out);
    return s;
}

ReadStatus ByteRingObserver::read(std::vector<std::byte>& out, std::chrono::nanoseconds timeout) {
    if (!usable()) return refusal<ReadStatus>();
    const auto deadline = detail::deadline_after(timeout);
    for (;;) {
        const ReadStatus s = try_read(out);
        if (s != ReadStatus::empty && s != ReadStatus::contended) return s;
        if (detail::SteadyClock::now() >= deadline) {
            return s == ReadStatus::empty ? ReadStatus::timeout : s;
        }
        // The ring's doorbells and waiter bits belong to its writer and consumer: poll.
        if (s == ReadStatus::empty) detail::sleep_a_little();
    }
}

}  // namespace untyped

// ---- channel monitor --------------------------------------------------------------------

struct ChannelMonitor::Impl {
    Region region;
    RegionInfo info;
};

ChannelMonitor::ChannelMonitor(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ChannelMonitor::ChannelMonitor(ChannelMonitor&&) noexcept = default;
ChannelMonitor& ChannelMonitor::operator=(ChannelMonitor&&) noexcept = default;
ChannelMonitor::~ChannelMonitor() = default;

ChannelMonitor ChannelMonitor::open(const Location& where, const RegionOptions& options) {
    auto [region, info] = open_described(where, options);
    // Only the control block is read: the data area must hold it (and the geometry be the one
    // the header's record implies).
    const std::uint32_t size = info.record_size;
    const std::uint32_t alignment = info.record_alignment;
    switch (info.kind) {
        case ChannelKind::cell:
            detail::check_geometry<detail::CellDescriptor>(region, size, alignment);
            break;
        case ChannelKind::ring:
            detail::check_geometry<detail::RingDescriptor>(region, size, alignment);
            break;
        case ChannelKind::broadcast:
            detail::check_geometry<detail::BroadcastDescriptor>(region, size, alignment);
            break;
        case ChannelKind::byte_ring:
            detail::check_geometry<detail::ByteRingDescriptor>(region, size, alignment);
            break;
        case ChannelKind::byte_broadcast:
            detail::check_geometry<detail::ByteBroadcastDescriptor>(region, size, alignment);
            break;
    }
    return ChannelMonitor(std::make_unique<Impl>(Impl{std::move(region), std::move(info)}));
}

const RegionInfo& ChannelMonitor::info() const noexcept { return impl_->info; }

bool ChannelMonitor::writer_alive() const noexcept { return impl_->region.writer_alive(); }

// Every figure comes from shared memory other processes write: loaded relaxed (for display,
// nothing is read because of them), impossible ones clamped, every loop bounded by the
// private geometry (256 reader slots at most).
ChannelState ChannelMonitor::state() const {
    const Region& region = impl_->region;
    ChannelState s;
    s.kind = impl_->info.kind;
    s.capacity = region.geometry().capacity;
    std::byte* data = detail::RegionAccess::data(region);
    constexpr auto relaxed = std::memory_order_relaxed;
    switch (s.kind) {
        case ChannelKind::cell: {
            const auto* control = reinterpret_cast<const detail::CellControl*>(data);
            s.written = control->latest.load(relaxed);
            s.oldest = s.written;
            break;
        }
        case ChannelKind::broadcast: {
            const auto* control = reinterpret_cast<const detail::BroadcastControl*>(data);
            s.written = control->tail.load(relaxed);
            s.oldest = s.written > s.capacity ? s.written - s.capacity : 0;
            break;
        }
        case ChannelKind::ring: {
            const auto* control = reinterpret_cast<const detail::RingControl*>(data);
            // Head first: the consumer's head never passes the tail it has seen, so loading
            // head before tail keeps a healthy pair in order even when both move meanwhile.
            const std::uint64_t head = control->head.load(relaxed);
            s.written = control->tail.load(relaxed);
            const std::int64_t behind = detail::ahead(s.written, head);
            // A head past the tail, or more than a lap behind it, is impossible: clamp.
            s.oldest = behind < 0 ? s.written
                       : static_cast<std::uint64_t>(behind) > s.capacity ? s.written - s.capacity
                                                                          : head;
            s.writer_waiting = (control->writer_waiting.load(relaxed) & 1) != 0;
            s.consumer_waiting = (control->consumer_waiting.load(relaxed) & 1) != 0;
            return s;  // a ring has no reader slots
        }
        case ChannelKind::byte_ring: {
            // Counted in messages (the byte positions are the buffer's business). Read before
            // written, as head before tail above; a count past the written one is clamped.
            const auto* control = reinterpret_cast<const detail::ByteRingControl*>(data);
            const std::uint64_t read = control->messages.read.load(relaxed);
            s.written = control->messages.written.load(relaxed);
            s.oldest = detail::ahead(s.written, read) < 0 ? s.written : read;
            s.writer_waiting = (control->ring.writer_waiting.load(relaxed) & 1) != 0;
            s.consumer_waiting = (control->ring.consumer_waiting.load(relaxed) & 1) != 0;
            return s;
        }
        case ChannelKind::byte_broadcast: {
            // Counted in messages. The oldest retained one is numbered in its frame: read only
            // when `oldest` is a frame start inside the buffer and the frame there is a
            // committed message of that lap (one relaxed word; for display, it may be stale).
            const auto* control = reinterpret_cast<const detail::ByteBroadcastControl*>(data);
            s.written = control->written.load(relaxed);
            s.oldest = s.written;
            const std::uint64_t at = control->oldest.load(relaxed);
            const std::uint64_t cap = s.capacity;
            if (at % detail::frame_alignment == 0 && cap >= detail::ByteBroadcastDescriptor::min_capacity) {
                const std::byte* buffer = data + sizeof(detail::ByteBroadcastControl);
                const auto* frame =
                    reinterpret_cast<const detail::FrameHeader*>(buffer + (at & (cap - 1)));
                const std::uint64_t state = frame->state.load(relaxed);
                const std::uint32_t lap = detail::lap_tag(at, static_cast<unsigned>(std::countr_zero(cap)));
                if (detail::committed_extent(state, at, lap, cap) != 0 &&
                    (detail::state_tag(state) & detail::padding_tag_bit) == 0) {
                    const std::uint64_t first = detail::load_word(&frame->sequence);
                    if (detail::ahead(s.written, first) >= 0) s.oldest = first;
                }
            }
            break;  // readers are on the board, as a broadcast's
        }
    }
    s.cursors = detail::RegionAccess::reader_cursor(region, 0) != nullptr;
    const detail::ReaderBoard& board = detail::RegionAccess::board(region);
    for (const std::uint32_t slot : detail::RegionAccess::live_reader_slots(region)) {
        if (slot >= detail::max_readers) continue;
        ReaderState r;
        r.slot = slot;
        r.waiting = ((board.waiting[slot / 64].load(relaxed) >> (slot % 64)) & 1) != 0;
        if (const detail::ReaderCursor* c = detail::RegionAccess::reader_cursor(region, slot)) {
            r.position = c->position.load(relaxed);
            r.received = c->received.load(relaxed);
            r.lost = c->lost.load(relaxed);
        }
        s.readers.push_back(r);
    }
    return s;
}

}  // namespace shmrec
