#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stats.hpp"
#include "text.hpp"

namespace bridge_bench {

namespace {

using bench::print_table;
using bench::si;

constexpr double target_lossless_rate = 1e6;  // records/s
constexpr double target_vs_ddsperf = 0.5;
constexpr double target_latency_vs_rtt = 2.0;

std::string us(double v) {
    return fmt::format("{:.1f} µs", v);
}

struct Latency {
    double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
    std::size_t samples = 0;
};

std::optional<Latency> latency_of(const RunResult& run) {
    if (run.latencies_ns.empty()) return std::nullopt;
    std::vector<std::int64_t> sorted = run.latencies_ns;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) { return bench::quantile(sorted, q) / 1000.0; };
    return Latency{
        at(0.5),      at(0.9), at(0.99), at(0.999), static_cast<double>(sorted.back()) / 1000.0,
        sorted.size()};
}

const char* waiting(const std::string& wait) {
    return wait == "busy_spin" ? "polling" : "sleeping";
}

// The local run whose reader waits as `bridged`'s reader does: its baseline.
const RunResult* local_baseline(const Measurements& m, const RunResult& bridged) {
    for (const auto& run : m.latency_runs) {
        if (!run.plan.bridged && run.plan.reader_wait == bridged.plan.reader_wait) return &run;
    }
    return nullptr;
}

// The latency the bridge adds, p50: what a reader on B waits beyond what a reader on A,
// waiting the same way, waits for the same writer (bridged one-way p50 - local one-way p50).
std::optional<double> added_p50_us(const Measurements& m, const RunResult& bridged) {
    const RunResult* local = local_baseline(m, bridged);
    const auto b = latency_of(bridged);
    const auto l = local ? latency_of(*local) : std::nullopt;
    if (!b || !l) return std::nullopt;
    return b->p50_us - l->p50_us;
}

std::vector<const RunResult*> steps_by_rate(const Measurements& m) {
    std::vector<const RunResult*> out;
    for (const auto& s : m.steps) out.push_back(&s);
    std::sort(out.begin(), out.end(),
              [](const RunResult* x, const RunResult* y) { return x->plan.rate < y->plan.rate; });
    return out;
}

// What a step offered: its nominal rate when the writer kept to it (within 2 %: the paced
// writer's last write lands up to a tick late), else the rate the writer achieved.
double offered(const RunResult& s) {
    return s.written_rate >= 0.98 * s.plan.rate ? s.plan.rate : s.written_rate;
}

// The lossless rate: the highest rate offered in a step that, like every step offered less,
// the bridge carried without loss; nullopt when the lowest step lost records. (The carried
// rate of a lossless step is a little lower only by the last batch's latency.)
std::optional<double> lossless_rate(const Measurements& m) {
    std::optional<double> best;
    for (const RunResult* s : steps_by_rate(m)) {
        if (!s->lossless()) break;
        best = std::max(best.value_or(0), offered(*s));
    }
    return best;
}

// The highest rate of any lossless step, whatever the steps below it did.
std::optional<double> highest_lossless_step(const Measurements& m) {
    std::optional<double> best;
    for (const auto& s : m.steps) {
        if (s.lossless()) best = std::max(best.value_or(0), offered(s));
    }
    return best;
}

double highest_carried_rate(const Measurements& m) {
    double best = 0;
    for (const auto& s : m.steps) best = std::max(best, s.carried_rate);
    return best;
}

struct Target {
    std::string key;  // for the JSON
    std::string what;
    std::optional<double> value;  // nullopt: not measured in this run
    double limit;
    bool at_most;
    bool met() const { return value && (at_most ? *value <= limit : *value >= limit); }
};

std::vector<Target> targets_of(const Setup& setup, const Measurements& m) {
    const auto lossless = lossless_rate(m);
    std::vector<Target> out;
    out.push_back({"lossless_rate_vs_1M", "bridge's lossless rate / 1 M records/s",
                   lossless ? std::optional(*lossless / target_lossless_rate) : std::nullopt, 1.0,
                   false});
    std::optional<double> vs_ddsperf;
    if (lossless && m.ddsperf_small) vs_ddsperf = *lossless / m.ddsperf_small->samples_per_s;
    out.push_back({"lossless_rate_vs_ddsperf",
                   "bridge's lossless rate / ddsperf's 32-byte samples/s", vs_ddsperf,
                   target_vs_ddsperf, false});
    // The latency the bridge adds against Cyclone's round trip at the same rate, for each way
    // of waiting of the exporter and B's reader.
    for (const auto& run : m.latency_runs) {
        if (!run.plan.bridged) continue;
        std::string key = latency_case(run.plan);
        key.replace(0, std::string_view("bridge-latency").size(), "added_latency_p50");
        std::replace(key.begin(), key.end(), '-', '_');
        const auto added = added_p50_us(m, run);
        out.push_back(
            {key + "_vs_ddsperf_rtt_p50",
             fmt::format("latency the bridge adds (one-way p50 - local p50), exporter {}, "
                         "reader {} / ddsperf's round trip p50, both at {} Hz",
                         waiting(run.plan.exporter_wait), waiting(run.plan.reader_wait),
                         setup.latency_rate),
             added && m.ddsperf_rtt_paced ? std::optional(*added / m.ddsperf_rtt_paced->p50_us)
                                          : std::nullopt,
             target_latency_vs_rtt, true});
    }
    return out;
}

std::string yes_no(bool b) {
    return b ? "yes" : "NO";
}

void print_ddsperf(const Setup& setup, const Measurements& m) {
    fmt::print("\n== Cyclone DDS's ddsperf, A → B (topic KS, reliable, keep-all) ==\n");
    if (const auto& t = m.ddsperf_small) {
        fmt::print(
            "  throughput, 32-byte samples: {} samples/s ({} samples over {:.1f} s, lost {})\n",
            si(t->samples_per_s), si(static_cast<double>(t->samples)), t->seconds, t->lost);
    }
    if (const auto& t = m.ddsperf_batch) {
        const double bytes = t->samples_per_s * static_cast<double>(setup.batch_payload);
        fmt::print(
            "  throughput, {}-byte samples (a full batch's bytes): {} samples/s = {}B/s = "
            "{} 32-byte records/s\n",
            setup.batch_payload, si(t->samples_per_s), si(bytes), si(bytes / 32));
    }
    auto rtt = [](const char* what, const std::optional<DdsperfRoundTrip>& r) {
        if (!r) return;
        fmt::print(
            "  round trip, 32 B, {}: p50 {}  p90 {}  p99 {}  ({} round trips; median of the "
            "one-second reports)\n",
            what, us(r->p50_us), us(r->p90_us), us(r->p99_us), r->round_trips);
    };
    rtt(fmt::format("ping at {} Hz", setup.latency_rate).c_str(), m.ddsperf_rtt_paced);
    rtt(fmt::format("ping at {} Hz, taken after a waitset wait", setup.latency_rate).c_str(),
        m.ddsperf_rtt_paced_waitset);
    rtt("ping back to back", m.ddsperf_rtt_back_to_back);
}

void print_bridge(const Setup& setup, const Measurements& m) {
    fmt::print(
        "\n== shmrec-bridge, A → B: 32-byte school.Student, export --batch {}, broadcast of {} "
        "on A, {} on B ==\n",
        setup.batch, setup.capacity, setup.import_capacity);
    fmt::print(
        "  Each step: a fresh writer paced at the offered rate for {:.1f} s, fresh exporter, "
        "importer and reader.\n"
        "  carried: records imported on B / (B's reader's last read - A's first write). "
        "Lossless: every record\n"
        "  imported on B (\"lost at the source\" 0, \"missing\" 0), none out of order. "
        "\"B lapped\": records the benchmark's\n"
        "  reader on B was too late for (the machine's load, not the bridge).\n",
        setup.step_seconds);
    if (!m.steps.empty()) {
        std::vector<std::vector<std::string>> rows{{"offered/s", "written/s", "carried/s",
                                                    "imported on B", "lost at source", "missing",
                                                    "B lapped", "lossless"}};
        for (const auto& s : m.steps) {
            rows.push_back({si(s.plan.rate), si(s.written_rate), si(s.carried_rate),
                            fmt::format("{} of {}", s.imported, s.written),
                            std::to_string(s.source_lost), std::to_string(s.missing),
                            std::to_string(s.lapped), yes_no(s.lossless())});
        }
        print_table(rows, "  ");
        const auto none = [](std::optional<double> v) { return v ? si(*v) : std::string("none"); };
        fmt::print(
            "  lossless rate (offered/s of the highest step that, like every one below it, "
            "was lossless): {} records/s;\n  highest lossless step: {}; highest carried: {}\n",
            none(lossless_rate(m)), none(highest_lossless_step(m)), si(highest_carried_rate(m)));
    }
    fmt::print(
        "\n  One-way latency, {} records/s for {:.1f} s: the exporter and the reader sleeping "
        "on their doorbell\n  (futex) or polling (busy_spin); local: the same writer, a reader "
        "on A, no bridge.\n",
        setup.latency_rate, setup.latency_seconds);
    std::vector<std::vector<std::string>> rows{
        {"path", "p50", "p90", "p99", "p99.9", "max", "records", "lost"}};
    for (const auto& run : m.latency_runs) {
        const auto l = latency_of(run);
        if (!l) continue;
        rows.push_back({latency_title(run.plan), us(l->p50_us), us(l->p90_us), us(l->p99_us),
                        us(l->p999_us), us(l->max_us), std::to_string(l->samples),
                        std::to_string(run.written - run.received)});
    }
    if (rows.size() > 1) print_table(rows, "  ");
}

}  // namespace

std::string latency_case(const RunPlan& plan) {
    std::string name = plan.bridged ? "bridge-latency" : "local-latency";
    if (plan.bridged && plan.exporter_wait == "busy_spin") name += "-busy-spin";
    if (plan.reader_wait == "busy_spin") name += "-reader-busy-spin";
    return name;
}

std::string latency_title(const RunPlan& plan) {
    if (!plan.bridged) return fmt::format("local, reader on A {}", waiting(plan.reader_wait));
    return fmt::format("bridged, exporter {}, reader on B {}", waiting(plan.exporter_wait),
                       waiting(plan.reader_wait));
}

void print_report(const Setup& setup, const Measurements& m) {
    fmt::print("\nshmrec-bridge-bench — {}\n", setup.machine);
    fmt::print(
        "Two simulated hosts: network namespaces joined by a veth pair, a private /dev/shm "
        "each.\nLoad average at the start: {}; at the end: {}. Run took {:.0f} s.\n",
        setup.load_before, setup.load_after, setup.seconds);
    print_ddsperf(setup, m);
    print_bridge(setup, m);

    fmt::print("\n== Targets of issue 12 (read, not asserted) ==\n");
    int met = 0;
    const auto targets = targets_of(setup, m);
    for (const auto& t : targets) {
        const std::string limit = fmt::format("{} {:.2g}", t.at_most ? "≤" : "≥", t.limit);
        if (!t.value) {
            fmt::print("  [  n/a  ]  {} {}  (not measured in this run)\n", t.what, limit);
            continue;
        }
        met += t.met();
        fmt::print("  [{}]  {}: {:.2f} (target {})\n", t.met() ? "  MET  " : "NOT MET", t.what,
                   *t.value, limit);
    }
    fmt::print("  {} of {} targets met.\n", met, targets.size());
    for (const auto& run : m.latency_runs) {
        const auto bridged = latency_of(run);
        if (!run.plan.bridged || !bridged || !m.ddsperf_rtt_paced) continue;
        const auto added = added_p50_us(m, run);
        // ddsperf's waitset mode wakes a thread on each side, as a sleeping exporter and reader
        // are woken: the matched comparison for them (the target divides by the listener mode).
        const std::string vs_waitset =
            added && m.ddsperf_rtt_paced_waitset
                ? fmt::format(" = {:.2f} x the waitset round trip p50",
                              *added / m.ddsperf_rtt_paced_waitset->p50_us)
                : std::string();
        fmt::print(
            "  For reference ({}): the whole one-way p50 {} = {:.2f} x ddsperf's round trip "
            "p50{}.\n",
            latency_title(run.plan), us(bridged->p50_us),
            bridged->p50_us / m.ddsperf_rtt_paced->p50_us,
            added ? fmt::format("; added over a reader on A: {}{}", us(*added), vs_waitset)
                  : std::string());
    }
    if (const auto l = lossless_rate(m); l && m.ddsperf_batch) {
        const double records =
            m.ddsperf_batch->samples_per_s * static_cast<double>(setup.batch_payload) / 32;
        fmt::print(
            "  For reference: lossless rate / the 32-byte records ddsperf carries in "
            "{}-byte samples = {:.2f}.\n",
            setup.batch_payload, *l / records);
    }
    for (const auto& f : m.failures) fmt::print("  NOT MEASURED: {}\n", f);
}

void write_json(const std::string& path, const Setup& setup, const Measurements& m) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    // As shmrec-bench's results.json: one object per figure, named by case and metric.
    nlohmann::json figures = nlohmann::json::array();
    auto figure = [&](const std::string& c, const std::string& metric, double v,
                      const std::string& unit) {
        figures.push_back({{"case", c}, {"metric", metric}, {"value", v}, {"unit", unit}});
    };
    if (const auto& t = m.ddsperf_small) {
        figure("ddsperf-32", "throughput", t->samples_per_s, "samples/s");
        figure("ddsperf-32", "lost", static_cast<double>(t->lost), "samples");
    }
    if (const auto& t = m.ddsperf_batch) {
        const std::string c = fmt::format("ddsperf-{}", setup.batch_payload);
        figure(c, "throughput", t->samples_per_s, "samples/s");
        figure(c, "bytes_per_s", t->samples_per_s * static_cast<double>(setup.batch_payload),
               "B/s");
    }
    for (const auto& [name, r] :
         {std::pair{std::string("ddsperf-rtt-paced"), m.ddsperf_rtt_paced},
          std::pair{std::string("ddsperf-rtt-paced-waitset"), m.ddsperf_rtt_paced_waitset},
          std::pair{std::string("ddsperf-rtt-back-to-back"), m.ddsperf_rtt_back_to_back}}) {
        if (!r) continue;
        const std::string unit = "us (median of ddsperf's one-second reports)";
        figure(name, "rtt_p50", r->p50_us, unit);
        figure(name, "rtt_p90", r->p90_us, unit);
        figure(name, "rtt_p99", r->p99_us, unit);
    }
    for (const auto& s : m.steps) {
        const std::string c = fmt::format("bridge-step-{:.0f}", s.plan.rate);
        figure(c, "offered", s.plan.rate, "records/s");
        figure(c, "written", s.written_rate, "records/s");
        figure(c, "carried", s.carried_rate, "records/s");
        figure(c, "written_on_a", static_cast<double>(s.written), "records");
        figure(c, "imported_on_b", static_cast<double>(s.imported), "records");
        figure(c, "read_on_b", static_cast<double>(s.received), "records");
        figure(c, "lost_at_source", static_cast<double>(s.source_lost), "records");
        figure(c, "missing", static_cast<double>(s.missing), "records");
        figure(c, "lossless", s.lossless() ? 1 : 0, "bool");
    }
    if (const auto l = lossless_rate(m)) figure("bridge", "lossless_rate", *l, "records/s");
    if (const auto l = highest_lossless_step(m)) {
        figure("bridge", "highest_lossless_step", *l, "records/s");
    }
    if (!m.steps.empty()) {
        figure("bridge", "highest_carried_rate", highest_carried_rate(m), "records/s");
    }
    for (const auto& run : m.latency_runs) {
        const auto l = latency_of(run);
        if (!l) continue;
        const std::string name = latency_case(run.plan);
        const std::string unit =
            fmt::format("us (one way, A's writer to {} reader, {})",
                        run.plan.bridged ? "B's" : "A's", waiting(run.plan.reader_wait));
        figure(name, "p50", l->p50_us, unit);
        figure(name, "p90", l->p90_us, unit);
        figure(name, "p99", l->p99_us, unit);
        figure(name, "p999", l->p999_us, unit);
        figure(name, "max", l->max_us, unit);
        figure(name, "samples", static_cast<double>(l->samples), "records");
    }

    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : targets_of(setup, m)) {
        targets.push_back({{"target", t.key},
                           {"what", t.what},
                           {"value", t.value ? nlohmann::json(*t.value) : nlohmann::json()},
                           {"limit", t.limit},
                           {"at_most", t.at_most},
                           {"met", t.met()}});
    }
    const nlohmann::json results{{"benchmark", "shmrec-bridge-bench"},
                                 {"machine", setup.machine},
                                 {"load_average", {setup.load_before, setup.load_after}},
                                 {"seconds", setup.seconds},
                                 {"setup",
                                  {{"capacity", setup.capacity},
                                   {"import_capacity", setup.import_capacity},
                                   {"batch", setup.batch},
                                   {"step_seconds", setup.step_seconds},
                                   {"latency_rate", setup.latency_rate},
                                   {"latency_seconds", setup.latency_seconds}}},
                                 {"figures", figures},
                                 {"targets", targets},
                                 {"not_measured", m.failures}};
    out << results.dump(2) << "\n";
}

}  // namespace bridge_bench
