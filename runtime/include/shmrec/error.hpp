// shmrec's error model.
//
// Setting up a channel (create, open, validation of a region written by another process)
// reports failure by throwing shmrec::Error, whose code() says what went wrong and whose what()
// names the region and, for a mismatch, both sides. The data path (publish, read, wait) never
// throws and never allocates: it returns [[nodiscard]] status enums (see cell.hpp, wait.hpp).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace shmrec {

enum class ErrorCode {
    invalid_name,          // region name or path rejected before any system call
    invalid_argument,      // an option or geometry the caller passed is impossible
    not_found,             // no region by that name
    already_exists,        // create_only, but the name is taken
    permission_denied,     // the OS refused access
    untrusted_region,      // owner, mode or file type is not what a region of ours has
    no_space,              // shared memory (or the disk) cannot hold the region
    not_a_region,          // the bytes at offset 0 are not a shmrec header
    byte_order_mismatch,   // a shmrec header written with the other byte order
    version_mismatch,      // another major format version
    abi_mismatch,          // a build whose shared-layout assumptions differ (cache line, ...)
    init_timeout,          // the creator never finished initialising the region
    wrong_kind,            // e.g. a ring opened as a cell
    type_mismatch,         // another record type name
    layout_mismatch,       // same name, other size or alignment
    fingerprint_mismatch,  // same name and size, other field layout
    truncated,             // the mapping is smaller than the header says
    corrupt_header,        // a header field is impossible (offsets, geometry)
    writer_active,         // another live writer holds the writer role
    reader_active,         // another live consumer holds a ring's reader role
    reader_limit,          // every reader slot of the region is held by a live reader
    system_error,          // any other OS failure; what() carries the errno text
    corrupt_schema,        // an embedded binary schema is malformed or does not fit its record
    incompatible_schema,   // table records: the writer's schema breaks FlatBuffers' evolution
                           // rules for this reader (what() lists the fields)
};

std::string_view to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, std::string region, const std::string& message)
        : std::runtime_error(message), code_(code), region_(std::move(region)) {}

    ErrorCode code() const noexcept { return code_; }
    // The region name or file path the error is about (empty when there is none).
    const std::string& region() const noexcept { return region_; }

private:
    ErrorCode code_;
    std::string region_;
};

}  // namespace shmrec
