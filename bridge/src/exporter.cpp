#include "exporter.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <variant>
#include <vector>

#include <shmrec/error.hpp>
#include <shmrec/untyped.hpp>

#include "notice.hpp"
#include "status_clock.hpp"

namespace shmrec::bridge {

namespace {

using namespace std::chrono_literals;

// How long one wait on shared memory lasts before `stop` is looked at again. The broadcast's
// doorbell cannot be rung by the signal thread, so these waits are sliced (the transport's
// waits are woken instead).
constexpr std::chrono::milliseconds slice = 100ms;

std::uint64_t new_session() {
    std::random_device random;
    return (std::uint64_t{random()} << 32) ^ random();
}

// What every source is: a reader of the region, and the defaults of a source whose records
// stay in its region whatever the importers do and that loses none (a ring's, a broadcast's
// differ: they hide these).
template <class Reader>
class ReaderSource {
  public:
    struct Run {
        std::size_t count = 0;
        ReadStatus status = ReadStatus::ok;  // why nothing was read, when count is 0
        std::uint64_t first_position = 0;
        std::uint64_t lost_before = 0;
    };

    std::uint64_t lost() const noexcept { return 0; }
    void count_overwritten_at_open() noexcept {}
    bool awaits_written() const noexcept { return false; }
    void written_through(std::uint64_t) noexcept {}
    std::uint64_t capacity() const noexcept { return reader_.capacity(); }
    const RecordType& type() const noexcept { return reader_.type(); }
    const Region& region() const noexcept { return reader_.region(); }
    ReadStatus wait_for_writer(std::chrono::nanoseconds t) { return reader_.wait_for_writer(t); }

  protected:
    explicit ReaderSource(Reader reader) : reader_(std::move(reader)) {}
    Reader reader_;
};

// A broadcast's records: every one, in runs of consecutive positions. A batch is one
// read_run(): the records ready now, up to the buffer's size; a lap ends it, and the next
// batch reports the loss. So batches adapt to the load: one record when the writer is slow,
// as many as came in while the previous batch was sent when it is fast.
class BroadcastSource : public ReaderSource<untyped::BroadcastReader> {
  public:
    static constexpr SourceKind kind = SourceKind::broadcast;

    explicit BroadcastSource(untyped::BroadcastReader reader) : ReaderSource(std::move(reader)) {}

    Run read(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) {
        const BatchRead r = reader_.read_run(buffer, timeout);
        if (r.count == 0) return {0, r.status};
        const std::uint64_t lost = this->lost() - reported_lost_;
        reported_lost_ = this->lost();
        return {r.count, ReadStatus::ok, reader_.position() - r.count, lost};
    }
    std::uint64_t lost() const noexcept { return overwritten_at_open_ + reader_.lost(); }
    // A region the exporter waited for or followed (created anew): every record of it is the
    // exporter's to carry, so those its writer overwrote before the exporter opened it
    // (positions before the oldest retained) are lost at the source too, reported with the
    // first batch.
    void count_overwritten_at_open() noexcept { overwritten_at_open_ = reader_.start_position(); }

  private:
    std::uint64_t overwritten_at_open_ = 0;
    std::uint64_t reported_lost_ = 0;  // lost records already attributed to a batch
};

// A cell's latest value, each time it changes: a batch of one record at the position of its
// stamp. Values superseded before the exporter read them are no loss (a cell's readers see
// only the latest), so lost_before is always 0.
class CellSource : public ReaderSource<untyped::CellReader> {
  public:
    static constexpr SourceKind kind = SourceKind::cell;

    explicit CellSource(untyped::CellReader reader) : ReaderSource(std::move(reader)) {}

    Run read(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) {
        const ReadStatus s = reader_.read(buffer.first(reader_.type().size), timeout);
        if (s != ReadStatus::ok) return {0, s};
        return {1, ReadStatus::ok, reader_.sequence() - 1, 0};  // stamps start at 1
    }
    std::uint64_t capacity() const noexcept { return 1; }
};

// A ring's records, as its one consumer: lossless end to end. Records are copied without
// being consumed (peeked), published, and consumed only once the importer reports them
// written into B's region (Written). So the ring keeps every record until it is on B: an
// exporter or an importer that dies loses none (its successor gets them again, and the
// importer skips what it has), and a ring full of records not yet on B holds A's writer back.
// The ring's capacity is the window of records in flight.
class RingSource : public ReaderSource<untyped::RingReader> {
  public:
    static constexpr SourceKind kind = SourceKind::ring;

    explicit RingSource(untyped::RingReader reader) : ReaderSource(std::move(reader)) {}

    // The records after those already sent (peeked, not yet written on B).
    Run read(std::span<std::byte> buffer, std::chrono::nanoseconds timeout) {
        const std::uint64_t first = reader_.consumed() + reader_.peeked();
        const BatchRead r = reader_.peek_more(buffer, timeout);
        // `empty` after the wait saw the next record: a writer took it back between the wait
        // and the copy (a lying peer). Waited for again, as after a timeout: the wait and the
        // copy look at the same slot, so only a writer that keeps flipping it can repeat this.
        // (A cell's `empty` is a forged stamp that stays: not tolerated there.)
        if (r.count == 0) {
            return {0, r.status == ReadStatus::empty ? ReadStatus::timeout : r.status};
        }
        return {r.count, ReadStatus::ok, first, 0};
    }
    // Records sent and not yet reported written on B.
    bool awaits_written() const noexcept { return reader_.peeked() > 0; }
    // The importer has written every position before `next`: those records leave the ring.
    void written_through(std::uint64_t next) noexcept {
        const std::uint64_t head = reader_.consumed();
        if (next > head) (void)reader_.release(next - head);  // at most what was sent
    }
};

using Source = std::variant<BroadcastSource, CellSource, RingSource>;

// The region, once it exists, as a source of its kind; nullopt when asked to stop first.
// Throws shmrec::Error: wrong_kind for a region that is no broadcast, cell or ring;
// reader_active for a ring whose consumer role another process holds.
// `waited`: it did not exist at first.
std::optional<Source> open_region(const ExportOptions& options, const StopFlag& stop,
                                  bool& waited) {
    const Location where = Location::memory(options.region);
    RegionOptions wait_for_it;
    wait_for_it.wait_for_creator = slice;
    WaitOptions waiting;
    waiting.strategy = options.wait;
    bool told = false;
    while (!stop.requested()) {
        try {
            const RegionInfo info = inspect_region(where, wait_for_it);
            if (info.kind == ChannelKind::cell) {
                return Source(CellSource(untyped::cell_reader(where, {}, waiting)));
            }
            if (info.kind == ChannelKind::ring) {
                return Source(RingSource(untyped::ring_reader(where, {}, waiting)));
            }
            if (info.kind != ChannelKind::broadcast) {
                throw Error(ErrorCode::wrong_kind, options.region,
                            fmt::format("region '{}' is a {}: shmrec-bridge exports broadcasts, "
                                        "cells and rings of records",
                                        options.region, info.kind_name));
            }
            return Source(BroadcastSource(untyped::broadcast_reader(where, StartAt::oldest, {}, waiting)));
        } catch (const Error& e) {
            if (e.code() != ErrorCode::not_found && e.code() != ErrorCode::init_timeout) throw;
            if (!told) notice("waiting for region '{}' to be created", options.region);
            told = waited = true;
        }
    }
    return std::nullopt;
}

// True when the name no longer leads to the region `epoch` names: removed, or created again
// (a new region, positions from 0). Then the exporter opens the name again.
bool region_replaced(const ExportOptions& options, std::uint64_t epoch) {
    try {
        return source_epoch(inspect_region(Location::memory(options.region)).creator) != epoch;
    } catch (const Error&) {
        return true;  // gone or unreadable: open_region() waits for it, or says what is wrong
    }
}

// The importers subscribed to the topic, as the engine counts them, with a notice for each
// change.
class Importers {
  public:
    Importers(Publisher& publisher, const ExportOptions& options)
        : publisher_(publisher), options_(options) {}

    // Counts them again; waits while there are none. False when asked to stop first.
    bool await(const StopFlag& stop) {
        bool told = false;
        while (!stop.requested()) {
            const Subscriptions subscriptions = publisher_.subscribers();
            ever_ = subscriptions.ever;
            const std::size_t now = subscriptions.now;
            if (now != known_) {
                if (now > known_) {
                    notice("an importer subscribed to topic '{}' ({} now)", options_.topic, now);
                } else {
                    notice("an importer of topic '{}' left ({} now)", options_.topic, now);
                }
                known_ = now;
            }
            if (now > 0) return true;
            if (!told) notice("waiting for an importer of topic '{}'", options_.topic);
            told = true;
            if (publisher_.wait_for_subscriber(slice) == Wake::woken) return false;
        }
        return false;
    }
    std::size_t known() const noexcept { return known_; }
    // Every importer that has subscribed so far: grows with each new one (also one that
    // replaced another, the count staying the same).
    std::uint64_t ever() const noexcept { return ever_; }

  private:
    Publisher& publisher_;
    const ExportOptions& options_;
    std::size_t known_ = 0;
    std::uint64_t ever_ = 0;
};

// Why run_region() returned: asked to stop; the region was replaced (open the new one); or an
// importer subscribed after batches were sent (send the region again from its oldest record).
enum class RegionEnd : std::uint8_t { stop, replaced, rewind };

// Publishes the source's records until asked to stop or the region is replaced.
template <class SourceOfKind>
RegionEnd run_region(SourceOfKind& source, const Identity& identity,
                     Publisher& publisher, const ExportOptions& options, const StopFlag& stop,
                     ExportCounts& counts, StatusClock& status, Importers& importers) {
    const RecordKey record = RecordKey::of(identity.type);
    // No batch larger than an importer accepts (wire.hpp; check_identity() bounds the size).
    const std::size_t max_records = std::max<std::size_t>(
        1, std::min<std::size_t>(options.max_batch_records, max_batch_bytes / record.size));
    std::vector<std::byte> buffer(max_records * record.size);
    const std::uint64_t lost_before_region = counts.lost;
    bool writer_missing = false;
    bool sent = false;  // a batch of this opening of the region
    std::uint64_t subscribed = importers.ever();
    while (!stop.requested()) {
        // While no importer listens the records wait in the region (a writer that laps the
        // exporter meanwhile is counted as lost at the source, as for any slow reader).
        if (!importers.await(stop)) return RegionEnd::stop;
        if (importers.ever() != subscribed) {
            subscribed = importers.ever();
            // A new importer may be the heir of one that was killed: the batches sent to that
            // one since it died never reached its region, and an engine delivers nothing sent
            // before a reader subscribed. So the region is sent again from its oldest record;
            // importers skip what they have (their positions), the heir resumes where its
            // predecessor's writes ended (import_progress.hpp).
            if (sent) {
                notice("an importer subscribed to topic '{}': sending region '{}' again from "
                       "its oldest record",
                       options.topic, options.region);
                return RegionEnd::rewind;
            }
        }
        if (status.due(counts.records)) {
            notice("status: export '{}' as '{}': {} importers; exported {} records in {} "
                   "batches ({:.0f} records/s), lost at the source {}",
                   options.region, options.topic, importers.known(), counts.records,
                   counts.batches, status.rate(), counts.lost);
        }
        // A ring's records leave it as the importer reports them written.
        if constexpr (SourceOfKind::kind == SourceKind::ring) {
            while (const auto written = publisher.take_written()) {
                if (written->session == identity.session &&
                    written->source_epoch == identity.source_epoch) {
                    source.written_through(written->next_position);
                }
            }
        }
        const typename SourceOfKind::Run r =
            source.read(buffer, source.awaits_written() ? std::chrono::nanoseconds(0) : slice);
        if (r.count == 0 && source.awaits_written() && r.status != ReadStatus::corrupt) {
            // Nothing new to send, records out not yet on B: wait for the importer's report
            // (a new record meanwhile waits that long; a full ring waits for this).
            (void)publisher.wait_for_written(slice);
            continue;
        }
        // Also a lap found by a read that returned nothing (contended): it counts now, in case
        // no batch follows to carry it (the writer closes, or a stop).
        counts.lost = lost_before_region + source.lost();
        if (r.count > 0) {
            BatchView batch;
            batch.session = identity.session;
            batch.source_epoch = identity.source_epoch;
            batch.record = record;
            batch.first_position = r.first_position;
            batch.lost_before = r.lost_before;
            batch.record_count = static_cast<std::uint32_t>(r.count);
            batch.records = std::span<const std::byte>(buffer).first(r.count * record.size);
            batch.from_oldest = !sent;  // the region was opened at its oldest record
            while (!publisher.publish(batch)) {
                if (stop.requested()) return RegionEnd::stop;  // receivers full for good
            }
            counts.records += batch.record_count;
            counts.batches += 1;
            writer_missing = false;
            sent = true;
            continue;
        }
        switch (r.status) {
            case ReadStatus::timeout:
            case ReadStatus::contended:  // overwritten on every attempt: again
                break;
            case ReadStatus::closed:
            case ReadStatus::writer_gone:
                // Everything the writer committed was published: wait for a writer that takes
                // the region over (its positions continue) or a region created anew.
                if (!writer_missing) {
                    notice("the writer of region '{}' {}; waiting for a new one", options.region,
                           r.status == ReadStatus::closed ? "closed it" : "is gone");
                }
                writer_missing = true;
                if (source.wait_for_writer(slice) == ReadStatus::ok) break;
                if (region_replaced(options, identity.source_epoch)) {
                    notice("region '{}' was removed or created anew; opening it again",
                           options.region);
                    return RegionEnd::replaced;
                }
                break;
            default:
                throw std::runtime_error(fmt::format("reading region '{}' failed: {}",
                                                     options.region, to_string(r.status)));
        }
    }
    return RegionEnd::stop;
}

}  // namespace

ExportCounts run_export(Transport& transport, const ExportOptions& options, const StopFlag& stop) {
    ExportCounts counts;
    auto publisher = transport.publisher(options.topic);
    const std::uint64_t session = new_session();
    StatusClock status(options.status_interval);
    Importers importers(*publisher, options);  // across regions: they subscribe to the topic
    bool followed = false;  // a region that replaced the one exported before
    bool rewound = false;   // the region opened again to send it again from its oldest record
    while (!stop.requested()) {
        bool waited = false;
        std::optional<Source> opened = open_region(options, stop, waited);
        if (!opened) break;
        const RegionEnd end = std::visit(
            [&](auto& source) {
                if (followed || waited) source.count_overwritten_at_open();
                const Identity identity{options.topic,
                                        options.region,
                                        source.type(),
                                        source.capacity(),
                                        session,
                                        source_epoch(source.region().creator()),
                                        source.kind};
                if (const auto problem = check_identity(identity)) {
                    throw std::runtime_error(fmt::format("region '{}' cannot be exported: {}",
                                                         options.region, *problem));
                }
                publisher->announce(identity);
                if (!rewound) {
                    notice("exporting region '{}' ({} of {}, capacity {}) as topic '{}' over {}{}",
                           options.region, to_string(identity.kind),
                           describe(RecordKey::of(identity.type)), identity.capacity,
                           options.topic, transport.engine(),
                           options.wait == WaitStrategy::futex
                               ? std::string()
                               : fmt::format(", waiting by {}", to_string(options.wait)));
                }
                return run_region(source, identity, *publisher, options, stop, counts, status,
                                  importers);
            },
            *opened);
        if (end == RegionEnd::stop) break;
        // The next opening counts what its writer overwrote before it as lost only when the
        // region was created anew: a rewind reads again what was already sent.
        followed = end == RegionEnd::replaced;
        rewound = end == RegionEnd::rewind;
    }
    return counts;
}

}  // namespace shmrec::bridge
