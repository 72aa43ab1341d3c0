#include "shmrec/detail/fault.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <atomic>

#include "platform/process.hpp"

namespace shmrec::detail {

namespace {

enum class Action { none, kill, stop, abort };

struct FaultPlan {
    std::string point;
    long hit = 0;
    Action action = Action::none;  // kill | stop | abort
    int error = 0;                 // errno=<NAME>
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
    if (action == "kill") plan.action = Action::kill;
    if (action == "stop") plan.action = Action::stop;
    if (action == "abort") plan.action = Action::abort;
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
    if (plan.action == Action::none || plan.point != name) return;
    // Relaxed: a per-process counter; fault tests drive one thread per point.
    if (hits.fetch_add(1, std::memory_order_relaxed) + 1 != plan.hit) return;
    switch (plan.action) {
        case Action::kill: platform::kill_self();
        case Action::stop: platform::stop_self(); break;
        case Action::abort: std::abort();
        case Action::none: break;
    }
}

int fault_errno(const char* name) noexcept {
    const FaultPlan& plan = the_plan();
    static std::atomic<long> hits{0};
    if (plan.error == 0 || plan.point != name) return 0;
    // Relaxed: a per-process counter, as in fault_point.
    return hits.fetch_add(1, std::memory_order_relaxed) < plan.hit ? plan.error : 0;
}

}  // namespace shmrec::detail
