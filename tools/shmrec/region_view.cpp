// How the tool describes a region (region_view.hpp).
#include "region_view.hpp"

#include <fmt/format.h>

namespace shmrec::tool {

namespace {

std::optional<ChannelKind> kind_value(const Examined& e) {
    if (e.info) return e.info->kind;
    if (e.probe.header && e.probe.header->kind >= 1 && e.probe.header->kind <= 3) {
        return static_cast<ChannelKind>(e.probe.header->kind);
    }
    return std::nullopt;
}

}  // namespace

std::string kind_of(const Examined& e) {
    const auto kind = kind_value(e);
    return kind ? std::string(shmrec::to_string(*kind)) : "?";
}

std::string record_of(const Examined& e) {
    if (e.info) return e.info->record_name;
    if (e.probe.header && !e.probe.header->record_name.empty()) return e.probe.header->record_name;
    return "?";
}

std::optional<std::uint64_t> capacity_of(const Examined& e) {
    const auto kind = kind_value(e);
    if (!kind) return std::nullopt;
    if (*kind == ChannelKind::cell) return 1;
    if (e.info) return e.info->geometry.capacity;
    if (e.probe.header) return e.probe.header->capacity;
    return std::nullopt;
}

std::string capacity_text(const Examined& e) {
    const auto capacity = capacity_of(e);
    if (!capacity) return "?";
    if (kind_value(e) == ChannelKind::cell) return "1 (latest value)";
    return std::to_string(*capacity);
}

std::string state_of(const Examined& e) {
    if (e.info) return std::string(shmrec::to_string(e.info->state));
    if (e.probe.content == Content::unreadable) return "unreadable";
    if (e.error == ErrorCode::untrusted_region || e.error == ErrorCode::permission_denied) {
        return "not yours";
    }
    if (e.error == ErrorCode::init_timeout && e.probe.header && e.probe.header->state == 0) {
        return "initialising";
    }
    return "invalid";
}

std::optional<bool> writer_alive(const Examined& e) {
    if (e.info) return e.info->writer_alive;
    if (e.probe.content == Content::unreadable) return std::nullopt;
    return e.probe.writer_lock_held;
}

std::string writer_text(const Examined& e) {
    const auto alive = writer_alive(e);
    if (!alive) return "?";
    return *alive ? "alive" : "none";
}

std::string readers_text(const Examined& e) {
    if (!e.info) return "?";
    if (e.info->kind == ChannelKind::ring) {
        return e.info->consumer_alive ? "consumer yes" : "consumer no";
    }
    return std::to_string(e.info->readers);
}

Json summary_json(const Examined& e) {
    Json j;
    j["name"] = e.probe.where.name;
    j["backing"] = std::string(shmrec::to_string(e.probe.where.backing));
    j["path"] = e.probe.path;
    j["kind"] = kind_of(e) == "?" ? Json() : Json(kind_of(e));
    j["record"] = record_of(e) == "?" ? Json() : Json(record_of(e));
    const auto capacity = capacity_of(e);
    j["capacity"] = capacity ? Json(*capacity) : Json();
    j["size"] = e.probe.size;
    j["state"] = state_of(e);
    const auto alive = writer_alive(e);
    j["writer"] = alive ? Json(*alive ? "alive" : "none") : Json();
    // Readers of a cell or broadcast; a ring has exactly one consumer instead.
    const bool ring = e.info && e.info->kind == ChannelKind::ring;
    j["readers"] = e.info && !ring ? Json(e.info->readers) : Json();
    j["consumer"] = ring ? Json(e.info->consumer_alive) : Json();
    j["owner"] = user_name(e.probe.uid);
    j["mode"] = mode_string(e.probe.mode);
    j["problem"] = e.problem.empty() ? Json() : Json(e.problem);
    return j;
}

int report_failure(const Location& where, const std::string& message, int status, bool json,
                   std::string_view code, const std::vector<std::string>& nearest) {
    fmt::print(stderr, "shmrec: {}\n", message);
    if (!nearest.empty()) {
        fmt::print(stderr, "nearest existing region{}:\n", nearest.size() == 1 ? "" : "s");
        for (const auto& n : nearest) fmt::print(stderr, "  {}\n", n);
    }
    if (json) {
        Json error;
        error["name"] = where.name;
        error["backing"] = std::string(shmrec::to_string(where.backing));
        error["code"] = std::string(code);
        error["message"] = message;
        error["nearest"] = nearest;
        Json out;
        out["error"] = std::move(error);
        print_json(out);
    }
    return status;
}

int report_missing(const Location& where, bool json) {
    const auto nearest = nearest_regions(where);
    std::string message = fmt::format("{} does not exist", shown(where));
    if (nearest.empty()) message += " (no region has a similar name; `shmrec ls` lists them)";
    return report_failure(where, message, exit_not_found, json, "not_found", nearest);
}

}  // namespace shmrec::tool
