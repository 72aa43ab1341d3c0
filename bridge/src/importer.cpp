#include "importer.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <variant>
#include <vector>

#include <shmrec/error.hpp>
#include <shmrec/untyped.hpp>

#include "import_progress.hpp"
#include "notice.hpp"
#include "status_clock.hpp"

namespace shmrec::bridge {

namespace {

using namespace std::chrono_literals;

// The longest a wait lasts before `stop` is looked at again (a backstop: the transport's
// waits are woken by the signal thread).
constexpr std::chrono::milliseconds slice = 500ms;
// How often the importer's own thread looks for a failure of the listener and prints the
// status (the listener writes the batches).
constexpr std::chrono::milliseconds status_or_failure_check = 100ms;
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
// a batch; a cell each in turn (the last stays); a ring as many as it has room for now (the
// rest wait, Import::flush()).
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
    // Records written into the region so far, by any of its writers (a cell: values).
    std::uint64_t written() const {
        return std::visit([](const auto& w) { return w.written(); }, writer_);
    }
    // Which creation of the region this is.
    std::uint64_t epoch() const {
        return std::visit([](const auto& w) { return source_epoch(w.region().creator()); },
                          writer_);
    }

    // Never waits. A ring may take only part of `records` (full: its count and status).
    BatchWrite write(std::span<const std::byte> records, std::size_t record_size) {
        if (auto* broadcast = std::get_if<untyped::BroadcastWriter>(&writer_)) {
            return broadcast->try_write_batch(records);
        }
        if (auto* ring = std::get_if<untyped::RingWriter>(&writer_)) {
            return ring->try_write_batch(records);
        }
        auto& cell = std::get<untyped::CellWriter>(writer_);
        BatchWrite w{0, WriteStatus::ok};
        for (std::size_t at = 0; at < records.size(); at += record_size, ++w.count) {
            w.status = cell.try_write(records.subspan(at, record_size));
            if (w.status != WriteStatus::ok) break;
        }
        return w;
    }

    // A ring's: waits up to `timeout` for room, then writes what fits of `records`.
    BatchWrite write_waiting(std::span<const std::byte> records,
                             std::chrono::nanoseconds timeout) {
        return std::get<untyped::RingWriter>(writer_).write_batch(records, timeout);
    }

  private:
    using Writer = std::variant<untyped::BroadcastWriter, untyped::CellWriter, untyped::RingWriter>;

    static std::uint64_t capacity_of(const untyped::BroadcastWriter& w) { return w.capacity(); }
    static std::uint64_t capacity_of(const untyped::CellWriter&) { return 1; }
    static std::uint64_t capacity_of(const untyped::RingWriter& w) { return w.capacity(); }

    static Writer open(const ImportOptions& options, const Identity& identity) {
        const Location where = Location::memory(options.region);
        try {
            if (identity.kind == SourceKind::cell) {
                return untyped::cell_writer(where, identity.type, OpenMode::open_or_create);
            }
            const std::uint64_t capacity =
                options.capacity != 0 ? options.capacity : identity.capacity;
            if (identity.kind == SourceKind::ring) {
                return untyped::ring_writer(where, identity.type, capacity,
                                            OpenMode::open_or_create);
            }
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

// Source positions within one source epoch: what has been written, and what each batch adds
// to the counts.
class Sequencer {
  public:
    // count_gaps: positions neither delivered nor reported lost are `missing` (a broadcast);
    // otherwise they are values superseded at the source (a cell).
    // start_at_replay (a ring): positions start (first batch, new epoch) only at a from_oldest
    // batch. One that comes before it follows records the exporter sent to a predecessor and
    // still holds unreleased; the replay brings them first, and starting past them would skip
    // them as written and report them so (A's ring would release records on no host).
    Sequencer(bool count_gaps, bool start_at_replay)
        : count_gaps_(count_gaps), start_at_replay_(start_at_replay) {}

    bool started() const noexcept { return started_; }
    std::uint64_t epoch() const noexcept { return epoch_; }
    std::uint64_t next() const noexcept { return next_; }  // the first position not written

    // Positions start again with `batch` (the first, or the first of a new epoch): the loss
    // it reports happened just before it.
    void start(const BatchView& batch) {
        next_ = batch.first_position - std::min(batch.lost_before, batch.first_position);
        epoch_ = batch.source_epoch;
        started_ = true;
        resuming_ = false;
    }

    // Positions continue a predecessor's, at `at`: the records from there on that the
    // exporter sent to the predecessor while it was dying are sent again, from the region's
    // oldest (the exporter does so when an importer subscribes). Until they come, later
    // batches of that epoch are not written, or what lies between would be missing.
    void resume(const ResumePoint& at) {
        next_ = at.next_position;
        epoch_ = at.source_epoch;
        started_ = true;
        resuming_ = true;
    }

    // A batch to drop, not write, because it lies past a gap that the exporter's replay is
    // about to fill (it comes again then). The first batch that joins the positions written,
    // or starts the replay, ends the wait.
    bool awaits_replay(const BatchView& batch) {
        if (!started_ || batch.source_epoch != epoch_) {
            return start_at_replay_ && !batch.from_oldest;
        }
        if (!resuming_) return false;
        if (batch.first_position > next_ && !batch.from_oldest) return true;
        resuming_ = false;
        notice("resumed at source position {} (batch of positions {}-{}{})", next_,
               batch.first_position, batch.first_position + batch.record_count - 1,
               batch.from_oldest ? ", sent again from the region's oldest record" : "");
        return false;
    }

    // How many leading records of `batch` (of the current epoch) were written before: to
    // skip. Counts the gap before it.
    std::uint64_t admit(const BatchView& batch, ImportCounts& counts) {
        const std::uint64_t first = batch.first_position;
        // Only positions not written yet can be lost: a loss reported over positions written
        // before (a restarted exporter lapped while it read them again), or before position 0,
        // is none here.
        const std::uint64_t gap = first > next_ ? first - next_ : 0;
        // A batch read from the region's oldest record after the exporter (re)opened it: what
        // is missing before it was no longer in the region, so lost at the source (as a cell's
        // skipped values are no loss at all).
        const std::uint64_t lost =
            batch.from_oldest && count_gaps_ ? gap : std::min(batch.lost_before, gap);
        counts.source_lost += lost;
        if (count_gaps_) counts.missing += gap - lost;
        const std::uint64_t skip =
            first < next_ ? std::min<std::uint64_t>(next_ - first, batch.record_count) : 0;
        counts.duplicates += skip;
        return skip;
    }
    void written_through(std::uint64_t end) noexcept {
        if (end > next_) next_ = end;
    }

  private:
    bool count_gaps_;
    bool start_at_replay_;
    bool started_ = false;
    bool resuming_ = false;
    std::uint64_t epoch_ = 0;
    std::uint64_t next_ = 0;  // the source position expected next
};

// The source epochs this importer writes from: those announced by an identity it accepted
// (the same record from the same kind of region), until it has left them behind. The two
// topics are not ordered, so a batch may come before its identity: it waits for it (Import).
// The most recent `kept` of each list are remembered, so a peer that makes up epochs cannot
// grow them without bound.
class Epochs {
  public:
    enum class State : std::uint8_t { accepted, refused, unknown };

    State state(std::uint64_t epoch) const {
        if (contains(refused_, epoch)) return State::refused;
        return contains(accepted_, epoch) ? State::accepted : State::unknown;
    }
    void accept(std::uint64_t epoch) {
        if (!contains(refused_, epoch)) remember(accepted_, epoch);
    }
    void refuse(std::uint64_t epoch) {
        std::erase(accepted_, epoch);
        remember(refused_, epoch);
    }

  private:
    static constexpr std::size_t kept = 16;

    static bool contains(const std::vector<std::uint64_t>& list, std::uint64_t epoch) {
        return std::find(list.begin(), list.end(), epoch) != list.end();
    }
    static void remember(std::vector<std::uint64_t>& list, std::uint64_t epoch) {
        if (contains(list, epoch)) return;
        if (list.size() == kept) list.erase(list.begin());
        list.push_back(epoch);
    }

    std::vector<std::uint64_t> accepted_;
    std::vector<std::uint64_t> refused_;
};

// One run of `import`: the topic's identity and batches, checked, into the sink.
class Import {
  public:
    Import(Subscriber& subscriber, const ImportOptions& options, const Identity& identity,
           ImportCounts& counts)
        : subscriber_(subscriber),
          options_(options),
          identity_(identity),
          record_(RecordKey::of(identity.type)),
          // Creates the region, or takes over an idle writer's region of the same record; a
          // region of another record is refused here (shmrec::Error, type or layout mismatch),
          // before anything is written.
          sink_(options, identity),
          region_epoch_(sink_.epoch()),
          progress_(options.region),
          // A cell's records are its successive latest values: positions it skipped are no
          // loss.
          sequencer_(identity.kind != SourceKind::cell, identity.kind == SourceKind::ring),
          counts_(counts) {
        epochs_.accept(identity.source_epoch);
        // A predecessor that wrote this region (and died, or was stopped): continue its stream.
        if (const auto at = progress_.resume_point(region_epoch_, sink_.written())) {
            sequencer_.resume(*at);
            notice("resuming where the last import into region '{}' ended: source position {} "
                   "of source epoch {:#018x}",
                   options.region, at->next_position, at->source_epoch);
        }
        subscriber_.receive_batches();  // the region is open: now a receiver of the batches
        notice("importing topic '{}' ({} of {}, exported from region '{}') into region '{}' "
               "(capacity {})",
               options.topic, to_string(identity.kind), describe(record_), identity.region,
               options.region, sink_.capacity());
    }

    // Takes what has arrived; false when there was nothing, or a batch is pending (then what
    // arrives waits in the engine, whose flow control holds the exporter back).
    bool take() {
        if (pending()) return false;
        take_identities();
        return subscriber_.take_batches(batches_at_once, [&](const BatchView& batch) {
            on_batch(batch);
        }) > 0;
    }

    // B's ring had no room for the rest of a batch: it waits for flush(), and nothing more is
    // taken meanwhile. Batches already taken with it (by the same dds_take, or released from
    // waiting for their identity) wait behind it, untouched, and go on after it in order.
    bool pending() const noexcept { return pending_.has_value(); }

    // Writes the pending records, waiting up to `timeout` for room in B's ring. For the
    // importer's own thread, without the guard: while a batch is pending the listener does
    // nothing but look at pending() (take()), and nobody else touches the region. Then
    // end_flush() under the guard. Returns how many records it wrote.
    std::size_t flush(std::chrono::nanoseconds timeout) {
        Pending& p = *pending_;
        const std::size_t done = write_records(p.source_epoch, p.first, p.records, timeout);
        p.first += done;
        p.records.erase(p.records.begin(),
                        p.records.begin() + static_cast<std::ptrdiff_t>(done * record_.size));
        return done;
    }
    // Under the guard: the pending batch ends once it is all written, and is reported; then
    // the batches behind it go on (until one leaves records pending again).
    void end_flush() {
        if (!pending_ || !pending_->records.empty()) return;
        const std::uint64_t session = pending_->session;
        pending_.reset();
        report_written(session);
        while (!pending_ && !behind_.empty()) {
            const Batch b = std::move(behind_.front());
            behind_.pop_front();
            on_batch(view_of(b));
        }
    }

    // At the end: the batches still waiting for an identity are refused (counted).
    void abandon_waiting() {
        for (std::size_t i = waiting_.size(); i > 0; --i) {
            report_refusal(counts_.refused, "a batch whose source never announced itself");
        }
        waiting_.clear();
    }

  private:
    // Batches of an epoch whose identity has not come yet, in arrival order, at most this many.
    static constexpr std::size_t max_waiting = 256;

    void take_identities() {
        while (auto id = subscriber_.take_identity()) {
            // A new exporter (or a restarted one) of the topic: fine if it exports the same
            // record from the same kind of region. Otherwise its batches are refused too (by
            // their epoch: a batch says its record, not its kind).
            const auto problem = check_identity(*id);
            if (id->type.fingerprint == record_.fingerprint && id->type.name == record_.name &&
                id->kind == identity_.kind && id->topic == options_.topic && !problem) {
                epochs_.accept(id->source_epoch);
            } else {
                epochs_.refuse(id->source_epoch);
                report_refusal(counts_.refused,
                               fmt::format("an identity of a {} of {} for topic '{}' (this "
                                           "importer writes a {} of {} for topic '{}'){}",
                                           to_string(id->kind), describe(RecordKey::of(id->type)),
                                           id->topic, to_string(identity_.kind),
                                           describe(record_), options_.topic,
                                           problem ? ": " + *problem : std::string()));
            }
            release_waiting(id->source_epoch);
        }
    }

    void on_batch(const BatchView& batch) {
        if (pending_) {  // taken together with the one whose records are pending: after them
            behind_.push_back(copy_of(batch));
            return;
        }
        Epochs::State state = epochs_.state(batch.source_epoch);
        if (state == Epochs::State::unknown) {
            take_identities();  // its identity may have come meanwhile
            state = epochs_.state(batch.source_epoch);
        }
        if (state == Epochs::State::unknown || waiting_for(batch.source_epoch)) {
            // One that write() would refuse is refused now: it neither takes a good one's place
            // among those kept waiting nor holds memory meanwhile.
            if (const auto problem = check_batch(batch, record_)) {
                report_refusal(counts_.refused, "a batch: " + *problem);
                return;
            }
            wait_for_identity(batch);
            return;
        }
        if (state == Epochs::State::refused) {
            report_refusal(counts_.refused, "a batch of a source left behind or refused");
            return;
        }
        write(batch);
    }

    bool waiting_for(std::uint64_t epoch) const {
        return std::any_of(waiting_.begin(), waiting_.end(),
                           [&](const Batch& b) { return b.source_epoch == epoch; });
    }

    // Keeps a copy of `batch` until its epoch's identity comes.
    void wait_for_identity(const BatchView& batch) {
        if (waiting_.size() == max_waiting) {
            waiting_.pop_front();
            report_refusal(counts_.refused, "a batch whose source never announced itself");
        }
        waiting_.push_back(copy_of(batch));
    }

    // The identity of `epoch` came: its waiting batches go on, in their order.
    void release_waiting(std::uint64_t epoch) {
        std::deque<Batch> released;
        std::deque<Batch> others;
        for (Batch& b : waiting_) {
            (b.source_epoch == epoch ? released : others).push_back(std::move(b));
        }
        waiting_ = std::move(others);
        for (const Batch& b : released) on_batch(view_of(b));
    }

    // Batches kept waiting from the exporter run that sent `batch` (its session), of another
    // epoch: that run has announced `batch`'s epoch since, and the engine keeps only the latest
    // identity, so theirs will never come. Refused, so that they are counted.
    void refuse_superseded(const BatchView& batch) {
        const auto n = std::erase_if(waiting_, [&](const Batch& b) {
            return b.session == batch.session && b.source_epoch != batch.source_epoch;
        });
        for (std::size_t i = 0; i < n; ++i) {
            report_refusal(counts_.refused, "a batch whose source's identity was superseded");
        }
    }

    void write(const BatchView& batch) {
        if (const auto problem = check_batch(batch, record_)) {
            report_refusal(counts_.refused, "a batch: " + *problem);
            return;
        }
        refuse_superseded(batch);
        if (sequencer_.awaits_replay(batch)) return;
        if (!sequencer_.started() || batch.source_epoch != sequencer_.epoch()) {
            if (sequencer_.started()) {
                epochs_.refuse(sequencer_.epoch());  // left behind: its late batches are refused
                notice("the source region was created anew (epoch {:#018x}); its positions "
                       "start again at {}",
                       batch.source_epoch, batch.first_position);
            }
            sequencer_.start(batch);
        }
        const std::uint64_t skip = sequencer_.admit(batch, counts_);
        if (skip < batch.record_count) {
            const std::uint64_t first = batch.first_position + skip;
            const auto records = batch.records.subspan(skip * record_.size);
            if (!first_write_) notice("first batch written from source position {}", first);
            const std::size_t done = write_records(batch.source_epoch, first, records, {});
            counts_.batches += 1;
            if (done * record_.size < records.size()) {  // B's ring is full: the rest waits
                const auto rest = records.subspan(done * record_.size);
                pending_ = Pending{batch.session, batch.source_epoch, first + done,
                                   std::vector<std::byte>(rest.begin(), rest.end())};
                return;
            }
        }
        report_written(batch.session);
    }

    // Records the write in the progress cell, then writes what the region takes: all of it,
    // or for a ring what fits now (waiting up to `ring_wait` for room when given). Returns how
    // many records were written.
    std::size_t write_records(std::uint64_t source_epoch, std::uint64_t first,
                              std::span<const std::byte> records,
                              std::optional<std::chrono::nanoseconds> ring_wait) {
        // Recorded before the write, so that whenever this process dies the region's written
        // count says how much of it was made (import_progress.hpp).
        if (!progress_.before_write({region_epoch_, source_epoch, first, sink_.written(),
                                     records.size() / record_.size})) {
            throw std::runtime_error(fmt::format("recording the progress of region '{}' failed",
                                                 options_.region));
        }
        const BatchWrite w = ring_wait ? sink_.write_waiting(records, *ring_wait)
                                       : sink_.write(records, record_.size);
        switch (w.status) {
            case WriteStatus::ok:
            case WriteStatus::full:         // a ring without room: the rest waits
            case WriteStatus::timeout:      // ... still without room
            case WriteStatus::no_reader:    // ... and no consumer yet
            case WriteStatus::reader_gone:  // ... and its consumer died: another may come
                break;
            default:
                throw std::runtime_error(fmt::format("writing into region '{}' failed: {}",
                                                     options_.region, to_string(w.status)));
        }
        sequencer_.written_through(first + w.count);
        counts_.records += w.count;
        const auto now = std::chrono::steady_clock::now();
        if (!first_write_) first_write_ = now;
        counts_.active_seconds = std::chrono::duration<double>(now - *first_write_).count();
        return w.count;
    }

    // A ring's importer tells the exporter what is in B's region: it consumes those records.
    void report_written(std::uint64_t session) {
        if (identity_.kind != SourceKind::ring) return;
        subscriber_.report_written({session, sequencer_.epoch(), sequencer_.next()});
    }

    // The rest of a batch that B's ring had no room for.
    struct Pending {
        std::uint64_t session = 0;
        std::uint64_t source_epoch = 0;
        std::uint64_t first = 0;  // the source position of records[0]
        std::vector<std::byte> records;
    };

    Subscriber& subscriber_;
    const ImportOptions& options_;
    const Identity identity_;
    const RecordKey record_;
    Sink sink_;
    const std::uint64_t region_epoch_;  // which creation of the region the sink writes
    ImportProgress progress_;
    Sequencer sequencer_;
    Epochs epochs_;
    std::deque<Batch> waiting_;
    std::optional<Pending> pending_;
    std::deque<Batch> behind_;  // taken while a batch was pending, not looked at yet
    ImportCounts& counts_;
    std::optional<std::chrono::steady_clock::time_point> first_write_;
};

}  // namespace

ImportCounts run_import(Transport& transport, const ImportOptions& options, const StopFlag& stop) {
    const auto subscriber = transport.subscriber(options.topic);
    return run_import(*subscriber, options, stop);
}

ImportCounts run_import(Subscriber& subscriber, const ImportOptions& options,
                        const StopFlag& stop) {
    ImportCounts counts;
    const std::optional<Identity> identity = await_identity(subscriber, options, stop, counts);
    if (!identity) return counts;
    Import import(subscriber, options, *identity, counts);

    // Batches are written by the engine's receive thread as they arrive (a listener): waking
    // this thread for each would add a thread hand-off to every record's latency. This thread
    // prints the status, takes what the listener was not told of (data there before it was
    // set), and ends the run. `guard` serialises the listener's calls with this thread's work;
    // a failure in the listener is kept for this thread to throw.
    std::mutex guard;
    std::exception_ptr failure;
    const auto take_all = [&] {
        while (import.take()) {
        }
    };
    subscriber.listen([&] {
        const std::lock_guard lock(guard);
        if (failure) return;
        try {
            const bool was_pending = import.pending();
            take_all();
            // B's ring had no room for all of a batch: this thread waits for room, not the
            // engine's (its other readers would wait too).
            if (import.pending() && !was_pending) subscriber.notify();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    struct Unlisten {  // also when this thread throws: before `import` goes
        Subscriber& subscriber;
        ~Unlisten() { subscriber.listen({}); }
    } unlisten{subscriber};

    StatusClock status(options.status_interval);
    while (!stop.requested()) {
        bool pending = false;
        {
            const std::lock_guard lock(guard);
            if (failure) std::rethrow_exception(failure);
            take_all();  // nothing while a batch is pending
            pending = import.pending();  // also one this take left
            if (status.due(counts.records)) {
                notice("status: import '{}' into '{}': imported {} records in {} batches "
                       "({:.0f} records/s); lost at the source {}, missing {}, duplicates {}, "
                       "refused {}",
                       options.topic, options.region, counts.records, counts.batches,
                       status.rate(), counts.source_lost, counts.missing, counts.duplicates,
                       counts.refused);
            }
        }
        if (pending) {
            // B's ring is full: this thread waits for room (the engine's thread does not wait),
            // then takes what waited meanwhile.
            const std::size_t written = import.flush(status_or_failure_check);
            {
                const std::lock_guard lock(guard);
                import.end_flush();
                take_all();
            }
            // No room and no wait: B's ring consumer died with the ring full. Look again in a
            // while (a new consumer makes room), or stop.
            if (written == 0 && subscriber.wait(status_or_failure_check) == Wake::woken) break;
            continue;
        }
        if (subscriber.wait(status_or_failure_check) == Wake::woken) break;
    }
    subscriber.listen({});  // the counts are final once its last call has returned
    if (failure) std::rethrow_exception(failure);
    import.abandon_waiting();
    return counts;
}

}  // namespace shmrec::bridge
