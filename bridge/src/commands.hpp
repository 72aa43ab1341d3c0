// The bridge's verbs as a user writes them: on the command line (`shmrec-bridge export NAME`)
// or as the lines of a config file that `shmrec-bridge run FILE` runs side by side in one
// process. One parser for both, so a line of the file is exactly a command line without the
// program's name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cyclone_transport.hpp"
#include "exporter.hpp"
#include "importer.hpp"

namespace shmrec::bridge {

struct Command {
    enum class Verb : std::uint8_t { export_region, import_topic };
    Verb verb = Verb::export_region;
    ExportOptions out;  // export_region
    ImportOptions in;   // import_topic

    // "export 'Prices' as topic 'Prices'", "import topic 'Prices' into 'Prices'"
    std::string describe() const;
};

// What one process shares among its commands: one DDS participant, one status interval.
struct ProcessOptions {
    CycloneOptions engine;
    unsigned status_seconds = 0;
};

// Adds the `export` and `import` subcommands to `app`; the one that is parsed fills `command`.
// With `process` they also take --domain and --status (the command line); without, they do not
// (a config file's lines: those are the `run` command's).
class Verbs {
  public:
    Verbs(CLI::App& app, Command& command, ProcessOptions* process);

    // After app.parse(): whether one of them was given, and then its checks (a topic name, a
    // capacity that is a power of two): throws CLI::ValidationError saying what is wrong.
    bool parsed() const;
    void finish();

  private:
    CLI::App* export_;
    CLI::App* import_;
    Command& command_;
    std::string wait_ = "futex";  // export --wait, by name
};

// The commands of a config file: one per line, `#` to the end of a line is a comment, blank
// lines are skipped. Throws std::runtime_error naming the file and line of the first bad one,
// or of a second command for a topic already exported or a region already imported into.
std::vector<Command> read_config(const std::string& path);

}  // namespace shmrec::bridge
