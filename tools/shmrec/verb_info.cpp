// shmrec info NAME | --file PATH [--schema] [--json]: a region's decoded header, state,
// geometry, liveness, live channel state (positions, each reader's lag and loss, sleepers) and
// (with --schema, or always in JSON) its embedded schema.
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <shmrec/untyped.hpp>

#include "output.hpp"
#include "region_lookup.hpp"
#include "region_view.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

struct InfoOptions {
    Target target;
    bool schema = false;
    bool json = false;
};

std::string channel_text(ChannelKind kind) {
    switch (kind) {
        case ChannelKind::cell: return "cell (latest value: readers see the newest record)";
        case ChannelKind::ring: return "ring (queue: one consumer sees every record once)";
        case ChannelKind::broadcast: return "broadcast (every reader sees every record)";
        case ChannelKind::byte_ring:
            return "byte ring (queue of variable-size messages: one consumer sees each once)";
        case ChannelKind::byte_broadcast:
            return "byte broadcast (variable-size messages: every reader sees every message)";
    }
    return "unknown";
}

// The channel's positions now; none when the region went away or changed meanwhile (the
// header part is still worth printing).
std::optional<ChannelState> live_state(const Location& where) {
    RegionOptions quick;
    quick.init_timeout = std::chrono::milliseconds(0);
    try {
        return ChannelMonitor::open(where, quick).state();
    } catch (const Error&) {
        return std::nullopt;
    }
}

// Records published but not yet read by this reader (a cell: updates it has not seen).
std::uint64_t lag_of(const ChannelState& s, const ReaderState& r) {
    return s.written > r.position ? s.written - r.position : 0;
}

Json live_json(const ChannelState& s) {
    Json j;
    j["written"] = s.written;
    if (s.kind == ChannelKind::ring) {
        j["consumed"] = s.oldest;
        j["lag"] = s.written > s.oldest ? s.written - s.oldest : 0;
        j["writer_waiting"] = s.writer_waiting;
        j["consumer_waiting"] = s.consumer_waiting;
        return j;
    }
    if (s.kind == ChannelKind::broadcast) j["oldest"] = s.oldest;
    j["cursors"] = s.cursors;
    Json readers = Json::array();
    for (const ReaderState& r : s.readers) {
        readers.push_back({{"slot", r.slot},
                           {"position", r.position},
                           {"lag", lag_of(s, r)},
                           {"received", r.received},
                           {"lost", r.lost},
                           {"waiting", r.waiting}});
    }
    j["readers"] = std::move(readers);
    return j;
}

void print_live(const ChannelState& s) {
    auto line = [](std::string_view label, const std::string& value) {
        fmt::print("{:<13} {}\n", label, value);
    };
    if (s.kind == ChannelKind::ring) {
        const std::uint64_t lag = s.written > s.oldest ? s.written - s.oldest : 0;
        line("positions", fmt::format("written {}, consumed {} ({} waiting to be read)", s.written,
                                      s.oldest, lag));
        line("sleeping", fmt::format("writer {}, consumer {}", s.writer_waiting ? "yes" : "no",
                                     s.consumer_waiting ? "yes" : "no"));
        return;
    }
    line("positions", s.kind == ChannelKind::broadcast
                          ? fmt::format("written {}, oldest retained {}", s.written, s.oldest)
                          : fmt::format("{} records published", s.written));
    if (!s.cursors) {
        line("readers", "positions not recorded (a format 2.0 region)");
        return;
    }
    for (const ReaderState& r : s.readers) {
        line(fmt::format("reader {}", r.slot),
             fmt::format("at {} (lag {}), received {}, lost {}{}", r.position, lag_of(s, r),
                         r.received, r.lost, r.waiting ? ", asleep" : ""));
    }
}

Json info_json(const Examined& e, const std::optional<ChannelState>& live) {
    const RegionInfo& info = *e.info;
    const Geometry& g = info.geometry;
    Json j;
    j["name"] = info.name;
    j["backing"] = std::string(shmrec::to_string(info.backing));
    j["path"] = e.probe.path;
    j["format"] = {{"major", info.format_major}, {"minor", info.format_minor}};
    j["kind"] = info.kind_name;
    j["state"] = std::string(shmrec::to_string(info.state));
    j["record"] = {{"name", info.record_name},
                   {"size", info.record_size},
                   {"alignment", info.record_alignment},
                   {"fingerprint", hex64(info.fingerprint)}};
    j["capacity"] = *capacity_of(e);
    j["geometry"] = {{"mapped_size", g.mapped_size},   {"board_offset", g.board_offset},
                     {"board_size", g.board_size},     {"data_offset", g.data_offset},
                     {"data_size", g.data_size},       {"schema_offset", g.schema_offset},
                     {"schema_length", g.schema_length},
                     {"binary_schema_offset", g.binary_schema_offset},
                     {"binary_schema_length", g.binary_schema_length}, {"slots", g.capacity},
                     {"slot_stride", g.slot_stride}};
    j["owner"] = {{"user", user_name(e.probe.uid)},
                  {"uid", e.probe.uid},
                  {"mode", mode_string(e.probe.mode)}};
    j["creator"] = {{"pid", info.creator.pid},
                    {"start_time_ticks", info.creator.start_time},
                    {"created", format_time_utc(info.creator.creation_time_ns)},
                    {"created_ns", info.creator.creation_time_ns}};
    j["writer"] = {{"alive", info.writer_alive}};
    if (info.writer.generation != 0) {  // recorded since format 2.1
        j["writer"]["pid"] = info.writer.pid;
        j["writer"]["start_time_ticks"] = info.writer.start_time;
        j["writer"]["since"] = format_time_utc(info.writer.since_ns);
        j["writer"]["since_ns"] = info.writer.since_ns;
        j["writer"]["generation"] = info.writer.generation;
    }
    if (info.kind == ChannelKind::ring) {
        j["consumer"] = {{"alive", info.consumer_alive}};
    } else {
        j["readers"] = info.readers;
    }
    if (live) j["live"] = live_json(*live);
    j["schema"] = info.schema;
    return j;
}

// "alive: pid 123 since <time>, the 2nd writer": the header names the process that holds (or
// last held) the writer role, so a takeover shows the new writer, not the creator.
std::string writer_text(const RegionInfo& info) {
    const std::string state = info.writer_alive ? "alive" : "none";
    const WriterInfo& w = info.writer;
    if (w.generation == 0) return state;  // a format 2.0 region does not record it
    const std::string who =
        fmt::format("pid {} (start time {} ticks) since {}", w.pid, w.start_time,
                    format_time_utc(w.since_ns));
    const std::string nth =
        w.generation == 1 ? "the creator" : fmt::format("writer #{} of this region", w.generation);
    return info.writer_alive ? fmt::format("alive: {}, {}", who, nth)
                             : fmt::format("none (the last was {}, {})", who, nth);
}

void print_info(const Examined& e, const std::optional<ChannelState>& live, bool with_schema) {
    const RegionInfo& info = *e.info;
    const Geometry& g = info.geometry;
    auto line = [](std::string_view label, const std::string& value) {
        fmt::print("{:<13} {}\n", label, value);
    };
    line("region", info.backing == Backing::file ? fmt::format("{} (file)", info.name)
                                                 : fmt::format("{} ({})", info.name, e.probe.path));
    line("format", fmt::format("{}.{}", info.format_major, info.format_minor));
    line("channel", channel_text(info.kind));
    line("state", std::string(shmrec::to_string(info.state)));
    line("record", fmt::format("{} ({} bytes, aligned to {})", info.record_name, info.record_size,
                               info.record_alignment));
    line("fingerprint", hex64(info.fingerprint));
    if (info.kind == ChannelKind::cell) {
        line("capacity", fmt::format("1 (latest value; {} slots of {} bytes inside)", g.capacity,
                                     g.slot_stride));
    } else {
        line("capacity", fmt::format("{} records (slots of {} bytes)", g.capacity, g.slot_stride));
    }
    line("size", fmt::format("{} ({} bytes)", human_size(g.mapped_size), g.mapped_size));
    line("layout", fmt::format("header @0, reader board @{} ({} bytes), data @{} ({} bytes), "
                               "schema @{} ({} bytes), binary schema @{} ({} bytes)",
                               g.board_offset, g.board_size, g.data_offset, g.data_size,
                               g.schema_offset, g.schema_length, g.binary_schema_offset,
                               g.binary_schema_length));
    line("owner", fmt::format("{}, mode {}", user_name(e.probe.uid), mode_string(e.probe.mode)));
    line("created", fmt::format("{} by pid {} (start time {} ticks)",
                                format_time_utc(info.creator.creation_time_ns), info.creator.pid,
                                info.creator.start_time));
    line("writer", writer_text(info));
    if (info.kind == ChannelKind::ring) {
        line("consumer", info.consumer_alive ? "alive" : "none");
    } else {
        line("readers", fmt::format("{} attached", info.readers));
    }
    if (live) print_live(*live);
    if (with_schema) {
        fmt::print("schema:\n{}{}", info.schema,
                   !info.schema.empty() && info.schema.back() == '\n' ? "" : "\n");
    } else {
        line("schema", fmt::format("{} bytes embedded (--schema prints it)", info.schema.size()));
    }
}

int run_info(const InfoOptions& options) {
    const Location where = options.target.location();
    try {
        validate_location(where);
    } catch (const Error& e) {
        return report_failure(where, e.what(), exit_usage, options.json, "invalid_name");
    }
    const Examined e = examine(where);
    if (e.probe.content == Content::missing) return report_missing(where, options.json);
    if (!e.is_region()) {
        return report_failure(where, fmt::format("{}: {}", shown(where), not_a_region_text(e.probe)),
                              exit_failure, options.json,
                              e.probe.content == Content::unreadable ? "permission_denied"
                                                                     : "not_a_region");
    }
    if (!e.info) {
        // What can be seen without the runtime's consent, then why it refused.
        std::string seen;
        if (kind_of(e) != "?") seen = fmt::format(" (a {} of {})", kind_of(e), record_of(e));
        return report_failure(where, fmt::format("{}{}: {}", shown(where), seen, e.problem),
                              exit_failure, options.json,
                              e.error ? shmrec::to_string(*e.error) : "invalid");
    }
    const auto live = live_state(where);
    if (options.json) {
        print_json(info_json(e, live));
    } else {
        print_info(e, live, options.schema);
    }
    return exit_ok;
}

}  // namespace

Verb add_info_verb(CLI::App& app) {
    auto options = std::make_shared<InfoOptions>();
    auto* command = app.add_subcommand("info", "Print a region's header, state, geometry and schema");
    options->target.add_options(*command, "to describe");
    command->add_flag("--schema", options->schema, "Also print the embedded schema text");
    command->add_flag("--json", options->json, "Print JSON (always with the schema)");
    return {command, [options] { return run_info(*options); }};
}

}  // namespace shmrec::tool
