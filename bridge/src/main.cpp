// shmrec-bridge: a broadcast region's records to other hosts and back, over a distributed
// engine (Cyclone DDS), typed end to end (docs/bridge.md).
//
//   shmrec-bridge export NAME [--topic T]     on the host that has the region
//   shmrec-bridge import T --as NAME          on each host that wants it
//   shmrec-bridge run FILE                    the export and import lines of FILE, side by side
//
// Exit statuses (service.hpp): 0 stopped by SIGINT / SIGTERM (or nothing to do); 1 failed (the
// engine, a region); 2 bad arguments or config file; 3 refused: a local region holds another
// record type than its topic carries (or another kind of channel).
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "cyclone_transport.hpp"
#include "service.hpp"
#include "stop_signals.hpp"

namespace {

using namespace shmrec::bridge;

// Runs `commands` with SIGINT / SIGTERM requesting the stop and waking the transport's waits.
int serve(const ProcessOptions& process, std::vector<Command> commands) {
    StopSignals::block();
    auto transport = make_cyclone_transport(process.engine);
    StopFlag stop;
    StopSignals signals([&](int) {
        stop.request();
        transport->wake();
    });
    return run_commands(*transport, std::move(commands),
                        std::chrono::seconds(process.status_seconds), stop);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Carries broadcast regions' records between hosts over Cyclone DDS (docs/bridge.md)",
        "shmrec-bridge"};
    app.require_subcommand(1);
    ProcessOptions process;
    Command command;
    Verbs verbs(app, command, &process);

    std::string config;
    CLI::App* run_cmd = app.add_subcommand(
        "run", "Run the export and import lines of a config file side by side, in one process");
    run_cmd->add_option("file", config, "One command a line, as typed after shmrec-bridge")
        ->required();
    run_cmd->add_option("--domain", process.engine.domain, "DDS domain id (0-230)")
        ->check(CLI::Range(0, 230));
    run_cmd->add_option("--status", process.status_seconds,
                        "Print a status line every this many seconds (default: never)")
        ->check(CLI::Range(0, 86400));

    std::vector<Command> commands;
    try {
        app.parse(argc, argv);
        if (verbs.parsed()) {
            verbs.finish();
            commands.push_back(command);
        }
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    try {
        if (run_cmd->parsed()) commands = read_config(config);
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec-bridge: {}\n", e.what());
        return exit_usage;
    }
    try {
        return serve(process, std::move(commands));
    } catch (const std::exception& e) {  // the engine did not start
        fmt::print(stderr, "shmrec-bridge: {}\n", e.what());
        return exit_failure;
    }
}
