// What every verb of the `shmrec` tool has in common: how it plugs into main.cpp, its exit
// statuses, and the NAME | --file PATH target of the verbs about one region. A verb is one
// file, verb_<name>.cpp, defining add_<name>_verb(), plus one line in main.cpp's
// SHMREC_TOOL_VERBS list. (CLI11 is included only by main.cpp and the verbs: it is heavy.)
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <shmrec/region.hpp>

#include "exit_status.hpp"

namespace shmrec::tool {

// A verb registers its subcommand (options bound to state it owns) and returns what main runs
// when that subcommand was chosen.
struct Verb {
    CLI::App* command = nullptr;
    std::function<int()> run;
};

// The NAME | --file PATH target of info and rm.
struct Target {
    std::string name;
    std::string file;

    void add_options(CLI::App& command, std::string_view what) {
        command.add_option("name", name,
                           fmt::format("Shared-memory region name (/dev/shm/NAME) {}", what));
        command.add_option("--file", file, fmt::format("A file-backed region's path {}", what));
    }
    // Throws CLI::ValidationError unless exactly one was given.
    Location location() const {
        if (name.empty() == file.empty()) {
            throw CLI::ValidationError("give a region NAME or --file PATH");
        }
        return file.empty() ? Location::memory(name) : Location::file(file);
    }
};

}  // namespace shmrec::tool
