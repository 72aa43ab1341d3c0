// The Cyclone DDS transport: the only file of the bridge that includes Cyclone's headers.
//
// Entities, per process: one participant; per endpoint two topics, "shmrec/<T>/identity" and
// "shmrec/<T>/batches" (wire.hpp's Identity and Batch as shmrec_bridge.idl's), a writer or a
// reader of each, and a waitset. One guard condition of the participant is attached to every
// waitset: wake() triggers it and leaves it triggered, so every wait from then on returns
// Wake::woken at once.
//
// QoS (docs/bridge.md, "QoS profile"). Readers ask for what writers offer, so they match:
//   batches   reliable (a writer blocks up to 1 s when its history is full), keep all,
//             volatile; the reader's cache bounded to reader_queue batches, so a slow importer
//             slows the exporter down through reliability instead of growing without bound.
//   identity  reliable, transient-local, keep last 1: an importer started after the exporter
//             gets the identity from the writer's history at once.
// Cyclone's default reader is best-effort keep-last 1, which matches a reliable writer and
// silently drops data: the profile is set on both sides, never left to the defaults.
#include "cyclone_transport.hpp"

#include <dds/dds.h>
#include <dds/version.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cyclone_config.hpp"
#include "shmrec_bridge.h"

namespace shmrec::bridge {

namespace {

constexpr dds_duration_t max_blocking_time = DDS_SECS(1);
constexpr std::int32_t reader_queue = 256;  // batches
constexpr std::uint32_t take_at_once = 64;  // samples per dds_take

[[noreturn]] void fail(const char* what, dds_return_t rc) {
    throw TransportError(
        fmt::format("Cyclone DDS: {} failed: {}", what, dds_strretcode(rc < 0 ? -rc : rc)));
}

dds_entity_t check(const char* what, dds_entity_t e) {
    if (e < 0) fail(what, e);
    return e;
}

dds_duration_t to_dds(std::chrono::nanoseconds timeout) {
    if (timeout <= std::chrono::nanoseconds::zero()) return 0;
    if (timeout >= std::chrono::nanoseconds(DDS_INFINITY)) return DDS_INFINITY;
    return static_cast<dds_duration_t>(timeout.count());
}

// Owns one entity (and, through Cyclone, its children).
class Entity {
  public:
    Entity(const char* what, dds_entity_t e) : e_(check(what, e)) {}
    Entity(const Entity&) = delete;
    Entity& operator=(const Entity&) = delete;
    ~Entity() {
        if (e_ > 0) (void)dds_delete(e_);
    }
    dds_entity_t get() const noexcept { return e_; }

  private:
    dds_entity_t e_;
};

class Qos {
  public:
    Qos() : q_(dds_create_qos()) {
        if (q_ == nullptr) throw TransportError("Cyclone DDS: out of memory for a QoS");
    }
    Qos(Qos&& o) noexcept : q_(std::exchange(o.q_, nullptr)) {}
    Qos(const Qos&) = delete;
    Qos& operator=(const Qos&) = delete;
    ~Qos() {
        if (q_ != nullptr) dds_delete_qos(q_);
    }
    dds_qos_t* get() const noexcept { return q_; }

  private:
    dds_qos_t* q_;
};

enum class Side : std::uint8_t { writer, reader };

// The QoS profile (see the top of this file) of the batches topic...
Qos batch_qos(Side side) {
    Qos q;
    dds_qset_reliability(q.get(), DDS_RELIABILITY_RELIABLE, max_blocking_time);
    dds_qset_history(q.get(), DDS_HISTORY_KEEP_ALL, 0);
    dds_qset_durability(q.get(), DDS_DURABILITY_VOLATILE);
    if (side == Side::reader) {
        dds_qset_resource_limits(q.get(), reader_queue, DDS_LENGTH_UNLIMITED, DDS_LENGTH_UNLIMITED);
    }
    return q;
}

// ... and of the identity topic.
Qos identity_qos() {
    Qos q;
    dds_qset_reliability(q.get(), DDS_RELIABILITY_RELIABLE, max_blocking_time);
    dds_qset_history(q.get(), DDS_HISTORY_KEEP_LAST, 1);
    dds_qset_durability(q.get(), DDS_DURABILITY_TRANSIENT_LOCAL);
    return q;
}

// ... and of an importer's reports of what it has written (a ring's): only the newest matters.
Qos written_qos() {
    Qos q;
    dds_qset_reliability(q.get(), DDS_RELIABILITY_RELIABLE, max_blocking_time);
    dds_qset_history(q.get(), DDS_HISTORY_KEEP_LAST, 1);
    dds_qset_durability(q.get(), DDS_DURABILITY_VOLATILE);
    return q;
}

// The participant's lease: how long the others wait without hearing from it before they take
// it for dead. Cyclone's default, 10 s, is how long a killed importer would hold up the
// exporter (and so every other importer): a reliable writer keeps what a matched reader has
// not acknowledged, and blocks once that is more than its history holds.
constexpr dds_duration_t participant_lease = DDS_SECS(3);

Qos participant_qos() {
    Qos q;
    dds_qset_liveliness(q.get(), DDS_LIVELINESS_AUTOMATIC, participant_lease);
    return q;
}

// The DDS topics of topic T.
struct Topics {
    Topics(dds_entity_t participant, std::string_view topic)
        : identity(
              "dds_create_topic (identity)",
              dds_create_topic(participant, &shmrec_bridge_Identity_desc,
                               fmt::format("shmrec/{}/identity", topic).c_str(), nullptr, nullptr)),
          batches("dds_create_topic (batches)",
                  dds_create_topic(participant, &shmrec_bridge_Batch_desc,
                                   fmt::format("shmrec/{}/batches", topic).c_str(), nullptr,
                                   nullptr)),
          written("dds_create_topic (written)",
                  dds_create_topic(participant, &shmrec_bridge_Written_desc,
                                   fmt::format("shmrec/{}/written", topic).c_str(), nullptr,
                                   nullptr)) {}

    Entity identity;
    Entity batches;
    Entity written;
};

std::string text(const char* s) {
    return s == nullptr ? std::string() : std::string(s);
}

template <class Sequence>
std::span<const std::byte> bytes(const Sequence& seq) {
    if (seq._buffer == nullptr || seq._length > seq._maximum) return {};
    return {reinterpret_cast<const std::byte*>(seq._buffer), seq._length};
}

// A sequence that views bytes the caller keeps alive for the duration of one dds_write.
dds_sequence_octet view_of(std::span<const std::byte> b) {
    dds_sequence_octet s{};
    s._length = s._maximum = static_cast<std::uint32_t>(b.size());
    s._buffer = const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(b.data()));
    s._release = false;
    return s;
}

// The waitset of one endpoint: its conditions plus the transport's guard condition.
class WaitSet {
  public:
    static constexpr dds_attach_t guard_tag = 0;

    WaitSet(dds_entity_t participant, dds_entity_t guard)
        : ws_("dds_create_waitset", dds_create_waitset(participant)) {
        attach(guard, guard_tag);
    }
    void attach(dds_entity_t e, dds_attach_t tag) {
        const dds_return_t rc = dds_waitset_attach(ws_.get(), e, tag);
        if (rc < 0) fail("dds_waitset_attach", rc);
    }
    // ready if a condition other than the guard triggered.
    Wake wait(std::chrono::nanoseconds timeout) {
        // Room for every condition attached (at most 4 today), so the guard's is never left out.
        std::array<dds_attach_t, 8> triggered{};
        const dds_return_t n =
            dds_waitset_wait(ws_.get(), triggered.data(), triggered.size(), to_dds(timeout));
        if (n < 0) fail("dds_waitset_wait", n);
        if (n == 0) return Wake::timeout;
        const auto end = triggered.begin() + std::min<std::ptrdiff_t>(n, triggered.size());
        if (std::find(triggered.begin(), end, guard_tag) != end) return Wake::woken;
        return Wake::ready;
    }

  private:
    Entity ws_;
};

// Takes up to `max` samples from `reader` (loaned), hands each valid one to `use`, returns the
// loan. Returns how many were valid.
template <class Sample, class Use>
std::size_t take(dds_entity_t reader, std::size_t max, Use&& use) {
    std::array<void*, take_at_once> samples{};
    std::array<dds_sample_info_t, take_at_once> infos{};
    const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(max, take_at_once));
    if (want == 0) return 0;
    const dds_return_t n = dds_take(reader, samples.data(), infos.data(), want, want);
    if (n < 0) fail("dds_take", n);
    // The loan goes back also when `use` throws.
    struct Loan {
        dds_entity_t reader;
        std::array<void*, take_at_once>& samples;
        dds_return_t n;
        ~Loan() {
            if (n > 0) (void)dds_return_loan(reader, samples.data(), n);
        }
    } loan{reader, samples, n};
    std::size_t valid = 0;
    for (dds_return_t i = 0; i < n; ++i) {
        if (!infos[i].valid_data) continue;  // an instance-state change, no data
        use(*static_cast<const Sample*>(samples[i]));
        ++valid;
    }
    return valid;
}

class CyclonePublisher final : public Publisher {
  public:
    CyclonePublisher(dds_entity_t participant, dds_entity_t guard, std::string_view topic)
        : topics_(participant, topic),
          identity_writer_("dds_create_writer (identity)",
                           dds_create_writer(participant, topics_.identity.get(),
                                             identity_qos().get(), nullptr)),
          batch_writer_("dds_create_writer (batches)",
                        dds_create_writer(participant, topics_.batches.get(),
                                          batch_qos(Side::writer).get(), nullptr)),
          written_reader_("dds_create_reader (written)",
                          dds_create_reader(participant, topics_.written.get(),
                                            written_qos().get(), nullptr)),
          written_ready_("dds_create_readcondition (written)",
                         dds_create_readcondition(written_reader_.get(), DDS_ANY_STATE)),
          waitset_(participant, guard),
          written_waitset_(participant, guard) {
        written_waitset_.attach(written_ready_.get(), 1);
        const dds_return_t rc =
            dds_set_status_mask(batch_writer_.get(), DDS_PUBLICATION_MATCHED_STATUS);
        if (rc < 0) fail("dds_set_status_mask", rc);
        waitset_.attach(batch_writer_.get(), 1);
    }

    void announce(const Identity& identity) override {
        shmrec_bridge_Identity s{};
        s.topic = const_cast<char*>(identity.topic.c_str());
        s.region = const_cast<char*>(identity.region.c_str());
        s.record_name = const_cast<char*>(identity.type.name.c_str());
        s.record_size = identity.type.size;
        s.record_alignment = identity.type.alignment;
        s.fingerprint = identity.type.fingerprint;
        s.capacity = identity.capacity;
        s.schema = const_cast<char*>(identity.type.schema.c_str());
        s.binary_schema = view_of(std::as_bytes(std::span(identity.type.binary_schema)));
        s.session = identity.session;
        s.source_epoch = identity.source_epoch;
        s.source_kind = static_cast<std::uint32_t>(identity.kind);
        const dds_return_t rc = dds_write(identity_writer_.get(), &s);
        if (rc < 0) fail("dds_write (identity)", rc);
    }

    Subscriptions subscribers() override {
        dds_publication_matched_status_t st{};
        // Also resets the status's "changed" flag, so the waitset waits for the next change.
        const dds_return_t rc = dds_get_publication_matched_status(batch_writer_.get(), &st);
        if (rc < 0) fail("dds_get_publication_matched_status", rc);
        return {st.current_count, st.total_count};
    }

    Wake wait_for_subscriber(std::chrono::nanoseconds timeout) override {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (subscribers().now > 0) return Wake::ready;
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::nanoseconds::zero()) return Wake::timeout;
            const Wake w = waitset_.wait(left);
            if (w == Wake::woken) return w;
        }
    }

    bool publish(const BatchView& batch) override {
        shmrec_bridge_Batch s{};
        s.session = batch.session;
        s.record_name = const_cast<char*>(batch.record.name.c_str());
        s.record_size = batch.record.size;
        s.record_alignment = batch.record.alignment;
        s.fingerprint = batch.record.fingerprint;
        s.first_position = batch.first_position;
        s.lost_before = batch.lost_before;
        s.record_count = batch.record_count;
        s.records = view_of(batch.records);
        s.source_epoch = batch.source_epoch;
        s.from_oldest = batch.from_oldest;
        const dds_return_t rc = dds_write(batch_writer_.get(), &s);
        if (rc == DDS_RETCODE_TIMEOUT) return false;
        if (rc < 0) fail("dds_write (batch)", rc);
        return true;
    }

    std::optional<Written> take_written() override {
        std::optional<Written> newest;
        take<shmrec_bridge_Written>(written_reader_.get(), take_at_once,
                                    [&](const shmrec_bridge_Written& s) {
                                        newest = Written{s.session, s.source_epoch,
                                                         s.next_position};
                                    });
        return newest;
    }

    Wake wait_for_written(std::chrono::nanoseconds timeout) override {
        return written_waitset_.wait(timeout);
    }

  private:
    Topics topics_;
    Entity identity_writer_;
    Entity batch_writer_;
    Entity written_reader_;
    Entity written_ready_;
    WaitSet waitset_;
    WaitSet written_waitset_;
};

class CycloneSubscriber final : public Subscriber {
  public:
    CycloneSubscriber(dds_entity_t participant, dds_entity_t guard, std::string_view topic)
        : topics_(participant, topic),
          identity_reader_("dds_create_reader (identity)",
                           dds_create_reader(participant, topics_.identity.get(),
                                             identity_qos().get(), nullptr)),
          identity_ready_("dds_create_readcondition (identity)",
                          dds_create_readcondition(identity_reader_.get(), DDS_ANY_STATE)),
          notified_("dds_create_guardcondition (notify)",
                    dds_create_guardcondition(participant)),
          identity_waitset_(participant, guard),
          waitset_(participant, guard),
          guard_only_(participant, guard),
          participant_(participant) {
        identity_waitset_.attach(identity_ready_.get(), 1);
        waitset_.attach(identity_ready_.get(), 1);
        waitset_.attach(notified_.get(), 3);
        guard_only_.attach(notified_.get(), 3);
    }
    CycloneSubscriber(const CycloneSubscriber&) = delete;
    CycloneSubscriber& operator=(const CycloneSubscriber&) = delete;
    // The listener goes first: its calls use on_data_.
    ~CycloneSubscriber() override { listen({}); }

    Wake wait_for_identity(std::chrono::nanoseconds timeout) override {
        return identity_waitset_.wait(timeout);
    }

    std::optional<Identity> take_identity() override {
        std::optional<Identity> newest;
        take<shmrec_bridge_Identity>(
            identity_reader_.get(), take_at_once, [&](const shmrec_bridge_Identity& s) {
                Identity id;
                id.topic = text(s.topic);
                id.region = text(s.region);
                id.type.name = text(s.record_name);
                id.type.size = s.record_size;
                id.type.alignment = s.record_alignment;
                id.type.fingerprint = s.fingerprint;
                id.type.schema = text(s.schema);
                const auto b = bytes(s.binary_schema);
                const auto* u = reinterpret_cast<const std::uint8_t*>(b.data());
                id.type.binary_schema.assign(u, u + b.size());
                id.capacity = s.capacity;
                id.session = s.session;
                id.source_epoch = s.source_epoch;
                id.kind = static_cast<SourceKind>(s.source_kind);  // check_identity() checks it
                newest = std::move(id);
            });
        return newest;
    }

    Wake wait(std::chrono::nanoseconds timeout) override {
        const Wake w = (on_data_ ? guard_only_ : waitset_).wait(timeout);
        // Resets a notification: the caller looks at what it was about after this returns,
        // and a notify() from now on triggers the guard again. One that came after the wait
        // timed out is reported, not lost.
        bool notified = false;
        const dds_return_t rc = dds_take_guardcondition(notified_.get(), &notified);
        if (rc < 0) fail("dds_take_guardcondition", rc);
        return notified && w == Wake::timeout ? Wake::ready : w;
    }

    void notify() override {
        const dds_return_t rc = dds_set_guardcondition(notified_.get(), true);
        if (rc < 0) fail("dds_set_guardcondition", rc);
    }

    void listen(std::function<void()> on_data) override {
        // dds_set_listener returns once the listener's calls in progress have returned, so
        // on_data_ changes with no call using it.
        for (const dds_entity_t reader : readers()) set_listener(reader, false);
        on_data_ = std::move(on_data);
        if (!on_data_) return;
        for (const dds_entity_t reader : readers()) set_listener(reader, true);
    }

    void receive_batches() override {
        if (batch_reader_) return;
        batch_reader_.emplace("dds_create_reader (batches)",
                              dds_create_reader(participant_, topics_.batches.get(),
                                                batch_qos(Side::reader).get(), nullptr));
        batch_ready_.emplace("dds_create_readcondition (batches)",
                             dds_create_readcondition(batch_reader_->get(), DDS_ANY_STATE));
        waitset_.attach(batch_ready_->get(), 2);
        if (on_data_) set_listener(batch_reader_->get(), true);
    }

    std::size_t take_batches(std::size_t max,
                             const std::function<void(const BatchView&)>& visit) override {
        if (!batch_reader_) return 0;
        return take<shmrec_bridge_Batch>(
            batch_reader_->get(), max, [&](const shmrec_bridge_Batch& s) {
                BatchView b;
                b.session = s.session;
                b.source_epoch = s.source_epoch;
                b.record = {text(s.record_name), s.record_size, s.record_alignment, s.fingerprint};
                b.first_position = s.first_position;
                b.lost_before = s.lost_before;
                b.record_count = s.record_count;
                b.records = bytes(s.records);  // the loaned sample's, until dds_return_loan
                b.from_oldest = s.from_oldest;
                visit(b);
            });
    }

    void report_written(const Written& written) override {
        if (!written_writer_) {
            written_writer_.emplace("dds_create_writer (written)",
                                    dds_create_writer(participant_, topics_.written.get(),
                                                      written_qos().get(), nullptr));
        }
        shmrec_bridge_Written s{};
        s.session = written.session;
        s.source_epoch = written.source_epoch;
        s.next_position = written.next_position;
        const dds_return_t rc = dds_write(written_writer_->get(), &s);
        if (rc < 0) fail("dds_write (written)", rc);
    }

  private:
    std::vector<dds_entity_t> readers() const {
        std::vector<dds_entity_t> all{identity_reader_.get()};
        if (batch_reader_) all.push_back(batch_reader_->get());
        return all;
    }

    // Sets this subscriber's data-available listener on `reader`, or removes it.
    void set_listener(dds_entity_t reader, bool on) {
        const std::unique_ptr<dds_listener_t, void (*)(dds_listener_t*)> listener(
            on ? dds_create_listener(this) : nullptr, dds_delete_listener);
        if (on && !listener) throw TransportError("Cyclone DDS: out of memory for a listener");
        if (on) {
            dds_lset_data_available(listener.get(), [](dds_entity_t, void* self) {
                static_cast<CycloneSubscriber*>(self)->on_data_();
            });
        }
        const dds_return_t rc = dds_set_listener(reader, listener.get());
        if (rc < 0) fail("dds_set_listener", rc);
    }

    Topics topics_;
    Entity identity_reader_;
    Entity identity_ready_;
    // Made by receive_batches(), once the importer's region is open: an importer that refuses
    // its region never counts as a receiver of the batches.
    std::optional<Entity> batch_reader_;
    std::optional<Entity> batch_ready_;
    std::optional<Entity> written_writer_;  // made by the first report_written()
    Entity notified_;                        // notify()'s guard condition
    WaitSet identity_waitset_;
    WaitSet waitset_;
    WaitSet guard_only_;                 // wait() while a listener takes the data
    dds_entity_t participant_;
    std::function<void()> on_data_;      // the listener's; see listen()
};

class CycloneTransport final : public Transport {
  public:
    // The domain is created explicitly, with the bridge's configuration (cyclone_config.hpp),
    // before the participant that would otherwise create it from CYCLONEDDS_URI alone.
    explicit CycloneTransport(const CycloneOptions& options)
        : domain_("dds_create_domain (the bridge's defaults, then CYCLONEDDS_URI)",
                  dds_create_domain(static_cast<dds_domainid_t>(options.domain),
                                    cyclone_config(std::getenv("CYCLONEDDS_URI")).c_str())),
          participant_("dds_create_participant",
                       dds_create_participant(static_cast<dds_domainid_t>(options.domain),
                                              participant_qos().get(), nullptr)),
          guard_("dds_create_guardcondition", dds_create_guardcondition(participant_.get())) {}

    std::string engine() const override { return "Cyclone DDS " DDS_VERSION; }

    std::unique_ptr<Publisher> publisher(std::string_view topic) override {
        return std::make_unique<CyclonePublisher>(participant_.get(), guard_.get(), topic);
    }
    std::unique_ptr<Subscriber> subscriber(std::string_view topic) override {
        return std::make_unique<CycloneSubscriber>(participant_.get(), guard_.get(), topic);
    }
    void wake() noexcept override { (void)dds_set_guardcondition(guard_.get(), true); }

  private:
    Entity domain_;  // deleted last: deleting it would delete the participant
    Entity participant_;
    Entity guard_;
};

}  // namespace

std::unique_ptr<Transport> make_cyclone_transport(const CycloneOptions& options) {
    return std::make_unique<CycloneTransport>(options);
}

}  // namespace shmrec::bridge
