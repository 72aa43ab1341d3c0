// A Subscriber driven as Cyclone drives the importer: the test hands batches to the listener
// from its own thread, as the engine's receive thread would (deliver(); only the listener can
// take them), and wait() sleeps
// until notify(), stop() or its timeout; it counts the notify() calls (importer_test.cpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "transport.hpp"

namespace shmrec_bridge_test {

class ListeningSubscriber final : public shmrec::bridge::Subscriber {
  public:
    using Identity = shmrec::bridge::Identity;
    using Batch = shmrec::bridge::Batch;
    using BatchView = shmrec::bridge::BatchView;
    using Wake = shmrec::bridge::Wake;
    using Written = shmrec::bridge::Written;

    explicit ListeningSubscriber(Identity identity) : identity_(std::move(identity)) {}

    Wake wait_for_identity(std::chrono::nanoseconds) override { return Wake::ready; }
    std::optional<Identity> take_identity() override {
        const std::lock_guard lock(mutex_);
        return std::exchange(identity_, std::nullopt);
    }
    Wake wait(std::chrono::nanoseconds timeout) override {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, timeout, [&] { return notified_ || stopped_; }))
            return Wake::timeout;
        if (stopped_) return Wake::woken;
        notified_ = false;
        return Wake::ready;
    }
    void notify() override {
        const std::lock_guard lock(mutex_);
        notified_ = true;
        ++notifications_;
        changed_.notify_all();
    }
    void listen(std::function<void()> on_data) override {
        const std::lock_guard lock(mutex_);
        on_data_ = std::move(on_data);
        changed_.notify_all();
    }
    void receive_batches() override {}
    std::size_t take_batches(std::size_t max,
                             const std::function<void(const BatchView&)>& visit) override {
        std::vector<Batch> taken;
        {
            const std::lock_guard lock(mutex_);
            // Only the listener's call gets them: which thread takes a batch is what a test
            // of this subscriber looks at.
            if (std::this_thread::get_id() != deliverer_) return 0;
            while (taken.size() < max && !batches_.empty()) {
                taken.push_back(std::move(batches_.front()));
                batches_.pop_front();
            }
        }
        for (const Batch& b : taken) visit(view_of(b));
        return taken.size();
    }
    void report_written(const Written& w) override {
        const std::lock_guard lock(mutex_);
        written_.push_back(w);
        changed_.notify_all();
    }

    // The test's side. Hands `batch` to the listener once the importer has set one, as the
    // engine's receive thread does; false if none was set within `timeout`.
    bool deliver(Batch batch, std::chrono::nanoseconds timeout) {
        std::function<void()> on_data;
        {
            std::unique_lock lock(mutex_);
            if (!changed_.wait_for(lock, timeout, [&] { return bool(on_data_); })) return false;
            batches_.push_back(std::move(batch));
            on_data = on_data_;
            deliverer_ = std::this_thread::get_id();
        }
        on_data();
        const std::lock_guard lock(mutex_);
        deliverer_ = {};
        return true;
    }
    // Waits until the importer has reported positions before `next` written.
    bool await_written(std::uint64_t next, std::chrono::nanoseconds timeout) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] {
            return !written_.empty() && written_.back().next_position >= next;
        });
    }
    // Ends the wait() in progress and every one after it with Wake::woken.
    void stop() {
        const std::lock_guard lock(mutex_);
        stopped_ = true;
        changed_.notify_all();
    }
    // How many times notify() was called.
    unsigned notifications() {
        const std::lock_guard lock(mutex_);
        return notifications_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<Identity> identity_;
    std::deque<Batch> batches_;
    std::vector<Written> written_;
    std::function<void()> on_data_;
    std::thread::id deliverer_;  // the thread in deliver(), while it calls the listener
    bool notified_ = false;
    bool stopped_ = false;
    unsigned notifications_ = 0;
};

}  // namespace shmrec_bridge_test
