// Native errors thrown as shmrec errors: the part every OS shares (platform/system_error.hpp).
#include "platform/system_error.hpp"

#include <fmt/format.h>

#include "region_names.hpp"

namespace shmrec::platform {

void throw_system_error(ErrorCode code, const Location& where, std::string_view doing, int err) {
    throw Error(code, where.name,
                fmt::format("{}: {} failed: {}", detail::display_name(where), doing,
                            describe_error(err)));
}

void throw_system_error(const Location& where, std::string_view doing, int err) {
    throw_system_error(error_code_for(err), where, doing, err);
}

void throw_system_error(const Location& where, std::string_view doing, int err,
                        std::string_view what) {
    if (err != 0) throw_system_error(where, doing, err);
    throw Error(ErrorCode::system_error, where.name,
                fmt::format("{}: {} failed: {}", detail::display_name(where), doing, what));
}

}  // namespace shmrec::platform
