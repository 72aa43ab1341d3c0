// shmrec's own channels: the ring (busy spin, futex wait, and a try_read poll loop that
// bypasses the wait loop), the broadcast, and the ring's record-size sweep.
#include <algorithm>
#include <optional>
#include <span>
#include <stdexcept>

#include <fmt/format.h>

#include "cases.hpp"
#include "payloads.shmrec.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"

namespace bench {
namespace {

using namespace std::chrono_literals;
constexpr auto wait_limit = std::chrono::nanoseconds{10s};

[[noreturn]] void fail(std::string_view what, std::string_view status) {
    throw std::runtime_error(fmt::format("{}: {}", what, status));
}

enum class Wait : std::uint8_t {
    call,  // the library's blocking read()/write() with the case's WaitOptions
    poll,  // try_read()/try_write() in a plain loop: the hot path without the wait loop
};

struct RingParams {
    std::string name;
    std::string label;
    std::string group;
    Floor floor = Floor::cacheline;
    shmrec::WaitOptions wait;
    Wait how = Wait::call;
    // 128 slots of 64 bytes: 8 KiB a direction stays in L1/L2. A 4096-slot ring (256 KiB a
    // direction) measured 70 M records/s against 195 M here, and ~10 ns more per round trip.
    std::uint64_t capacity = 128;
    std::size_t batch = 64;
    bool latency = true;
    bool single_variant = false;  // also measure throughput one record per call
};

template <class T>
class RingCase final : public Case {
public:
    explicit RingCase(RingParams p) : p_(std::move(p)) {}

    std::string name() const override { return p_.name; }
    std::string label() const override { return p_.label; }
    std::string group() const override { return p_.group; }
    Floor floor() const override { return p_.floor; }
    bool has_latency() const override { return p_.latency; }
    std::size_t record_size() const override { return sizeof(T); }
    SlotGeometry slot_geometry() const override { return {p_.capacity, Ring::slot_stride}; }
    std::vector<std::string> throughput_variants() const override {
        if (p_.single_variant) return {"1 record/call"};
        return {};
    }

    void create(Side side) override {
        if (side == Side::a) {
            register_name(ab());
            register_name(ba());
            writer_.emplace(Ring::writer(ab(), p_.capacity, shmrec::OpenMode::create_only, {},
                                         p_.wait));
        } else if (p_.latency) {
            writer_.emplace(Ring::writer(ba(), p_.capacity, shmrec::OpenMode::create_only, {},
                                         p_.wait));
        }
    }
    void open(Side side) override {
        if (side == Side::b) {
            reader_.emplace(Ring::reader(ab(), {}, p_.wait));
        } else if (p_.latency) {
            reader_.emplace(Ring::reader(ba(), {}, p_.wait));
        }
    }
    void close(Side side) override {
        reader_.reset();
        writer_.reset();
        if (side == Side::a) {
            shmrec::remove_region(ab());
            if (p_.latency) shmrec::remove_region(ba());
        }
    }

    void ping(std::uint64_t n, std::int64_t* samples) override {
        auto rec = std::make_unique<T>();
        auto back = std::make_unique<T>();
        for (std::uint64_t i = 0; i < n; ++i) {
            set_seq(*rec, i);
            const std::int64_t t0 = now_ns();
            put(*rec);
            get(*back);
            samples[i] = now_ns() - t0;
            if (get_seq(*back) != i) fail("ring ping", "echo out of order");
        }
    }
    void echo(std::uint64_t n) override {
        auto rec = std::make_unique<T>();
        for (std::uint64_t i = 0; i < n; ++i) {
            get(*rec);
            put(*rec);
        }
    }

    std::uint64_t send(std::chrono::nanoseconds run, int variant) override {
        std::vector<T> buf(variant == 0 ? p_.batch : 1);
        const std::int64_t deadline = now_ns() + run.count();
        std::uint64_t seq = 0;
        while (now_ns() < deadline) {
            for (auto& r : buf) set_seq(r, seq++);
            if (variant == 0 && p_.how == Wait::poll) {
                Watchdog dog;
                std::span<const T> left(buf);
                while (!left.empty()) {
                    left = left.subspan(writer_->try_write(left).count);
                    dog.poll();
                }
            } else if (variant == 0) {
                const auto w = writer_->write(std::span<const T>(buf), wait_limit);
                if (w.status != shmrec::WriteStatus::ok) fail("ring send", to_string(w.status));
            } else {
                put(buf[0]);
            }
        }
        set_seq(buf[0], sentinel);
        put(buf[0]);
        return seq;
    }
    Received receive(int variant) override {
        std::vector<T> buf(variant == 0 ? p_.batch : 1);
        Received got;
        for (;;) {
            std::size_t k = 1;
            if (variant == 0 && p_.how == Wait::poll) {
                Watchdog dog;
                shmrec::BatchRead r{0, shmrec::ReadStatus::empty};
                while ((r = reader_->try_read(std::span<T>(buf))).count == 0) {
                    if (r.status != shmrec::ReadStatus::empty) fail("ring try_read", to_string(r.status));
                    dog.poll();
                }
                k = r.count;
            } else if (variant == 0) {
                const auto r = reader_->read(std::span<T>(buf), wait_limit);
                if (r.status != shmrec::ReadStatus::ok) fail("ring receive", to_string(r.status));
                k = r.count;
            } else {
                get(buf[0]);
            }
            for (std::size_t i = 0; i < k; ++i) {
                const std::uint64_t seq = get_seq(buf[i]);
                if (seq == sentinel) return got;
                if (seq != got.count) fail("ring receive", "record out of order");
                ++got.count;
            }
        }
    }

private:
    using Ring = shmrec::Ring<T>;

    std::string ab() const { return unique_name(p_.name + "-ab"); }
    std::string ba() const { return unique_name(p_.name + "-ba"); }

    void put(const T& r) {
        if (p_.how == Wait::poll) {
            Watchdog dog;
            while (writer_->try_write(r) != shmrec::WriteStatus::ok) dog.poll();
            return;
        }
        if (const auto s = writer_->write(r, wait_limit); s != shmrec::WriteStatus::ok) {
            fail("ring write", to_string(s));
        }
    }
    void get(T& r) {
        if (p_.how == Wait::poll) {
            Watchdog dog;
            for (;;) {
                const auto s = reader_->try_read(r);
                if (s == shmrec::ReadStatus::ok) return;
                if (s != shmrec::ReadStatus::empty) fail("ring try_read", to_string(s));
                dog.poll();
            }
        }
        if (const auto s = reader_->read(r, wait_limit); s != shmrec::ReadStatus::ok) {
            fail("ring read", to_string(s));
        }
    }

    RingParams p_;
    std::optional<typename Ring::Writer> writer_;
    std::optional<typename Ring::Reader> reader_;
};

class BroadcastCase final : public Case {
public:
    std::string name() const override { return "broadcast"; }
    std::string label() const override { return "shmrec broadcast (busy_spin)"; }
    std::string group() const override { return "shmrec"; }

    void create(Side side) override {
        if (side == Side::a) {
            register_name(ab());
            register_name(ba());
        }
        writer_.emplace(Channel::writer(side == Side::a ? ab() : ba(), capacity));
    }
    void open(Side side) override {
        shmrec::WaitOptions wait;
        wait.strategy = shmrec::WaitStrategy::busy_spin;
        reader_.emplace(Channel::reader(side == Side::a ? ba() : ab(), shmrec::StartAt::oldest,
                                        {}, wait));
    }
    void close(Side side) override {
        reader_.reset();
        writer_.reset();
        if (side == Side::a) {
            shmrec::remove_region(ab());
            shmrec::remove_region(ba());
        }
    }

    void ping(std::uint64_t n, std::int64_t* samples) override {
        school::Student rec{}, back{};
        for (std::uint64_t i = 0; i < n; ++i) {
            set_seq(rec, i);
            const std::int64_t t0 = now_ns();
            put(rec);
            get(back);
            samples[i] = now_ns() - t0;
            if (get_seq(back) != i) fail("broadcast ping", "echo out of order");
        }
    }
    void echo(std::uint64_t n) override {
        school::Student rec{};
        for (std::uint64_t i = 0; i < n; ++i) {
            get(rec);
            put(rec);
        }
    }
    std::uint64_t send(std::chrono::nanoseconds run, int) override {
        std::vector<school::Student> buf(64);
        const std::int64_t deadline = now_ns() + run.count();
        std::uint64_t seq = 0;
        while (now_ns() < deadline) {
            for (auto& r : buf) set_seq(r, seq++);
            (void)writer_->try_write(std::span<const school::Student>(buf));
        }
        set_seq(buf[0], sentinel);
        put(buf[0]);
        return seq;
    }
    Received receive(int) override {
        std::vector<school::Student> buf(64);
        std::uint64_t last = 0;
        const std::uint64_t lost_before = reader_->lost();  // lost() counts since the start
        Received got;
        for (;;) {
            const auto r = reader_->read(std::span<school::Student>(buf), wait_limit);
            if (r.status != shmrec::ReadStatus::ok) fail("broadcast read", to_string(r.status));
            for (std::size_t i = 0; i < r.count; ++i) {
                const std::uint64_t seq = get_seq(buf[i]);
                if (seq == sentinel) {
                    got.lost = reader_->lost() - lost_before;
                    return got;
                }
                if (got.count > 0 && seq <= last) fail("broadcast receive", "record out of order");
                last = seq;
                ++got.count;
            }
        }
    }

private:
    using Channel = shmrec::Broadcast<school::Student>;
    static constexpr std::uint64_t capacity = 4096;

    std::string ab() const { return unique_name("broadcast-ab"); }
    std::string ba() const { return unique_name("broadcast-ba"); }
    void get(school::Student& r) {
        if (const auto s = reader_->read(r, wait_limit); s != shmrec::ReadStatus::ok) {
            fail("broadcast read", to_string(s));
        }
    }
    void put(const school::Student& r) {
        if (const auto s = writer_->try_write(r); s != shmrec::WriteStatus::ok) {
            fail("broadcast write", to_string(s));
        }
    }

    std::optional<Channel::Writer> writer_;
    std::optional<Channel::Reader> reader_;
};

template <class T>
std::unique_ptr<Case> sweep_case() {
    RingParams p;
    p.name = fmt::format("sweep-{}", sizeof(T));
    p.label = fmt::format("ring {} B", sizeof(T));
    p.group = "sweep";
    p.wait.strategy = shmrec::WaitStrategy::busy_spin;
    // About 1 MiB of slots whatever the record size: a footprint memcpy gets too.
    const std::uint64_t stride = shmrec::Ring<T>::slot_stride;
    std::uint64_t cap = 1;
    while (cap * 2 * stride <= (std::uint64_t{2} << 20) && cap < 4096) cap *= 2;
    p.capacity = std::max<std::uint64_t>(cap, 16);
    p.batch = static_cast<std::size_t>(std::min<std::uint64_t>(64, p.capacity / 2));
    p.latency = false;
    return std::make_unique<RingCase<T>>(p);
}

}  // namespace

std::vector<std::unique_ptr<Case>> shmrec_cases() {
    std::vector<std::unique_ptr<Case>> out;
    {
        RingParams p;
        p.name = "ring-spin";
        p.label = "shmrec ring (busy_spin)";
        p.group = "shmrec";
        p.wait.strategy = shmrec::WaitStrategy::busy_spin;
        p.single_variant = true;
        out.push_back(std::make_unique<RingCase<school::Student>>(p));
    }
    {
        RingParams p;
        p.name = "ring-futex";
        p.label = "shmrec ring (futex, no spin)";
        p.group = "shmrec";
        p.floor = Floor::futex;
        p.wait.strategy = shmrec::WaitStrategy::futex;
        p.wait.spin_iterations = 0;  // measure the sleep/wake path, not the spin before it
        out.push_back(std::make_unique<RingCase<school::Student>>(p));
    }
    {
        RingParams p;
        p.name = "ring-poll";
        p.label = "shmrec ring (try_ poll loop)";
        p.group = "shmrec";
        p.how = Wait::poll;
        out.push_back(std::make_unique<RingCase<school::Student>>(p));
    }
    out.push_back(std::make_unique<BroadcastCase>());
    out.push_back(sweep_case<bench::P8>());
    out.push_back(sweep_case<bench::P64>());
    out.push_back(sweep_case<bench::P256>());
    out.push_back(sweep_case<bench::P1K>());
    out.push_back(sweep_case<bench::P4K>());
    out.push_back(sweep_case<bench::P16K>());
    out.push_back(sweep_case<bench::P64K>());
    return out;
}

}  // namespace bench
