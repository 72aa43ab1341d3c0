// SIGINT and SIGTERM end shmrec-bridge cleanly: they are blocked in every thread (Cyclone DDS
// starts its own) and received by one thread of ours with sigwait(), which runs the stop
// action there, in a normal thread context: no async-signal-safety limits on what it does (the
// bridge sets a flag and wakes the transport's waits).
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace shmrec::bridge {

// Set once, from the signal thread; looked at by the exporter's and importer's loops.
class StopFlag {
  public:
    // Release pairs with the acquire in requested(): what the stopping thread did before
    // (nothing the loops read, today) is visible to a loop that sees the flag.
    void request() noexcept { stop_.store(true, std::memory_order_release); }
    bool requested() const noexcept { return stop_.load(std::memory_order_acquire); }

  private:
    std::atomic<bool> stop_{false};
};

class StopSignals {
  public:
    // Blocks SIGINT and SIGTERM in the calling thread; threads started later inherit it. Call
    // it first in main, before any other thread exists.
    static void block();

    // Starts the thread that waits for SIGINT / SIGTERM and calls on_stop (once, in that
    // thread, with the signal's number). block() must have been called.
    explicit StopSignals(std::function<void(int)> on_stop);
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    // Ends and joins the thread.
    ~StopSignals();

    // The signal that asked us to stop; 0 if none did.
    int received() const noexcept { return received_.load(std::memory_order_acquire); }

  private:
    void run();

    std::function<void(int)> on_stop_;
    std::atomic<int> received_{0};
    std::atomic<bool> leaving_{false};
    std::thread thread_;
};

}  // namespace shmrec::bridge
