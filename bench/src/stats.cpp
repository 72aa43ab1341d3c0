#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

Summary summarize(std::vector<double> values) {
    if (values.empty()) return {};
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return {median, values.front(), values.back()};
}

double quantile(const std::vector<std::int64_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    // Nearest rank: the smallest value with at least q of the samples at or below it.
    const auto n = static_cast<double>(sorted.size());
    auto rank = static_cast<std::size_t>(std::ceil(q * n));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return static_cast<double>(sorted[rank - 1]);
}

Percentiles percentiles(std::vector<std::int64_t>& samples) {
    std::sort(samples.begin(), samples.end());
    return {quantile(samples, 0.50), quantile(samples, 0.99), quantile(samples, 0.999)};
}

std::vector<std::pair<double, double>> tail_points(const std::vector<std::int64_t>& sorted) {
    std::vector<std::pair<double, double>> out;
    if (sorted.empty()) return out;
    // Evenly spaced in "nines": q = 1 - 10^-x for x from 0 to log10(n).
    const double top = std::log10(static_cast<double>(sorted.size()));
    for (double x = 0; x <= top + 1e-9; x += 0.02) {
        const double q = 1 - std::pow(10.0, -x);
        out.emplace_back(q, quantile(sorted, std::max(q, 1e-9)));
    }
    out.emplace_back(1.0, static_cast<double>(sorted.back()));
    return out;
}

}  // namespace bench
