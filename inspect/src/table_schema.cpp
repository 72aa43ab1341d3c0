// TableSchema: an untrusted binary schema -> FlatBuffers' parser with the root table set; a
// table record -> verified (table_verifier.hpp) -> FlatBuffers' text generator -> JSON
// (table_schema.hpp).
//
// load() checks, after the layers every schema gets (schema_buffer.hpp), what FlatBuffers'
// parser and text generator take on trust: they follow type indexes, read struct fields at
// their offsets and table fields through the vtable at their slots, recurse into nested structs,
// and print names as they are. So for the table and every type it reaches: indexes in range,
// struct fields inside their struct and aligned in it, no struct containing itself, table field
// slots even and past the vtable header, names that are identifiers, and only the types the
// generator prints safely (no unions: a union value whose type field is absent or unknown
// would be followed through a null pointer by GenerateText).
#include "shmrec/inspect/table_schema.hpp"

#include <flatbuffers/idl.h>
#include <flatbuffers/reflection_generated.h>
#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "schema_buffer.hpp"
#include "table_verifier.hpp"
#include "shmrec/error.hpp"
#include "utf8.hpp"

namespace shmrec::inspect {

std::string_view to_string(TableDecode status) noexcept {
    switch (status) {
        case TableDecode::ok: return "ok";
        case TableDecode::too_small: return "too_small";
        case TableDecode::rejected: return "rejected";
        case TableDecode::not_text: return "not_text";
    }
    return "unknown";
}

struct TableSchema::Impl {
    std::vector<std::uint8_t> schema_bytes;  // the verified private copy
    const reflection::Schema* schema = nullptr;
    const reflection::Object* root = nullptr;
    flatbuffers::Parser parser;  // deserialized from schema_bytes, root type set
    std::string name;
};

namespace {

using detail::base_type_of;
using detail::is_scalar;
using detail::printable;
using detail::scalar_bytes;
using detail::str;

// A FlatBuffers identifier: letters, digits and '_', not starting with a digit; with `dotted`,
// such identifiers joined by '.' (a qualified name). The text generator prints names unescaped.
bool is_identifier(std::string_view name, bool dotted) {
    if (name.empty() || name.size() > RecordSchema::max_name_bytes) return false;
    bool start = true;
    for (const char c : name) {
        if (dotted && c == '.' && !start) {
            start = true;
            continue;
        }
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && !start)) return false;
        start = false;
    }
    return !start;
}

class TableChecker {
  public:
    TableChecker(const reflection::Schema& schema, std::string_view origin)
        : origin_(origin), objects_(*schema.objects()), enums_(*schema.enums()),
          seen_(objects_.size(), unseen) {}

    // The index of the root table; every type it reaches checked.
    flatbuffers::uoffset_t check(std::string_view table_name) {
        check_unique_names();
        const auto found = std::find_if(objects_.begin(), objects_.end(), [&](const auto* o) {
            return str(o->name()) == table_name;
        });
        if (found == objects_.end()) {
            fail(fmt::format("no type named '{}' among its {} types", printable(table_name),
                             objects_.size()));
        }
        const auto root = static_cast<flatbuffers::uoffset_t>(found - objects_.begin());
        if (objects_.Get(root)->is_struct()) {
            fail(fmt::format("'{}' is a struct, not a table: its records are fixed-size "
                             "(RecordSchema decodes them)",
                             printable(table_name)));
        }
        // Tables may reach each other in cycles (the data bounds the depth, and the verifier
        // bounds the data): a work list, each table once. Structs are checked depth first.
        std::vector<flatbuffers::uoffset_t> work{root};
        seen_[root] = done;
        while (!work.empty()) {
            const auto index = work.back();
            work.pop_back();
            check_table(*objects_.Get(index), work);
        }
        return root;
    }

  private:
    static constexpr std::int8_t unseen = 0;
    static constexpr std::int8_t in_progress = 1;
    static constexpr std::int8_t done = 2;

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorCode::corrupt_schema, std::string(origin_),
                    fmt::format("{}: corrupt record schema: {}", origin_, what));
    }
    [[noreturn]] void fail(const reflection::Object& object, const reflection::Field& field,
                           const std::string& what) const {
        fail(fmt::format("{} '{}', field '{}': {}", object.is_struct() ? "struct" : "table",
                         printable(str(object.name())), printable(str(field.name())), what));
    }

    // Parser::Deserialize (FlatBuffers 2.0.8, built with its assertions on in Debian) reads the
    // whole schema, and a name it meets twice
    // (two types, two fields of a type, two values of an enum) makes it free that definition
    // twice (SymbolTable::Add keeps the pointer it then deletes). So, for every type of the
    // schema, not only those the table reaches: each name once.
    void check_unique_names() const {
        std::set<std::string_view> types;
        for (const auto* object : objects_) {
            if (!types.insert(str(object->name())).second) {
                fail(fmt::format("two types named '{}'", printable(str(object->name()))));
            }
            // It also places each field at its id in a vector of fields().size() entries: the
            // ids must be exactly 0 .. size - 1 (an id past the end is a write out of bounds).
            std::vector<bool> ids(object->fields()->size(), false);
            for (const auto* field : *object->fields()) {
                if (field->id() >= ids.size() || ids[field->id()]) {
                    fail(fmt::format("'{}': field '{}' has id {}, not one of 0 to {} once",
                                     printable(str(object->name())), printable(str(field->name())),
                                     field->id(), ids.size() - 1));
                }
                ids[field->id()] = true;
            }
            std::set<std::string_view> fields;
            int keys = 0;
            for (const auto* field : *object->fields()) {
                // A second key field, or a key that is neither a scalar nor a string, fails
                // Deserialize after the field was added: freed twice too.
                if (field->key()) {
                    const auto base = base_type_of(*field->type(), reflection::Type::VT_BASE_TYPE);
                    if (++keys > 1 || !base || !(is_scalar(*base) || *base == reflection::String)) {
                        fail(fmt::format("'{}': field '{}' cannot be a key",
                                         printable(str(object->name())),
                                         printable(str(field->name()))));
                    }
                }
                // Debian's FlatBuffers asserts (aborts) on a field both required and optional.
                if (field->required() && field->optional()) {
                    fail(fmt::format("'{}': field '{}' is both required and optional",
                                     printable(str(object->name())), printable(str(field->name()))));
                }
                if (!fields.insert(str(field->name())).second) {
                    fail(fmt::format("'{}' has two fields named '{}'", printable(str(object->name())),
                                     printable(str(field->name()))));
                }
            }
        }
        for (const auto* object : objects_) {
            if (object->is_struct()) {
                check_struct_layout(*object);
            } else if (object->bytesize() != 0) {  // the same assertion: a table's size is 0
                fail(fmt::format("table '{}' has a size ({})", printable(str(object->name())),
                                 object->bytesize()));
            }
        }
        std::set<std::string_view> enums;
        for (const auto* e : enums_) {
            if (!enums.insert(str(e->name())).second) {
                fail(fmt::format("two enums named '{}'", printable(str(e->name()))));
            }
            std::set<std::string_view> values;
            for (const auto* value : *e->values()) {
                if (!values.insert(str(value->name())).second) {
                    fail(fmt::format("enum '{}' has two values named '{}'",
                                     printable(str(e->name())), printable(str(value->name()))));
                }
            }
        }
    }

    // StructDef::Deserialize recomputes a struct's size from its fields in id order (each
    // field's size, the gap to the next field's offset, the final padding to minalign) and
    // asserts that it is the schema's bytesize. For every struct of the schema: fields of
    // struct types only, offsets increasing without overlap from 0, minalign a power of two up
    // to 256, and that sum equal to bytesize.
    void check_struct_layout(const reflection::Object& object) const {
        const auto& fields = *object.fields();
        std::vector<const reflection::Field*> by_id(fields.size());
        for (const auto* field : fields) by_id[field->id()] = field;  // ids checked unique, in range
        const std::int32_t minalign = object.minalign();
        auto fail_struct = [&](const std::string& what) {
            fail(fmt::format("struct '{}': {}", printable(str(object.name())), what));
        };
        if (minalign < 1 || minalign > 256 || (minalign & (minalign - 1)) != 0) {
            fail_struct(fmt::format("alignment {} is not a power of two up to 256", minalign));
        }
        std::uint64_t end = 0;
        for (const auto* field : by_id) {
            const auto& type = *field->type();
            const auto base = base_type_of(type, reflection::Type::VT_BASE_TYPE);
            const auto element = base_type_of(type, reflection::Type::VT_ELEMENT);
            if (!base || !element) fail(object, *field, "unknown base type");
            reflection::BaseType t = *base;
            std::uint64_t count = 1;
            if (t == reflection::Array) {
                t = *element;
                count = type.fixed_length();
            }
            std::uint64_t size = 0;
            if (is_scalar(t)) {
                size = scalar_bytes(t);
            } else if (t == reflection::Obj) {
                const auto& inner = object_at(object, *field, type.index());
                if (!inner.is_struct() || inner.bytesize() < 0) {
                    fail(object, *field, "a table inside a struct");
                }
                size = static_cast<std::uint64_t>(inner.bytesize());
            } else {
                fail(object, *field, "a type a struct cannot hold");
            }
            if (field->offset() != end && (field == by_id.front() || field->offset() < end)) {
                fail(object, *field, fmt::format("offset {} overlaps or leaves a gap at {}",
                                                 field->offset(), end));
            }
            end = field->offset() + size * count;
        }
        const auto align = static_cast<std::uint64_t>(minalign);
        const std::uint64_t padded = (end + align - 1) / align * align;
        if (object.bytesize() < 0 || padded != static_cast<std::uint64_t>(object.bytesize())) {
            fail_struct(fmt::format("{} bytes of fields padded to {} make {}, not its size {}", end,
                                    align, padded, object.bytesize()));
        }
    }

    const reflection::Object& object_at(const reflection::Object& parent,
                                        const reflection::Field& field, std::int32_t index) const {
        if (index < 0 || static_cast<flatbuffers::uoffset_t>(index) >= objects_.size()) {
            fail(parent, field, fmt::format("type index {} out of range", index));
        }
        return *objects_.Get(static_cast<flatbuffers::uoffset_t>(index));
    }

    // An enum a scalar field names (index >= 0): in range, not a union, its value names printable.
    void check_enum(const reflection::Object& parent, const reflection::Field& field,
                    std::int32_t index) const {
        if (index < 0) return;
        if (static_cast<flatbuffers::uoffset_t>(index) >= enums_.size()) {
            fail(parent, field, fmt::format("enum index {} out of range", index));
        }
        const auto& e = *enums_.Get(static_cast<flatbuffers::uoffset_t>(index));
        if (e.is_union()) fail(parent, field, "a scalar typed as a union");
        for (const auto* value : *e.values()) {
            if (!is_identifier(str(value->name()), false)) {
                fail(parent, field, fmt::format("enum value name '{}' is not an identifier",
                                                printable(str(value->name()))));
            }
        }
    }

    void check_name(const reflection::Object& object) const {
        if (!is_identifier(str(object.name()), true)) {
            fail(fmt::format("type name '{}' is not a qualified identifier",
                             printable(str(object.name()))));
        }
    }

    // A table the root reaches: its fields; tables and structs it reaches are queued / checked.
    void check_table(const reflection::Object& table, std::vector<flatbuffers::uoffset_t>& work) {
        check_name(table);
        for (const auto* field : *table.fields()) {
            if (!is_identifier(str(field->name()), false)) {
                fail(table, *field, "the name is not an identifier");
            }
            // Slots are vtable offsets: 4 + 2 * id. An odd one would read half a slot past a
            // vtable the verifier bounded.
            if (field->offset() < 4 || field->offset() % 2 != 0) {
                fail(table, *field, fmt::format("vtable slot {} is impossible", field->offset()));
            }
            const auto& type = *field->type();
            const auto base = base_type_of(type, reflection::Type::VT_BASE_TYPE);
            const auto element = base_type_of(type, reflection::Type::VT_ELEMENT);
            if (!base || !element) fail(table, *field, "unknown base type");
            reflection::BaseType t = *base;
            if (t == reflection::Vector) {
                t = *element;
                if (!is_scalar(t) && t != reflection::String && t != reflection::Obj) {
                    fail(table, *field, "a vector of vectors, unions or arrays: not decoded");
                }
            }
            if (is_scalar(t)) {
                check_enum(table, *field, type.index());
                if (*base != reflection::Vector) check_default(table, *field, t);
            } else if (t == reflection::Obj) {
                const auto& target = object_at(table, *field, type.index());
                const auto index = static_cast<flatbuffers::uoffset_t>(type.index());
                if (target.is_struct()) {
                    check_struct(index, 0);
                } else if (seen_[index] == unseen) {
                    seen_[index] = done;
                    work.push_back(index);
                }
            } else if (t != reflection::String) {
                fail(table, *field,
                     t == reflection::Union || t == reflection::UType
                         ? "a union: table records with unions are not decoded yet"
                         : "a type a table cannot hold");
            }
        }
    }

    // FlatBuffers' text generator prints a field's default (output_default_scalars_in_json)
    // from the text Parser::Deserialize made of it, and Debian's build asserts (aborts) when
    // that text does not convert back to the field's type. So the default must fit the type:
    // integers in range (a ulong default at or above 2^63 is refused too: the schema stores it
    // as a negative long), floating-point defaults finite and a float's within float's range.
    void check_default(const reflection::Object& table, const reflection::Field& field,
                       reflection::BaseType t) const {
        const std::int64_t i = field.default_integer();
        const double d = field.default_real();
        auto in = [&](std::int64_t lo, std::int64_t hi) { return i >= lo && i <= hi; };
        bool ok = true;
        switch (t) {
            case reflection::Bool: ok = in(0, 1); break;
            case reflection::Byte: ok = in(INT8_MIN, INT8_MAX); break;
            case reflection::UByte: ok = in(0, UINT8_MAX); break;
            case reflection::Short: ok = in(INT16_MIN, INT16_MAX); break;
            case reflection::UShort: ok = in(0, UINT16_MAX); break;
            case reflection::Int: ok = in(INT32_MIN, INT32_MAX); break;
            case reflection::UInt: ok = in(0, UINT32_MAX); break;
            case reflection::ULong: ok = i >= 0; break;
            case reflection::Float: ok = std::isfinite(d) && std::fabs(d) <= FLT_MAX; break;
            case reflection::Double: ok = std::isfinite(d); break;
            default: break;
        }
        if (!ok) {
            fail(table, field,
                 fmt::format("default {} does not fit its type", t == reflection::Float ||
                                                                         t == reflection::Double
                                                                     ? fmt::format("{}", d)
                                                                     : fmt::format("{}", i)));
        }
    }

    // A struct, `depth` structs below the first one a table holds: every field inside it, no
    // struct containing itself, bounded nesting.
    void check_struct(flatbuffers::uoffset_t index, int depth) {
        const auto& object = *objects_.Get(index);
        if (seen_[index] == done) return;
        if (seen_[index] == in_progress) {
            fail(fmt::format("struct '{}' contains itself", printable(str(object.name()))));
        }
        if (depth > RecordSchema::max_nesting) {
            fail(fmt::format("structs nest deeper than {} at '{}'", RecordSchema::max_nesting,
                             printable(str(object.name()))));
        }
        seen_[index] = in_progress;
        check_name(object);
        if (object.bytesize() <= 0) {
            fail(fmt::format("struct '{}' has {} bytes", printable(str(object.name())),
                             object.bytesize()));
        }
        const auto bytesize = static_cast<std::uint64_t>(object.bytesize());
        for (const auto* field : *object.fields()) {
            if (!is_identifier(str(field->name()), false)) {
                fail(object, *field, "the name is not an identifier");
            }
            const auto& type = *field->type();
            const auto base = base_type_of(type, reflection::Type::VT_BASE_TYPE);
            const auto element = base_type_of(type, reflection::Type::VT_ELEMENT);
            if (!base || !element) fail(object, *field, "unknown base type");
            reflection::BaseType t = *base;
            std::uint64_t count = 1;
            if (t == reflection::Array) {
                t = *element;
                count = type.fixed_length();
                if (count == 0) fail(object, *field, "an array of no elements");
            }
            std::uint64_t size = 0;
            std::uint64_t align = 0;
            if (is_scalar(t)) {
                check_enum(object, *field, type.index());
                size = align = scalar_bytes(t);
            } else if (t == reflection::Obj) {
                const auto& inner = object_at(object, *field, type.index());
                if (!inner.is_struct()) fail(object, *field, "a table inside a struct");
                check_struct(static_cast<flatbuffers::uoffset_t>(type.index()), depth + 1);
                size = static_cast<std::uint64_t>(inner.bytesize());
                align = static_cast<std::uint64_t>(inner.minalign());  // checked: 1 to 256
            } else {
                fail(object, *field, "a type a struct cannot hold");
            }
            // 16-bit offset, count below 2^16, size below 2^31: no overflow in 64 bits.
            if (field->offset() + size * count > bytesize) {
                fail(object, *field, fmt::format("{} bytes at offset {} pass the struct's end ({})",
                                                 size * count, field->offset(), bytesize));
            }
            // The record verifier aligns a struct to its minalign; the generator reads its
            // fields in place, so each must be aligned within it (as flatc lays them out).
            if (field->offset() % align != 0 || align > static_cast<std::uint64_t>(object.minalign())) {
                fail(object, *field, fmt::format("offset {} is not aligned to {} within a struct "
                                                 "aligned to {}",
                                                 field->offset(), align, object.minalign()));
            }
        }
        seen_[index] = done;
    }

    std::string_view origin_;
    const flatbuffers::Vector<flatbuffers::Offset<reflection::Object>>& objects_;
    const flatbuffers::Vector<flatbuffers::Offset<reflection::Enum>>& enums_;
    std::vector<std::int8_t> seen_;
};

// FlatBuffers prints a NaN or an infinity as a bare nan / inf, which JSON has no word for: as
// the struct decoder does, they become the strings "NaN", "Infinity", "-Infinity". Outside
// strings, the generator's barewords are numbers, true, false and null only.
std::string quote_special_numbers(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
            out += c;
            continue;
        }
        const bool sign = (c == '-' || c == '+');
        const std::size_t word = sign ? i + 1 : i;
        auto at = [&](std::string_view w) { return text.compare(word, w.size(), w) == 0; };
        if (at("nan")) {
            out += "\"NaN\"";
            i = word + 2;
        } else if (at("inf")) {
            out += c == '-' ? "\"-Infinity\"" : "\"Infinity\"";
            i = word + 2 + (at("infinity") ? 5 : 0);
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

TableSchema::TableSchema(std::shared_ptr<const Impl> impl) noexcept : impl_(std::move(impl)) {}

TableSchema TableSchema::load(std::span<const std::uint8_t> binary_schema,
                              std::string_view table_name, std::string_view origin) {
    auto impl = std::make_shared<Impl>();
    impl->schema_bytes = detail::verified_schema_copy(binary_schema, max_schema_bytes, origin);
    impl->schema = reflection::GetSchema(impl->schema_bytes.data());
    const auto root = TableChecker(*impl->schema, origin).check(table_name);
    impl->root = impl->schema->objects()->Get(root);
    impl->name = std::string(table_name);
    const auto fail = [&](const std::string& what) {
        throw Error(ErrorCode::corrupt_schema, std::string(origin),
                    fmt::format("{}: corrupt record schema: {}", origin, what));
    };
    auto& opts = impl->parser.opts;
    opts.strict_json = true;                     // quoted keys: JSON, not FlatBuffers' text
    opts.output_default_scalars_in_json = true;  // a field at its default is shown
    opts.indent_step = -1;                       // one line; the layout is ours (below)
    // A nested_flatbuffer or flexbuffer field is then printed as the byte vector the verifier
    // checked; with these on, the generator would read the bytes inside unverified.
    opts.json_nested_flatbuffers = false;
    opts.json_nested_flexbuffers = false;
    if (!impl->parser.Deserialize(impl->schema_bytes.data(), impl->schema_bytes.size())) {
        fail("FlatBuffers' parser refused it (Parser::Deserialize)");
    }
    if (!impl->parser.SetRootType(impl->name.c_str())) {
        fail(fmt::format("FlatBuffers' parser has no table '{}'", printable(table_name)));
    }
    return TableSchema(std::move(impl));
}

std::string_view TableSchema::table_name() const noexcept { return impl_->name; }

TableJson TableSchema::to_json(std::span<const std::byte> record, JsonLayout layout) const {
    using flatbuffers::soffset_t;  // FLATBUFFERS_MIN_BUFFER_SIZE names them unqualified
    using flatbuffers::uoffset_t;
    TableJson result;
    if (record.size() < FLATBUFFERS_MIN_BUFFER_SIZE || record.size() > FLATBUFFERS_MAX_BUFFER_SIZE) {
        result.status = TableDecode::too_small;
        result.reason = fmt::format("{} bytes cannot be a FlatBuffer", record.size());
        return result;
    }
    // The verifier checks alignment from the record's start and the generator reads scalars in
    // place: an 8-aligned private copy when the caller's bytes are not.
    std::vector<std::uint64_t> aligned;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(record.data());
    if (reinterpret_cast<std::uintptr_t>(bytes) % 8 != 0) {
        aligned.resize((record.size() + 7) / 8);
        std::memcpy(aligned.data(), bytes, record.size());
        bytes = reinterpret_cast<const std::uint8_t*>(aligned.data());
    }
    auto why = detail::verify_table_record(*impl_->schema, *impl_->root, {bytes, record.size()},
                                           {max_depth, max_tables});
    if (!why.empty()) {
        result.status = TableDecode::rejected;
        result.reason = fmt::format("not a valid {}: {}", impl_->name, why);
        return result;
    }
    std::string text;
    if (!flatbuffers::GenerateText(impl_->parser, bytes, &text)) {
        result.status = TableDecode::not_text;
        result.reason = "a string is not valid UTF-8 (FlatBuffers' text generator refused it)";
        return result;
    }
    // Parsed back into our JSON model, so tables and structs share one layout.
    auto json = nlohmann::ordered_json::parse(quote_special_numbers(text), nullptr, false);
    if (json.is_discarded()) {
        result.status = TableDecode::not_text;
        result.reason = "FlatBuffers' text generator made text that is not JSON";
        return result;
    }
    result.text = json.dump(layout == JsonLayout::indented ? 2 : -1);
    return result;
}

}  // namespace shmrec::inspect
