// What every verb of the `shmrec` tool has in common: how it plugs into main.cpp, and the
// exit statuses (docs/tool.md). A verb is one file, verb_<name>.cpp, defining
// add_<name>_verb(), plus one line in main.cpp's SHMREC_TOOL_VERBS list.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace shmrec::tool {

// Exit statuses, shared by every verb.
enum ExitStatus : int {
    exit_ok = 0,
    exit_failure = 1,    // the verb could not do what was asked, or refused (rm), or doctor
                         // found something that would break
    exit_usage = 2,      // bad arguments (CLI11's parse errors are mapped here too)
    exit_not_found = 3,  // no region (nor anything else) at that name or path
};

// A verb registers its subcommand (options bound to state it owns) and returns what main runs
// when that subcommand was chosen.
struct Verb {
    CLI::App* command = nullptr;
    std::function<int()> run;
};

}  // namespace shmrec::tool
