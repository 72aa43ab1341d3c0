// shmrec stat NAME | --file PATH [--interval S] [--count N] [--json]: records/s, bytes/s, and
// each reader's lag and loss, from two ChannelMonitor::state() snapshots an interval apart.
// Refreshed in place like top when stdout is a terminal; one JSON line per interval with --json.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <shmrec/untyped.hpp>

#include "live.hpp"
#include "output.hpp"
#include "region_lookup.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

struct StatOptions {
    Target target;
    double interval = 1.0;
    std::uint64_t count = 0;  // 0: until Ctrl-C
    bool json = false;
};

std::uint64_t since(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : 0; }

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

// One interval's figures, from the snapshots before and after it.
Json interval_json(const RegionInfo& info, const ChannelState& before, const ChannelState& now,
                   double seconds, bool writer_alive) {
    const double records = static_cast<double>(since(now.written, before.written));
    const double rate = seconds > 0 ? records / seconds : 0.0;
    Json j;
    j["time_ns"] = now_ns();
    j["name"] = info.name;
    j["kind"] = std::string(shmrec::to_string(info.kind));  // as ls shows it
    j["record"] = info.record_name;
    j["interval_s"] = seconds;
    j["written"] = now.written;
    j["records_per_s"] = rate;
    j["bytes_per_s"] = rate * info.record_size;
    j["writer_alive"] = writer_alive;
    if (info.kind == ChannelKind::ring) {
        // oldest is the consumer's position: what it has not taken yet is its lag.
        j["consumer"] = {{"position", now.oldest},
                         {"lag", since(now.written, now.oldest)},
                         {"records_per_s",
                          seconds > 0 ? static_cast<double>(since(now.oldest, before.oldest)) / seconds
                                      : 0.0},
                         {"waiting", now.consumer_waiting}};
        j["writer_waiting"] = now.writer_waiting;
        return j;
    }
    if (info.kind == ChannelKind::broadcast) j["oldest"] = now.oldest;
    std::map<std::uint32_t, const ReaderState*> previous;
    for (const auto& r : before.readers) previous[r.slot] = &r;
    Json readers = Json::array();
    for (const auto& r : now.readers) {
        const ReaderState* p = previous.count(r.slot) ? previous[r.slot] : nullptr;
        const std::uint64_t received = p ? since(r.received, p->received) : 0;
        const std::uint64_t lost = p ? since(r.lost, p->lost) : 0;
        readers.push_back({{"slot", r.slot},
                           {"position", r.position},
                           {"lag", since(now.written, r.position)},
                           {"received", r.received},
                           {"lost", r.lost},
                           {"records_per_s", seconds > 0 ? static_cast<double>(received) / seconds : 0.0},
                           {"lost_per_s", seconds > 0 ? static_cast<double>(lost) / seconds : 0.0},
                           {"waiting", r.waiting}});
    }
    j["cursors"] = now.cursors;
    j["readers"] = std::move(readers);
    return j;
}

std::string rate_text(double v) {
    if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
    if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
    return fmt::format("{:.1f}", v);
}

void print_screen(const Json& j, bool tty) {
    if (tty) std::fputs("\x1b[H\x1b[2J", stdout);  // home, clear: refreshed in place
    fmt::print("{} {}  {}  written {}  writer {}\n", j["kind"].get<std::string>(),
               j["name"].get<std::string>(), j["record"].get<std::string>(),
               j["written"].get<std::uint64_t>(), j["writer_alive"].get<bool>() ? "alive" : "none");
    fmt::print("{} records/s  {}/s  (over {:.2f} s)\n", rate_text(j["records_per_s"].get<double>()),
               human_size(static_cast<std::uint64_t>(std::llround(j["bytes_per_s"].get<double>()))),
               j["interval_s"].get<double>());
    if (j.contains("consumer")) {
        const auto& c = j["consumer"];
        fmt::print("consumer  position {}  lag {}  {} records/s{}{}\n",
                   c["position"].get<std::uint64_t>(), c["lag"].get<std::uint64_t>(),
                   rate_text(c["records_per_s"].get<double>()),
                   c["waiting"].get<bool>() ? "  (asleep, waiting for records)" : "",
                   j["writer_waiting"].get<bool>() ? "  writer asleep, waiting for room" : "");
    } else if (!j["cursors"].get<bool>()) {
        fmt::print("readers: no figures (a format 2.0 region has no reader cursors)\n");
    } else if (j["readers"].empty()) {
        fmt::print("no readers attached\n");
    } else {
        Table table({{"SLOT", Align::right},
                     {"POSITION", Align::right},
                     {"LAG", Align::right},
                     {"RECORDS/S", Align::right},
                     {"RECEIVED", Align::right},
                     {"LOST", Align::right},
                     {"LOST/S", Align::right},
                     {"STATE", Align::left}});
        for (const auto& r : j["readers"]) {
            table.add({std::to_string(r["slot"].get<std::uint32_t>()),
                       std::to_string(r["position"].get<std::uint64_t>()),
                       std::to_string(r["lag"].get<std::uint64_t>()),
                       rate_text(r["records_per_s"].get<double>()),
                       std::to_string(r["received"].get<std::uint64_t>()),
                       std::to_string(r["lost"].get<std::uint64_t>()),
                       rate_text(r["lost_per_s"].get<double>()),
                       r["waiting"].get<bool>() ? "asleep" : "running"});
        }
        table.print();
    }
    if (!tty) std::fputc('\n', stdout);
    std::fflush(stdout);
}

int run_stat(const StatOptions& options) {
    if (!(options.interval >= 0.01 && options.interval <= 3600)) {
        throw CLI::ValidationError("--interval", "between 0.01 and 3600 seconds");
    }
    const Location where = options.target.location();
    Opened opened = examine_for_verb(where, options.json);
    if (auto* status = std::get_if<int>(&opened)) return *status;
    install_stop_handlers();

    auto monitor = ChannelMonitor::open(where);
    const RegionInfo& info = monitor.info();
    const bool tty = ::isatty(STDOUT_FILENO) == 1 && !options.json;
    const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.interval));

    ChannelState before = monitor.state();
    auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t n = 0; options.count == 0 || n < options.count; ++n) {
        if (!sleep_until(t0 + step)) break;
        ChannelState now = monitor.state();
        const auto t1 = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(t1 - t0).count();
        const Json j = interval_json(info, before, now, seconds, monitor.writer_alive());
        if (options.json) {
            if (!print_line(j.dump(), true)) return exit_ok;
        } else {
            print_screen(j, tty);
        }
        before = std::move(now);
        t0 = t1;
    }
    return exit_ok;
}

}  // namespace

Verb add_stat_verb(CLI::App& app) {
    auto options = std::make_shared<StatOptions>();
    auto* command = app.add_subcommand(
        "stat",
        "Records/s, bytes/s, and each reader's lag and loss, refreshed every interval (in place "
        "on a terminal, like top). Ctrl-C ends it (exit status 0).");
    options->target.add_options(*command, "to watch");
    command->add_option("--interval", options->interval, "Seconds between refreshes (default 1)");
    command->add_option("--count", options->count, "Stop after N intervals (default: until Ctrl-C)");
    command->add_flag("--json", options->json, "One JSON object per line and interval");
    return {command, [options] { return run_stat(*options); }};
}

}  // namespace shmrec::tool
