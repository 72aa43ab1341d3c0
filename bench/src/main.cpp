// shmrec-bench: shmrec's channels against their physical floors and against other IPC, with
// two processes pinned to different CPUs. The driver (side A) re-executes this program as the
// peer (side B): `shmrec-bench --peer <case> ...`. Figures and how to read them: README.md, "Performance".
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cases.hpp"
#include "floors.hpp"
#include "process.hpp"
#include "report.hpp"
#include "stats.hpp"

namespace bench {
namespace {

struct Options {
    bool quick = false;
    int reps = 5;
    std::uint64_t latency_samples = 50000;
    std::uint64_t cacheline_samples = 20000;
    std::uint64_t futex_samples = 5000;
    double throughput_ms = 150;
    std::string json;
    std::string plot_data;
    std::vector<std::string> only;
    int cpu_a = 0;
    int cpu_b = 1;
    std::string roudi;
    bool list = false;
    // Peer side (hidden).
    std::string peer;
    std::string ctl;
    std::string prefix;
    std::vector<int> fds;
};

std::vector<std::unique_ptr<Case>> all_cases() {
    std::vector<std::unique_ptr<Case>> out;
    for (auto* make : {&shmrec_cases, &peer_cases, &iceoryx_cases, &table_cases}) {
        for (auto& c : make()) out.push_back(std::move(c));
    }
    return out;
}

std::string read_first_line(const std::string& path, const std::string& key = "") {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (key.empty()) return line;
        if (line.rfind(key, 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    }
    return "?";
}

std::string load_average() { return read_first_line("/proc/loadavg"); }

std::string machine_info() {
    utsname u{};
    ::uname(&u);
    return fmt::format("{}, {} CPUs, Linux {}, clocksource {}",
                       read_first_line("/proc/cpuinfo", "model name"), cpu_count(), u.release,
                       read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
}

// ---- side B ----

int run_peer(const Options& o) {
    set_run_prefix(o.prefix);
    set_parent_pid(::getppid());
    ControlBlock ctl = ControlBlock::open(o.ctl);
    try {
        std::unique_ptr<Case> c;
        for (auto& candidate : all_cases()) {
            if (candidate->name() == o.peer) c = std::move(candidate);
        }
        if (!c) throw std::runtime_error("unknown case " + o.peer);
        if (c->name() == "iceoryx") iceoryx_init_runtime(o.prefix + "-b");
        c->adopt(o.fds);
        c->create(Side::b);
        ctl.barrier(Side::b);
        c->open(Side::b);
        ctl.barrier(Side::b);
        std::optional<CopyRing> copy_ring;  // the copy floor's ring, opened on first use
        for (;;) {
            ctl.barrier(Side::b);
            const auto cmd = static_cast<Command>(ctl->command.value.load(std::memory_order_relaxed));
            const std::uint64_t count = ctl->count.value.load(std::memory_order_relaxed);
            if (cmd == Command::exit) break;
            switch (cmd) {
                case Command::floor_cacheline: cacheline_pingpong(*ctl, Side::b, count, nullptr); break;
                case Command::floor_futex: futex_pingpong(*ctl, Side::b, count, nullptr); break;
                case Command::floor_copy: {
                    if (!copy_ring) {
                        copy_ring.emplace(CopyRing::open(unique_name("copy-floor"),
                                                         ctl->copy_slots.value.load(std::memory_order_relaxed),
                                                         ctl->copy_stride.value.load(std::memory_order_relaxed)));
                    }
                    const std::uint64_t got = copy_ring->receive(ctl->copy_block.value.load(std::memory_order_relaxed),
                                                                 count != 0);
                    ctl->b_done_ns.value.store(static_cast<std::uint64_t>(now_ns()), std::memory_order_relaxed);
                    ctl->b_received.value.store(got, std::memory_order_relaxed);
                    ctl->b_lost.value.store(0, std::memory_order_relaxed);
                    break;
                }
                case Command::latency: c->echo(count); break;
                case Command::throughput: {
                    const Received r = c->receive(static_cast<int>(count));
                    ctl->b_done_ns.value.store(static_cast<std::uint64_t>(now_ns()), std::memory_order_relaxed);
                    ctl->b_received.value.store(r.count, std::memory_order_relaxed);
                    ctl->b_lost.value.store(r.lost, std::memory_order_relaxed);
                    break;
                }
                case Command::exit: break;
            }
            ctl.barrier(Side::b);
        }
        c->close(Side::b);
        return 0;
    } catch (const std::exception& e) {
        std::snprintf(ctl->b_error, sizeof ctl->b_error, "%s", e.what());
        ctl->b_failed.value.store(1, std::memory_order_release);
        fmt::print(stderr, "shmrec-bench peer ({}): {}\n", o.peer, e.what());
        return 1;
    }
}

// ---- side A ----

class Driver {
public:
    Driver(const Options& o, ControlBlock& ctl, Report& report) : o_(o), ctl_(ctl), report_(report) {}

    void run_case(Case& c, const std::string& ctl_name) {
        const std::vector<int> fds = c.prepare();
        std::string fd_list;
        for (int fd : fds) fd_list += (fd_list.empty() ? "" : ",") + std::to_string(fd);
        std::vector<std::string> args{"--peer", c.name(), "--ctl", ctl_name, "--prefix", run_prefix(),
                                      "--cpu-a", std::to_string(o_.cpu_a), "--cpu-b", std::to_string(o_.cpu_b)};
        if (!fd_list.empty()) {
            args.push_back("--fds");
            args.push_back(fd_list);
        }
        reset_control();
        // The cross-core copy floor of a sweep case (and of a large table record): a bare ring
        // of the case's own slot count and stride, driven by the same two pinned processes.
        std::optional<CopyRing> copy_ring;
        if (const SlotGeometry g = c.slot_geometry(); c.copy_floor() && g.slots != 0) {
            copy_ring.emplace(CopyRing::create(unique_name("copy-floor"), g.slots, g.stride));
        }
        Peer peer(args, o_.cpu_b, fds);
        struct Closer {
            Case& c;
            ~Closer() {
                try {
                    c.close(Side::a);
                } catch (...) {
                }
            }
        } closer{c};
        c.create(Side::a);
        ctl_.barrier(Side::a);
        c.open(Side::a);
        ctl_.barrier(Side::a);

        std::vector<double> p50, p99, p999, r50, r99, r999, floor50, tp, lost, bps, mbps, vs_memcpy;
        std::vector<double> fbps, frps, vs_floor, in_place_bps, vs_in_place;
        const std::vector<std::string> variants = c.throughput_variants();
        std::vector<std::vector<double>> tpv(variants.size()), vs_floor_v(variants.size());
        std::vector<std::int64_t> pooled;
        for (int rep = 0; rep < o_.reps; ++rep) {
            if (c.has_latency()) {
                const Percentiles before = floor(c.floor());
                std::vector<std::int64_t> samples(o_.latency_samples);
                step(Command::latency, o_.latency_samples, [&] { c.ping(samples.size(), samples.data()); });
                const Percentiles after = floor(c.floor());
                pooled.insert(pooled.end(), samples.begin(), samples.end());
                const Percentiles p = percentiles(samples);
                const Percentiles f{(before.p50 + after.p50) / 2, (before.p99 + after.p99) / 2,
                                    (before.p999 + after.p999) / 2};
                p50.push_back(p.p50);
                p99.push_back(p.p99);
                p999.push_back(p.p999);
                floor50.push_back(f.p50);
                r50.push_back(p.p50 / f.p50);
                r99.push_back(p.p99 / f.p99);
                r999.push_back(p.p999 / f.p999);
            }
            // The copy floor right before and right after the ring's runs (mean of the two), as
            // every latency is divided by the floor measured around it.
            const double floor_before = copy_ring ? copy_floor(c, *copy_ring) : 0;
            const bool touch = copy_ring && c.in_place_floor();
            const double touch_before = touch ? copy_floor(c, *copy_ring, true) : 0;
            const auto [rate, lost_n] = throughput(c, 0);
            tp.push_back(rate);
            if (c.name() == "broadcast") lost.push_back(lost_n);
            for (std::size_t v = 0; v < variants.size(); ++v) {
                tpv[v].push_back(throughput(c, static_cast<int>(v + 1)).first);
            }
            const double floor_after = copy_ring ? copy_floor(c, *copy_ring) : 0;
            if (touch) {
                const double touch_rate = (touch_before + copy_floor(c, *copy_ring, true)) / 2;
                in_place_bps.push_back(touch_rate * static_cast<double>(c.record_size()));
                vs_in_place.push_back(rate / touch_rate);
            }
            if (copy_ring && c.group() != "sweep") {
                const double floor_rate = (floor_before + floor_after) / 2;
                frps.push_back(floor_rate);
                fbps.push_back(floor_rate * static_cast<double>(c.record_size()));
                vs_floor.push_back(rate / floor_rate);
                for (std::size_t v = 0; v < variants.size(); ++v) vs_floor_v[v].push_back(tpv[v].back() / floor_rate);
            }
            if (c.group() == "sweep") {
                const double ring = rate * static_cast<double>(c.record_size());
                const double copy = memcpy_bandwidth(c.record_size(), std::size_t{1} << 20,
                                                     std::chrono::milliseconds{50});
                bps.push_back(ring);
                mbps.push_back(copy);
                vs_memcpy.push_back(ring / copy);
                if (copy_ring) {
                    const double floor_rate = (floor_before + floor_after) / 2;
                    frps.push_back(floor_rate);
                    fbps.push_back(floor_rate * static_cast<double>(c.record_size()));
                    vs_floor.push_back(rate / floor_rate);
                }
            }
        }
        step(Command::exit, 0, [] {});
        peer.join();

        const std::string n = c.name();
        if (c.has_latency()) {
            report_.add(n, "rtt_p50", summarize(p50), "ns");
            report_.add(n, "rtt_p99", summarize(p99), "ns");
            report_.add(n, "rtt_p999", summarize(p999), "ns");
            const std::string fl = c.floor() == Floor::futex ? "futex" : "cacheline";
            report_.add(n, "floor_p50", summarize(floor50), "ns (" + fl + ")");
            report_.add(n, "rtt_p50_vs_floor", summarize(r50), "x");
            report_.add(n, "rtt_p99_vs_floor", summarize(r99), "x");
            report_.add(n, "rtt_p999_vs_floor", summarize(r999), "x");
            std::sort(pooled.begin(), pooled.end());
            curves_.emplace_back(c.label(), std::move(pooled));
        }
        report_.add(n, "throughput", summarize(tp), "records/s");
        for (std::size_t v = 0; v < variants.size(); ++v) {
            report_.add(n, fmt::format("throughput_{}", v + 1), summarize(tpv[v]), "records/s (" + variants[v] + ")");
        }
        if (c.group() == "table") {
            const auto size = static_cast<double>(c.record_size());
            auto bytes = [&](std::vector<double> rates) {
                for (double& r : rates) r *= size;
                return summarize(std::move(rates));
            };
            report_.add(n, "bytes_per_s", bytes(tp), "B/s");
            for (std::size_t v = 0; v < variants.size(); ++v) {
                report_.add(n, fmt::format("bytes_per_s_{}", v + 1), bytes(tpv[v]), "B/s");
                if (!vs_floor_v[v].empty()) {
                    report_.add(n, fmt::format("vs_copy_floor_{}", v + 1), summarize(vs_floor_v[v]), "x");
                }
            }
        }
        if (!lost.empty()) report_.add(n, "lost", summarize(lost), "records");
        if (!bps.empty()) {
            report_.add(n, "bytes_per_s", summarize(bps), "B/s");
            report_.add(n, "memcpy_bytes_per_s", summarize(mbps), "B/s");
            report_.add(n, "vs_memcpy", summarize(vs_memcpy), "x");
            report_.add(fmt::format("memcpy-{}", c.record_size()), "bytes_per_s", summarize(mbps), "B/s");
        }
        if (!fbps.empty()) {
            const SlotGeometry g = c.slot_geometry();
            const std::string unit = fmt::format(" (cross-core copy floor, {} slots x {} B)", g.slots, g.stride);
            report_.add(n, "copy_floor_bytes_per_s", summarize(fbps), "B/s" + unit);
            report_.add(n, "copy_floor_records_per_s", summarize(frps), "records/s" + unit);
            report_.add(n, "vs_copy_floor", summarize(vs_floor), "x");
            const std::string fn = fmt::format("copy-floor-{}", c.record_size());
            report_.add(fn, "bytes_per_s", summarize(fbps), "B/s" + unit);
            report_.add(fn, "throughput", summarize(frps), "records/s" + unit);
        }
        if (!in_place_bps.empty()) {
            report_.add(n, "in_place_floor_bytes_per_s", summarize(in_place_bps),
                        "B/s (the copy floor's ring, blocks filled and read in place)");
            report_.add(n, "vs_in_place_floor", summarize(vs_in_place), "x");
        }
    }

    // Floors measured over the whole run, and the plot curves.
    void finish() {
        for (auto& [name, all, label] : {std::tuple{"floor-cacheline", &cl_, "floor: two cache lines"},
                                        std::tuple{"floor-futex", &fx_, "floor: bare futex"}}) {
            if (all->p50.empty()) continue;
            report_.add(name, "rtt_p50", summarize(all->p50), "ns");
            report_.add(name, "rtt_p99", summarize(all->p99), "ns");
            report_.add(name, "rtt_p999", summarize(all->p999), "ns");
            std::sort(all->pooled.begin(), all->pooled.end());
            curves_.emplace_back(label, std::move(all->pooled));
        }
    }
    const auto& curves() const { return curves_; }

private:
    struct FloorRecord {
        std::vector<double> p50, p99, p999;
        std::vector<std::int64_t> pooled;
    };

    void reset_control() {
        // A fresh peer starts its barrier count at zero: so do we.
        ctl_->a_arrived.value.store(0);
        ctl_->b_arrived.value.store(0);
        ctl_->b_failed.value.store(0);
    }

    // A tells B what to do, both do it, both meet again.
    template <class F>
    void step(Command cmd, std::uint64_t count, F&& mine) {
        ctl_->command.value.store(static_cast<std::uint64_t>(cmd), std::memory_order_relaxed);
        ctl_->count.value.store(count, std::memory_order_relaxed);
        ctl_.barrier(Side::a);
        if (cmd == Command::exit) return;
        mine();
        ctl_.barrier(Side::a);
    }

    Percentiles floor(Floor which) {
        const bool futex = which == Floor::futex;
        const std::uint64_t n = futex ? o_.futex_samples : o_.cacheline_samples;
        std::vector<std::int64_t> samples(n);
        step(futex ? Command::floor_futex : Command::floor_cacheline, n, [&] {
            if (futex) {
                futex_pingpong(*ctl_, Side::a, n, samples.data());
            } else {
                cacheline_pingpong(*ctl_, Side::a, n, samples.data());
            }
        });
        auto& rec = futex ? fx_ : cl_;
        // Keep a bounded sample of the pool for the plot.
        if (rec.pooled.size() < 400000) rec.pooled.insert(rec.pooled.end(), samples.begin(), samples.end());
        const Percentiles p = percentiles(samples);
        rec.p50.push_back(p.p50);
        rec.p99.push_back(p.p99);
        rec.p999.push_back(p.p999);
        return p;
    }

    // Records/s of one run of the cross-core copy floor with the case's block size (or of its
    // in-place form).
    double copy_floor(const Case& c, CopyRing& ring, bool in_place = false) {
        const std::size_t block = c.record_size();
        ctl_->copy_block.value.store(block, std::memory_order_relaxed);
        ctl_->copy_slots.value.store(ring.slots(), std::memory_order_relaxed);
        ctl_->copy_stride.value.store(ring.stride(), std::memory_order_relaxed);
        std::uint64_t sent = 0;
        std::int64_t t0 = 0;
        step(Command::floor_copy, in_place ? 1 : 0, [&] {
            t0 = now_ns();
            sent = ring.send(block, std::chrono::nanoseconds{static_cast<std::int64_t>(o_.throughput_ms * 1e6)},
                             in_place);
        });
        const auto done = static_cast<std::int64_t>(ctl_->b_done_ns.value.load());
        const auto got = ctl_->b_received.value.load();
        if (got != sent) {
            throw std::runtime_error(fmt::format("copy floor ({} B): sent {} but received {}", block, sent, got));
        }
        return static_cast<double>(got) * 1e9 / static_cast<double>(done - t0);
    }

    // Records/s of one throughput run (and records lost, for the broadcast).
    std::pair<double, double> throughput(Case& c, int variant) {
        std::uint64_t sent = 0;
        std::int64_t t0 = 0;
        step(Command::throughput, static_cast<std::uint64_t>(variant), [&] {
            t0 = now_ns();
            sent = c.send(std::chrono::nanoseconds{static_cast<std::int64_t>(o_.throughput_ms * 1e6)}, variant);
        });
        const auto done = static_cast<std::int64_t>(ctl_->b_done_ns.value.load());
        const auto got = ctl_->b_received.value.load();
        const auto lost = ctl_->b_lost.value.load();
        if (got + lost != sent) {
            throw std::runtime_error(fmt::format("{}: sent {} but received {} (+{} lost)", c.name(), sent, got, lost));
        }
        return {static_cast<double>(got) * 1e9 / static_cast<double>(done - t0), static_cast<double>(lost)};
    }

    const Options& o_;
    ControlBlock& ctl_;
    Report& report_;
    FloorRecord cl_, fx_;
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> curves_;
};

bool selected(const Options& o, const Case& c) {
    if (o.only.empty()) return true;
    return std::any_of(o.only.begin(), o.only.end(),
                       [&](const std::string& s) { return s == c.name() || s == c.group(); });
}

int run_driver(Options o) {
    const auto started = std::chrono::steady_clock::now();
    set_run_prefix(fmt::format("shmrec-bench-{}", ::getpid()));
    install_cleanup_handlers();
    struct Cleanup {
        ~Cleanup() { remove_registered(); }
    } cleanup;

    if (o.quick) {
        o.reps = std::min(o.reps, 3);
        o.latency_samples = std::min<std::uint64_t>(o.latency_samples, 10000);
        o.cacheline_samples = std::min<std::uint64_t>(o.cacheline_samples, 5000);
        o.futex_samples = std::min<std::uint64_t>(o.futex_samples, 1000);
        o.throughput_ms = std::min(o.throughput_ms, 60.0);
    }
    const std::string machine = machine_info();  // before pinning narrows the CPU set
    const std::string load_before = load_average();
    if (cpu_count() < 2) {
        fmt::print(stderr, "shmrec-bench: only one CPU available; both processes share it\n");
        o.cpu_b = o.cpu_a;
    }
    pin_to_cpu(o.cpu_a);

    auto cases = all_cases();
    if (o.list) {
        for (const auto& c : cases) fmt::print("{:<12} {:<7} {}\n", c->name(), c->group(), c->label());
        return 0;
    }
    const std::string ctl_name = unique_name("ctl");
    ControlBlock ctl = ControlBlock::create(ctl_name);
    Report report;
    Driver driver(o, ctl, report);

    std::unique_ptr<IceoryxSession> iceoryx;
    std::string iceoryx_problem;
    const bool want_iceoryx = std::any_of(cases.begin(), cases.end(), [&](const auto& c) {
        return c->name() == "iceoryx" && selected(o, *c) && c->skip_reason().find("built without") == std::string::npos;
    });
    std::string roudi_log;
    if (want_iceoryx) {
        const std::string log =
            (std::filesystem::temp_directory_path() / (run_prefix() + "-roudi.log")).string();
        roudi_log = log;
        if (!std::filesystem::exists(o.roudi)) {
            iceoryx_problem = "iox-roudi not found at " + o.roudi;
        } else {
            fmt::print(stderr, "starting {} (log {})\n", o.roudi, log);
            iceoryx = start_iceoryx(o.roudi, log);
            if (!iceoryx) iceoryx_problem = "iox-roudi did not become ready (see " + log + ")";
        }
    }

    std::vector<CaseInfo> infos;
    int failures = 0;
    for (auto& c : cases) {
        if (!selected(o, *c)) continue;
        CaseInfo info{c->name(), c->label(), c->group(), c->floor() == Floor::futex ? "futex" : "cacheline",
                      c->has_latency(), c->throughput_variants(), c->skip_reason(), c->record_size(),
                      c->slot_geometry().slots, c->slot_geometry().stride};
        if (c->name() == "iceoryx" && !iceoryx_problem.empty()) info.skipped = iceoryx_problem;
        if (info.skipped.empty()) {
            fmt::print(stderr, "running {} ...\n", c->label());
            try {
                driver.run_case(*c, ctl_name);
            } catch (const std::exception& e) {
                if (interrupted()) throw;
                info.skipped = fmt::format("FAILED: {}", e.what());
                fmt::print(stderr, "  {} failed: {}\n", c->name(), e.what());
                ++failures;
            }
        }
        infos.push_back(std::move(info));
    }
    if (iceoryx) std::filesystem::remove(roudi_log);  // kept only when RouDi failed to start
    // The in-process costs of the table records, when their cases ran.
    if (std::any_of(infos.begin(), infos.end(), [](const CaseInfo& i) { return i.group == "table" && i.skipped.empty(); })) {
        fmt::print(stderr, "running table record costs (in process) ...\n");
        for (auto& f : table_costs(o.reps, std::chrono::milliseconds{40})) {
            report.add("table-costs", f.metric, summarize(std::move(f.values)), f.unit);
        }
    }
    // RouDi itself is stopped at exit, after iceoryx's runtime deregistered (cases_iceoryx.cpp).
    driver.finish();
    report.derive_ratios(infos);

    RunInfo run{machine + "; load average before: " + load_before + ", after: " + load_average(),
                o.cpu_a, o.cpu_b, o.reps, o.latency_samples, o.throughput_ms,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
    report.print(run, infos);
    if (!o.json.empty()) {
        if (const auto dir = std::filesystem::path(o.json).parent_path(); !dir.empty()) {
            std::filesystem::create_directories(dir);
        }
        report.write_json(o.json);
        const std::string dat = o.plot_data.empty()
                                    ? (std::filesystem::path(o.json).parent_path() / "latency.dat").string()
                                    : o.plot_data;
        write_plot_data(dat, driver.curves());
        fmt::print("\nfigures: {}\nlatency percentiles for the plot: {}\n", o.json, dat);
    } else if (!o.plot_data.empty()) {
        write_plot_data(o.plot_data, driver.curves());
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
    bench::Options o;
#if defined(SHMREC_BENCH_ROUDI)
    o.roudi = SHMREC_BENCH_ROUDI;
#else
    o.roudi = "/usr/bin/iox-roudi";
#endif
    CLI::App app{"shmrec-bench: shmrec's ring and broadcast against the physical floors and other IPC,\n"
                 "two processes pinned to different CPUs."};
    app.add_flag("--quick", o.quick, "short run (~30 s): 3 repetitions, fewer samples");
    app.add_option("--reps", o.reps, "repetitions per case")->check(CLI::Range(1, 100));
    app.add_option("--latency-samples", o.latency_samples, "round trips per latency run");
    app.add_option("--throughput-ms", o.throughput_ms, "duration of one throughput run (ms)");
    app.add_option("--json", o.json, "write every figure as JSON to this file");
    app.add_option("--plot-data", o.plot_data,
                   "latency percentiles for gnuplot (default: latency.dat next to --json)");
    app.add_option("--cases", o.only, "only these cases or groups (shmrec, peer, sweep, table); see --list")
        ->delimiter(',');
    app.add_flag("--list", o.list, "list the cases and exit");
    app.add_option("--cpu-a", o.cpu_a, "CPU of the driver process");
    app.add_option("--cpu-b", o.cpu_b, "CPU of the peer process");
    app.add_option("--roudi", o.roudi, "path of iox-roudi (iceoryx's daemon)");
    auto* peer = app.add_option("--peer", o.peer)->group("");  // internal: run as the peer
    app.add_option("--ctl", o.ctl)->group("");
    app.add_option("--prefix", o.prefix)->group("");
    app.add_option("--fds", o.fds)->delimiter(',')->group("");
    CLI11_PARSE(app, argc, argv);
    try {
        if (*peer) return bench::run_peer(o);
        return bench::run_driver(o);
    } catch (const std::exception& e) {
        fmt::print(stderr, "shmrec-bench: {}\n", e.what());
        return 2;
    }
}
