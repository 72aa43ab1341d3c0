#include "service.hpp"

#include <atomic>
#include <exception>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <shmrec/error.hpp>

#include "notice.hpp"

namespace shmrec::bridge {

namespace {

bool is_refusal(ErrorCode code) {
    return code == ErrorCode::wrong_kind || code == ErrorCode::type_mismatch ||
           code == ErrorCode::layout_mismatch || code == ErrorCode::fingerprint_mismatch ||
           code == ErrorCode::incompatible_schema;
}

void print_summary(const Command& command, const ExportCounts& c) {
    notice("exported {} records in {} batches from region '{}'; lost at the source {}", c.records,
           c.batches, command.out.region, c.lost);
}

void print_summary(const Command& command, const ImportCounts& c) {
    notice(
        "imported {} records in {} batches from topic '{}' into region '{}'; lost at the source "
        "{}, missing {}, duplicates {}, refused {}; {:.0f} records/s",
        c.records, c.batches, command.in.topic, command.in.region, c.source_lost, c.missing,
        c.duplicates, c.refused,
        c.active_seconds > 0 ? static_cast<double>(c.records) / c.active_seconds : 0.0);
}

// Runs one command to its end; its exit status. `who` prefixes its errors ("" alone).
int run_one(Transport& transport, const Command& command, const StopFlag& stop,
            const std::string& who) {
    try {
        if (command.verb == Command::Verb::export_region) {
            print_summary(command, run_export(transport, command.out, stop));
        } else {
            print_summary(command, run_import(transport, command.in, stop));
        }
        return exit_ok;
    } catch (const Error& e) {
        fmt::print(stderr, "shmrec-bridge: {}{} ({})\n", who, e.what(), to_string(e.code()));
        return is_refusal(e.code()) ? exit_refused : exit_failure;
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec-bridge: {}{}\n", who, e.what());
        return exit_failure;
    }
}

}  // namespace

int run_commands(Transport& transport, std::vector<Command> commands,
                 std::chrono::seconds status_interval, const StopFlag& stop) {
    for (Command& c : commands) c.out.status_interval = c.in.status_interval = status_interval;
    if (commands.size() == 1) return run_one(transport, commands.front(), stop, "");

    std::vector<int> statuses(commands.size(), exit_ok);
    std::vector<std::thread> threads;
    threads.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        threads.emplace_back([&, i] {
            statuses[i] = run_one(transport, commands[i], stop, commands[i].describe() + ": ");
        });
    }
    for (std::thread& t : threads) t.join();
    for (const int s : statuses) {
        if (s != exit_ok) return s;
    }
    return exit_ok;
}

}  // namespace shmrec::bridge
