// Named fault points for crash-consistency tests (SQLite style). In a build with
// SHMREC_FAULT_INJECTION defined, SHMREC_FAULT_POINT("publish.before_commit") counts its hits
// and, at the N-th hit of the point named in the environment variable
//     SHMREC_FAULT="<point>:<N>:<action>"      action: kill | stop | abort
// raises SIGKILL / SIGSTOP / SIGABRT in the calling process. Elsewhere it compiles to nothing.
// Points are listed in docs/reliability.md.
#pragma once

namespace shmrec::detail {

// Always defined by the runtime, so a test program built with fault points links against
// either variant of the library.
void fault_point(const char* name) noexcept;

}  // namespace shmrec::detail

#if defined(SHMREC_FAULT_INJECTION)
#define SHMREC_FAULT_POINT(name) ::shmrec::detail::fault_point(name)
#else
#define SHMREC_FAULT_POINT(name) ((void)0)
#endif
