#include "ddsperf.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <vector>

#include "interrupt.hpp"

namespace bridge_bench {

namespace {

using namespace std::chrono_literals;

// Slack for discovery before the measuring side starts and after it ended.
constexpr auto discovery = 1500ms;

std::string seconds_arg(std::chrono::seconds s) {
    return std::to_string(s.count());
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

DdsperfThroughput ddsperf_throughput(const shmrec_bridge_test::TwoHosts& hosts, std::size_t payload,
                                     std::chrono::seconds duration) {
    const auto sub_duration = duration + std::chrono::seconds(3);
    auto sub = hosts.b().spawn("ddsperf", {"-k", "all", "-D", seconds_arg(sub_duration), "sub"});
    pause_for(discovery);
    auto pub = hosts.a().spawn("ddsperf", {"-k", "all", "-D", seconds_arg(duration), "pub", "size",
                                           std::to_string(payload)});
    expect_clean_exit(*pub, "ddsperf pub (host A)", 20s);
    expect_clean_exit(*sub, "ddsperf sub (host B)", 20s);

    // [pid] 3.000  size 32 total 682184 lost 0 delta 345773 lost 0 rate 345.78 kS/s ...
    static const std::regex report(
        R"(^\[\d+\] ([\d.]+)\s+size \d+ total (\d+) lost (\d+) delta (\d+) lost \d+ rate)");
    struct Point {
        double t;
        std::uint64_t total, lost, delta;
    };
    std::vector<Point> points;
    for (const auto& line : sub->lines()) {
        std::smatch m;
        if (!std::regex_search(line, m, report)) continue;
        const Point p{std::stod(m[1]), std::stoull(m[2]), std::stoull(m[3]), std::stoull(m[4])};
        if (p.delta > 0) points.push_back(p);
    }
    // The first report with data covers the start of the stream, the last its end: only the
    // whole seconds between them count.
    if (points.size() < 4) {
        throw std::runtime_error("ddsperf sub (host B) printed too few reports:" + tail_of(*sub));
    }
    const Point& from = points.front();
    const Point& to = points[points.size() - 2];
    DdsperfThroughput out;
    out.samples = to.total - from.total;
    out.seconds = to.t - from.t;
    out.samples_per_s = static_cast<double>(out.samples) / out.seconds;
    out.lost = points.back().lost;
    return out;
}

DdsperfRoundTrip ddsperf_round_trip(const shmrec_bridge_test::TwoHosts& hosts, std::size_t payload,
                                    unsigned rate_hz, Trigger trigger,
                                    std::chrono::seconds duration) {
    const std::string mode = trigger == Trigger::waitset ? "waitset" : "listener";
    const auto pong_duration = duration + std::chrono::seconds(3);
    auto pong = hosts.b().spawn("ddsperf", {"-D", seconds_arg(pong_duration), "pong", mode});
    pause_for(discovery);
    std::vector<std::string> args{"-D", seconds_arg(duration), "ping"};
    if (rate_hz > 0) args.push_back(std::to_string(rate_hz) + "Hz");
    args.insert(args.end(), {"size", std::to_string(payload), mode});
    auto ping = hosts.a().spawn("ddsperf", args);
    expect_clean_exit(*ping, "ddsperf ping (host A)", 20s);
    pong->signal(SIGTERM);  // it has nothing more to answer
    (void)pong->wait_exit(5s);

    // [pid] 2.000  vm:16237 size 32 mean 67.310us min 21.090us 50% 46.808us 90% 76.379us
    //   99% 142.490us max 12946.875us cnt 937
    static const std::regex report(
        R"( 50% ([\d.]+)us 90% ([\d.]+)us 99% ([\d.]+)us max [\d.]+us cnt (\d+))");
    struct Report {
        double p50, p90, p99;
        std::uint64_t count;
    };
    std::vector<Report> reports;
    for (const auto& line : ping->lines()) {
        std::smatch m;
        if (!std::regex_search(line, m, report)) continue;
        reports.push_back({std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stoull(m[4])});
    }
    // The first report covers discovery and warm-up; left out unless it is the only one.
    if (reports.size() > 1) reports.erase(reports.begin());
    std::vector<double> p50, p90, p99;
    DdsperfRoundTrip out;
    for (const auto& r : reports) {
        p50.push_back(r.p50);
        p90.push_back(r.p90);
        p99.push_back(r.p99);
        out.round_trips += r.count;
    }
    if (p50.empty()) {
        throw std::runtime_error("ddsperf ping (host A) printed no latency report:" +
                                 tail_of(*ping));
    }
    out.p50_us = median(p50);
    out.p90_us = median(p90);
    out.p99_us = median(p99);
    return out;
}

}  // namespace bridge_bench
