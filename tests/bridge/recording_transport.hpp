// A transport for the exporter with no engine behind it: its one publisher keeps what it is
// given and always has one subscriber, which never reports anything written. The review tests
// (review_test.cpp) and the fault peer (bridge_fault_peer.cpp) run run_export() against it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "transport.hpp"
#include "wire.hpp"

namespace shmrec_bridge_test {

class RecordingTransport final : public shmrec::bridge::Transport {
  public:
    struct Published {
        std::vector<shmrec::bridge::Identity> identities;
        std::vector<shmrec::bridge::Batch> batches;
    };

    std::string engine() const override { return "recording"; }
    std::unique_ptr<shmrec::bridge::Publisher> publisher(std::string_view) override {
        return std::make_unique<RecordingPublisher>(*this);
    }
    std::unique_ptr<shmrec::bridge::Subscriber> subscriber(std::string_view) override {
        throw shmrec::bridge::TransportError("no subscriber here");
    }
    void wake() noexcept override {}

    // Waits until `done(published)` (at most 20 s); false if it never was.
    template <class Done>
    bool wait_until(Done done) {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(published_); });
    }
    Published published() {
        std::lock_guard lock(m_);
        return published_;
    }

  private:
    class RecordingPublisher final : public shmrec::bridge::Publisher {
      public:
        explicit RecordingPublisher(RecordingTransport& t) : t_(t) {}
        void announce(const shmrec::bridge::Identity& identity) override {
            std::lock_guard lock(t_.m_);
            t_.published_.identities.push_back(identity);
            t_.cv_.notify_all();
        }
        shmrec::bridge::Subscriptions subscribers() override { return {1, 1}; }
        shmrec::bridge::Wake wait_for_subscriber(std::chrono::nanoseconds) override {
            return shmrec::bridge::Wake::ready;
        }
        std::optional<shmrec::bridge::Written> take_written() override { return std::nullopt; }
        // No report ever comes: the whole timeout passes, as with an engine (a ring exporter
        // with records out would otherwise spin on it).
        shmrec::bridge::Wake wait_for_written(std::chrono::nanoseconds timeout) override {
            std::this_thread::sleep_for(timeout);
            return shmrec::bridge::Wake::timeout;
        }
        bool publish(const shmrec::bridge::BatchView& batch) override {
            std::lock_guard lock(t_.m_);
            t_.published_.batches.push_back(shmrec::bridge::copy_of(batch));
            t_.cv_.notify_all();
            return true;
        }

      private:
        RecordingTransport& t_;
    };

    std::mutex m_;
    std::condition_variable cv_;
    Published published_;
};

}  // namespace shmrec_bridge_test
