#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "text.hpp"

namespace bench {
namespace {

std::string ns(double v) { return v >= 10000 ? fmt::format("{:.1f}µs", v / 1000) : fmt::format("{:.0f}", v); }
std::string ratio(double v) { return v >= 100 ? fmt::format("{:.0f}x", v) : fmt::format("{:.2f}x", v); }

// "median [min–max]"
template <class F>
std::string range(const Figure* f, F fmt_one) {
    if (f == nullptr) return "-";
    return fmt::format("{} [{}–{}]", fmt_one(f->value.median), fmt_one(f->value.min),
                       fmt_one(f->value.max));
}

Summary divide(const Summary& a, const Summary& b) {
    // Ratio of medians, with the widest range the two spreads allow.
    return {a.median / b.median, a.min / b.max, a.max / b.min};
}

}  // namespace

void Report::add(std::string case_name, std::string metric, Summary value, std::string unit) {
    figures_.push_back({std::move(case_name), std::move(metric), value, std::move(unit)});
}

const Figure* Report::find(const std::string& case_name, const std::string& metric) const {
    for (const auto& f : figures_) {
        if (f.case_name == case_name && f.metric == metric) return &f;
    }
    return nullptr;
}

void Report::derive_ratios(const std::vector<CaseInfo>& cases) {
    const Figure* best_rtt = nullptr;
    const Figure* best_tp = nullptr;
    for (const auto& c : cases) {
        if (c.group != "peer" || !c.skipped.empty()) continue;
        if (const auto* f = find(c.name, "rtt_p50"); f && (!best_rtt || f->value.median < best_rtt->value.median)) {
            best_rtt = f;
        }
        if (const auto* f = find(c.name, "throughput"); f && (!best_tp || f->value.median > best_tp->value.median)) {
            best_tp = f;
        }
    }
    const Figure* mq = nullptr;
    for (const char* name : {"mq-block", "mq-spin"}) {
        if (const auto* f = find(name, "throughput"); f && (!mq || f->value.median > mq->value.median)) mq = f;
    }
    const Figure* iox = find("iceoryx", "throughput");
    // Copy what we need first: add() may reallocate figures_.
    std::vector<Pending> pending;
    for (const auto& c : cases) {
        if (c.group != "shmrec" || !c.skipped.empty()) continue;
        const Figure* rtt = find(c.name, "rtt_p50");
        const Figure* tp = find(c.name, "throughput");
        if (rtt && best_rtt) {
            pending.push_back({c.name, "rtt_p50_speedup_vs_best_peer", divide(best_rtt->value, rtt->value),
                               "x (" + best_rtt->case_name + ")"});
        }
        if (tp && best_tp) {
            pending.push_back({c.name, "throughput_vs_best_peer", divide(tp->value, best_tp->value),
                               "x (" + best_tp->case_name + ")"});
        }
        if (tp && mq) pending.push_back({c.name, "throughput_vs_mq", divide(tp->value, mq->value), "x (" + mq->case_name + ")"});
        if (tp && iox) pending.push_back({c.name, "throughput_vs_iceoryx", divide(tp->value, iox->value), "x"});
    }
    derive_table_ratios(cases, pending);
    for (auto& p : pending) add(p.c, p.m, p.v, p.u);
}

// Table records: the TableRing cases against Boost message_queue carrying the same records
// (the faster of blocking and spinning): like against like, the same work (built, sent,
// verified, read: TableRing variant 0 against the queue's variant 0) and the same bytes (one
// record built once: TableRing variant 4 against the queue's variant 1); and what verification
// costs in the stream (variant 0 against variant 3, not verified).
void Report::derive_table_ratios(const std::vector<CaseInfo>& cases, std::vector<Pending>& pending) const {
    const Figure* mq_work = nullptr;
    const Figure* mq_bytes = nullptr;
    for (const auto& c : cases) {
        if (c.group != "table" || !c.skipped.empty() || c.name.rfind("mq-", 0) != 0) continue;
        if (const auto* f = find(c.name, "throughput"); f && (!mq_work || f->value.median > mq_work->value.median)) mq_work = f;
        if (const auto* f = find(c.name, "throughput_1"); f && (!mq_bytes || f->value.median > mq_bytes->value.median)) mq_bytes = f;
    }
    const std::string work = mq_work ? "x (" + mq_work->case_name + ", the same records built and verified)" : "";
    const std::string bytes = mq_bytes ? "x (" + mq_bytes->case_name + ", the same bytes only)" : "";
    auto ratio_to = [&](const char* variant, const Figure* mq, const char* metric, const std::string& unit) {
        if (const Figure* tp = find("table-100", variant); tp && mq) {
            pending.push_back({"table-100", metric, divide(tp->value, mq->value), unit});
        }
    };
    ratio_to("throughput", mq_work, "throughput_vs_mq", work);
    ratio_to("throughput", mq_bytes, "throughput_vs_mq_bytes", bytes);
    ratio_to("throughput_1", mq_work, "throughput_1_vs_mq", work);
    ratio_to("throughput_2", mq_work, "throughput_2_vs_mq", work);
    ratio_to("throughput_4", mq_bytes, "throughput_4_vs_mq_bytes", bytes);
    const Figure* tp0 = find("table-100", "throughput");
    const Figure* tp3 = find("table-100", "throughput_3");
    if (tp0 && tp3) {
        // ns per record verified minus ns per record not verified, per repetition's extremes.
        const Summary& a = tp0->value;
        const Summary& b = tp3->value;
        pending.push_back({"table-100", "stream_verify_ns",
                           {1e9 / a.median - 1e9 / b.median, 1e9 / a.max - 1e9 / b.min, 1e9 / a.min - 1e9 / b.max},
                           "ns/record (1/throughput verified - 1/throughput not verified)"});
    }
}

void Report::print(const RunInfo& run, const std::vector<CaseInfo>& cases) const {
    fmt::print("\nshmrec-bench — {} ; processes pinned to CPU {} (driver) and CPU {} (peer)\n",
               run.machine, run.cpu_a, run.cpu_b);
    fmt::print("{} repetitions per case, {} round trips per latency run, {:.0f} ms per throughput run; "
               "every figure is median [min–max] over the repetitions. Run took {:.0f} s.\n",
               run.reps, run.latency_samples, run.throughput_ms, run.seconds);
    fmt::print("Latency ratios divide each repetition's percentile by the same percentile of its own floor,\n"
               "measured right before and right after it (mean of the two).\n");

    fmt::print("\n== Physical floors (all measurements of the run) ==\n");
    {
        std::vector<std::vector<std::string>> rows{{"floor", "p50 ns", "p99 ns", "p99.9 ns"}};
        for (const auto& [name, label] : {std::pair{"floor-cacheline", "two cache lines, round trip"},
                                          std::pair{"floor-futex", "bare futex wake, round trip"}}) {
            rows.push_back({label, range(find(name, "rtt_p50"), ns), range(find(name, "rtt_p99"), ns),
                            range(find(name, "rtt_p999"), ns)});
        }
        print_table(rows);
        if (const auto* f = find("copy-floor-65536", "bytes_per_s")) {
            fmt::print("cross-core copy (bare shared ring, memcpy in on one core, out on the other), 64 KiB blocks: {} B/s\n",
                       range(f, si));
        }
        if (const auto* f = find("memcpy-65536", "bytes_per_s")) {
            fmt::print("memcpy, one core, 64 KiB blocks over 1 MiB: {} B/s\n", range(f, si));
        }
    }

    fmt::print("\n== Round-trip latency (ns; A sends a 32-byte school.Student, B echoes it) ==\n");
    {
        std::vector<std::vector<std::string>> rows{
            {"case", "p50", "p99", "p99.9", "floor", "floor p50", "p50/floor", "p99/floor", "p99.9/floor"}};
        for (const auto& c : cases) {
            if (c.group == "sweep" || !c.latency) continue;
            if (!c.skipped.empty()) {
                rows.push_back({c.label, "skipped: " + c.skipped, "", "", "", "", "", "", ""});
                continue;
            }
            rows.push_back({c.label, range(find(c.name, "rtt_p50"), ns), range(find(c.name, "rtt_p99"), ns),
                            range(find(c.name, "rtt_p999"), ns), c.floor,
                            range(find(c.name, "floor_p50"), ns), range(find(c.name, "rtt_p50_vs_floor"), ratio),
                            range(find(c.name, "rtt_p99_vs_floor"), ratio),
                            range(find(c.name, "rtt_p999_vs_floor"), ratio)});
        }
        print_table(rows);
    }

    fmt::print("\n== Throughput (records/s, one writer → one reader, 32-byte records) ==\n");
    {
        std::vector<std::vector<std::string>> rows{{"case", "records/s", "notes"}};
        for (const auto& c : cases) {
            if (c.group == "sweep" || c.group == "table") continue;
            if (!c.skipped.empty()) {
                rows.push_back({c.label, "skipped", c.skipped});
                continue;
            }
            std::string note = c.group == "shmrec" ? "batches of 64 (write span / read up to 64)" : "one record per call";
            if (c.name == "broadcast") note = "write and read batches of 64";
            if (const auto* lost = find(c.name, "lost")) {
                note += fmt::format("; lost {} per run", range(lost, si));
            }
            rows.push_back({c.label, range(find(c.name, "throughput"), si), note});
            for (std::size_t v = 0; v < c.variants.size(); ++v) {
                rows.push_back({"  same, " + c.variants[v], range(find(c.name, fmt::format("throughput_{}", v + 1)), si), ""});
            }
        }
        print_table(rows);
    }

    fmt::print("\n== Record-size sweep (ring, busy_spin, batches) against the cross-core copy floor ==\n"
               "floor: a bare ring of the same slots in shared memory, memcpy in on A's core, memcpy out on B's,\n"
               "one sequence word per block; measured right before and after each ring run (mean of the two).\n"
               "memcpy: one core, same block size, ~1 MiB; no cross-core transfer reaches it.\n");
    {
        std::vector<std::vector<std::string>> rows{{"record", "slots x stride", "ring B/s", "ring records/s",
                                                    "floor B/s", "floor records/s", "ring/floor", "memcpy B/s",
                                                    "ring/memcpy"}};
        for (const auto& c : cases) {
            if (c.group != "sweep") continue;
            if (!c.skipped.empty()) {
                rows.push_back({fmt::format("{} B", c.record_size), "skipped: " + c.skipped, "", "", "", "", "", "", ""});
                continue;
            }
            rows.push_back({fmt::format("{} B", c.record_size),
                            c.slots == 0 ? "-" : fmt::format("{} x {} B", c.slots, c.stride),
                            range(find(c.name, "bytes_per_s"), si), range(find(c.name, "throughput"), si),
                            range(find(c.name, "copy_floor_bytes_per_s"), si),
                            range(find(c.name, "copy_floor_records_per_s"), si),
                            range(find(c.name, "vs_copy_floor"), ratio),
                            range(find(c.name, "memcpy_bytes_per_s"), si), range(find(c.name, "vs_memcpy"), ratio)});
        }
        print_table(rows);
    }

    print_tables(cases);

    fmt::print("\n== Ratios (latency: best peer p50 / ours = speed-up; throughput: ours / peer) ==\n");
    {
        std::vector<std::vector<std::string>> rows{
            {"shmrec case", "p50 vs floor", "p50 speed-up vs best peer", "tp vs best peer", "tp vs message_queue", "tp vs iceoryx"}};
        for (const auto& c : cases) {
            if (c.group != "shmrec" || !c.skipped.empty()) continue;
            auto with_ref = [&](const char* metric) {
                const auto* f = find(c.name, metric);
                if (!f) return std::string("-");
                std::string ref = f->unit.size() > 1 ? f->unit.substr(1) : "";
                return range(f, ratio) + ref;
            };
            rows.push_back({c.label, range(find(c.name, "rtt_p50_vs_floor"), ratio) + " (" + c.floor + ")",
                            with_ref("rtt_p50_speedup_vs_best_peer"), with_ref("throughput_vs_best_peer"),
                            with_ref("throughput_vs_mq"), with_ref("throughput_vs_iceoryx")});
        }
        print_table(rows);
    }

    fmt::print("\n== Targets (read, not asserted; judged on the medians) ==\n");
    struct Target {
        std::string what;
        const Figure* f;
        double limit;
        bool at_most;
    };
    // The sweep against its copy floor: every size from 64 B to 64 KiB must meet it; the row
    // shows the size with the lowest median.
    const Figure* worst_vs_floor = nullptr;
    std::size_t worst_size = 0, sizes_vs_floor = 0;
    for (const auto& c : cases) {
        if (c.group != "sweep" || c.record_size < 64 || c.record_size > 65536) continue;
        const Figure* f = find(c.name, "vs_copy_floor");
        if (f == nullptr) continue;
        ++sizes_vs_floor;
        if (!worst_vs_floor || f->value.median < worst_vs_floor->value.median) {
            worst_vs_floor = f;
            worst_size = c.record_size;
        }
    }
    const std::string floor_what =
        worst_vs_floor ? fmt::format("ring ≥ 0.8x the cross-core copy floor for every record size 64 B..64 KiB "
                                     "(lowest of {}: {} B)", sizes_vs_floor, worst_size)
                       : std::string("ring ≥ 0.8x the cross-core copy floor for every record size 64 B..64 KiB");
    const std::vector<Target> targets{
        {"ring (busy_spin) round-trip p50 ≤ 1.3x the two-cache-line floor", find("ring-spin", "rtt_p50_vs_floor"), 1.3, true},
        {"ring (busy_spin) throughput ≥ 10x Boost message_queue", find("ring-spin", "throughput_vs_mq"), 10, false},
        {"ring (busy_spin) throughput ≥ 30x iceoryx", find("ring-spin", "throughput_vs_iceoryx"), 30, false},
        {"ring (futex) round-trip p50 ≤ 1.2x the bare futex ping-pong", find("ring-futex", "rtt_p50_vs_floor"), 1.2, true},
        {"64 KiB records ≥ 0.6x memcpy bandwidth", find("sweep-65536", "vs_memcpy"), 0.6, false},
        {floor_what, worst_vs_floor, 0.8, false},
        {"~100 B table records through TableRing, the bytes message_queue carries (in place, verified, batches) ≥ 10x Boost message_queue carrying them",
         find("table-100", "throughput_4_vs_mq_bytes"), 10, false},
        {"~100 B table records built in place and verified (TableRing, batches) ≥ 10x Boost message_queue doing the same work",
         find("table-100", "throughput_vs_mq"), 10, false},
        {"64 KiB table records built and read in place ≥ 1.2x the cross-core copy floor",
         find("table-64k", "vs_copy_floor"), 1.2, false},
    };
    int met = 0;
    for (const auto& t : targets) {
        if (t.f == nullptr) {
            fmt::print("  [ n/a ]  {}  (not measured in this run)\n", t.what);
            continue;
        }
        const bool ok = t.at_most ? t.f->value.median <= t.limit : t.f->value.median >= t.limit;
        const bool all = t.at_most ? t.f->value.max <= t.limit : t.f->value.min >= t.limit;
        met += ok;
        fmt::print("  [{}]  {}: {}{}\n", ok ? " MET " : "NOT MET", t.what, range(t.f, ratio),
                   ok && !all ? "  (not in every repetition)" : "");
    }
    fmt::print("  {} of {} targets met.\n", met, targets.size());
}

void Report::print_tables(const std::vector<CaseInfo>& cases) const {
    const bool any = std::any_of(cases.begin(), cases.end(), [](const CaseInfo& c) { return c.group == "table"; });
    if (!any) return;
    fmt::print("\n== Table records (FlatBuffers tables, one writer → one reader, busy_spin) ==\n"
               "TableRing first line: a loan + FlatBufferBuilder builds each record in the ring (try_build), the reader\n"
               "verifies it in place and reads every field (64 KiB: sums every byte), batches of 64 (read_batch).\n"
               "message_queue: the same records, one per call.\n");
    {
        std::vector<std::vector<std::string>> rows{{"case", "record", "records/s", "B/s", "vs copy floor"}};
        for (const auto& c : cases) {
            if (c.group != "table") continue;
            if (!c.skipped.empty()) {
                rows.push_back({c.label, "skipped: " + c.skipped, "", "", ""});
                continue;
            }
            const std::string first = c.name.rfind("mq-", 0) == 0 ? "built on the heap, sent, received, verified, read"
                                                                  : "built in place, read in place, verified, batches";
            rows.push_back({c.label, "", "", "", ""});
            rows.push_back({"  " + first, fmt::format("{} B", c.record_size), range(find(c.name, "throughput"), si),
                            range(find(c.name, "bytes_per_s"), si), range(find(c.name, "vs_copy_floor"), ratio)});
            for (std::size_t v = 0; v < c.variants.size(); ++v) {
                const std::string k = std::to_string(v + 1);
                rows.push_back({"  " + c.variants[v], fmt::format("{} B", c.record_size),
                                range(find(c.name, "throughput_" + k), si),
                                find(c.name, "bytes_per_s_" + k) ? range(find(c.name, "bytes_per_s_" + k), si)
                                                                 : std::string("-"),
                                range(find(c.name, "vs_copy_floor_" + k), ratio)});
            }
            if (const auto* f = find(c.name, "copy_floor_bytes_per_s")) {
                rows.push_back({fmt::format("  cross-core copy floor, same blocks ({} slots x {} B)", c.slots, c.stride),
                                fmt::format("{} B", c.record_size),
                                range(find(c.name, "copy_floor_records_per_s"), si), range(f, si), "1x"});
            }
            if (const auto* f = find(c.name, "in_place_floor_bytes_per_s")) {
                rows.push_back({"  its in-place form (memset in, sum out, no copies): first line against it " +
                                    range(find(c.name, "vs_in_place_floor"), ratio),
                                fmt::format("{} B", c.record_size), "", range(f, si), ""});
            }
        }
        print_table(rows);
    }
    fmt::print("\nRatios to message_queue (~100 B): the same bytes {}; the same work: built in place, batches {},\n"
               "one per call {}, copying path {}. Built in place against the queue's bytes only: {}.\n"
               "64 KiB against the copy floor: in place, batches {}; one per call {}; copying path {}.\n"
               "64 KiB in place, batches, against the floor's in-place form: {}.\n",
               range(find("table-100", "throughput_4_vs_mq_bytes"), ratio), range(find("table-100", "throughput_vs_mq"), ratio),
               range(find("table-100", "throughput_2_vs_mq"), ratio), range(find("table-100", "throughput_1_vs_mq"), ratio),
               range(find("table-100", "throughput_vs_mq_bytes"), ratio), range(find("table-64k", "vs_copy_floor"), ratio),
               range(find("table-64k", "vs_copy_floor_2"), ratio), range(find("table-64k", "vs_copy_floor_1"), ratio),
               range(find("table-64k", "vs_in_place_floor"), ratio));
    fmt::print("\n== Cost of verification and of the other per-record work (in process, one core, ns/record) ==\n");
    {
        std::vector<std::vector<std::string>> rows{{"what", "ns/record"}};
        auto nsr = [](double v) { return fmt::format("{:.1f}", v); };
        if (const auto* f = find("table-100", "stream_verify_ns")) {
            rows.push_back({"~100 B stream through TableRing: 1/records/s verified - not verified", range(f, nsr)});
        }
        for (const char* m : {"quote_build_ns", "quote_verify_ns", "quote_read_ns", "quote_verify_read_ns",
                              "blob_verify_ns", "blob_read_ns", "quote_ring_in_place_ns", "quote_ring_copied_ns"}) {
            if (const auto* f = find("table-costs", m)) {
                rows.push_back({f->unit.substr(f->unit.find('(') + 1, f->unit.size() - f->unit.find('(') - 2), range(f, nsr)});
            }
        }
        print_table(rows);
    }
}

void Report::write_json(const std::string& path) const {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << "[\n";
    for (std::size_t i = 0; i < figures_.size(); ++i) {
        const auto& f = figures_[i];
        out << fmt::format(
            R"(  {{"case": "{}", "metric": "{}", "median": {}, "min": {}, "max": {}, "unit": "{}"}}{})",
            json_escape(f.case_name), json_escape(f.metric), json_number(f.value.median),
            json_number(f.value.min), json_number(f.value.max), json_escape(f.unit),
            i + 1 < figures_.size() ? ",\n" : "\n");
    }
    out << "]\n";
}

void write_plot_data(const std::string& path,
                     const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& curves) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << "# shmrec-bench round-trip latency percentiles: one block per case (gnuplot index).\n"
           "# First line of a block: the case's title; then: percentile (0..1), latency (ns).\n";
    // Two blank lines between blocks, none after the last: gnuplot would count an empty block
    // there ("Skipping data file with no valid points").
    const char* separator = "";
    for (const auto& [title, sorted] : curves) {
        out << separator << '"' << title << "\" \"\"\n";
        for (const auto& [q, v] : tail_points(sorted)) out << fmt::format("{:.6f} {:.0f}\n", q, v);
        separator = "\n\n";
    }
}

}  // namespace bench
