// Text checks shared by the schema validation (names) and the JSON output (text fields): JSON
// strings must be valid UTF-8, and a name from an untrusted schema must not flood a message.
#pragma once

#include <string>
#include <string_view>

namespace shmrec::inspect::detail {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(std::string_view text) noexcept;

// `text` for an error message: printable ASCII kept, other bytes as \xNN, at most 64 bytes.
std::string printable(std::string_view text);

}  // namespace shmrec::inspect::detail
