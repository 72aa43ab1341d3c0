#include "exporter.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include <shmrec/error.hpp>
#include <shmrec/untyped.hpp>

#include "notice.hpp"

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

// The region, once it exists; nullopt when asked to stop first.
std::optional<untyped::BroadcastReader> open_region(const ExportOptions& options,
                                                    const StopFlag& stop) {
    RegionOptions wait_for_it;
    wait_for_it.wait_for_creator = slice;
    bool told = false;
    while (!stop.requested()) {
        try {
            return untyped::broadcast_reader(Location::memory(options.region), StartAt::oldest,
                                             wait_for_it);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::not_found && e.code() != ErrorCode::init_timeout) throw;
            if (!told) notice("waiting for region '{}' to be created", options.region);
            told = true;
        }
    }
    return std::nullopt;
}

// Batches the reader's records: consecutive source positions, the loss before the first.
class Batcher {
  public:
    Batcher(untyped::BroadcastReader& reader, std::uint32_t max_records)
        : reader_(reader),
          size_(reader.type().size),
          buffer_(std::size_t{max_records} * size_),
          max_records_(max_records) {}

    // Fills the batch: waits up to `slice` for its first record, then takes what is ready
    // without waiting. Returns the status that ended it (ok: the batch is full, or ended at a
    // gap; empty / timeout: nothing more now).
    ReadStatus fill() {
        while (count_ < max_records_) {
            const std::uint64_t lost = reader_.lost();
            const auto out = std::span(buffer_).subspan(std::size_t{count_} * size_, size_);
            const ReadStatus s = count_ == 0 ? reader_.read(out, slice) : reader_.try_read(out);
            if (s == ReadStatus::contended) continue;  // lapped on every attempt: again
            if (s != ReadStatus::ok) return s;
            const std::uint64_t position = reader_.position() - 1;
            if (count_ == 0) {
                first_ = position;
                lost_before_ = reader_.lost() - reported_lost_;
            } else if (reader_.lost() != lost) {
                // A lap between the last record and this one: the batch ends before it, and
                // this record starts the next one (carried over by take()).
                carry_ = true;
                return ReadStatus::ok;
            }
            ++count_;
        }
        return ReadStatus::ok;
    }

    bool empty() const noexcept { return count_ == 0; }

    BatchView view(const RecordKey& record, std::uint64_t session) const {
        BatchView batch;
        batch.session = session;
        batch.record = record;
        batch.first_position = first_;
        batch.lost_before = lost_before_;
        batch.record_count = count_;
        batch.records = std::span<const std::byte>(buffer_).first(std::size_t{count_} * size_);
        return batch;
    }

    // The batch was sent: start the next one (with the record read past a gap, if any).
    void take() {
        reported_lost_ += lost_before_;
        if (carry_) {
            std::memmove(buffer_.data(), buffer_.data() + std::size_t{count_} * size_, size_);
            first_ = reader_.position() - 1;
            lost_before_ = reader_.lost() - reported_lost_;
            count_ = 1;
            carry_ = false;
        } else {
            count_ = 0;
        }
    }

  private:
    untyped::BroadcastReader& reader_;
    std::size_t size_;
    std::vector<std::byte> buffer_;
    std::uint32_t max_records_;
    std::uint32_t count_ = 0;
    std::uint64_t first_ = 0;
    std::uint64_t lost_before_ = 0;
    std::uint64_t reported_lost_ = 0;  // lost records already attributed to a batch
    bool carry_ = false;
};

}  // namespace

ExportCounts run_export(Transport& transport, const ExportOptions& options, const StopFlag& stop) {
    ExportCounts counts;

    auto publisher = transport.publisher(options.topic);
    std::optional<untyped::BroadcastReader> reader = open_region(options, stop);
    if (!reader) return counts;

    const Identity identity{options.topic, options.region, reader->type(), reader->capacity(),
                            new_session()};
    const RecordKey record = RecordKey::of(identity.type);
    if (const auto problem = check_identity(identity)) {
        throw std::runtime_error(
            fmt::format("region '{}' cannot be exported: {}", options.region, *problem));
    }
    publisher->announce(identity);
    notice("exporting region '{}' ({}, capacity {}) as topic '{}' over {}", options.region,
           describe(record), identity.capacity, options.topic, transport.engine());

    while (!stop.requested()) {
        const Wake w = publisher->wait_for_subscriber(slice);
        if (w == Wake::ready) break;
        if (w == Wake::woken) return counts;
    }
    if (stop.requested()) return counts;
    notice("an importer subscribed to topic '{}'", options.topic);

    // No batch larger than an importer accepts (wire.hpp; check_identity() bounds the size).
    const auto max_records = static_cast<std::uint32_t>(std::max<std::size_t>(
        1, std::min<std::size_t>(options.max_batch_records, max_batch_bytes / record.size)));
    Batcher batcher(*reader, max_records);
    bool writer_missing = false;
    while (!stop.requested()) {
        const ReadStatus s = batcher.fill();
        if (!batcher.empty()) {
            const BatchView batch = batcher.view(record, identity.session);
            while (!publisher->publish(batch)) {
                if (stop.requested()) return counts;  // receivers full for good: give up the batch
            }
            counts.records += batch.record_count;
            counts.batches += 1;
            batcher.take();
        }
        counts.lost = reader->lost();
        switch (s) {
            case ReadStatus::ok:
            case ReadStatus::empty:
            case ReadStatus::timeout:
                break;
            case ReadStatus::closed:
            case ReadStatus::writer_gone:
                // Everything the writer committed was read: wait for a replacement writer.
                if (!writer_missing) {
                    notice("the writer of region '{}' {}; waiting for a new one", options.region,
                           s == ReadStatus::closed ? "closed it" : "is gone");
                }
                writer_missing = true;
                if (reader->wait_for_writer(slice) == ReadStatus::ok) writer_missing = false;
                break;
            default:
                throw std::runtime_error(
                    fmt::format("reading region '{}' failed: {}", options.region, to_string(s)));
        }
    }
    return counts;
}

}  // namespace shmrec::bridge
