// Every figure of a run, printed as tables on stdout and written as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "stats.hpp"

namespace bench {

struct Figure {
    std::string case_name;
    std::string metric;
    Summary value;
    std::string unit;
};

// What the tables need to know about a case.
struct CaseInfo {
    std::string name;
    std::string label;
    std::string group;  // "shmrec", "peer", "sweep"
    std::string floor;  // "cacheline" or "futex"
    bool latency = true;
    std::vector<std::string> variants;  // further throughput variants (throughput_1, ...)
    std::string skipped;  // reason, when it did not run
    std::size_t record_size = 32;
    std::uint64_t slots = 0;  // ring geometry, when the case has one
    std::uint64_t stride = 0;
};

struct RunInfo {
    std::string machine;
    int cpu_a = 0;
    int cpu_b = 1;
    int reps = 0;
    std::uint64_t latency_samples = 0;
    double throughput_ms = 0;
    double seconds = 0;
};

class Report {
public:
    void add(std::string case_name, std::string metric, Summary value, std::string unit);
    const Figure* find(const std::string& case_name, const std::string& metric) const;
    const std::vector<Figure>& figures() const noexcept { return figures_; }

    // Adds the derived ratios (against the best peer, against floors) as figures.
    void derive_ratios(const std::vector<CaseInfo>& cases);
    void print(const RunInfo& run, const std::vector<CaseInfo>& cases) const;
    void write_json(const std::string& path) const;

private:
    struct Pending {
        std::string c, m;
        Summary v;
        std::string u;
    };
    void derive_table_ratios(const std::vector<CaseInfo>& cases, std::vector<Pending>& pending) const;
    void print_tables(const std::vector<CaseInfo>& cases) const;

    std::vector<Figure> figures_;
};

// Percentile curves for the plot: one block per case, in gnuplot's "index" format.
void write_plot_data(const std::string& path,
                     const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& curves);

}  // namespace bench
