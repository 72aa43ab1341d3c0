#include "stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <system_error>

namespace shmrec::bridge {

namespace {

sigset_t stop_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void StopSignals::block() {
    const sigset_t set = stop_set();
    if (const int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
        throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
    }
}

StopSignals::StopSignals(std::function<void(int)> on_stop)
    : on_stop_(std::move(on_stop)), thread_([this] { run(); }) {}

StopSignals::~StopSignals() {
    // Release pairs with the acquire in run(): the thread that wakes up from our SIGTERM knows
    // it is not a request to stop.
    leaving_.store(true, std::memory_order_release);
    (void)pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
}

void StopSignals::run() {
    const sigset_t set = stop_set();
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (leaving_.load(std::memory_order_acquire)) return;
        int none = 0;
        if (received_.compare_exchange_strong(none, sig, std::memory_order_acq_rel)) on_stop_(sig);
    }
}

}  // namespace shmrec::bridge
