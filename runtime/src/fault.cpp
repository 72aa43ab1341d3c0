#include "shmrec/detail/fault.hpp"

#include <cerrno>
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
    int signal = 0;  // kill | stop | abort
    int error = 0;   // errno=<NAME>
};

int errno_named(const std::string& name) {
    if (name == "EINTR") return EINTR;
    if (name == "EOPNOTSUPP") return EOPNOTSUPP;
    if (name == "ENOSPC") return ENOSPC;
    if (name == "EFBIG") return EFBIG;
    if (name == "EACCES") return EACCES;
    return 0;
}

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
    if (action.rfind("errno=", 0) == 0) plan.error = errno_named(action.substr(6));
    return plan;
}

const FaultPlan& the_plan() {
    static const FaultPlan plan = parse_plan();
    return plan;
}

}  // namespace

void fault_point(const char* name) noexcept {
    const FaultPlan& plan = the_plan();
    static std::atomic<long> hits{0};
    if (plan.signal == 0 || plan.point != name) return;
    // Relaxed: a per-process counter; fault tests drive one thread per point.
    if (hits.fetch_add(1, std::memory_order_relaxed) + 1 == plan.hit) std::raise(plan.signal);
}

int fault_errno(const char* name) noexcept {
    const FaultPlan& plan = the_plan();
    static std::atomic<long> hits{0};
    if (plan.error == 0 || plan.point != name) return 0;
    // Relaxed: a per-process counter, as in fault_point.
    return hits.fetch_add(1, std::memory_order_relaxed) < plan.hit ? plan.error : 0;
}

}  // namespace shmrec::detail
