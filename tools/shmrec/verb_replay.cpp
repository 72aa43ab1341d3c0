// shmrec replay FILE NAME [--rate X] [--kind cell|broadcast] [--capacity N] [--remove]:
// plays a recording back into a new region of the recorded type, at the recorded pace × rate.
//
// The new region embeds the recording's schema text and binary schema, so it is as
// self-describing as the region recorded. Pace: entry i is written at
// start + (t_i − t_0) / rate on the steady clock (the first at once); --rate 0 or max writes
// as fast as possible. At the end the writer closes the region (readers see a clean end of
// stream); the name stays for readers to come unless --remove.
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <shmrec/error.hpp>
#include <shmrec/inspect/recording.hpp>
#include <shmrec/untyped.hpp>

#include "live.hpp"
#include "region_lookup.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

struct ReplayOptions {
    std::string file;
    std::string name;
    std::string rate = "1";
    std::string kind;  // "", "cell", "broadcast"
    std::uint64_t capacity = 0;  // 0: the smallest power of two ≥ the entries, 64 to 65536
    bool remove = false;
};

using Clock = std::chrono::steady_clock;

double parse_rate(const std::string& text) {
    if (text == "max") return 0.0;
    char* end = nullptr;
    const double rate = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(rate >= 0) || rate > 1e9) {
        throw CLI::ValidationError("--rate", "a factor ≥ 0 (1: the recorded pace; 0 or max: as fast "
                                             "as possible)");
    }
    return rate;
}

template <class Writer>
int replay_into(Writer& writer, inspect::RecordingReader& reader, double rate,
                const std::string& target) {
    const auto start = Clock::now();
    std::uint64_t written = 0;
    std::uint64_t first_ns = 0;
    bool stopped = false;
    for (std::uint64_t i = 0; i < reader.entries(); ++i) {
        const auto entry = reader.at(i);
        if (i == 0) first_ns = entry.timestamp_ns;
        if (rate > 0) {
            // A timestamp before the first (a damaged file) is due at once.
            const double offset_ns =
                static_cast<double>(entry.timestamp_ns >= first_ns ? entry.timestamp_ns - first_ns : 0) /
                rate;
            const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double, std::nano>(offset_ns));
            if (!sleep_until(due)) {
                stopped = true;
                break;
            }
        } else if (stop_requested()) {
            stopped = true;
            break;
        }
        const WriteStatus s = writer.try_write(entry.record);
        if (s != WriteStatus::ok) {
            fmt::print(stderr, "shmrec: writing record {} into {} failed: {}\n", i, target,
                       shmrec::to_string(s));
            writer.close();
            return exit_failure;
        }
        ++written;
    }
    writer.close();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    fmt::print(stderr, "shmrec: replayed {} of {} records into {} in {:.2f} s{}; closed it\n",
               written, reader.entries(), target, seconds, stopped ? " (stopped)" : "");
    return exit_ok;
}

int run_replay(const ReplayOptions& options) {
    const double rate = parse_rate(options.rate);
    if (!options.kind.empty() && options.kind != "cell" && options.kind != "broadcast") {
        throw CLI::ValidationError("--kind", "cell or broadcast");
    }
    if (options.capacity != 0 &&
        (!std::has_single_bit(options.capacity) || options.capacity > (std::uint64_t{1} << 31))) {
        throw CLI::ValidationError("--capacity", "a power of two up to 2^31");
    }
    install_stop_handlers();
    std::optional<inspect::RecordingReader> opened;
    try {
        opened.emplace(inspect::RecordingReader::open(options.file));
    } catch (const Error& e) {
        if (e.code() != ErrorCode::not_found) throw;
        fmt::print(stderr, "shmrec: {}\n", e.what());
        return exit_not_found;
    }
    auto& reader = *opened;
    const auto& info = reader.info();
    if (reader.trailing_bytes() != 0) {
        fmt::print(stderr, "shmrec: recording '{}' ends in a partial entry ({} bytes): it was "
                           "interrupted; its {} whole entries are replayed\n",
                   options.file, reader.trailing_bytes(), reader.entries());
    }

    RecordType type;
    type.name = info.record_name;
    type.size = info.record_size;
    type.alignment = info.record_alignment;
    type.fingerprint = info.fingerprint;
    type.schema = info.schema;
    type.binary_schema = info.binary_schema;

    // The recorded kind, except a ring: replaying into a ring would block on its consumer.
    const bool cell = options.kind.empty()
                          ? info.channel_kind == static_cast<std::uint32_t>(ChannelKind::cell)
                          : options.kind == "cell";
    const Location where = Location::memory(options.name);
    RegionOptions region_options;
    region_options.remove_on_close = options.remove;
    const std::string target = fmt::format("{} '{}'", cell ? "cell" : "broadcast", options.name);
    if (cell) {
        auto writer = untyped::cell_writer(where, type, OpenMode::create_only, region_options);
        return replay_into(writer, reader, rate, target);
    }
    std::uint64_t capacity = options.capacity;
    if (capacity == 0) {
        capacity = std::bit_ceil(std::max<std::uint64_t>(reader.entries(), 64));
        capacity = std::min<std::uint64_t>(capacity, 65536);
    }
    auto writer = untyped::broadcast_writer(where, type, capacity, OpenMode::create_only,
                                            region_options);
    return replay_into(writer, reader, rate, target);
}

}  // namespace

Verb add_replay_verb(CLI::App& app) {
    auto options = std::make_shared<ReplayOptions>();
    auto* command = app.add_subcommand(
        "replay",
        "Play a recording back into a new shared-memory region of the recorded type (embedding "
        "the recorded schemas), at the recorded pace times --rate, then close the region. "
        "Ctrl-C stops it early and closes the region (exit status 0).");
    command->add_option("file", options->file, "The recording (shmrec record -o FILE)")->required();
    command->add_option("name", options->name, "The new region's shared-memory name")->required();
    command->add_option("--rate", options->rate,
                        "Pace factor: 1 the recorded pace (default), 2 twice as fast, 0 or max "
                        "as fast as possible");
    command->add_option("--kind", options->kind,
                        "cell or broadcast (default: the recorded kind; a recorded ring replays "
                        "as a broadcast)");
    command->add_option("--capacity", options->capacity,
                        "Broadcast capacity, a power of two (default: the smallest power of two "
                        "holding every entry, 64 to 65536)");
    command->add_flag("--remove", options->remove,
                      "Remove the region's name when done (default: it stays, closed, for "
                      "readers to come)");
    return {command, [options] { return run_replay(*options); }};
}

}  // namespace shmrec::tool
