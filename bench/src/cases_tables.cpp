// Table records (FlatBuffers tables, bench/schemas/tables.fbs) from one process to the other:
//
//   table-100  ~100-byte Quote records through TableRing:
//              0 built in place (try_build: a loan + FlatBufferBuilder each), read in place and
//                verified (read_batch), batches of 64: the tail, the head and the wake-up
//                checks published once per batch
//              1 built on the heap, copied in (try_write), copied out and verified
//                (TableReadOptions::copy), one record per call
//              2 as 0, one record per call (loan / peek)
//              3 as 0, read without the Verifier (the raw ByteRing batch and GetRoot)
//              4 the bytes message_queue's variant 1 carries (one record built once, its seq
//                patched, copied in), read in place and verified, batches of 64
//   table-64k  64 KiB Blob records, variants 0-2, against the cross-core copy floor of the
//              same block size (measured by the driver around the runs, as for the sweep)
//   mq-table-block / mq-table-spin  Boost message_queue carrying the same Quote records:
//              0 built on the heap, sent, received, verified and read: the same work
//              1 the same bytes only: one record built once, its seq patched, no Verifier
//
// Also table_costs(): the in-process cost of building, verifying and reading the same records.
#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <fmt/format.h>

#include "cases.hpp"
#include "shmrec/table_ring.hpp"
#include "table_records.hpp"

namespace bench {
namespace {

using namespace std::chrono_literals;
namespace bip = boost::interprocess;
constexpr auto wait_limit = std::chrono::nanoseconds{10s};

[[noreturn]] void fail(std::string_view what, std::string_view status) {
    throw std::runtime_error(fmt::format("{}: {}", what, status));
}

// The size of record `seq` of a kind, as the builder makes it.
template <class Build>
std::size_t record_bytes(Build&& build) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(build(fbb, 1));
    return fbb.GetSize();
}

template <class T>
bool verified(std::span<const std::uint8_t> bytes) {
    flatbuffers::Verifier v(bytes.data(), bytes.size());
    return v.VerifyBuffer<T>(nullptr);
}

// The two record kinds, for TableCase.
struct QuoteKind {
    using T = tables::Quote;
    static auto build(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t seq) {
        return tables::build_quote(fbb, seq);
    }
    static std::uint64_t read(const T& r) { return tables::read_quote(r); }
};
struct BlobKind {
    using T = tables::Blob;
    static auto build(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t seq) {
        return tables::build_blob(fbb, seq);
    }
    static std::uint64_t read(const T& r) { return tables::read_blob(r); }
};

struct TableParams {
    std::string name;
    std::string label;
    std::uint64_t capacity = 0;  // bytes of each ring
    std::size_t loan = 0;        // max_size of a loan: the record and the builder's scratch
    bool small_record_variants = false;  // variants 3 and 4
};

volatile std::uint64_t g_read_sink = 0;

template <class Kind>
class TableCase final : public Case {
public:
    explicit TableCase(TableParams p) : p_(std::move(p)), bytes_(record_bytes(&Kind::build)) {}

    std::string name() const override { return p_.name; }
    std::string label() const override { return p_.label; }
    std::string group() const override { return "table"; }
    bool has_latency() const override { return false; }
    std::size_t record_size() const override { return bytes_; }
    // The copy floor of the same blocks through about the ring's footprint (64 KiB records in
    // a 1 MiB ring: 16 slots of 65600 bytes, the sweep's 64 KiB floor).
    SlotGeometry slot_geometry() const override {
        const std::uint64_t stride = (8 + bytes_ + cache_line - 1) / cache_line * cache_line;
        std::uint64_t slots = 1;
        while (slots * 2 * stride <= p_.capacity + stride) slots *= 2;
        return {slots, stride};
    }
    bool copy_floor() const override { return bytes_ >= 4096; }
    bool in_place_floor() const override { return copy_floor(); }
    std::vector<std::string> throughput_variants() const override {
        std::vector<std::string> v{"heap builder + copy in, copy out + verify (TableReadOptions::copy), 1 per call",
                                   "built in place, read in place, verified, 1 per call (loan / peek)"};
        if (p_.small_record_variants) {
            v.push_back("as the first, not verified (raw ByteRing batches + GetRoot)");
            v.push_back("message_queue's bytes (built once, seq patched, copied in), in place, verified, batches");
        }
        return v;
    }

    void create(Side side) override {
        if (side != Side::a) return;
        if (!tables::fits_in_loan(p_.loan, &Kind::build)) {
            fail(p_.name, fmt::format("a {}-byte record outgrows a {}-byte loan", bytes_, p_.loan));
        }
        for (const auto& n : {in_place(), copied()}) register_name(n);
        shmrec::WaitOptions wait;
        wait.strategy = shmrec::WaitStrategy::busy_spin;
        w_in_place_.emplace(Ring::writer(in_place(), p_.capacity, shmrec::OpenMode::create_only, {}, wait));
        w_copied_.emplace(Ring::writer(copied(), p_.capacity, shmrec::OpenMode::create_only, {}, wait));
    }
    void open(Side side) override {
        if (side != Side::b) return;
        shmrec::WaitOptions wait;
        wait.strategy = shmrec::WaitStrategy::busy_spin;
        r_in_place_.emplace(Ring::reader(in_place(), {}, wait));
        shmrec::TableReadOptions copy;
        copy.copy = true;
        r_copied_.emplace(Ring::reader(copied(), {}, wait, copy));
    }
    void close(Side side) override {
        r_in_place_.reset();
        r_copied_.reset();
        w_in_place_.reset();
        w_copied_.reset();
        if (side == Side::a) {
            shmrec::remove_region(in_place());
            shmrec::remove_region(copied());
        }
    }

    void ping(std::uint64_t, std::int64_t*) override { fail(p_.name, "no latency run"); }
    void echo(std::uint64_t) override { fail(p_.name, "no latency run"); }

    std::uint64_t send(std::chrono::nanoseconds run, int variant) override {
        const std::int64_t deadline = now_ns() + run.count();
        std::uint64_t seq = 0;
        auto check = [&](const char* what, shmrec::WriteStatus st) {
            if (st != shmrec::WriteStatus::ok) fail(p_.name + " " + what, to_string(st));
        };
        if (variant == 1 || variant == 4) {
            // One heap builder for the run: Clear() keeps its memory, so no allocation per record.
            flatbuffers::FlatBufferBuilder fbb(bytes_ + 256);
            fbb.Finish(Kind::build(fbb, 1));  // seq present (not the default), so mutable
            auto one = [&](std::uint64_t s) {
                if (variant == 1) {
                    fbb.Clear();
                    fbb.Finish(Kind::build(fbb, s));
                } else if (!flatbuffers::GetMutableRoot<T>(fbb.GetBufferPointer())->mutate_seq(s)) {
                    fail(p_.name, "mutate_seq");
                }
                return (variant == 1 ? *w_copied_ : *w_in_place_).write(fbb, wait_limit);
            };
            while (now_ns() < deadline) {
                if (variant == 1) {
                    for (int i = 0; i < batch; ++i) check("write", one(seq++));
                } else {
                    const auto r = w_in_place_->batch(batch, [&](std::size_t i) { return one(seq + i); });
                    check("write batch", r.status);
                    seq += r.count;
                }
            }
            check("write", one(sentinel));
            return seq;
        }
        auto build = [](flatbuffers::FlatBufferBuilder& fbb, std::uint64_t s) { return Kind::build(fbb, s); };
        if (variant == 2) {
            auto put = [&](std::uint64_t s) {
                auto loan = w_in_place_->loan(p_.loan, wait_limit);
                if (!loan) fail(p_.name + " loan", to_string(loan.status()));
                check("commit", loan.commit(build(loan.builder(), s)));
            };
            while (now_ns() < deadline) {
                for (int i = 0; i < batch; ++i) put(seq++);  // the clock every 64 records
            }
            put(sentinel);
            return seq;
        }
        while (now_ns() < deadline) {
            const auto r = w_in_place_->build(
                batch, p_.loan, [&](flatbuffers::FlatBufferBuilder& fbb, std::size_t i) { return build(fbb, seq + i); },
                wait_limit);
            check("build", r.status);
            seq += r.count;
        }
        check("build", w_in_place_->build(1, p_.loan, [&](flatbuffers::FlatBufferBuilder& fbb, std::size_t) {
            return build(fbb, sentinel);
        }, wait_limit).status);
        return seq;
    }

    Received receive(int variant) override {
        Received got;
        std::uint64_t sink = 0;
        bool done = false;
        // One record: false at the sentinel (the batch ends there).
        auto take = [&](const T& r) {
            if (r.seq() == sentinel) {
                done = true;
                return false;
            }
            if (r.seq() != got.count) fail(p_.name, "record out of order");
            const std::uint64_t x = Kind::read(r);
            if (x == 0) fail(p_.name, "record content wrong");
            sink += x;
            ++got.count;
            return true;
        };
        auto check = [&](const char* what, shmrec::ReadStatus st) {
            if (st != shmrec::ReadStatus::ok) fail(p_.name + " " + what, to_string(st));
        };
        if (variant == 3) {
            // The same records without the Verifier: what verification costs in the stream.
            while (!done) {
                check("read batch", r_in_place_->bytes().read_batch(batch, [&](const shmrec::MessageView& m) {
                    return take(*flatbuffers::GetRoot<T>(m.data.data()));
                }, wait_limit).status);
            }
        } else if (variant == 1 || variant == 2) {
            auto& reader = variant == 2 ? *r_in_place_ : *r_copied_;
            while (!done) {
                auto r = reader.peek(wait_limit);
                if (!r) fail(p_.name + " peek", to_string(r.status()));
                take(*r);
            }
        } else {
            while (!done) check("read batch", r_in_place_->read_batch(batch, take, wait_limit).status);
        }
        g_read_sink = sink;
        return got;
    }

private:
    using T = typename Kind::T;
    using Ring = shmrec::TableRing<T>;
    std::string in_place() const { return unique_name(p_.name + "-inplace"); }
    std::string copied() const { return unique_name(p_.name + "-copied"); }

    static constexpr int batch = 64;  // records per batch, and per look at the clock

    TableParams p_;
    std::size_t bytes_;
    std::optional<typename Ring::Writer> w_in_place_, w_copied_;
    std::optional<typename Ring::Reader> r_in_place_, r_copied_;
};

// Boost message_queue carrying the same Quote records, A to B (message size: the record's).
class MessageQueueTableCase final : public Case {
public:
    explicit MessageQueueTableCase(bool spin)
        : spin_(spin), bytes_(record_bytes(&tables::build_quote)) {}

    std::string name() const override { return spin_ ? "mq-table-spin" : "mq-table-block"; }
    std::string label() const override {
        return fmt::format("boost message_queue ({}), {} B Quote records",
                           spin_ ? "try_ spin" : "blocking", bytes_);
    }
    std::string group() const override { return "table"; }
    bool has_latency() const override { return false; }
    std::size_t record_size() const override { return bytes_; }
    std::vector<std::string> throughput_variants() const override {
        return {"the same bytes only: one record built once, seq patched, not verified"};
    }

    void create(Side side) override {
        if (side != Side::a) return;
        register_name(queue());
        bip::message_queue::remove(queue().c_str());
        if (bytes_ > max_size) fail(name(), "a record is larger than the queue's messages");
        bip::message_queue(bip::create_only, queue().c_str(), depth, max_size);
    }
    void open(Side) override { q_.emplace(bip::open_only, queue().c_str()); }
    void close(Side side) override {
        q_.reset();
        if (side == Side::a) bip::message_queue::remove(queue().c_str());
    }

    void ping(std::uint64_t, std::int64_t*) override { fail(name(), "no latency run"); }
    void echo(std::uint64_t) override { fail(name(), "no latency run"); }

    std::uint64_t send(std::chrono::nanoseconds run, int variant) override {
        const std::int64_t deadline = now_ns() + run.count();
        std::uint64_t seq = 0;
        flatbuffers::FlatBufferBuilder fbb(bytes_ + 256);
        fbb.Finish(tables::build_quote(fbb, 1));  // seq present (not the default), so mutable
        auto put = [&](std::uint64_t s) {
            if (variant == 0) {
                fbb.Clear();
                fbb.Finish(tables::build_quote(fbb, s));
            } else if (!flatbuffers::GetMutableRoot<tables::Quote>(fbb.GetBufferPointer())->mutate_seq(s)) {
                fail(name(), "mutate_seq");
            }
            if (q_->try_send(fbb.GetBufferPointer(), fbb.GetSize(), 0)) return;
            Watchdog dog;
            if (spin_) {
                while (!q_->try_send(fbb.GetBufferPointer(), fbb.GetSize(), 0)) dog.poll();
                return;
            }
            // Blocking: asleep on the queue's condition variable, as send() would be, but
            // waking every 100 ms for the watchdog (a dead peer must not hang the run).
            while (!q_->timed_send(fbb.GetBufferPointer(), fbb.GetSize(), 0, soon())) dog.check();
        };
        while (now_ns() < deadline) {
            for (int i = 0; i < 64; ++i) put(seq++);
        }
        put(sentinel);
        return seq;
    }
    Received receive(int variant) override {
        // 8-aligned, as FlatBuffers wants its buffer (message_queue copies into it).
        std::vector<std::uint64_t> storage(max_size / 8);
        const std::span<const std::uint8_t> buf(reinterpret_cast<const std::uint8_t*>(storage.data()), max_size);
        Received got;
        std::uint64_t sink = 0;
        for (;;) {
            std::size_t n = 0;
            unsigned priority = 0;
            if (!q_->try_receive(storage.data(), max_size, n, priority)) {
                Watchdog dog;
                if (spin_) {
                    while (!q_->try_receive(storage.data(), max_size, n, priority)) dog.poll();
                } else {
                    while (!q_->timed_receive(storage.data(), max_size, n, priority, soon())) dog.check();
                }
            }
            const auto record = buf.first(n);  // sizes vary: a field equal to its default is left out
            if (variant == 0 && !verified<tables::Quote>(record)) fail(name(), "record failed verification");
            const auto* r = flatbuffers::GetRoot<tables::Quote>(buf.data());
            if (r->seq() == sentinel) break;
            if (r->seq() != got.count) fail(name(), "record out of order");
            if (variant == 0) sink += tables::read_quote(*r);
            ++got.count;
        }
        g_read_sink = sink;
        return got;
    }

private:
    static constexpr std::size_t depth = 1024;
    static constexpr std::size_t max_size = 128;  // message size of the queue: a record fits
    std::string queue() const { return unique_name(name()); }
    static boost::posix_time::ptime soon() {
        return boost::posix_time::microsec_clock::universal_time() + boost::posix_time::milliseconds(100);
    }

    bool spin_;
    std::size_t bytes_;
    std::optional<bip::message_queue> q_;
};

// ns per record of `per_record` over `records`, run for `run` (whole passes).
template <class F>
double ns_per_record(std::size_t records, std::chrono::nanoseconds run, F&& per_record) {
    std::uint64_t done = 0;
    const std::int64_t start = now_ns();
    std::int64_t now = start;
    while (now - start < run.count()) {
        for (std::size_t i = 0; i < records; ++i) per_record(i);
        done += records;
        now = now_ns();
    }
    return static_cast<double>(now - start) / static_cast<double>(done);
}

}  // namespace

std::vector<std::unique_ptr<Case>> table_cases() {
    std::vector<std::unique_ptr<Case>> out;
    {
        TableParams p;
        p.name = "table-100";
        p.label = fmt::format("TableRing, {} B Quote records (string + vector)", record_bytes(&tables::build_quote));
        // 64 KiB: ~400 frames in flight, the ring stays in L2 on both cores.
        p.capacity = 64 * 1024;
        p.loan = 128;  // record + the builder's scratch; checked by fits_in_loan
        p.small_record_variants = true;
        out.push_back(std::make_unique<TableCase<QuoteKind>>(p));
    }
    {
        TableParams p;
        p.name = "table-64k";
        p.label = fmt::format("TableRing, {} B Blob records (64 KiB [ubyte])", record_bytes(&tables::build_blob));
        // 1 MiB, about the footprint of the sweep's 64 KiB ring and of its copy floor.
        p.capacity = 1024 * 1024;
        p.loan = tables::blob_bytes + 128;
        out.push_back(std::make_unique<TableCase<BlobKind>>(p));
    }
    out.push_back(std::make_unique<MessageQueueTableCase>(false));
    out.push_back(std::make_unique<MessageQueueTableCase>(true));
    return out;
}

std::vector<CostFigure> table_costs(int reps, std::chrono::nanoseconds run) {
    // 1024 distinct Quote records (~100 KiB, as a stream through the 64 KiB ring would leave
    // in cache) and 4 Blob records, each in its own 8-aligned buffer.
    constexpr std::size_t quotes = 1024;
    constexpr std::size_t blobs = 4;
    std::vector<flatbuffers::DetachedBuffer> q, b;
    flatbuffers::FlatBufferBuilder fbb(256);
    for (std::size_t i = 0; i < quotes; ++i) {
        fbb.Finish(tables::build_quote(fbb, i));
        q.push_back(fbb.Release());
    }
    for (std::size_t i = 0; i < blobs; ++i) {
        flatbuffers::FlatBufferBuilder big(tables::blob_bytes + 256);
        big.Finish(tables::build_blob(big, i));
        b.push_back(big.Release());
    }
    auto span_of = [](const flatbuffers::DetachedBuffer& d) {
        return std::span<const std::uint8_t>(d.data(), d.size());
    };
    // One thread writes a record and reads it back through a TableRing: the CPU cost per
    // record of each path, without a second core (and its noise) in the way.
    using QuoteRing = shmrec::TableRing<tables::Quote>;
    const std::string in_place_name = unique_name("cost-inplace");
    const std::string copied_name = unique_name("cost-copied");
    register_name(in_place_name);
    register_name(copied_name);
    auto w_in_place = QuoteRing::writer(in_place_name, 64 * 1024);
    auto r_in_place = QuoteRing::reader(in_place_name);
    auto w_copied = QuoteRing::writer(copied_name, 64 * 1024);
    shmrec::TableReadOptions copy;
    copy.copy = true;
    auto r_copied = QuoteRing::reader(copied_name, {}, {}, copy);
    std::vector<double> build, verify, read, verify_read, blob_verify, blob_read, ring_in_place, ring_copied;
    std::uint64_t sink = 0;
    bool ok = true;
    for (int rep = 0; rep < reps; ++rep) {
        build.push_back(ns_per_record(quotes, run, [&](std::size_t i) {
            fbb.Clear();
            fbb.Finish(tables::build_quote(fbb, i));
            sink += fbb.GetSize();
        }));
        verify.push_back(ns_per_record(quotes, run, [&](std::size_t i) {
            ok &= verified<tables::Quote>(span_of(q[i]));
        }));
        read.push_back(ns_per_record(quotes, run, [&](std::size_t i) {
            sink += tables::read_quote(*flatbuffers::GetRoot<tables::Quote>(q[i].data()));
        }));
        verify_read.push_back(ns_per_record(quotes, run, [&](std::size_t i) {
            ok &= verified<tables::Quote>(span_of(q[i]));
            sink += tables::read_quote(*flatbuffers::GetRoot<tables::Quote>(q[i].data()));
        }));
        blob_verify.push_back(ns_per_record(blobs, run, [&](std::size_t i) {
            ok &= verified<tables::Blob>(span_of(b[i]));
        }));
        blob_read.push_back(ns_per_record(blobs, run, [&](std::size_t i) {
            sink += tables::read_blob(*flatbuffers::GetRoot<tables::Blob>(b[i].data()));
        }));
        ring_in_place.push_back(ns_per_record(quotes, run, [&](std::size_t i) {
            auto loan = w_in_place.try_loan(128);
            ok &= loan.commit(tables::build_quote(loan.builder(), i)) == shmrec::WriteStatus::ok;
            auto r = r_in_place.try_peek();
            ok &= static_cast<bool>(r);
            if (r) sink += tables::read_quote(*r);
        }));
        ring_copied.push_back(ns_per_record(quotes, run, [&](std::size_t i) {
            fbb.Clear();
            fbb.Finish(tables::build_quote(fbb, i));
            ok &= w_copied.try_write(fbb) == shmrec::WriteStatus::ok;
            auto r = r_copied.try_peek();
            ok &= static_cast<bool>(r);
            if (r) sink += tables::read_quote(*r);
        }));
    }
    shmrec::remove_region(in_place_name);
    shmrec::remove_region(copied_name);
    g_read_sink = sink;
    if (!ok) throw std::runtime_error("table costs: a record failed verification");
    const std::string qn = fmt::format("{} B Quote", q[1].size());  // record 0 leaves seq out
    const std::string bn = fmt::format("{} B Blob", b[1].size());
    return {
        {"quote_build_ns", build, "ns/record (" + qn + ": FlatBufferBuilder on the heap, Clear + build + Finish)"},
        {"quote_verify_ns", verify, "ns/record (" + qn + ": Verifier::VerifyBuffer)"},
        {"quote_read_ns", read, "ns/record (" + qn + ": every field through the accessors, not verified)"},
        {"quote_verify_read_ns", verify_read, "ns/record (" + qn + ": verified, then read)"},
        {"blob_verify_ns", blob_verify, "ns/record (" + bn + ": Verifier::VerifyBuffer)"},
        {"blob_read_ns", blob_read, "ns/record (" + bn + ": every byte summed, in cache)"},
        {"quote_ring_in_place_ns", ring_in_place,
         "ns/record (" + qn + ": one thread, TableRing loan + build + commit, then peek (verified) + read)"},
        {"quote_ring_copied_ns", ring_copied,
         "ns/record (" + qn + ": one thread, heap build + try_write, then peek with copy (verified) + read)"},
    };
}

}  // namespace bench
