#include "shmrec/error.hpp"

namespace shmrec {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::invalid_name: return "invalid_name";
        case ErrorCode::invalid_argument: return "invalid_argument";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::already_exists: return "already_exists";
        case ErrorCode::permission_denied: return "permission_denied";
        case ErrorCode::untrusted_region: return "untrusted_region";
        case ErrorCode::no_space: return "no_space";
        case ErrorCode::not_a_region: return "not_a_region";
        case ErrorCode::byte_order_mismatch: return "byte_order_mismatch";
        case ErrorCode::version_mismatch: return "version_mismatch";
        case ErrorCode::abi_mismatch: return "abi_mismatch";
        case ErrorCode::init_timeout: return "init_timeout";
        case ErrorCode::wrong_kind: return "wrong_kind";
        case ErrorCode::type_mismatch: return "type_mismatch";
        case ErrorCode::layout_mismatch: return "layout_mismatch";
        case ErrorCode::fingerprint_mismatch: return "fingerprint_mismatch";
        case ErrorCode::truncated: return "truncated";
        case ErrorCode::corrupt_header: return "corrupt_header";
        case ErrorCode::writer_active: return "writer_active";
        case ErrorCode::reader_active: return "reader_active";
        case ErrorCode::reader_limit: return "reader_limit";
        case ErrorCode::system_error: return "system_error";
        case ErrorCode::corrupt_schema: return "corrupt_schema";
        case ErrorCode::incompatible_schema: return "incompatible_schema";
    }
    return "unknown";
}

}  // namespace shmrec
