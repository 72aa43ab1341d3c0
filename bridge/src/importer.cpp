#include "importer.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
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

// The longest a wait lasts before `stop` is looked at again (a backstop: the transport's
// waits are woken by the signal thread).
constexpr std::chrono::milliseconds slice = 500ms;
constexpr std::size_t batches_at_once = 64;

// Refusals are reported the first time and then every 1000th, with the count.
void report_refusal(std::uint64_t& refused, const std::string& what) {
    ++refused;
    if (refused == 1 || refused % 1000 == 0)
        notice("refused {} (refusals so far: {})", what, refused);
}

// The topic's first well-formed identity; nullopt when asked to stop first.
std::optional<Identity> await_identity(Subscriber& subscriber, const ImportOptions& options,
                                       const StopFlag& stop, ImportCounts& counts) {
    bool told = false;
    while (!stop.requested()) {
        if (auto id = subscriber.take_identity()) {
            auto problem = check_identity(*id);
            if (!problem && id->topic != options.topic) {
                problem = fmt::format("an identity for topic '{}' on topic '{}'", id->topic,
                                      options.topic);
            }
            if (!problem) return id;
            report_refusal(counts.refused, "an identity: " + *problem);
            continue;
        }
        if (!told) notice("waiting for an exporter of topic '{}'", options.topic);
        told = true;
        if (subscriber.wait_for_identity(slice) == Wake::woken) break;
    }
    return std::nullopt;
}

// The local region the importer writes, of the topic's kind: a broadcast gets every record of
// a batch; a cell each in turn (the last stays).
class Sink {
  public:
    // Creates the region, or takes it over when it holds the same record. The runtime's
    // refusal of any other region (type, layout or fingerprint mismatch, another channel kind,
    // a live writer) keeps its code, with the topic's side added.
    Sink(const ImportOptions& options, const Identity& identity)
        : writer_(open(options, identity)) {}

    std::uint64_t capacity() const {
        return std::visit([](const auto& w) -> std::uint64_t { return capacity_of(w); }, writer_);
    }

    BatchWrite write(std::span<const std::byte> records, std::size_t record_size) {
        if (auto* broadcast = std::get_if<untyped::BroadcastWriter>(&writer_)) {
            return broadcast->try_write_batch(records);
        }
        auto& cell = std::get<untyped::CellWriter>(writer_);
        BatchWrite w{0, WriteStatus::ok};
        for (std::size_t at = 0; at < records.size(); at += record_size, ++w.count) {
            w.status = cell.try_write(records.subspan(at, record_size));
            if (w.status != WriteStatus::ok) break;
        }
        return w;
    }

  private:
    using Writer = std::variant<untyped::BroadcastWriter, untyped::CellWriter>;

    static std::uint64_t capacity_of(const untyped::BroadcastWriter& w) { return w.capacity(); }
    static std::uint64_t capacity_of(const untyped::CellWriter&) { return 1; }

    static Writer open(const ImportOptions& options, const Identity& identity) {
        const Location where = Location::memory(options.region);
        try {
            if (identity.kind == SourceKind::cell) {
                return untyped::cell_writer(where, identity.type, OpenMode::open_or_create);
            }
            const std::uint64_t capacity =
                options.capacity != 0 ? options.capacity : identity.capacity;
            return untyped::broadcast_writer(where, identity.type, capacity,
                                             OpenMode::open_or_create);
        } catch (const Error& e) {
            throw Error(e.code(), e.region(),
                        fmt::format("topic '{}' carries {} (exported from {} '{}'): {}",
                                    options.topic, describe(RecordKey::of(identity.type)),
                                    to_string(identity.kind), identity.region, e.what()));
        }
    }

    Writer writer_;
};

// Source positions: what has been written, and what each batch adds to the counts. Positions
// are comparable within one source epoch; a batch of a new epoch (the source region created
// anew) starts the count again, and batches of an epoch left behind are refused.
class Sequencer {
  public:
    enum class Verdict : std::uint8_t { write, stale_epoch };

    // count_gaps: positions neither delivered nor reported lost are `missing` (a broadcast);
    // otherwise they are values superseded at the source (a cell).
    explicit Sequencer(bool count_gaps) : count_gaps_(count_gaps) {}

    // How many leading records of `batch` were written before (to skip) in `skip`; counts
    // the gap before it.
    Verdict admit(const BatchView& batch, ImportCounts& counts, std::uint64_t& skip) {
        const std::uint64_t first = batch.first_position;
        if (!started_ || batch.source_epoch != epoch_) {
            if (std::find(retired_.begin(), retired_.end(), batch.source_epoch) != retired_.end())
                return Verdict::stale_epoch;
            if (started_) {
                retired_.push_back(epoch_);
                notice("the source region was created anew (epoch {:#018x}); its positions start "
                       "again at {}", batch.source_epoch, first);
            }
            // The loss the batch reports happened just before it.
            next_ = first - std::min(batch.lost_before, first);
            epoch_ = batch.source_epoch;
            started_ = true;
        }
        counts.source_lost += batch.lost_before;
        if (count_gaps_ && first > next_) {
            const std::uint64_t gap = first - next_;
            counts.missing += gap > batch.lost_before ? gap - batch.lost_before : 0;
        }
        skip = first < next_ ? std::min<std::uint64_t>(next_ - first, batch.record_count) : 0;
        counts.duplicates += skip;
        return Verdict::write;
    }
    void written_through(std::uint64_t end) noexcept {
        if (end > next_) next_ = end;
    }

  private:
    bool count_gaps_;
    bool started_ = false;
    std::uint64_t epoch_ = 0;
    std::uint64_t next_ = 0;  // the source position expected next
    std::vector<std::uint64_t> retired_;  // epochs left behind (a handful, at most)
};

}  // namespace

ImportCounts run_import(Transport& transport, const ImportOptions& options, const StopFlag& stop) {
    ImportCounts counts;

    auto subscriber = transport.subscriber(options.topic);
    const std::optional<Identity> identity = await_identity(*subscriber, options, stop, counts);
    if (!identity) return counts;
    const RecordKey record = RecordKey::of(identity->type);

    // Creates the region, or takes over an idle writer's region of the same record; a region of
    // another record is refused here (shmrec::Error, type or layout mismatch), before anything
    // is written.
    Sink sink(options, *identity);
    notice("importing topic '{}' ({} of {}, exported from region '{}') into region '{}' "
           "(capacity {})",
           options.topic, to_string(identity->kind), describe(record), identity->region,
           options.region, sink.capacity());

    // A cell's records are its successive latest values: positions it skipped are no loss.
    Sequencer sequencer(identity->kind == SourceKind::broadcast);
    StatusClock status(options.status_interval);
    std::optional<std::chrono::steady_clock::time_point> first_write;
    const auto write = [&](const BatchView& batch) {
        if (const auto problem = check_batch(batch, record)) {
            report_refusal(counts.refused, "a batch: " + *problem);
            return;
        }
        std::uint64_t skip = 0;
        if (sequencer.admit(batch, counts, skip) == Sequencer::Verdict::stale_epoch) {
            report_refusal(counts.refused, "a batch of a source region created anew since");
            return;
        }
        if (skip == batch.record_count) return;
        const BatchWrite w = sink.write(batch.records.subspan(skip * record.size), record.size);
        if (w.status != WriteStatus::ok) {
            throw std::runtime_error(fmt::format("writing into region '{}' failed: {}",
                                                 options.region, to_string(w.status)));
        }
        sequencer.written_through(batch.first_position + batch.record_count);
        counts.records += w.count;
        counts.batches += 1;
        const auto now = std::chrono::steady_clock::now();
        if (!first_write) {
            first_write = now;
            notice("first batch at source position {}", batch.first_position);
        }
        counts.active_seconds = std::chrono::duration<double>(now - *first_write).count();
    };
    while (!stop.requested()) {
        if (auto id = subscriber->take_identity()) {
            // A new exporter (or a restarted one) of the topic: fine if it exports the same
            // record; its batches are checked one by one in any case.
            if (RecordKey::of(id->type).fingerprint != record.fingerprint ||
                id->type.name != record.name) {
                report_refusal(counts.refused,
                               fmt::format("an exporter of {} on topic '{}'",
                                           describe(RecordKey::of(id->type)), options.topic));
            }
        }
        const std::size_t taken = subscriber->take_batches(batches_at_once, write);
        if (status.due(counts.records)) {
            notice("status: import '{}' into '{}': imported {} records in {} batches ({:.0f} "
                   "records/s); lost at the source {}, missing {}, duplicates {}, refused {}",
                   options.topic, options.region, counts.records, counts.batches, status.rate(),
                   counts.source_lost, counts.missing, counts.duplicates, counts.refused);
        }
        if (taken == 0 && subscriber->wait(slice) == Wake::woken) break;
    }
    return counts;
}

}  // namespace shmrec::bridge
