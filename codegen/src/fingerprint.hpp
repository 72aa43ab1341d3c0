// The layout fingerprint of a struct: FNV-1a 64 over a canonical text that describes the
// layout and nothing else. See docs/codegen.md, "Fingerprint".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schema_model.hpp"

namespace shmrec::codegen {

// The canonical layout text of `s`: the struct, then every enum and struct it uses,
// transitively, each once, in order of first use.
std::string canonical_layout(const Schema& schema, const Struct& s);

std::uint64_t fnv1a64(std::string_view bytes) noexcept;

// fnv1a64(canonical_layout(schema, s)).
std::uint64_t fingerprint(const Schema& schema, const Struct& s);

// The canonical description of table `t` for evolution: its fields (id, name, type, default,
// deprecated, required), then every table, struct and enum they use, transitively, each once,
// in order of first use.
std::string canonical_table(const Schema& schema, const Table& t);

// fnv1a64(canonical_table(schema, t)).
std::uint64_t fingerprint(const Schema& schema, const Table& t);

}  // namespace shmrec::codegen
