#include "bridge_runs.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "interrupt.hpp"

namespace bridge_bench {

namespace {

using namespace std::chrono_literals;
using shmrec_test::ChildProcess;

// How long a reader waits without a record before it decides the rest is not coming.
constexpr auto reader_idle = 3000ms;
// Discovery between the namespaces (multicast SPDP over the veth) and the region's creation.
constexpr auto startup = 30s;

// Each host's /dev/shm is a tmpfs of this benchmark's alone: a run starts and ends with it
// empty.
void empty_shm(const shmrec_bridge_test::Host& host) {
    for (const auto& entry : std::filesystem::directory_iterator(host.shm())) {
        std::filesystem::remove_all(entry.path());
    }
}

std::uint64_t field(const std::smatch& m, int i) {
    return std::stoull(m[i].str());
}

// The peer's command line: VERB --name NAME, the options, and --times FILE for a timed run.
std::vector<std::string> peer_command(
    const std::string& verb, const RunPlan& plan, const std::filesystem::path& times,
    const std::vector<std::pair<std::string, std::string>>& options) {
    std::vector<std::string> argv{verb, "--name", plan.name};
    for (const auto& [key, value] : options) argv.insert(argv.end(), {"--" + key, value});
    if (plan.timed) argv.insert(argv.end(), {"--times", times.string()});
    return argv;
}

// A peer's result line, "key value key value ...", as a map.
std::map<std::string, std::string> pairs_of(const std::string& line) {
    std::istringstream words(line);
    std::map<std::string, std::string> out;
    std::string key, value;
    while (words >> key >> value) out[key] = value;
    return out;
}

std::string need(const std::map<std::string, std::string>& pairs, const std::string& key,
                 const std::string& line) {
    const auto it = pairs.find(key);
    if (it == pairs.end()) throw std::runtime_error("no " + key + " in \"" + line + "\"");
    return it->second;
}

const std::string& line_matching(const ChildProcess& child, const std::regex& pattern,
                                 std::smatch& m, const std::string& what) {
    for (const auto& line : child.lines()) {
        if (std::regex_search(line, m, pattern)) return line;
    }
    throw std::runtime_error(what + " printed no summary; its last lines:" + tail_of(child));
}

std::vector<std::int64_t> load_times(const std::filesystem::path& path, std::uint64_t count) {
    std::vector<std::int64_t> times(count, -1);
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(times.data()),
            static_cast<std::streamsize>(count * sizeof(std::int64_t)));
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return times;
}

// The writer's "written ..." and the reader's "read ..." lines (peer.cpp).
void take_peer_lines(const std::string& written, const std::string& read, RunResult& r) {
    const auto w = pairs_of(written);
    const auto rd = pairs_of(read);
    r.written = std::stoull(need(w, "written", written));
    const double seconds = std::stod(need(w, "seconds", written));
    r.written_rate = seconds > 0 ? static_cast<double>(r.written) / seconds : 0;
    const std::int64_t start_ns = std::stoll(need(w, "start_ns", written));
    r.received = std::stoull(need(rd, "read", read));
    r.lapped = std::stoull(need(rd, "lapped", read));
    r.disorder = std::stoull(need(rd, "disorder", read));
    const std::int64_t last_ns = std::stoll(need(rd, "last_ns", read));
    if (r.received > 0 && last_ns > start_ns)
        r.stream_seconds = 1e-9 * static_cast<double>(last_ns - start_ns);
}

// The summary lines both sides of the bridge print when stopped (docs/bridge.md).
void take_bridge_summaries(const ChildProcess& exporter, const ChildProcess& importer,
                           RunResult& r) {
    static const std::regex exported(R"(exported (\d+) records .*; lost at the source (\d+))");
    static const std::regex imported(
        R"(imported (\d+) records .*; lost at the source \d+, missing (\d+), duplicates (\d+))");
    std::smatch m;
    line_matching(exporter, exported, m, "shmrec-bridge export (host A)");
    r.exported = field(m, 1);
    r.source_lost = field(m, 2);
    line_matching(importer, imported, m, "shmrec-bridge import (host B)");
    r.imported = field(m, 1);
    r.missing = field(m, 2);
    r.duplicates = field(m, 3);
}

// Receive time - send time of every record that arrived, from the peers' timing files.
std::vector<std::int64_t> one_way_latencies(const std::filesystem::path& sent_file,
                                            const std::filesystem::path& received_file,
                                            std::uint64_t count) {
    const auto sent = load_times(sent_file, count);
    const auto received = load_times(received_file, count);
    std::vector<std::int64_t> out;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (received[i] >= 0 && sent[i] >= 0) out.push_back(received[i] - sent[i]);
    }
    return out;
}

}  // namespace

RunResult run_stream(const shmrec_bridge_test::TwoHosts& hosts, const Programs& programs,
                     const RunPlan& plan, const std::filesystem::path& work) {
    empty_shm(hosts.a());
    empty_shm(hosts.b());
    const auto sent_file = work / (plan.name + ".sent");
    const auto received_file = work / (plan.name + ".received");
    const auto writer_args = peer_command("writer", plan, sent_file,
                                          {{"capacity", std::to_string(plan.capacity)},
                                           {"count", std::to_string(plan.count)},
                                           {"rate", fmt::format("{:.0f}", plan.rate)}});
    auto writer = hosts.a().spawn(programs.peer, writer_args);
    await_line(*writer, "ready", 10s, "writer (host A)");

    // The bridge's two sides, or none for the local baseline (the reader on A).
    std::unique_ptr<ChildProcess> importer, exporter;
    if (plan.bridged) {
        importer =
            hosts.b().spawn(programs.bridge, {"import", plan.name, "--as", plan.name, "--capacity",
                                              std::to_string(plan.import_capacity)});
        exporter = hosts.a().spawn(
            programs.bridge, {"export", plan.name, "--batch", std::to_string(plan.batch), "--wait",
                              plan.exporter_wait});
        await_line(*exporter, "shmrec-bridge: an importer subscribed", startup,
                   "exporter (host A)");
        await_line(*importer, "shmrec-bridge: importing topic", startup, "importer (host B)");
    }

    const auto reader_args = peer_command("reader", plan, received_file,
                                          {{"count", std::to_string(plan.count)},
                                           {"idle-ms", std::to_string(reader_idle.count())},
                                           {"wait", plan.reader_wait}});
    const std::string reader_what = plan.bridged ? "reader (host B)" : "reader (host A)";
    auto reader = (plan.bridged ? hosts.b() : hosts.a()).spawn(programs.peer, reader_args);
    await_line(*reader, "ready", 15s, reader_what);

    writer->send("go");
    const auto expected = std::chrono::milliseconds(
        plan.rate > 0
            ? static_cast<std::int64_t>(1000.0 * static_cast<double>(plan.count) / plan.rate)
            : 0);
    const std::string written = await_line(*writer, "written ", expected + 60s, "writer (host A)");
    const std::string read = await_line(*reader, "read ", expected + 90s, reader_what);

    writer->close_stdin();
    expect_clean_exit(*writer, "writer (host A)", 10s);
    expect_clean_exit(*reader, reader_what, 10s);
    if (plan.bridged) {
        stop_and_check(*exporter, "shmrec-bridge export (host A)");
        stop_and_check(*importer, "shmrec-bridge import (host B)");
    }

    RunResult r;
    r.plan = plan;
    take_peer_lines(written, read, r);
    if (plan.bridged) take_bridge_summaries(*exporter, *importer, r);
    if (r.stream_seconds > 0)
        r.carried_rate = static_cast<double>(r.delivered()) / r.stream_seconds;
    if (plan.timed) r.latencies_ns = one_way_latencies(sent_file, received_file, plan.count);
    empty_shm(hosts.a());
    empty_shm(hosts.b());
    return r;
}

}  // namespace bridge_bench
