// The samples' stop request: Ctrl+C (and SIGTERM on POSIX, a console close on Windows), taken
// synchronously so no asynchronous handler touches the program's state.
//   POSIX:   SIGINT and SIGTERM are blocked and collected with sigtimedwait.
//   Windows: a console control handler sets a manual-reset event, which the program waits on.
#pragma once

#if defined(_WIN32)
#include <windows.h>
#else
#include <csignal>
#include <ctime>

#include <pthread.h>
#endif

namespace samples {

class StopSignal {
public:
    // Call once, before any other thread starts.
    StopSignal() {
#if defined(_WIN32)
        event() = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
        ::SetConsoleCtrlHandler(&on_console_event, TRUE);
#else
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
#endif
    }
    StopSignal(const StopSignal&) = delete;
    StopSignal& operator=(const StopSignal&) = delete;

    // Sleeps up to `ms`; false as soon as a stop was requested.
    bool sleep_unless_stopped(unsigned ms) {
#if defined(_WIN32)
        return ::WaitForSingleObject(event(), ms) == WAIT_TIMEOUT;
#else
        timespec timeout{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000L};
        return sigtimedwait(&signals_, nullptr, &timeout) < 0;
#endif
    }

    // True once a stop was requested (never blocks).
    bool stopped() {
#if defined(_WIN32)
        return ::WaitForSingleObject(event(), 0) == WAIT_OBJECT_0;
#else
        timespec zero{0, 0};
        return sigtimedwait(&signals_, nullptr, &zero) >= 0;
#endif
    }

private:
#if defined(_WIN32)
    static HANDLE& event() {
        static HANDLE e = nullptr;
        return e;
    }
    static BOOL WINAPI on_console_event(DWORD) {
        ::SetEvent(event());
        return TRUE;
    }
#else
    sigset_t signals_{};
#endif
};

}  // namespace samples
