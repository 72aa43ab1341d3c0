// Exit statuses of the `shmrec` tool, shared by every verb (docs/tool.md#exit-statuses).
#pragma once

namespace shmrec::tool {

enum ExitStatus : int {
    exit_ok = 0,
    exit_failure = 1,    // the verb could not do what was asked, or refused (rm), or doctor
                         // found something that would break
    exit_usage = 2,      // bad arguments (CLI11's parse errors are mapped here too)
    exit_not_found = 3,  // no region (nor anything else) at that name or path
};

}  // namespace shmrec::tool
