// A Subscriber whose identities and batches arrive in rounds a test chooses (no network), so
// interleavings the network produces only now and then happen every time (importer_test.cpp,
// review_test.cpp).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <variant>
#include <vector>

#include "stop_signals.hpp"
#include "transport.hpp"

namespace shmrec_bridge_test {

using Arrival = std::variant<shmrec::bridge::Identity, shmrec::bridge::Batch>;

// Each round's identities and batches are there until taken; wait() moves to the next round,
// and after the last one asks the importer to stop. take_identity() keeps only the newest, as
// the engine's keep-last-1 identity reader does.
class ScriptedSubscriber final : public shmrec::bridge::Subscriber {
  public:
    using Identity = shmrec::bridge::Identity;
    using Batch = shmrec::bridge::Batch;
    using BatchView = shmrec::bridge::BatchView;
    using Wake = shmrec::bridge::Wake;

    ScriptedSubscriber(std::deque<std::vector<Arrival>> rounds, shmrec::bridge::StopFlag& stop)
        : rounds_(std::move(rounds)), stop_(stop) {}

    Wake wait_for_identity(std::chrono::nanoseconds) override { return next_round(); }
    Wake wait(std::chrono::nanoseconds) override { return next_round(); }
    // No listener: the importer's own thread takes each round (and nobody notifies it).
    void listen(std::function<void()>) override {}
    void notify() override {}
    void receive_batches() override {}

    std::optional<Identity> take_identity() override {
        std::optional<Identity> newest;
        std::erase_if(now_, [&](Arrival& a) {
            if (!std::holds_alternative<Identity>(a)) return false;
            newest = std::get<Identity>(std::move(a));
            return true;
        });
        return newest;
    }

    std::size_t take_batches(std::size_t max,
                             const std::function<void(const BatchView&)>& visit) override {
        std::vector<Batch> taken;
        std::erase_if(now_, [&](Arrival& a) {
            if (taken.size() == max || !std::holds_alternative<Batch>(a)) return false;
            taken.push_back(std::get<Batch>(std::move(a)));
            return true;
        });
        for (const Batch& b : taken) visit(view_of(b));
        return taken.size();
    }

    void report_written(const shmrec::bridge::Written& w) override { written_.push_back(w); }
    // What the importer reported it has written, in order.
    const std::vector<shmrec::bridge::Written>& written() const { return written_; }

  private:
    Wake next_round() {
        if (rounds_.empty()) {
            stop_.request();
            return Wake::woken;
        }
        for (Arrival& a : rounds_.front()) now_.push_back(std::move(a));
        rounds_.pop_front();
        return Wake::ready;
    }

    std::deque<std::vector<Arrival>> rounds_;
    std::vector<Arrival> now_;
    std::vector<shmrec::bridge::Written> written_;
    shmrec::bridge::StopFlag& stop_;
};

}  // namespace shmrec_bridge_test
