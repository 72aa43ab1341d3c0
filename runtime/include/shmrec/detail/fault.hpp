// Named fault points for crash-consistency tests (SQLite style). In a build with
// SHMREC_FAULT_INJECTION defined, SHMREC_FAULT_POINT("publish.before_commit") counts its hits
// and, at the N-th hit of the point named in the environment variable
//     SHMREC_FAULT="<point>:<N>:<action>"      action: kill | stop | abort
// raises SIGKILL / SIGSTOP / SIGABRT in the calling process. Elsewhere it compiles to nothing.
// A system call site asks SHMREC_FAULT_ERRNO("create.fallocate") instead: with the action
// errno=<NAME> (EINTR, EOPNOTSUPP, ENOSPC, EFBIG, EACCES) it returns that errno on the first N
// hits, 0 otherwise, and the caller proceeds as if the call had failed so.
// Points are listed in docs/reliability.md.
#pragma once

namespace shmrec::detail {

// Always defined by the runtime, so a test program built with fault points links against
// either variant of the library.
void fault_point(const char* name) noexcept;
int fault_errno(const char* name) noexcept;

}  // namespace shmrec::detail

#if defined(SHMREC_FAULT_INJECTION)
#define SHMREC_FAULT_POINT(name) ::shmrec::detail::fault_point(name)
#define SHMREC_FAULT_ERRNO(name) ::shmrec::detail::fault_errno(name)
#else
#define SHMREC_FAULT_POINT(name) ((void)0)
#define SHMREC_FAULT_ERRNO(name) 0
#endif
