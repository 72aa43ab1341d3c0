// Interposes syscall() in a test binary: every futex operation the runtime makes (it reaches
// the kernel's futex through syscall(), runtime/src/posix/event_word.cpp) is shown to
// on_futex(), which the test defines, before it goes to the real syscall(). Include this
// header in exactly one source file of the binary (it defines syscall), and link with
// ${CMAKE_DL_LIBS}.
//
// Linux-only (a futex, syscall(2), dlsym(RTLD_NEXT)): only Linux test binaries include it; the
// Windows build leaves their sources out (see each CMakeLists.txt).
#pragma once

#if !defined(__linux__)
#error "futex_spy.hpp is Linux-only: it counts the futex system calls of the Linux runtime"
#endif

#include <dlfcn.h>
#include <sys/syscall.h>
#include <time.h>

#include <cstdarg>

// op: the futex operation word (FUTEX_WAIT, FUTEX_WAKE, flags); timeout: its timespec or null.
void on_futex(long op, const timespec* timeout);

extern "C" long syscall(long number, ...) noexcept {
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& x : a) x = va_arg(ap, long);
    va_end(ap);
    using Real = long (*)(long, ...);
    static const Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "syscall"));
    if (number == SYS_futex) on_futex(a[1], reinterpret_cast<const timespec*>(a[3]));
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
