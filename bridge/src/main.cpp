// shmrec-bridge: a broadcast region's records to other hosts and back, over a distributed
// engine (Cyclone DDS), typed end to end (docs/bridge.md).
//
//   shmrec-bridge export NAME [--topic T]     on the host that has the region
//   shmrec-bridge import T --as NAME          on each host that wants it
//
// Exit statuses: 0 stopped by SIGINT / SIGTERM (or nothing to do); 1 failed (the engine, the
// region); 2 bad arguments; 3 refused: the local region holds another record type than the
// topic carries (or is not a broadcast).
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <shmrec/error.hpp>

#include "cyclone_transport.hpp"
#include "exporter.hpp"
#include "importer.hpp"
#include "notice.hpp"
#include "stop_signals.hpp"

namespace {

using namespace shmrec::bridge;

enum ExitStatus : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_refused = 3 };

bool is_refusal(shmrec::ErrorCode code) {
    using shmrec::ErrorCode;
    return code == ErrorCode::wrong_kind || code == ErrorCode::type_mismatch ||
           code == ErrorCode::layout_mismatch || code == ErrorCode::fingerprint_mismatch ||
           code == ErrorCode::incompatible_schema;
}

// Runs `work` with SIGINT / SIGTERM requesting `stop` and waking the transport's waits.
template <class Work>
int with_transport(const CycloneOptions& engine, Work&& work) {
    auto transport = make_cyclone_transport(engine);
    StopFlag stop;
    StopSignals signals([&](int) {
        stop.request();
        transport->wake();
    });
    work(*transport, stop);
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Carries a broadcast region's records between hosts over Cyclone DDS "
        "(docs/bridge.md)",
        "shmrec-bridge"};
    app.require_subcommand(1);
    CycloneOptions engine;

    ExportOptions out;
    CLI::App* export_cmd =
        app.add_subcommand("export", "Publish a local broadcast region's records on a topic");
    export_cmd->add_option("name", out.region, "The local broadcast region (/dev/shm/NAME)")
        ->required();
    export_cmd->add_option("--topic", out.topic, "Topic name T (default: NAME)");
    export_cmd->add_option("--batch", out.max_batch_records, "At most this many records a batch")
        ->check(CLI::Range(1, 1 << 20));

    ImportOptions in;
    CLI::App* import_cmd =
        app.add_subcommand("import", "Write a topic's records into a local broadcast region");
    import_cmd->add_option("topic", in.topic, "Topic name T")->required();
    import_cmd->add_option("--as", in.region, "The local broadcast region to write (/dev/shm/NAME)")
        ->required();
    import_cmd->add_option("--capacity", in.capacity,
                           "Capacity of a region created here (default: the source's)");
    unsigned status_seconds = 0;
    for (CLI::App* command : {export_cmd, import_cmd}) {
        command->add_option("--domain", engine.domain, "DDS domain id (0-230; both sides alike)")
            ->check(CLI::Range(0, 230));
        command->add_option("--status", status_seconds,
                            "Print a status line every this many seconds (default: never)")
            ->check(CLI::Range(0, 86400));
    }

    try {
        app.parse(argc, argv);
        const bool exporting = export_cmd->parsed();
        const bool default_topic = exporting && out.topic.empty();
        if (default_topic) out.topic = out.region;
        const std::string problem = topic_problem(exporting ? out.topic : in.topic);
        if (!problem.empty()) {
            throw CLI::ValidationError(
                default_topic ? problem + " (the region's name is the default topic: give --topic)"
                              : problem);
        }
        if (in.capacity != 0 && (in.capacity & (in.capacity - 1)) != 0) {
            throw CLI::ValidationError("--capacity must be a power of two");
        }
        out.status_interval = in.status_interval = std::chrono::seconds(status_seconds);
        StopSignals::block();
        if (exporting) {
            return with_transport(engine, [&](Transport& transport, StopFlag& stop) {
                const ExportCounts c = run_export(transport, out, stop);
                notice("exported {} records in {} batches from region '{}'; lost at the source {}",
                       c.records, c.batches, out.region, c.lost);
            });
        }
        return with_transport(engine, [&](Transport& transport, StopFlag& stop) {
            const ImportCounts c = run_import(transport, in, stop);
            notice(
                "imported {} records in {} batches from topic '{}' into region '{}'; lost at "
                "the source {}, missing {}, duplicates {}, refused {}; {:.0f} records/s",
                c.records, c.batches, in.topic, in.region, c.source_lost, c.missing, c.duplicates,
                c.refused,
                c.active_seconds > 0 ? static_cast<double>(c.records) / c.active_seconds : 0.0);
        });
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    } catch (const shmrec::Error& e) {
        fmt::print(stderr, "shmrec-bridge: {} ({})\n", e.what(), shmrec::to_string(e.code()));
        return is_refusal(e.code()) ? exit_refused : exit_failure;
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec-bridge: {}\n", e.what());
        return exit_failure;
    }
}
