// Fingerprint algorithm (documented in docs/codegen.md, "Fingerprint"; changing anything
// here changes every fingerprint, so bump the "v1" tag and update the pinned test values):
//
//   shmrec-layout v1
//   struct school.Student size 32 align 8
//     field id long offset 0 size 8
//     field name [ubyte:20] offset 8 size 20 length 20
//   enum geo.Color ubyte          (for each enum used, transitively)
//   struct geo.Vec3 size 24 ...   (for each nested struct used, transitively)
//
// Every line ends in '\n'; the hash is FNV-1a 64 over the UTF-8 bytes. Padding is not
// listed: it follows from the offsets and sizes. Enum values are not listed: a new
// enumerator does not move a byte.
#include "fingerprint.hpp"

#include <set>

namespace shmrec::codegen {
namespace {

void describe_struct(const Schema& schema, const Struct& s, std::string& out,
                     std::set<std::string>& described);

void describe_element(const Schema& schema, const ElementType& el, std::string& out,
                      std::set<std::string>& described) {
    if (el.kind == ElementType::Kind::Scalar || described.count(el.qualified_name)) return;
    if (el.kind == ElementType::Kind::Enum) {
        described.insert(el.qualified_name);
        out += "enum " + el.qualified_name + " " + scalar_schema_name(el.scalar) + "\n";
    } else if (const Struct* inner = schema.find_struct(el.qualified_name)) {
        describe_struct(schema, *inner, out, described);
    }
}

void describe_struct(const Schema& schema, const Struct& s, std::string& out,
                     std::set<std::string>& described) {
    described.insert(s.qualified_name);
    out += "struct " + s.qualified_name + " size " + std::to_string(s.size) + " align " +
           std::to_string(s.alignment) + "\n";
    for (const Field& f : s.fields) {
        out += "  field " + f.name + " " + f.type_spelling + " offset " + std::to_string(f.offset) +
               " size " + std::to_string(f.size);
        if (f.array_length != 0) out += " length " + std::to_string(f.array_length);
        out += "\n";
    }
    for (const Field& f : s.fields) describe_element(schema, f.element, out, described);
}

}  // namespace

std::string canonical_layout(const Schema& schema, const Struct& s) {
    std::string out = "shmrec-layout v1\n";
    std::set<std::string> described;
    describe_struct(schema, s, out, described);
    return out;
}

std::uint64_t fnv1a64(std::string_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;  // FNV-1a 64 prime
    }
    return h;
}

std::uint64_t fingerprint(const Schema& schema, const Struct& s) {
    return fnv1a64(canonical_layout(schema, s));
}

}  // namespace shmrec::codegen
