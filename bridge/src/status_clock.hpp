// The one-line status a long-lived bridge prints every interval (--status SECONDS), so a
// supervisor's log shows that records flow and at what rate without asking the process.
#pragma once

#include <chrono>
#include <cstdint>

namespace shmrec::bridge {

class StatusClock {
  public:
    using Clock = std::chrono::steady_clock;

    // Every `interval`; zero: never.
    explicit StatusClock(std::chrono::seconds interval)
        : interval_(interval), last_(Clock::now()) {}

    // True once per interval. `records` is the caller's running total: rate() is then the
    // records per second since the previous due() that was true.
    bool due(std::uint64_t records) {
        if (interval_.count() == 0) return false;
        const Clock::time_point now = Clock::now();
        if (now - last_ < interval_) return false;
        const double seconds = std::chrono::duration<double>(now - last_).count();
        rate_ = static_cast<double>(records - last_records_) / seconds;
        last_ = now;
        last_records_ = records;
        return true;
    }
    double rate() const noexcept { return rate_; }

  private:
    std::chrono::seconds interval_;
    Clock::time_point last_;
    std::uint64_t last_records_ = 0;
    double rate_ = 0;
};

}  // namespace shmrec::bridge
