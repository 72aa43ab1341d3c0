// shmrec record NAME | --file PATH -o FILE [--duration S | -n N] [--start oldest|newest]
// [--force]: keeps a live region's records, with the time each arrived, in a recording
// (docs/recording-format.md).
//
//   broadcast  an ordinary reader (from the newest record unless --start oldest); a reader
//              the writer laps loses records: counted on stderr and in the summary
//   cell       each change the recorder sees (a cell keeps only its latest value: changes
//              faster than the recorder copies them are not seen; the positions show the gap)
//   ring       a non-consuming observer, which can miss records (see tail)
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <shmrec/inspect/recording.hpp>
#include <shmrec/untyped.hpp>

#include "live.hpp"
#include "region_lookup.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

struct RecordOptions {
    Target target;
    std::string output;
    double duration = 0;     // 0: no limit
    std::uint64_t count = 0;  // 0: no limit
    std::string start;
    bool force = false;
};

using Clock = std::chrono::steady_clock;

std::uint64_t wall_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

struct Outcome {
    std::string why;  // "" (limit reached or stopped), "closed", "writer_gone", "corrupt"
};

// Reads from `reader` into `out` until the limits, a stop request, or the end of the stream.
// `position` gives the source position of the record just read; `lost` the records lost so far.
template <class Reader, class Position, class Lost>
Outcome record_from(Reader& reader, const RecordOptions& options, inspect::RecordingWriter& out,
                    Clock::time_point start, Position position, Lost lost,
                    const std::string& origin) {
    std::vector<std::byte> record(out.info().record_size);
    const std::span<std::byte> buffer(record);
    const auto end = options.duration > 0
                         ? start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options.duration))
                         : Clock::time_point::max();
    std::uint64_t reported_lost = 0;
    auto last_flush = Clock::now();
    while (!stop_requested() && (options.count == 0 || out.entries() < options.count)) {
        const auto now = Clock::now();
        if (now >= end) break;
        const auto wait = std::min<Clock::duration>(end - now, poll_interval);
        const ReadStatus s = reader.read(buffer, wait);
        if (s == ReadStatus::ok) {
            const auto at = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
            out.append(static_cast<std::uint64_t>(at.count()), position(), record);
        } else if (s == ReadStatus::closed) {
            return {"closed"};
        } else if (s == ReadStatus::writer_gone) {
            return {"writer_gone"};
        } else if (s == ReadStatus::corrupt) {
            return {"corrupt"};
        }
        if (lost() != reported_lost) {
            fmt::print(stderr, "shmrec: lapped: {} records of {} lost so far\n", lost(), origin);
            reported_lost = lost();
        }
        // Flushed at least every poll interval: an interrupted recording loses little.
        if (Clock::now() - last_flush >= poll_interval) {
            out.flush();
            last_flush = Clock::now();
        }
    }
    return {};
}

int run_record(const RecordOptions& options) {
    if (!options.start.empty() && options.start != "oldest" && options.start != "newest") {
        throw CLI::ValidationError("--start", "oldest or newest");
    }
    if (options.duration < 0) throw CLI::ValidationError("--duration", "must not be negative");
    const Location where = options.target.location();
    Opened opened = examine_for_verb(where);
    if (auto* status = std::get_if<int>(&opened)) return *status;
    const RegionInfo info = std::get<RegionInfo>(std::move(opened));
    const std::string origin = shown(where);
    install_stop_handlers();

    inspect::RecordingInfo description;
    description.record_name = info.record_name;
    description.record_size = info.record_size;
    description.record_alignment = info.record_alignment;
    description.fingerprint = info.fingerprint;
    description.channel_kind = static_cast<std::uint32_t>(info.kind);
    description.source = info.name;
    description.schema = info.schema;
    description.binary_schema = info.binary_schema;
    if (info.binary_schema.empty()) {
        fmt::print(stderr, "shmrec: note: {} embeds no binary schema (format 2.0): the recording "
                           "replays, but tail can only print it with --hex\n", origin);
    }

    // Open the reader first, so the recording's clock starts when records can arrive.
    auto record_with = [&](auto& reader, auto position, auto lost) {
        description.start_time_ns = wall_ns();
        const auto start = Clock::now();
        auto out = inspect::RecordingWriter::create(options.output, description, options.force);
        const Outcome outcome = record_from(reader, options, out, start, position, lost, origin);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const std::uint64_t entries = out.entries();
        out.close();
        std::string ending;
        if (outcome.why == "closed") ending = "; the writer closed the region";
        if (outcome.why == "writer_gone") ending = "; the writer died";
        if (outcome.why == "corrupt") ending = "; the channel's counters turned impossible (corrupt)";
        fmt::print(stderr, "shmrec: recorded {} records of {} from {} in {:.1f} s into {}{}{}\n",
                   entries, info.record_name, origin, seconds, options.output,
                   lost() != 0 ? fmt::format(" ({} lost: the recorder was lapped)", lost()) : "",
                   ending);
        return outcome.why == "corrupt" ? exit_failure : exit_ok;
    };

    switch (info.kind) {
        case ChannelKind::broadcast: {
            const StartAt start = options.start == "oldest" ? StartAt::oldest : StartAt::newest;
            auto reader = untyped::broadcast_reader(where, start);
            return record_with(reader, [&] { return reader.position() - 1; },
                               [&] { return reader.lost(); });
        }
        case ChannelKind::cell: {
            auto reader = untyped::cell_reader(where);
            // The writer's number of the record read: a gap is changes the recorder missed.
            return record_with(reader, [&] { return reader.sequence(); },
                               [] { return std::uint64_t{0}; });
        }
        case ChannelKind::ring: {
            fmt::print(stderr, "shmrec: note: a ring is recorded by a non-consuming observer, "
                               "which misses records the consumer took and the writer overwrote "
                               "before it copied them\n");
            auto observer = untyped::ring_observer(where);
            return record_with(observer, [&] { return observer.position() - 1; },
                               [&] { return observer.missed(); });
        }
        case ChannelKind::byte_ring:
        case ChannelKind::byte_broadcast:
            fmt::print(stderr, "shmrec: {} is a {}; record does not read variable-size messages "
                               "yet\n", origin, to_string(info.kind));
            return exit_failure;
    }
    return exit_failure;
}

}  // namespace

Verb add_record_verb(CLI::App& app) {
    auto options = std::make_shared<RecordOptions>();
    auto* command = app.add_subcommand(
        "record",
        "Record a live broadcast (as an ordinary reader) or cell (each change) into a "
        "self-describing file, with the time each record arrived (docs/recording-format.md). "
        "A broadcast reader that is lapped loses records: counted on stderr and in the summary. "
        "Ctrl-C ends it, keeping everything recorded (exit status 0).");
    options->target.add_options(*command, "to record");
    command->add_option("-o,--output", options->output, "The recording to write")->required();
    auto* duration = command->add_option("--duration", options->duration, "Stop after S seconds");
    command->add_option("-n,--count", options->count, "Stop after N records")->excludes(duration);
    command->add_option("--start", options->start,
                        "Broadcast: start at the newest record (default) or the oldest retained");
    command->add_flag("--force", options->force, "Overwrite an existing output file");
    return {command, [options] { return run_record(*options); }};
}

}  // namespace shmrec::tool
