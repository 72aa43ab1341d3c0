// shmrec: inspect and manage shmrec regions (docs/tool.md).
//
// main only wires the verbs: each lives in verb_<name>.cpp and defines add_<name>_verb().
// Adding a verb: a new file, its name in SHMREC_TOOL_VERBS below, and the file in
// CMakeLists.txt.
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <shmrec/error.hpp>

#include "verb.hpp"

#define SHMREC_TOOL_VERBS(VERB) \
    VERB(ls)                    \
    VERB(info)                  \
    VERB(rm)                    \
    VERB(doctor)                \
    VERB(tail)                  \
    VERB(stat)                  \
    VERB(record)                \
    VERB(replay)

namespace shmrec::tool {
#define SHMREC_DECLARE_VERB(name) Verb add_##name##_verb(CLI::App& app);
SHMREC_TOOL_VERBS(SHMREC_DECLARE_VERB)
#undef SHMREC_DECLARE_VERB
}  // namespace shmrec::tool

int main(int argc, char** argv) {
    using namespace shmrec::tool;
    CLI::App app{"Inspect and manage shmrec shared-memory regions (docs/tool.md)", "shmrec"};
    app.require_subcommand(1);
    std::vector<Verb> verbs;
#define SHMREC_ADD_VERB(name) verbs.push_back(add_##name##_verb(app));
    SHMREC_TOOL_VERBS(SHMREC_ADD_VERB)
#undef SHMREC_ADD_VERB

    try {
        app.parse(argc, argv);
        for (const auto& verb : verbs) {
            if (verb.command->parsed()) return verb.run();
        }
        return exit_usage;
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, or the usage error
        return code == 0 ? exit_ok : exit_usage;
    } catch (const shmrec::Error& e) {
        fmt::print(stderr, "shmrec: {} ({})\n", e.what(), shmrec::to_string(e.code()));
        return exit_failure;
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec: {}\n", e.what());
        return exit_failure;
    }
}
