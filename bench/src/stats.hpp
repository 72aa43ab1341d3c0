// Percentiles of one run's samples, and median / min / max over a case's repetitions.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace bench {

struct Summary {
    double median = 0;
    double min = 0;
    double max = 0;
};

// Over repetitions: the median (mean of the two middle values for an even count), min, max.
Summary summarize(std::vector<double> values);

struct Percentiles {
    double p50 = 0;
    double p99 = 0;
    double p999 = 0;
};

// Nearest-rank percentiles; sorts `samples`.
Percentiles percentiles(std::vector<std::int64_t>& samples);
// q in [0, 1] of sorted samples (nearest rank).
double quantile(const std::vector<std::int64_t>& sorted, double q);

// Points (q, value) of a sorted distribution, dense in the tail, for a percentile plot.
std::vector<std::pair<double, double>> tail_points(const std::vector<std::int64_t>& sorted);

}  // namespace bench
