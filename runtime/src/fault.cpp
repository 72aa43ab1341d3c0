#include "shmrec/detail/fault.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include <atomic>

namespace shmrec::detail {

namespace {

struct FaultPlan {
    std::string point;
    long hit = 0;
    int signal = 0;
};

FaultPlan parse_plan() {
    FaultPlan plan;
    const char* spec = std::getenv("SHMREC_FAULT");
    if (spec == nullptr) return plan;
    const std::string s(spec);
    const auto first = s.find(':');
    const auto second = s.find(':', first == std::string::npos ? first : first + 1);
    if (first == std::string::npos || second == std::string::npos) return plan;
    plan.point = s.substr(0, first);
    plan.hit = std::strtol(s.c_str() + first + 1, nullptr, 10);
    const std::string action = s.substr(second + 1);
    if (action == "kill") plan.signal = SIGKILL;
    if (action == "stop") plan.signal = SIGSTOP;
    if (action == "abort") plan.signal = SIGABRT;
    return plan;
}

}  // namespace

void fault_point(const char* name) noexcept {
    static const FaultPlan plan = parse_plan();
    static std::atomic<long> hits{0};
    if (plan.signal == 0 || plan.point != name) return;
    // Relaxed: a per-process counter; fault tests drive one thread per point.
    if (hits.fetch_add(1, std::memory_order_relaxed) + 1 == plan.hit) std::raise(plan.signal);
}

}  // namespace shmrec::detail
