#include "importer.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
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

// The local region for `identity`'s records: created, or taken over when it holds the same
// record. The runtime's refusal of any other region (type, layout or fingerprint mismatch,
// another channel kind, a live writer) keeps its code, with the topic's side added.
untyped::BroadcastWriter open_region(const ImportOptions& options, const Identity& identity) {
    const std::uint64_t capacity = options.capacity != 0 ? options.capacity : identity.capacity;
    try {
        return untyped::broadcast_writer(Location::memory(options.region), identity.type, capacity,
                                         OpenMode::open_or_create);
    } catch (const Error& e) {
        throw Error(
            e.code(), e.region(),
            fmt::format("topic '{}' carries {} (exported from region '{}'): {}", options.topic,
                        describe(RecordKey::of(identity.type)), identity.region, e.what()));
    }
}

// Source positions: what has been written, and what each batch adds to the counts. Positions
// are comparable within one source epoch; a batch of a new epoch (the source region created
// anew) starts the count again, and batches of an epoch left behind are refused.
class Sequencer {
  public:
    enum class Verdict : std::uint8_t { write, stale_epoch };

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
        if (first > next_) {
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
    auto writer = open_region(options, *identity);
    notice("importing topic '{}' ({}, exported from region '{}') into region '{}' (capacity {})",
           options.topic, describe(record), identity->region, options.region, writer.capacity());

    Sequencer sequencer;
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
        const BatchWrite w = writer.try_write_batch(batch.records.subspan(skip * record.size));
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
