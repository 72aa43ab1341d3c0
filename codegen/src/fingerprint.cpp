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
//
// A table's fingerprint is the same hash over another text (docs/codegen.md, "Tables"):
//
//   shmrec-table v2
//   table school.Enrolment
//     field 0 student school.Student
//     field 3 grade float default 0
//     field 4 old int default 0 deprecated     (" required" likewise)
//   struct school.Student size 32 align 8      (the layout lines above, for each struct,
//   enum school.Color ubyte                     enum and table used, transitively)
//     value Red 0                              (a table's enums list their values: a new
//   table school.Course ...                     one is a change evolution rules care about)
#include "fingerprint.hpp"

#include <set>

namespace shmrec::codegen {
namespace {

// What is described: a struct's layout (enums by name and width only), or a table's evolution
// (enums with their values too).
enum class Detail : bool { layout, evolution };

void describe_struct(const Schema& schema, const Struct& s, std::string& out,
                     std::set<std::string>& described, Detail detail);
void describe_table(const Schema& schema, const Table& t, std::string& out,
                    std::set<std::string>& described);
void describe_named(const Schema& schema, const std::string& name, std::string& out,
                    std::set<std::string>& described, Detail detail);

void describe_struct(const Schema& schema, const Struct& s, std::string& out,
                     std::set<std::string>& described, Detail detail) {
    described.insert(s.qualified_name);
    out += "struct " + s.qualified_name + " size " + std::to_string(s.size) + " align " +
           std::to_string(s.alignment) + "\n";
    for (const Field& f : s.fields) {
        out += "  field " + f.name + " " + f.type_spelling + " offset " + std::to_string(f.offset) +
               " size " + std::to_string(f.size);
        if (f.array_length != 0) out += " length " + std::to_string(f.array_length);
        out += "\n";
    }
    // An element's qualified name is empty for a scalar.
    for (const Field& f : s.fields)
        describe_named(schema, f.element.qualified_name, out, described, detail);
}

void describe_named(const Schema& schema, const std::string& name, std::string& out,
                    std::set<std::string>& described, Detail detail) {
    if (name.empty() || described.count(name)) return;
    if (const Enum* e = schema.find_enum(name)) {
        described.insert(name);
        out += "enum " + name + " " + scalar_schema_name(e->underlying) + "\n";
        if (detail == Detail::evolution) {
            for (const Enumerator& v : e->values) {
                out += "  value " + v.name + " " + std::to_string(v.value) + "\n";
            }
        }
    } else if (const Struct* s = schema.find_struct(name)) {
        describe_struct(schema, *s, out, described, detail);
    } else if (const Table* t = schema.find_table(name)) {
        describe_table(schema, *t, out, described);
    }
}

void describe_table(const Schema& schema, const Table& t, std::string& out,
                    std::set<std::string>& described) {
    described.insert(t.qualified_name);
    out += "table " + t.qualified_name + "\n";
    for (const TableField& f : t.fields) {
        out += "  field " + std::to_string(f.id) + " " + f.name + " " + f.type_spelling;
        if (!f.default_value.empty()) out += " default " + f.default_value;
        if (f.deprecated) out += " deprecated";
        if (f.required) out += " required";
        out += "\n";
    }
    for (const TableField& f : t.fields) {
        describe_named(schema, f.referenced, out, described, Detail::evolution);
    }
}

}  // namespace

std::string canonical_table(const Schema& schema, const Table& t) {
    std::string out = "shmrec-table v2\n";
    std::set<std::string> described;
    describe_table(schema, t, out, described);
    return out;
}

std::uint64_t fingerprint(const Schema& schema, const Table& t) {
    return fnv1a64(canonical_table(schema, t));
}

std::string canonical_layout(const Schema& schema, const Struct& s) {
    std::string out = "shmrec-layout v1\n";
    std::set<std::string> described;
    describe_struct(schema, s, out, described, Detail::layout);
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
