// iceoryx 2.0 (Debian bookworm): typed publisher/subscriber, busy-polling take(), lossless
// (WAIT_FOR_CONSUMER / BLOCK_PRODUCER). Built only when CMake found iceoryx_posh; otherwise
// the case reports itself as skipped. The run starts its own RouDi and stops it by pid.
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "cases.hpp"
#include "student.shmrec.hpp"

#if defined(SHMREC_BENCH_HAVE_ICEORYX)
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "iceoryx_posh/popo/publisher.hpp"
#include "iceoryx_posh/popo/subscriber.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#endif

namespace bench {
namespace {

using school::Student;

#if defined(SHMREC_BENCH_HAVE_ICEORYX)

bool g_runtime_ready = false;

iox::capro::IdString_t id(const std::string& s) {
    return iox::capro::IdString_t(iox::cxx::TruncateToCapacity, s.c_str(), s.size());
}

class IceoryxCase final : public Case {
public:
    std::string name() const override { return "iceoryx"; }
    std::string label() const override { return "iceoryx 2.0 (take() poll)"; }
    std::string group() const override { return "peer"; }
    std::string skip_reason() const override {
        return g_runtime_ready ? "" : "iox-roudi did not start (see its log)";
    }

    void create(Side side) override {
        iox::popo::PublisherOptions options;
        options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
        pub_.emplace(service(side == Side::a ? "ab" : "ba"), options);
    }
    void open(Side side) override {
        iox::popo::SubscriberOptions options;
        options.queueCapacity = 256;  // the most 2.0 allows
        options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
        sub_.emplace(service(side == Side::a ? "ba" : "ab"), options);
        // RouDi connects ports asynchronously: wait until both directions are connected.
        Watchdog dog(std::chrono::seconds{20});
        while (sub_->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED ||
               !pub_->hasSubscribers()) {
            std::this_thread::sleep_for(std::chrono::milliseconds{1});
            dog.check();
        }
    }
    void close(Side) override {
        sub_.reset();
        pub_.reset();
    }

    void ping(std::uint64_t n, std::int64_t* samples) override {
        Student rec{}, back{};
        for (std::uint64_t i = 0; i < n; ++i) {
            set_seq(rec, i);
            const std::int64_t t0 = now_ns();
            put(rec);
            get(back);
            samples[i] = now_ns() - t0;
            if (get_seq(back) != i) throw std::runtime_error("iceoryx: echo out of order");
        }
    }
    void echo(std::uint64_t n) override {
        Student rec{};
        for (std::uint64_t i = 0; i < n; ++i) {
            get(rec);
            put(rec);
        }
    }
    std::uint64_t send(std::chrono::nanoseconds run, int) override {
        Student rec{};
        const std::int64_t deadline = now_ns() + run.count();
        std::uint64_t seq = 0;
        while (now_ns() < deadline) {
            for (int i = 0; i < 64; ++i) {
                set_seq(rec, seq++);
                put(rec);
            }
        }
        set_seq(rec, sentinel);
        put(rec);
        return seq;
    }
    Received receive(int) override {
        Student rec{};
        Received got;
        for (;;) {
            get(rec);
            const std::uint64_t seq = get_seq(rec);
            if (seq == sentinel) return got;
            if (seq != got.count) throw std::runtime_error("iceoryx: record out of order");
            ++got.count;
        }
    }

private:
    iox::capro::ServiceDescription service(const char* direction) const {
        return {id("shmrec-bench"), id(run_prefix()), id(direction)};
    }
    // Zero-copy loan, filled in place, published: iceoryx's fastest typed path.
    void put(const Student& r) {
        Watchdog dog;
        for (;;) {
            auto loan = pub_->loan();
            if (!loan.has_error()) {
                *loan.value() = r;
                loan.value().publish();
                return;
            }
            dog.poll();  // the mempool is empty while the reader holds every chunk
        }
    }
    void get(Student& r) {
        Watchdog dog;
        for (;;) {
            auto sample = sub_->take();
            if (!sample.has_error()) {
                r = *sample.value();
                return;  // the chunk goes back to the pool when the sample dies
            }
            dog.poll();
        }
    }

    std::optional<iox::popo::Publisher<Student>> pub_;
    std::optional<iox::popo::Subscriber<Student>> sub_;
};

class Roudi final : public IceoryxSession {
public:
    Roudi(const std::string& program, const std::string& log)
        : daemon_(program, {"--monitoring-mode", "off", "--log-level", "info"}, log) {
        // Ready when it says so in its log (RouDi has no readiness fd).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
        while (std::chrono::steady_clock::now() < deadline && daemon_.running()) {
            std::ifstream in(log);
            std::stringstream text;
            text << in.rdbuf();
            if (text.str().find("RouDi is ready for clients") != std::string::npos) {
                ready_ = true;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{20});
        }
    }
    bool ready() const noexcept { return ready_; }
    pid_t release() noexcept { return daemon_.release(); }

private:
    Daemon daemon_;
    bool ready_ = false;
};

#endif  // SHMREC_BENCH_HAVE_ICEORYX

class SkippedIceoryx final : public Case {
public:
    std::string name() const override { return "iceoryx"; }
    std::string label() const override { return "iceoryx 2.0"; }
    std::string group() const override { return "peer"; }
    std::string skip_reason() const override {
        return "built without iceoryx (find_package(iceoryx_posh) failed at configure time)";
    }
    void ping(std::uint64_t, std::int64_t*) override {}
    void echo(std::uint64_t) override {}
    std::uint64_t send(std::chrono::nanoseconds, int) override { return 0; }
    Received receive(int) override { return {}; }
};

}  // namespace

std::vector<std::unique_ptr<Case>> iceoryx_cases() {
    std::vector<std::unique_ptr<Case>> out;
#if defined(SHMREC_BENCH_HAVE_ICEORYX)
    out.push_back(std::make_unique<IceoryxCase>());
#else
    out.push_back(std::make_unique<SkippedIceoryx>());
#endif
    return out;
}

#if defined(SHMREC_BENCH_HAVE_ICEORYX)
pid_t g_roudi = -1;
#endif

std::unique_ptr<IceoryxSession> start_iceoryx(const std::string& roudi, const std::string& log) {
#if defined(SHMREC_BENCH_HAVE_ICEORYX)
    auto session = std::make_unique<Roudi>(roudi, log);
    if (!session->ready()) return nullptr;
    // RouDi, when stopped, sends SIGTERM to every process still registered with it, and this
    // process stays registered until iceoryx's runtime singleton is destroyed at exit. So
    // RouDi is stopped from an atexit handler registered before the runtime exists: handlers
    // and static destructors run in reverse order, so it runs after the runtime deregistered.
    g_roudi = session->release();
    std::atexit([] { stop_daemon(g_roudi); });
    iceoryx_init_runtime(fmt::format("{}-a", run_prefix()));
    return session;
#else
    (void)roudi;
    (void)log;
    return nullptr;
#endif
}

void iceoryx_init_runtime(const std::string& name) {
#if defined(SHMREC_BENCH_HAVE_ICEORYX)
    iox::runtime::PoshRuntime::initRuntime(
        iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str(), name.size()));
    g_runtime_ready = true;
#else
    (void)name;
#endif
}

}  // namespace bench
