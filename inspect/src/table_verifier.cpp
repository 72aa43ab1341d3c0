// A table record walked through the reflection schema, every byte the text generator will
// read checked first (table_verifier.hpp). Each check follows flatbuffers::Verifier's
// (verifier.h): Verify (a range inside the buffer), VerifyAlignment, VerifyOffset,
// VerifyTableStart, VerifyVectorOrString; the reasons name the field and the positions.
#include "table_verifier.hpp"

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <string_view>

#include "schema_buffer.hpp"

namespace shmrec::inspect::detail {

namespace {

using flatbuffers::soffset_t;
using flatbuffers::uoffset_t;
using flatbuffers::voffset_t;

// The size and alignment a value takes where it is stored: inline in a table or as a vector
// element (strings, vectors and tables are stored as a uoffset).
struct Inline {
    std::uint64_t size;
    std::uint64_t align;
};

class Walk {
  public:
    Walk(const reflection::Schema& schema, std::span<const std::uint8_t> record, TableLimits limits)
        : objects_(*schema.objects()),
          bytes_(record.data()),
          size_(record.size()),
          limits_(limits) {}

    std::string run(const reflection::Object& root) {
        const Where where{};
        // The root uoffset at 0; buffers are at least FLATBUFFERS_MIN_BUFFER_SIZE (8) bytes.
        if (size_ < FLATBUFFERS_MIN_BUFFER_SIZE || size_ >= FLATBUFFERS_MAX_BUFFER_SIZE) {
            fail(where, fmt::format("{} bytes cannot be a FlatBuffer", size_));
        } else if (const auto pos = follow(0, where)) {
            table(*pos, root, where);
        }
        return std::move(reason_);
    }

  private:
    // Where a value was reached from: the root, a field of a table, or an element of a vector
    // field (element >= 0).
    struct Where {
        const reflection::Object* table = nullptr;
        const reflection::Field* field = nullptr;
        std::int64_t element = -1;
    };

    // The first failure ends the walk; its reason is kept. Always false.
    bool fail(const Where& where, std::string what) {
        // Names passed load()'s identifier check: printed as they are.
        if (where.field == nullptr) {
            reason_ = fmt::format("root: {}", what);
        } else {
            reason_ = fmt::format(
                "{}field '{}' (id {}) of {}: {}",
                where.element >= 0 ? fmt::format("element {} of ", where.element) : std::string(),
                str(where.field->name()), where.field->id(), str(where.table->name()), what);
        }
        return false;
    }

    // [pos, pos + len) inside the record (Verifier::Verify), in 64 bits: no sum wraps.
    bool inside(std::uint64_t pos, std::uint64_t len) const {
        return len <= size_ && pos <= size_ - len;
    }

    // Scalars are read by copy: the walk itself makes no misaligned access, whatever it meets.
    template <class T>
    T load(std::uint64_t pos) const {
        T value;
        std::memcpy(&value, bytes_ + pos, sizeof value);
        return flatbuffers::EndianScalar(value);
    }

    std::string past_end() const { return fmt::format("the record's end ({} bytes)", size_); }

    // The uoffset at `pos` (4 bytes there, 4-aligned: checked by the caller) followed
    // (Verifier::VerifyOffset): the position it points at, or nothing.
    std::optional<std::uint64_t> follow(std::uint64_t pos, const Where& where) {
        const auto offset = load<uoffset_t>(pos);
        if (offset == 0) {
            fail(where, fmt::format("offset 0 at {} points at itself", pos));
            return std::nullopt;
        }
        if (offset > static_cast<uoffset_t>(INT32_MAX)) {  // buffers are below 2 GiB
            fail(where, fmt::format("offset {} at {} is 2 GiB or more", offset, pos));
            return std::nullopt;
        }
        if (!inside(pos + offset, 1)) {
            fail(where, fmt::format("offset {} at {} points to {}, past {}", offset, pos,
                                    pos + offset, past_end()));
            return std::nullopt;
        }
        return pos + offset;
    }

    Inline inline_of(reflection::BaseType t, std::int32_t index) const {
        if (is_scalar(t)) return {scalar_bytes(t), scalar_bytes(t)};
        if (is_struct(t, index)) {
            // load(): bytesize > 0, minalign a power of two up to 256.
            const auto& object = object_at(index);
            return {static_cast<std::uint64_t>(object.bytesize()),
                    static_cast<std::uint64_t>(object.minalign())};
        }
        return {sizeof(uoffset_t), sizeof(uoffset_t)};
    }

    // load() checked every index the root table reaches.
    const reflection::Object& object_at(std::int32_t index) const {
        return *objects_.Get(static_cast<uoffset_t>(index));
    }

    bool is_struct(reflection::BaseType t, std::int32_t index) const {
        return t == reflection::Obj && object_at(index).is_struct();
    }

    // Verifier::VerifyTableStart and the object's fields; depth and count bounded.
    bool table(std::uint64_t pos, const reflection::Object& object, const Where& where) {
        const auto bad = [&](const std::string& what) {
            return fail(where, fmt::format("table {} at {}: {}", str(object.name()), pos, what));
        };
        if (++tables_ > limits_.max_tables) {
            return bad(fmt::format("more than {} tables in the record", limits_.max_tables));
        }
        if (depth_ + 1 > limits_.max_depth) {
            return bad(fmt::format("tables nest deeper than {}", limits_.max_depth));
        }
        if (pos % sizeof(soffset_t) != 0) return bad("not 4-aligned");
        if (!inside(pos, sizeof(soffset_t))) return bad("its vtable offset passes " + past_end());
        // The vtable lies before or after the table: signed, in 64 bits.
        const auto soffset = load<soffset_t>(pos);
        const auto vtable = static_cast<std::int64_t>(pos) - soffset;
        if (vtable < 0 || !inside(static_cast<std::uint64_t>(vtable), sizeof(voffset_t))) {
            return bad(
                fmt::format("vtable offset {} puts the vtable at {}, outside the record "
                            "({} bytes)",
                            soffset, vtable, size_));
        }
        const auto vt = static_cast<std::uint64_t>(vtable);
        if (vt % sizeof(voffset_t) != 0)
            return bad(fmt::format("vtable at {} is not 2-aligned", vt));
        const auto vsize = load<voffset_t>(vt);
        if (vsize % 2 != 0) return bad(fmt::format("vtable size {} is odd", vsize));
        // Its own size and the table's: what every vtable the builder makes holds.
        if (vsize < 2 * sizeof(voffset_t)) {
            return bad(fmt::format("vtable size {} is below 4", vsize));
        }
        if (!inside(vt, vsize)) {
            return bad(fmt::format("vtable of {} bytes at {} passes {}", vsize, vt, past_end()));
        }
        const auto tsize = load<voffset_t>(vt + sizeof(voffset_t));
        if (tsize < sizeof(soffset_t)) return bad(fmt::format("table size {} is below 4", tsize));
        if (!inside(pos, tsize)) {
            return bad(fmt::format("its {} bytes pass {}", tsize, past_end()));
        }
        ++depth_;
        for (const auto* field : *object.fields()) {
            // load(): slots even and at least 4, so a slot below the vtable's size is inside it.
            const voffset_t slot = field->offset();
            const voffset_t at = slot < vsize ? load<voffset_t>(vt + slot) : 0;
            if (!field_at(pos, at, tsize, object, *field)) return false;
        }
        --depth_;
        return true;
    }

    // One field of the table at `start`, `at` bytes into it (0: absent).
    bool field_at(std::uint64_t start, voffset_t at, voffset_t tsize,
                  const reflection::Object& object, const reflection::Field& field) {
        const Where where{&object, &field};
        if (at == 0) return !field.required() || fail(where, "required, but absent");
        // load() checked the base types of every field the root table reaches.
        const auto& type = *field.type();
        const auto base = type.base_type();
        const Inline stored = inline_of(base, type.index());
        if (at < sizeof(soffset_t)) {
            return fail(where, fmt::format("at offset {}, over the table's vtable offset", at));
        }
        if (at + stored.size > tsize) {
            return fail(where, fmt::format("{} bytes at offset {} pass the table's end ({} bytes)",
                                           stored.size, at, tsize));
        }
        const auto pos = start + at;
        if (pos % stored.align != 0) {
            return fail(where, fmt::format("at {} is not {}-aligned", pos, stored.align));
        }
        if (is_scalar(base) || is_struct(base, type.index())) return true;  // all inline
        const auto target = follow(pos, where);
        if (!target) return false;
        switch (base) {
            case reflection::String:
                return string(*target, where);
            case reflection::Vector:
                return vector(*target, type, where);
            default:
                return table(*target, object_at(type.index()), where);  // Obj: a table
        }
    }

    // Verifier::VerifyString: the length, the bytes and the terminating 0 inside the record.
    bool string(std::uint64_t pos, const Where& where) {
        if (pos % sizeof(uoffset_t) != 0) {
            return fail(where, fmt::format("string at {} is not 4-aligned", pos));
        }
        if (!inside(pos, sizeof(uoffset_t))) {
            return fail(where, fmt::format("string at {}: its length passes {}", pos, past_end()));
        }
        const std::uint64_t length = load<uoffset_t>(pos);
        const auto end = pos + sizeof(uoffset_t) + length;
        if (!inside(end, 1)) {
            return fail(where, fmt::format("string of {} bytes at {} runs past {}", length, pos,
                                           past_end()));
        }
        if (bytes_[end] != 0) {
            return fail(where, fmt::format("string of {} bytes at {} has no terminating 0 (byte "
                                           "{} is {})",
                                           length, pos, end, bytes_[end]));
        }
        return true;
    }

    // Verifier::VerifyVectorOrString, then each string or table element.
    bool vector(std::uint64_t pos, const reflection::Type& type, const Where& where) {
        const auto element = type.element();
        const Inline stored = inline_of(element, type.index());
        const auto kind = [&](std::uint64_t count) {
            const auto noun =
                element == reflection::String ? std::string("strings")
                : element == reflection::Obj
                    ? fmt::format("{} {}", str(object_at(type.index()).name()),
                                  object_at(type.index()).is_struct() ? "structs" : "tables")
                    : fmt::format("{} values", type_name(element));
            return fmt::format("vector of {} {} ({} bytes each) at {}", count, noun, stored.size,
                               pos);
        };
        if (pos % sizeof(uoffset_t) != 0) {
            return fail(where, fmt::format("vector at {} is not 4-aligned", pos));
        }
        if (!inside(pos, sizeof(uoffset_t))) {
            return fail(where, fmt::format("vector at {}: its length passes {}", pos, past_end()));
        }
        // Below 2^32 elements of below 2^31 bytes: the product fits in 64 bits.
        const std::uint64_t count = load<uoffset_t>(pos);
        const auto data = pos + sizeof(uoffset_t);
        if (!inside(data, count * stored.size)) {
            return fail(where, fmt::format("{} runs past {}", kind(count), past_end()));
        }
        if (count > 0 && data % stored.align != 0) {
            return fail(where, fmt::format("{}: the elements at {} are not {}-aligned", kind(count),
                                           data, stored.align));
        }
        if (is_scalar(element) || is_struct(element, type.index())) return true;
        for (std::uint64_t i = 0; i < count; ++i) {
            const Where at{where.table, where.field, static_cast<std::int64_t>(i)};
            const auto target = follow(data + i * stored.size, at);
            if (!target) return false;
            const bool ok = element == reflection::String
                                ? string(*target, at)
                                : table(*target, object_at(type.index()), at);
            if (!ok) return false;
        }
        return true;
    }

    const flatbuffers::Vector<flatbuffers::Offset<reflection::Object>>& objects_;
    const std::uint8_t* bytes_;
    std::uint64_t size_;
    TableLimits limits_;
    std::uint32_t depth_ = 0;
    std::uint32_t tables_ = 0;
    std::string reason_;
};

}  // namespace

std::string verify_table_record(const reflection::Schema& schema, const reflection::Object& root,
                                std::span<const std::uint8_t> record, TableLimits limits) {
    return Walk(schema, record, limits).run(root);
}

}  // namespace shmrec::inspect::detail
