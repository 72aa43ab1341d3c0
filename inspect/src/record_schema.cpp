// RecordSchema::load(): an untrusted binary schema -> a decode plan (decode_plan.hpp).
//
// Checked in layers, each failure a corrupt_schema naming the origin, the struct and the field:
// size bound -> private copy -> FlatBuffers verifier (every offset, string and vector in
// bounds) -> the record is a struct of the announced size -> every field a type shmrec
// decodes, inside its struct and not overlapping another field, enums and nested structs by
// valid index, no struct containing itself, bounded nesting, no struct decoding to more values
// than it has bytes (so to_json() is linear in the record). Nothing of the buffer is kept.
#include "shmrec/inspect/record_schema.hpp"

#include <flatbuffers/reflection_generated.h>
#include <flatbuffers/verifier.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "decode_plan.hpp"
#include "schema_buffer.hpp"
#include "shmrec/error.hpp"
#include "utf8.hpp"

namespace shmrec::inspect {

namespace detail {

std::uint32_t scalar_size(Scalar s) noexcept {
    switch (s) {
        case Scalar::boolean:
        case Scalar::i8:
        case Scalar::u8:
            return 1;
        case Scalar::i16:
        case Scalar::u16:
            return 2;
        case Scalar::i32:
        case Scalar::u32:
        case Scalar::f32:
            return 4;
        case Scalar::i64:
        case Scalar::u64:
        case Scalar::f64:
            return 8;
    }
    return 0;
}

}  // namespace detail

namespace {

using detail::DecodePlan;
using detail::EnumPlan;
using detail::FieldPlan;
using detail::printable;
using detail::Scalar;
using detail::Shape;
using detail::StructPlan;


std::optional<Scalar> scalar_of(reflection::BaseType type) {
    switch (type) {
        case reflection::Bool:
            return Scalar::boolean;
        case reflection::Byte:
            return Scalar::i8;
        case reflection::UByte:
            return Scalar::u8;
        case reflection::Short:
            return Scalar::i16;
        case reflection::UShort:
            return Scalar::u16;
        case reflection::Int:
            return Scalar::i32;
        case reflection::UInt:
            return Scalar::u32;
        case reflection::Long:
            return Scalar::i64;
        case reflection::ULong:
            return Scalar::u64;
        case reflection::Float:
            return Scalar::f32;
        case reflection::Double:
            return Scalar::f64;
        default:
            return std::nullopt;
    }
}

bool is_integer(Scalar s) {
    return s != Scalar::boolean && s != Scalar::f32 && s != Scalar::f64;
}

using detail::base_type_of;
using detail::raw_base_type;
using detail::str;
using detail::type_name;

bool has_attribute(const flatbuffers::Vector<flatbuffers::Offset<reflection::KeyValue>>* attributes,
                   std::string_view key) {
    if (attributes == nullptr) return false;
    return std::any_of(attributes->begin(), attributes->end(),
                       [&](const reflection::KeyValue* kv) { return str(kv->key()) == key; });
}

class PlanBuilder {
  public:
    PlanBuilder(const reflection::Schema& schema, std::string_view origin)
        : origin_(origin),
          objects_(*schema.objects()),
          enums_(*schema.enums()),
          struct_slots_(objects_.size(), unvisited),
          enum_slots_(enums_.size(), unvisited) {}

    DecodePlan build(std::string_view record_name, std::uint32_t record_size) {
        const auto found = std::find_if(objects_.begin(), objects_.end(), [&](const auto* o) {
            return str(o->name()) == record_name;
        });
        if (found == objects_.end()) {
            fail(fmt::format("no type named '{}' among its {} types", printable(record_name),
                             objects_.size()));
        }
        const auto& record = **found;
        if (!record.is_struct()) {
            fail(fmt::format("'{}' is a table, not a struct: shmrec records are fixed-size structs",
                             printable(record_name)));
        }
        if (record.bytesize() < 0 || static_cast<std::uint32_t>(record.bytesize()) != record_size) {
            fail(fmt::format("struct '{}' is {} bytes in the schema, the record is {} bytes",
                             printable(record_name), record.bytesize(), record_size));
        }
        add_struct(static_cast<flatbuffers::uoffset_t>(found - objects_.begin()), 0, nullptr, {});
        return std::move(plan_);
    }

  private:
    static constexpr std::int64_t unvisited = -1;
    static constexpr std::int64_t in_progress = -2;

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorCode::corrupt_schema, std::string(origin_),
                    fmt::format("{}: corrupt record schema: {}", origin_, what));
    }
    [[noreturn]] void fail(const reflection::Object& object, std::string_view field,
                           const std::string& what) const {
        fail(fmt::format("struct '{}', field '{}': {}", printable(str(object.name())),
                         printable(field), what));
    }

    // Names the field of `parent` being planned, or only the origin for the record itself.
    [[noreturn]] void fail(const reflection::Object* parent, std::string_view field,
                           const std::string& what) const {
        if (parent == nullptr) fail(what);
        fail(*parent, field, what);
    }

    // The plan index of objects()[index], a struct reached `depth` levels below the record
    // through `via` field of `parent` (nullptr for the record).
    std::uint32_t add_struct(flatbuffers::uoffset_t index, int depth,
                             const reflection::Object* parent, std::string_view via) {
        const auto& object = *objects_.Get(index);
        const auto name = str(object.name());
        if (struct_slots_[index] == in_progress) {
            fail(parent, via, fmt::format("struct '{}' contains itself", printable(name)));
        }
        // Bounds this recursion too (a chain of distinct structs is not a cycle), and a struct
        // planned before counts with everything nested below it.
        const auto below = struct_slots_[index] >= 0
                               ? heights_[static_cast<std::size_t>(struct_slots_[index])]
                               : 0;
        if (depth + below > RecordSchema::max_nesting) {
            fail(parent, via,
                 fmt::format("struct '{}' is nested more than {} structs deep", printable(name),
                             RecordSchema::max_nesting));
        }
        if (struct_slots_[index] >= 0) return static_cast<std::uint32_t>(struct_slots_[index]);
        if (!detail::is_utf8(name))
            fail(fmt::format("struct name '{}' is not UTF-8", printable(name)));
        if (object.bytesize() <= 0) {
            fail(fmt::format("struct '{}' has size {}", printable(name), object.bytesize()));
        }
        // The slot is taken before the fields are planned, so the record is structs[0].
        const auto slot = static_cast<std::uint32_t>(plan_.structs.size());
        plan_.structs.push_back(
            {std::string(name), static_cast<std::uint32_t>(object.bytesize()), {}});
        heights_.push_back(0);
        values_.push_back(0);
        struct_slots_[index] = in_progress;

        // fields() is sorted by name; id() is the declaration order, the order JSON shows.
        std::vector<const reflection::Field*> fields(object.fields()->begin(),
                                                     object.fields()->end());
        std::stable_sort(fields.begin(), fields.end(),
                         [](const auto* a, const auto* b) { return a->id() < b->id(); });
        std::vector<FieldPlan> planned;
        std::set<std::string_view> names;
        int height = 0;
        for (const auto* field : fields) {
            if (!names.insert(str(field->name())).second)
                fail(object, str(field->name()), "declared twice");
            planned.push_back(plan_field(object, *field, depth));
            if (planned.back().shape == Shape::structure) {
                height = std::max(height, 1 + heights_[planned.back().ref]);
            }
        }
        refuse_overlaps(object, planned);
        values_[slot] = count_values(object, planned);
        plan_.structs[slot].fields = std::move(planned);
        heights_[slot] = height;
        struct_slots_[index] = slot;
        return slot;
    }

    static std::uint64_t extent_of(const FieldPlan& field) noexcept {
        return std::uint64_t{field.element_size} * std::max<std::uint32_t>(field.length, 1);
    }

    // Fields sorted by offset must not overlap (padding between them is fine): flatc never
    // makes overlapping fields, and fields sharing bytes would let a small record stand for
    // a DAG of structs that to_json() unfolds into a tree (C10: two 8-byte fields at offset
    // 0, each a struct of two such fields, 32 levels deep: 2^32 values from 8 bytes).
    void refuse_overlaps(const reflection::Object& object,
                         const std::vector<FieldPlan>& fields) const {
        std::vector<const FieldPlan*> by_offset;
        by_offset.reserve(fields.size());
        for (const auto& field : fields) by_offset.push_back(&field);
        std::stable_sort(by_offset.begin(), by_offset.end(),
                         [](const auto* a, const auto* b) { return a->offset < b->offset; });
        // Failing at the first overlap, the fields before it are disjoint and sorted: only
        // the previous one can reach into the next.
        for (std::size_t i = 1; i < by_offset.size(); ++i) {
            const auto& before = *by_offset[i - 1];
            const auto& after = *by_offset[i];
            if (before.offset + extent_of(before) > after.offset) {
                fail(fmt::format(
                    "struct '{}': fields '{}' ({} bytes at offset {}) and '{}' ({} "
                    "bytes at offset {}) overlap",
                    printable(str(object.name())), printable(before.name), extent_of(before),
                    before.offset, printable(after.name), extent_of(after), after.offset));
            }
        }
    }

    // How many values to_json() makes of one such struct: scalars, enums and text bytes, and
    // a struct without fields as one. A second bound, independent of refuse_overlaps(): with
    // disjoint fields every such value has a byte of its own, so a valid schema never counts
    // more values than bytes, and this refuses any schema that does. Every JSON object and
    // array lies on the path from the record to one of these values, a path of at most
    // 2 * (max_nesting + 1) containers, so to_json() of a record makes O(record_size) values
    // (each value's text bounded by the longest name in the schema): its time and memory
    // are linear in the record, whatever the schema says.
    std::uint64_t count_values(const reflection::Object& object,
                               const std::vector<FieldPlan>& fields) const {
        const auto size = static_cast<std::uint64_t>(object.bytesize());
        std::uint64_t total = 0;
        for (const auto& field : fields) {
            // Each term is at most 65535 * 2^31 and total at most 2^31 before adding it:
            // no overflow, because the sum is checked after every term.
            const std::uint64_t each =
                field.shape == Shape::structure ? values_[field.ref] : std::uint64_t{1};
            total += std::uint64_t{std::max<std::uint32_t>(field.length, 1)} * each;
            if (total > size) {
                fail(object, field.name,
                     fmt::format("the struct's {} bytes would decode into more than {} "
                                 "values: its fields share bytes",
                                 size, size));
            }
        }
        return std::max<std::uint64_t>(total, 1);
    }

    FieldPlan plan_field(const reflection::Object& object, const reflection::Field& field,
                         int depth) {
        FieldPlan plan;
        plan.name = std::string(str(field.name()));
        if (plan.name.empty() || !detail::is_utf8(plan.name))
            fail(object, plan.name, "the name is empty or not UTF-8");
        if (plan.name.size() > RecordSchema::max_name_bytes) {
            fail(object, plan.name.substr(0, 32) + "...",
                 fmt::format("the name is {} bytes long (at most {})", plan.name.size(),
                             RecordSchema::max_name_bytes));
        }
        plan.offset = field.offset();
        const auto& type = *field.type();
        const auto base = known_base_type(object, plan.name, type, reflection::Type::VT_BASE_TYPE);
        std::uint64_t extent = 0;
        if (base == reflection::Array) {
            if (type.fixed_length() == 0) fail(object, plan.name, "a fixed array of length 0");
            const auto element =
                known_base_type(object, plan.name, type, reflection::Type::VT_ELEMENT);
            plan_value(plan, object, element, type.index(), depth);
            plan.length = type.fixed_length();
            extent = std::uint64_t{plan.element_size} * plan.length;
        } else {
            plan_value(plan, object, base, type.index(), depth);
            extent = plan.element_size;
        }
        if (plan.offset + extent > static_cast<std::uint64_t>(object.bytesize())) {
            fail(object, plan.name,
                 fmt::format("{} bytes at offset {} end past the struct's {} bytes", extent,
                             plan.offset, object.bytesize()));
        }
        if (has_attribute(field.attributes(), "shmrec_text")) {
            if (plan.length == 0 || plan.shape != Shape::scalar ||
                (plan.scalar != Scalar::u8 && plan.scalar != Scalar::i8)) {
                fail(object, plan.name, "(shmrec_text) marks only [ubyte:N] and [byte:N] fields");
            }
            plan.text = true;
        }
        return plan;
    }

    reflection::BaseType known_base_type(const reflection::Object& object, std::string_view field,
                                         const reflection::Type& type,
                                         flatbuffers::voffset_t slot) const {
        const auto base = base_type_of(type, slot);
        if (!base)
            fail(object, field, fmt::format("unknown base type {}", raw_base_type(type, slot)));
        return *base;
    }

    // One value of type (base, index): the field itself, or one element of a fixed array.
    void plan_value(FieldPlan& plan, const reflection::Object& object, reflection::BaseType base,
                    std::int32_t index, int depth) {
        if (base == reflection::Obj) {
            if (index < 0 || static_cast<flatbuffers::uoffset_t>(index) >= objects_.size()) {
                fail(object, plan.name,
                     fmt::format("struct index {} is not among the {} types", index,
                                 objects_.size()));
            }
            const auto& nested = *objects_.Get(static_cast<flatbuffers::uoffset_t>(index));
            if (!nested.is_struct()) {
                fail(object, plan.name,
                     fmt::format("'{}' is a table: records nest only structs",
                                 printable(str(nested.name()))));
            }
            plan.shape = Shape::structure;
            plan.ref = add_struct(static_cast<flatbuffers::uoffset_t>(index), depth + 1, &object,
                                  plan.name);
            plan.element_size = plan_.structs[plan.ref].size;
            return;
        }
        const auto scalar = scalar_of(base);
        if (!scalar) {
            fail(object, plan.name,
                 fmt::format("type '{}': records hold only scalars, enums, "
                             "structs and fixed arrays of them",
                             type_name(base)));
        }
        plan.scalar = *scalar;
        plan.element_size = detail::scalar_size(*scalar);
        if (index < 0) return;  // a plain scalar
        if (static_cast<flatbuffers::uoffset_t>(index) >= enums_.size()) {
            fail(object, plan.name,
                 fmt::format("enum index {} is not among the {} enums", index, enums_.size()));
        }
        const auto& enumeration = *enums_.Get(static_cast<flatbuffers::uoffset_t>(index));
        const auto underlying =
            base_type_of(*enumeration.underlying_type(), reflection::Type::VT_BASE_TYPE);
        if (enumeration.is_union() || !is_integer(*scalar) || underlying != base) {
            fail(object, plan.name,
                 fmt::format("{} '{}' has underlying type {}, the field is {}",
                             enumeration.is_union() ? "union" : "enum",
                             printable(str(enumeration.name())),
                             underlying ? type_name(*underlying) : "unknown", type_name(base)));
        }
        plan.shape = Shape::enumeration;
        plan.ref = add_enum(object, plan.name, static_cast<flatbuffers::uoffset_t>(index));
    }

    std::uint32_t add_enum(const reflection::Object& object, std::string_view field,
                           flatbuffers::uoffset_t index) {
        if (enum_slots_[index] >= 0) return static_cast<std::uint32_t>(enum_slots_[index]);
        const auto& enumeration = *enums_.Get(index);
        EnumPlan plan;
        plan.bit_flags = has_attribute(enumeration.attributes(), "bit_flags");
        for (const auto* value : *enumeration.values()) {
            const auto name = str(value->name());
            if (name.empty() || !detail::is_utf8(name) ||
                name.size() > RecordSchema::max_name_bytes) {
                fail(object, field,
                     fmt::format("enum '{}' has a value name that is empty, not UTF-8 or longer "
                                 "than {} bytes",
                                 printable(str(enumeration.name())), RecordSchema::max_name_bytes));
            }
            plan.values.emplace_back(value->value(), std::string(name));
        }
        // Sorted here, not trusted sorted: to_json looks values up by binary search.
        std::stable_sort(plan.values.begin(), plan.values.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        const auto slot = static_cast<std::uint32_t>(plan_.enums.size());
        plan_.enums.push_back(std::move(plan));
        enum_slots_[index] = slot;
        return slot;
    }

    std::string_view origin_;
    const flatbuffers::Vector<flatbuffers::Offset<reflection::Object>>& objects_;
    const flatbuffers::Vector<flatbuffers::Offset<reflection::Enum>>& enums_;
    DecodePlan plan_;
    std::vector<std::int64_t> struct_slots_;  // per objects() index: a plan index or a state
    std::vector<std::int64_t> enum_slots_;    // per enums() index: a plan index or unvisited
    std::vector<int> heights_;                // per plan struct: levels of structs below it
    std::vector<std::uint64_t> values_;       // per plan struct: count_values(), <= its size
};

}  // namespace

RecordSchema::RecordSchema(std::shared_ptr<const detail::DecodePlan> plan) noexcept
    : plan_(std::move(plan)) {}

RecordSchema RecordSchema::load(std::span<const std::uint8_t> binary_schema,
                                std::string_view record_name, std::uint32_t record_size,
                                std::string_view origin) {
    const std::vector<std::uint8_t> bytes =
        detail::verified_schema_copy(binary_schema, max_schema_bytes, origin);
    PlanBuilder builder(*reflection::GetSchema(bytes.data()), origin);
    return RecordSchema(
        std::make_shared<const DecodePlan>(builder.build(record_name, record_size)));
}

std::string_view RecordSchema::record_name() const noexcept {
    return plan_->structs.front().name;
}

std::uint32_t RecordSchema::record_size() const noexcept {
    return plan_->structs.front().size;
}

}  // namespace shmrec::inspect
