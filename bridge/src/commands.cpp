#include "commands.hpp"

#include <fstream>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "wire.hpp"

namespace shmrec::bridge {

std::string Command::describe() const {
    if (verb == Verb::export_region) {
        return fmt::format("export '{}' as topic '{}'", out.region, out.topic);
    }
    return fmt::format("import topic '{}' into '{}'", in.topic, in.region);
}

Verbs::Verbs(CLI::App& app, Command& command, ProcessOptions* process) : command_(command) {
    export_ = app.add_subcommand("export", "Publish a local broadcast region's records on a topic");
    export_->add_option("name", command.out.region, "The local broadcast region (/dev/shm/NAME)")
        ->required();
    export_->add_option("--topic", command.out.topic, "Topic name T (default: NAME)");
    export_->add_option("--batch", command.out.max_batch_records,
                        "At most this many records a batch")
        ->check(CLI::Range(1, 1 << 20));
    export_
        ->add_option("--wait", wait_,
                     "How to wait for the region's next record: futex (sleep until the writer "
                     "wakes us; the default), busy_spin (lowest latency, burns a core), "
                     "spin_yield")
        ->check(CLI::IsMember({"futex", "busy_spin", "spin_yield"}));

    import_ =
        app.add_subcommand("import", "Write a topic's records into a local broadcast region");
    import_->add_option("topic", command.in.topic, "Topic name T")->required();
    import_->add_option("--as", command.in.region,
                        "The local broadcast region to write (/dev/shm/NAME)")
        ->required();
    import_->add_option("--capacity", command.in.capacity,
                        "Capacity of a region created here (default: the source's)");
    if (process != nullptr) {
        for (CLI::App* verb : {export_, import_}) {
            verb->add_option("--domain", process->engine.domain,
                             "DDS domain id (0-230; both sides alike)")
                ->check(CLI::Range(0, 230));
            verb->add_option("--status", process->status_seconds,
                             "Print a status line every this many seconds (default: never)")
                ->check(CLI::Range(0, 86400));
        }
    }
}

bool Verbs::parsed() const { return export_->parsed() || import_->parsed(); }

void Verbs::finish() {
    const bool exporting = export_->parsed();
    command_.verb = exporting ? Command::Verb::export_region : Command::Verb::import_topic;
    const bool default_topic = exporting && command_.out.topic.empty();
    if (default_topic) command_.out.topic = command_.out.region;
    for (const WaitStrategy s :
         {WaitStrategy::futex, WaitStrategy::busy_spin, WaitStrategy::spin_yield}) {
        if (wait_ == to_string(s)) command_.out.wait = s;
    }
    const std::string problem = topic_problem(exporting ? command_.out.topic : command_.in.topic);
    if (!problem.empty()) {
        throw CLI::ValidationError(
            default_topic ? problem + " (the region's name is the default topic: give --topic)"
                          : problem);
    }
    const std::uint64_t capacity = command_.in.capacity;
    if (capacity != 0 && (capacity & (capacity - 1)) != 0) {
        throw CLI::ValidationError("--capacity must be a power of two");
    }
}

std::vector<Command> read_config(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error(fmt::format("{}: cannot be read", path));
    std::vector<Command> commands;
    std::set<std::string> exported_topics, imported_regions;
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto where = [&](const std::string& what) {
            return std::runtime_error(fmt::format("{}:{}: {}", path, number, what));
        };
        const auto first = line.find_first_not_of(" \t");
        const std::string verb = line.substr(first, line.find_first_of(" \t\r", first) - first);
        if (verb != "export" && verb != "import") {
            throw where(fmt::format("'{}' is not a command (export or import)", verb));
        }
        Command command;
        CLI::App app{"a line of " + path};
        app.require_subcommand(1, 1);
        Verbs verbs(app, command, nullptr);
        try {
            app.parse(line, false);
            verbs.finish();
        } catch (const CLI::Success&) {  // --help: CLI11's text for it is meant for main()
            throw where("--help has no place in a config file");
        } catch (const CLI::ParseError& e) {
            throw where(e.what());
        }
        const bool fresh =
            command.verb == Command::Verb::export_region
                ? exported_topics.insert(command.out.topic).second
                : imported_regions.insert(command.in.region).second;
        if (!fresh) {
            throw where(command.verb == Command::Verb::export_region
                            ? fmt::format("topic '{}' is exported by an earlier line",
                                          command.out.topic)
                            : fmt::format("region '{}' is imported into by an earlier line",
                                          command.in.region));
        }
        commands.push_back(std::move(command));
    }
    if (commands.empty()) throw std::runtime_error(fmt::format("{}: no command in it", path));
    return commands;
}

}  // namespace shmrec::bridge
