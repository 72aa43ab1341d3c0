// shmrec ls [--dir PATH]... [--json]: every shmrec region in /dev/shm, and the file-backed
// regions of the given directories.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "output.hpp"
#include "region_lookup.hpp"
#include "region_view.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

struct LsOptions {
    std::vector<std::string> dirs;
    bool json = false;
};

int run_ls(const LsOptions& options) {
    std::vector<Examined> regions = scan(std::string(shm_dir), Backing::memory);
    for (const auto& dir : options.dirs) {
        auto more = scan(dir, Backing::file);
        regions.insert(regions.end(), std::make_move_iterator(more.begin()),
                       std::make_move_iterator(more.end()));
    }
    if (options.json) {
        Json list = Json::array();
        for (const auto& e : regions) list.push_back(summary_json(e));
        Json out;
        out["regions"] = std::move(list);
        print_json(out);
        return exit_ok;
    }
    bool problems = false;
    for (const auto& e : regions) problems = problems || !e.problem.empty();
    std::vector<Table::Column> columns{{"NAME"},   {"KIND"},   {"RECORD"},
                                       {"CAPACITY"}, {"SIZE", Align::right},
                                       {"STATE"},  {"WRITER"}, {"READERS"},
                                       {"OWNER"}};
    if (problems) columns.push_back({"PROBLEM"});
    Table table(std::move(columns));
    for (const auto& e : regions) {
        table.add({e.probe.where.name, kind_of(e), record_of(e), capacity_text(e),
                   human_size(e.probe.size), state_of(e), writer_text(e), readers_text(e),
                   user_name(e.probe.uid), e.problem});
    }
    table.print();
    if (regions.empty()) fmt::print("(no shmrec regions in {})\n", shm_dir);
    return exit_ok;
}

}  // namespace

Verb add_ls_verb(CLI::App& app) {
    auto options = std::make_shared<LsOptions>();
    auto* command = app.add_subcommand("ls", "List the shmrec regions in /dev/shm (and --dir)");
    command->alias("list");
    command->add_option("--dir", options->dirs,
                        "Also list the file-backed regions in this directory (not recursive; "
                        "repeatable)")
        ->check(CLI::ExistingDirectory);
    command->add_flag("--json", options->json, "Print JSON instead of a table");
    return {command, [options] { return run_ls(*options); }};
}

}  // namespace shmrec::tool
