// The other IPC the issue compares against: Boost.Interprocess message_queue (blocking, and
// try_ calls in a spin loop), a pipe and a Unix-domain SEQPACKET socketpair. One 32-byte
// school.Student per call everywhere: the record-at-a-time API each of them offers.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <system_error>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <fmt/format.h>

#include "cases.hpp"
#include "student.shmrec.hpp"

namespace bench {
namespace {

namespace bip = boost::interprocess;
using school::Student;

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// Sends and receives one record; the rest of the protocol is the same for every peer.
class RecordCase : public Case {
public:
    std::string group() const override { return "peer"; }

    void ping(std::uint64_t n, std::int64_t* samples) override {
        Student rec{}, back{};
        for (std::uint64_t i = 0; i < n; ++i) {
            set_seq(rec, i);
            const std::int64_t t0 = now_ns();
            put(Side::a, rec);
            get(Side::a, back);
            samples[i] = now_ns() - t0;
            if (get_seq(back) != i) throw std::runtime_error(name() + ": echo out of order");
        }
    }
    void echo(std::uint64_t n) override {
        Student rec{};
        for (std::uint64_t i = 0; i < n; ++i) {
            get(Side::b, rec);
            put(Side::b, rec);
        }
    }
    std::uint64_t send(std::chrono::nanoseconds run, int) override {
        Student rec{};
        const std::int64_t deadline = now_ns() + run.count();
        std::uint64_t seq = 0;
        // The clock every 64 records, as the batched shmrec senders do.
        while (now_ns() < deadline) {
            for (int i = 0; i < 64; ++i) {
                set_seq(rec, seq++);
                put(Side::a, rec);
            }
        }
        set_seq(rec, sentinel);
        put(Side::a, rec);
        return seq;
    }
    Received receive(int) override {
        Student rec{};
        Received got;
        for (;;) {
            get(Side::b, rec);
            const std::uint64_t seq = get_seq(rec);
            if (seq == sentinel) return got;
            if (seq != got.count) throw std::runtime_error(name() + ": record out of order");
            ++got.count;
        }
    }

protected:
    // A sends on a→b and receives on b→a; B the other way round.
    virtual void put(Side side, const Student& r) = 0;
    virtual void get(Side side, Student& r) = 0;
};

class MessageQueueCase final : public RecordCase {
public:
    explicit MessageQueueCase(bool spin) : spin_(spin) {}
    std::string name() const override { return spin_ ? "mq-spin" : "mq-block"; }
    std::string label() const override {
        return spin_ ? "boost message_queue (try_ spin)" : "boost message_queue (blocking)";
    }
    // Blocking calls sleep on a process-shared condition variable (a futex underneath).
    Floor floor() const override { return spin_ ? Floor::cacheline : Floor::futex; }

    void create(Side side) override {
        if (side != Side::a) return;
        for (const auto& n : {ab(), ba()}) {
            register_name(n);
            bip::message_queue::remove(n.c_str());
            bip::message_queue(bip::create_only, n.c_str(), depth, sizeof(Student));
        }
    }
    void open(Side side) override {
        out_.emplace(bip::open_only, (side == Side::a ? ab() : ba()).c_str());
        in_.emplace(bip::open_only, (side == Side::a ? ba() : ab()).c_str());
    }
    void close(Side side) override {
        out_.reset();
        in_.reset();
        if (side == Side::a) {
            bip::message_queue::remove(ab().c_str());
            bip::message_queue::remove(ba().c_str());
        }
    }

protected:
    void put(Side, const Student& r) override {
        if (!spin_) {
            out_->send(&r, sizeof r, 0);
            return;
        }
        Watchdog dog;
        while (!out_->try_send(&r, sizeof r, 0)) dog.poll();
    }
    void get(Side, Student& r) override {
        std::size_t got = 0;
        unsigned priority = 0;
        if (!spin_) {
            in_->receive(&r, sizeof r, got, priority);
        } else {
            Watchdog dog;
            while (!in_->try_receive(&r, sizeof r, got, priority)) dog.poll();
        }
        if (got != sizeof r) throw std::runtime_error("message_queue: short message");
    }

private:
    static constexpr std::size_t depth = 1024;
    std::string ab() const { return unique_name(name() + "-ab"); }
    std::string ba() const { return unique_name(name() + "-ba"); }

    bool spin_;
    std::optional<bip::message_queue> out_;
    std::optional<bip::message_queue> in_;
};

void write_all(int fd, const void* p, std::size_t n) {
    const auto* b = static_cast<const char*>(p);
    while (n > 0) {
        const ssize_t w = ::write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw_errno("write");
        }
        b += w;
        n -= static_cast<std::size_t>(w);
    }
}
void read_all(int fd, void* p, std::size_t n) {
    auto* b = static_cast<char*>(p);
    while (n > 0) {
        const ssize_t r = ::read(fd, b, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw_errno("read");
        }
        if (r == 0) throw std::runtime_error("read: end of file");
        b += r;
        n -= static_cast<std::size_t>(r);
    }
}

// Descriptors made by A before the peer starts; each side closes the other's ends.
class FdCase : public RecordCase {
public:
    Floor floor() const override { return Floor::futex; }  // both sleep in the kernel
    ~FdCase() override {
        for (int fd : fds_) {
            if (fd >= 0) ::close(fd);
        }
    }
    void adopt(const std::vector<int>& fds) override { fds_ = fds; }
    void create(Side side) override {
        // fds_: [a's out, a's in, b's out, b's in]; keep our own two.
        for (std::size_t i = 0; i < fds_.size(); ++i) {
            const bool mine = side == Side::a ? i < 2 : i >= 2;
            if (!mine && fds_[i] >= 0 && !shared(i)) {
                ::close(fds_[i]);
                fds_[i] = -1;
            }
        }
    }
    void close(Side) override {
        for (int& fd : fds_) {
            if (fd >= 0) ::close(fd);
            fd = -1;
        }
    }

protected:
    int out(Side s) const { return fds_[s == Side::a ? 0 : 2]; }
    int in(Side s) const { return fds_[s == Side::a ? 1 : 3]; }
    // A socketpair end serves both directions of one side.
    virtual bool shared(std::size_t) const { return false; }
    std::vector<int> fds_;
};

class PipeCase final : public FdCase {
public:
    std::string name() const override { return "pipe"; }
    std::string label() const override { return "pipe (blocking)"; }
    std::vector<int> prepare() override {
        int ab[2], ba[2];
        if (::pipe2(ab, O_CLOEXEC) != 0 || ::pipe2(ba, O_CLOEXEC) != 0) throw_errno("pipe2");
        fds_ = {ab[1], ba[0], ba[1], ab[0]};
        return fds_;
    }

protected:
    void put(Side s, const Student& r) override { write_all(out(s), &r, sizeof r); }
    void get(Side s, Student& r) override { read_all(in(s), &r, sizeof r); }
};

class SocketCase final : public FdCase {
public:
    std::string name() const override { return "uds"; }
    std::string label() const override { return "unix socket (SEQPACKET, blocking)"; }
    std::vector<int> prepare() override {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            throw_errno("socketpair");
        }
        fds_ = {sv[0], sv[0], sv[1], sv[1]};
        return fds_;
    }
    void create(Side side) override {
        const int keep = side == Side::a ? fds_[0] : fds_[2];
        const int drop = side == Side::a ? fds_[2] : fds_[0];
        if (drop >= 0) ::close(drop);
        fds_ = {keep, keep, keep, keep};
    }
    void close(Side) override {
        if (fds_.empty()) return;
        if (fds_[0] >= 0) ::close(fds_[0]);
        fds_.assign(4, -1);
    }
    ~SocketCase() override { close(Side::a); }

protected:
    void put(Side s, const Student& r) override {
        for (;;) {
            if (::send(out(s), &r, sizeof r, 0) == static_cast<ssize_t>(sizeof r)) return;
            if (errno != EINTR) throw_errno("send");
        }
    }
    void get(Side s, Student& r) override {
        for (;;) {
            const ssize_t n = ::recv(in(s), &r, sizeof r, 0);
            if (n == static_cast<ssize_t>(sizeof r)) return;
            if (n >= 0) throw std::runtime_error("recv: short message");
            if (errno != EINTR) throw_errno("recv");
        }
    }
};

}  // namespace

std::vector<std::unique_ptr<Case>> peer_cases() {
    std::vector<std::unique_ptr<Case>> out;
    out.push_back(std::make_unique<MessageQueueCase>(false));
    out.push_back(std::make_unique<MessageQueueCase>(true));
    out.push_back(std::make_unique<PipeCase>());
    out.push_back(std::make_unique<SocketCase>());
    return out;
}

}  // namespace bench
