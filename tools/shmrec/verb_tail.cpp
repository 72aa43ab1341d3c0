// shmrec tail NAME | --file PATH [-n N] [-f] [--start oldest|newest] [--max M] [--positions]
// [--hex]: a region's records (or a recording's) decoded to JSON, one line each.
//
//   cell       its latest value; with -f, each change after it
//   broadcast  an ordinary reader: the last N records retained, then with -f every new one
//   ring       a non-consuming observer (untyped::RingObserver): the consumer keeps every
//              record; the observer starts at the oldest record the consumer has not taken,
//              and misses those the consumer freed and the writer overwrote before it could
//              copy them (counted on stderr)
//   byte ring  table records through a non-consuming observer (untyped::ByteRingObserver), each
//              decoded with inspect::TableSchema (verified first); the last N of those the
//              consumer has not taken, then with -f each as it passes
//   recording  (--file of a recording) its entries in order, the last N with -n
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <shmrec/error.hpp>
#include <shmrec/inspect/recording.hpp>
#include <shmrec/inspect/table_schema.hpp>
#include <shmrec/untyped.hpp>

#include "live.hpp"
#include "region_lookup.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

struct TailOptions {
    Target target;
    std::uint64_t last = 10;
    bool follow = false;
    std::string start;  // "", "oldest", "newest"
    std::uint64_t max = 0;  // 0: no limit
    bool positions = false;
    bool hex = false;
};

// Formats records as JSON lines and counts what was printed against --max. Struct records are
// decoded with a RecordSchema, table records (a byte ring's messages) with a TableSchema;
// neither with --hex.
class Printer {
public:
    Printer(const TailOptions& options, std::optional<inspect::RecordSchema> schema)
        : options_(options), schema_(std::move(schema)) {}
    Printer(const TailOptions& options, std::optional<inspect::TableSchema> table,
            std::string origin)
        : options_(options), table_(std::move(table)), origin_(std::move(origin)) {}

    // False when the output is gone or --max is reached: stop. A table record that does not
    // decode is reported on stderr and skipped (not counted against --max).
    bool print(std::span<const std::byte> record, std::optional<std::uint64_t> position,
               std::optional<std::uint64_t> timestamp_ns = std::nullopt) {
        std::string body;
        if (table_) {
            inspect::TableJson json = table_->to_json(record);
            if (!json) {
                std::fflush(stdout);
                fmt::print(stderr, "shmrec: {}: message {} ({} bytes) not shown: {}\n", origin_,
                           position ? fmt::format("{}", *position) : std::string("?"),
                           record.size(), json.reason);
                return true;
            }
            body = std::move(json.text);
        } else {
            body = schema_ ? schema_->to_json(record) : hex_json(record);
        }
        if (options_.positions) {
            std::string prefix = "{";
            if (position) prefix += fmt::format("\"position\":{},", *position);
            if (timestamp_ns) prefix += fmt::format("\"t_ns\":{},", *timestamp_ns);
            body = prefix + "\"record\":" + body + "}";
        }
        if (!print_line(body, options_.follow)) return false;
        ++printed_;
        return options_.max == 0 || printed_ < options_.max;
    }
    bool done() const noexcept { return options_.max != 0 && printed_ >= options_.max; }

private:
    const TailOptions& options_;
    std::optional<inspect::RecordSchema> schema_;
    std::optional<inspect::TableSchema> table_;
    std::string origin_;
    std::uint64_t printed_ = 0;
};

// The decoder, or the message that there is none (a format 2.0 region) unless --hex.
std::optional<int> no_schema_refusal(bool has_schema, bool hex, const std::string& origin) {
    if (has_schema || hex) return std::nullopt;
    fmt::print(stderr,
               "shmrec: {} embeds no binary schema (a format 2.0 region, or a recording of "
               "one): its records cannot be decoded to JSON; --hex prints their bytes\n",
               origin);
    return exit_failure;
}

std::optional<inspect::RecordSchema> load_decoder(std::span<const std::uint8_t> binary_schema,
                                                  const std::string& record_name,
                                                  std::uint32_t size, const std::string& origin,
                                                  bool hex) {
    if (hex) return std::nullopt;
    return decoder_for(binary_schema, record_name, size, origin);
}

int tail_recording(const TailOptions& options) {
    auto reader = inspect::RecordingReader::open(options.target.file);
    const auto& info = reader.info();
    const std::string origin = fmt::format("recording '{}'", options.target.file);
    if (auto refused = no_schema_refusal(!info.binary_schema.empty(), options.hex, origin)) {
        return *refused;
    }
    Printer printer(options, load_decoder(info.binary_schema, info.record_name, info.record_size,
                                          origin, options.hex));
    if (options.follow) {
        fmt::print(stderr, "shmrec: {} is read to its end (-f follows live regions only)\n", origin);
    }
    const std::uint64_t first = reader.entries() > options.last ? reader.entries() - options.last : 0;
    for (std::uint64_t i = first; i < reader.entries(); ++i) {
        const auto entry = reader.at(i);
        if (!printer.print(entry.record, entry.position, entry.timestamp_ns)) break;
    }
    std::fflush(stdout);
    if (reader.trailing_bytes() != 0) {
        fmt::print(stderr,
                   "shmrec: {} ends in a partial entry ({} bytes after the last of {} whole "
                   "entries): the recording was interrupted; the whole entries were read\n",
                   origin, reader.trailing_bytes(), reader.entries());
    }
    return exit_ok;
}

// Calls `read()` (one read waiting at most poll_interval) until stopped, --max, or the end of
// the stream, and `print()` after each record read (false: stop). Returns the exit status.
template <class Read, class Print>
int follow(Read&& read, Print&& print, const Printer& printer, const std::string& origin) {
    while (!stop_requested() && !printer.done()) {
        switch (read()) {
            case ReadStatus::ok:
                if (!print()) return exit_ok;
                break;
            case ReadStatus::timeout:
            case ReadStatus::contended:
            case ReadStatus::unchanged:
            case ReadStatus::empty: break;
            case ReadStatus::closed:
                std::fflush(stdout);
                fmt::print(stderr, "shmrec: the writer closed {}\n", origin);
                return exit_ok;
            case ReadStatus::writer_gone:
                std::fflush(stdout);
                fmt::print(stderr, "shmrec: the writer of {} died (a new writer may take it over; "
                                   "run tail again)\n", origin);
                return exit_failure;
            case ReadStatus::corrupt:
                std::fflush(stdout);
                fmt::print(stderr, "shmrec: {}: the channel's counters are impossible (corrupt)\n",
                           origin);
                return exit_failure;
            default:
                std::fflush(stdout);
                fmt::print(stderr, "shmrec: {}: unexpected read status\n", origin);
                return exit_failure;
        }
    }
    return exit_ok;
}

// The same for a reader of fixed-size records into `record`.
template <class Reader, class Position>
int follow_records(Reader& reader, std::vector<std::byte>& record, Printer& printer,
                   Position position, const std::string& origin) {
    return follow([&] { return reader.read(std::span<std::byte>(record), poll_interval); },
                  [&] { return printer.print(record, position()); }, printer, origin);
}

// A byte ring of table records: a non-consuming observer (untyped::ByteRingObserver); each
// message printed as JSON with its sequence number as its position.
int tail_byte_ring(const TailOptions& options, const Location& where, const RegionInfo& info,
                   const std::string& origin) {
    if (auto refused = no_schema_refusal(!info.binary_schema.empty(), options.hex, origin)) {
        return *refused;
    }
    std::optional<inspect::TableSchema> table;
    if (!options.hex) table = inspect::TableSchema::load(info.binary_schema, info.record_name, origin);
    Printer printer(options, std::move(table), origin);
    const StartAt start = options.start == "newest" ? StartAt::newest : StartAt::oldest;
    auto observer = untyped::byte_ring_observer(where, start);
    std::vector<std::byte> message;
    auto report_missed = [&] {
        std::fflush(stdout);
        if (observer.missed() != 0) {
            fmt::print(stderr,
                       "shmrec: the observer missed {} messages of {} (consumed and overwritten "
                       "before it could copy them)\n",
                       observer.missed(), origin);
        }
    };
    auto report_corrupt = [&] {
        std::fflush(stdout);
        fmt::print(stderr,
                   "shmrec: {}: the frame at byte position {} cannot be right (corrupt): its "
                   "messages cannot be followed past it\n",
                   origin, observer.position());
    };
    // What is in the ring now, keeping the last N. At most capacity / 32 frames fit in it, so
    // a writer that keeps writing cannot keep this loop going (nor can `contended`).
    std::deque<std::pair<std::uint64_t, std::vector<std::byte>>> last;
    const std::uint64_t bound = observer.capacity() / 32 + 1;
    ReadStatus s = ReadStatus::empty;
    for (std::uint64_t tries = 0, n = 0; n < bound && tries < 4 * bound; ++tries) {
        s = observer.try_read(message);
        if (s == ReadStatus::contended) continue;
        if (s != ReadStatus::ok) break;
        ++n;
        if (options.last == 0) continue;
        last.emplace_back(observer.sequence(), message);
        if (last.size() > options.last) last.pop_front();
    }
    for (const auto& [sequence, bytes] : last) {
        if (!printer.print(bytes, sequence)) {
            report_missed();
            return exit_ok;
        }
    }
    if (s == ReadStatus::corrupt) {
        report_corrupt();
        return exit_failure;
    }
    int status = exit_ok;
    if (options.follow && !printer.done()) {
        status = follow([&] { return observer.read(message, poll_interval); },
                        [&] { return printer.print(message, observer.sequence()); }, printer,
                        origin);
        if (status == exit_failure && observer.try_read(message) == ReadStatus::corrupt) {
            report_corrupt();
        }
    }
    report_missed();
    return status;
}

int tail_region(const TailOptions& options, const Location& where) {
    Opened opened = examine_for_verb(where);
    if (auto* status = std::get_if<int>(&opened)) return *status;
    const RegionInfo info = std::get<RegionInfo>(std::move(opened));
    const std::string origin = shown(where);
    if (info.kind == ChannelKind::byte_ring) return tail_byte_ring(options, where, info, origin);
    if (info.kind == ChannelKind::byte_broadcast) {
        fmt::print(stderr, "shmrec: {} is a byte broadcast of {} messages; tail does not read byte "
                           "broadcasts yet (info and stat do)\n", origin, info.record_name);
        return exit_failure;
    }
    if (auto refused = no_schema_refusal(!info.binary_schema.empty(), options.hex, origin)) {
        return *refused;
    }
    Printer printer(options, load_decoder(info.binary_schema, info.record_name, info.record_size,
                                          origin, options.hex));
    std::vector<std::byte> record(info.record_size);
    const std::span<std::byte> buffer(record);

    switch (info.kind) {
        case ChannelKind::cell: {
            auto reader = untyped::cell_reader(where);
            const ReadStatus first = reader.try_read(buffer);
            if (first == ReadStatus::ok || first == ReadStatus::unchanged) {
                if (!printer.print(record, reader.sequence())) return exit_ok;
            } else if (first == ReadStatus::empty && !options.follow) {
                fmt::print(stderr, "shmrec: {} holds no record yet\n", origin);
            }
            if (!options.follow) return exit_ok;
            return follow_records(reader, record, printer,
                                  [&] { return std::optional<std::uint64_t>(reader.sequence()); },
                                  origin);
        }
        case ChannelKind::broadcast: {
            const StartAt start = options.start == "newest" ? StartAt::newest : StartAt::oldest;
            auto reader = untyped::broadcast_reader(where, start);
            // The last N retained: read what is there now, keep the last N.
            std::deque<std::pair<std::uint64_t, std::vector<std::byte>>> last;
            int status = exit_ok;
            // Bounded by the capacity: a fast writer cannot keep this loop going.
            for (std::uint64_t n = 0; n < info.geometry.capacity + 1;) {
                const ReadStatus s = reader.try_read(buffer);
                if (s == ReadStatus::contended) continue;
                if (s != ReadStatus::ok) break;
                ++n;
                if (options.last == 0) continue;
                last.emplace_back(reader.position() - 1, record);
                if (last.size() > options.last) last.pop_front();
            }
            for (const auto& [position, bytes] : last) {
                if (!printer.print(bytes, position)) return exit_ok;
            }
            if (options.follow) {
                status = follow_records(
                    reader, record, printer,
                    [&] { return std::optional<std::uint64_t>(reader.position() - 1); }, origin);
            }
            std::fflush(stdout);
            if (reader.lost() != 0) {
                fmt::print(stderr, "shmrec: this reader was lapped and lost {} records of {}\n",
                           reader.lost(), origin);
            }
            return status;
        }
        case ChannelKind::ring: {
            auto observer = untyped::ring_observer(where);
            int status = exit_ok;
            // What is in the ring now (the records the consumer has not taken yet), then, with
            // -f, each as it passes.
            for (std::uint64_t n = 0; n < info.geometry.capacity && !printer.done();) {
                const ReadStatus s = observer.try_read(buffer);
                if (s == ReadStatus::contended) continue;
                if (s != ReadStatus::ok) break;
                ++n;
                if (!printer.print(record, observer.position() - 1)) break;
            }
            if (options.follow && !printer.done()) {
                status = follow_records(
                    observer, record, printer,
                    [&] { return std::optional<std::uint64_t>(observer.position() - 1); }, origin);
            }
            std::fflush(stdout);
            if (observer.missed() != 0) {
                fmt::print(stderr,
                           "shmrec: the observer missed {} records of {} (consumed and "
                           "overwritten before it could copy them)\n",
                           observer.missed(), origin);
            }
            return status;
        }
        case ChannelKind::byte_ring:       // tail_byte_ring, above
        case ChannelKind::byte_broadcast:  // refused above
            break;
    }
    return exit_failure;
}

int run_tail(const TailOptions& options) {
    if (!options.start.empty() && options.start != "oldest" && options.start != "newest") {
        throw CLI::ValidationError("--start", "oldest or newest");
    }
    const Location where = options.target.location();
    install_stop_handlers();
    if (where.backing == Backing::file && inspect::is_recording(where.name)) {
        return tail_recording(options);
    }
    return tail_region(options, where);
}

}  // namespace

Verb add_tail_verb(CLI::App& app) {
    auto options = std::make_shared<TailOptions>();
    auto* command = app.add_subcommand(
        "tail",
        "Print a region's records (or a recording's) as JSON lines, decoded with the schema it "
        "embeds.\n"
        "  cell: its latest value (-f: and each change).\n"
        "  broadcast: an ordinary reader: the last N records retained (-f: then every new one).\n"
        "  ring, byte ring: a non-consuming observer that never takes a record from the\n"
        "    consumer. It starts at the oldest record the consumer has not taken yet (-f: then\n"
        "    each as it passes), and misses records the consumer took and the writer overwrote\n"
        "    before it could copy them (counted on stderr). It polls: a record shows up to ~1 ms\n"
        "    late. A byte ring's table records are verified, then decoded; one that fails is\n"
        "    reported on stderr and skipped; its position is the message's sequence number.\n"
        "  --file PATH of a recording (shmrec record): its entries in order.\n"
        "Ctrl-C (SIGINT, SIGTERM) ends -f cleanly with exit status 0.");
    options->target.add_options(*command, "to read (--file: also a recording)");
    command->add_option("-n,--lines", options->last,
                        "Broadcast, byte ring or recording: print the last N records first (default 10)");
    command->add_flag("-f,--follow", options->follow, "Keep printing new records until Ctrl-C");
    command->add_option("--start", options->start,
                        "Broadcast, byte ring: where reading starts, oldest (default) or newest "
                        "(broadcast: then -n sees at most one; byte ring: only what is written next)");
    command->add_option("--max", options->max, "Stop after printing M records");
    command->add_flag("--positions", options->positions,
                      "Print {\"position\":P,\"record\":{...}} (recordings: also \"t_ns\")");
    command->add_flag("--hex", options->hex, "Print each record's bytes as hex, not decoded");
    return {command, [options] { return run_tail(*options); }};
}

}  // namespace shmrec::tool
