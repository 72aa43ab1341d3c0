// Commands run side by side in one process (`shmrec-bridge run FILE`, or the one command of a
// command line): each in a thread of its own, all on one transport (one DDS participant).
#pragma once

#include <chrono>
#include <vector>

#include "commands.hpp"
#include "stop_signals.hpp"
#include "transport.hpp"

namespace shmrec::bridge {

enum ExitStatus : int {
    exit_ok = 0,       // stopped by SIGINT / SIGTERM
    exit_failure = 1,  // the engine or a region failed
    exit_usage = 2,    // bad arguments or config file
    exit_refused = 3,  // a local region holds another record type (or channel kind)
};

// Runs `commands` until `stop` is requested (and the transport woken) or every one of them
// has ended, then prints each one's summary. A command that fails says why on stderr (naming
// itself when there are several) and ends; the others go on. Returns exit_ok, or the status of
// the first command, in their order, that failed.
int run_commands(Transport& transport, std::vector<Command> commands,
                 std::chrono::seconds status_interval, const StopFlag& stop);

}  // namespace shmrec::bridge
