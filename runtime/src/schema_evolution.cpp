// Schema comparison (docs/schema-evolution.md). Two stages:
//  1. SchemaVerifier checks, in a private copy, exactly the tables and fields stage 2 reads.
//  2. Comparer walks the types reachable from the root in both schemas as pairs (a work list
//     and a visited set), reporting what one side reads differently from the other.
#include "schema_evolution.hpp"

#include <flatbuffers/reflection_generated.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace shmrec::detail {

namespace {

namespace fb = flatbuffers;
namespace rf = reflection;

// ---------------------------------------------------------------------------------------------
// Stage 1: verification.
//
// Not reflection::VerifySchemaBuffer: the generated verifier visits a table once per offset
// that points at it, so a 1 MiB hostile schema whose object vector points 4000 times at one
// object with a 250 000-string documentation vector takes seconds (24 s at the inspector's
// limits, measured), and max_tables cannot bound it without refusing large honest schemas.
// Here each table is verified once (keyed by address and type: a hostile buffer may make one
// address look like two kinds of table), only the fields read later are checked, and the
// documentation, attributes, services and file lists, never read, are never walked. The work
// is linear in the buffer size.

enum class TableKind { schema, object, field, type, enumeration, enum_value };

class SchemaVerifier {
  public:
    SchemaVerifier(const std::uint8_t* buf, std::size_t size)
        : buf_(buf), size_(size), verifier_(buf, size, options(size)) {}

    // The root reflection::Schema, or null (and why()) when any part read later is invalid.
    const rf::Schema* verify() {
        if (size_ < 2 * sizeof(fb::uoffset_t)) return failed("shorter than 8 bytes");
        if (!fb::BufferHasIdentifier(buf_, rf::SchemaIdentifier())) {
            return failed("no 'BFBS' file identifier");
        }
        const auto root = verifier_.VerifyOffset(0);
        if (root == 0) return failed("the root offset leads out of the buffer");
        const auto* schema = reinterpret_cast<const rf::Schema*>(buf_ + root);
        if (!schema_table(schema)) return nullptr;
        return schema;
    }

    const std::string& why() const { return why_; }

  private:
    static fb::Verifier::Options options(std::size_t size) {
        fb::Verifier::Options o;
        // Schema > Object > Field > Type and Schema > Enum > EnumVal > Type: 4 deep.
        o.max_depth = 8;
        // Each table is verified once, and a table takes at least 4 bytes.
        o.max_tables = static_cast<fb::uoffset_t>(size / 4 + 1);
        return o;
    }

    std::nullptr_t failed(std::string what) {
        if (why_.empty()) why_ = std::move(what);
        return nullptr;
    }
    bool fail(std::string what) {
        failed(std::move(what));
        return false;
    }

    template <class T>
    static const fb::Table& table_of(const T* t) {
        // The reflection types derive privately from fb::Table and add no data: FlatBuffers'
        // own reflection.cpp reads them through Table the same way.
        return *reinterpret_cast<const fb::Table*>(t);
    }

    // False when this table was verified as this kind before (then it need not be again).
    bool first_visit(const void* t, TableKind kind) { return visited_.emplace(t, kind).second; }

    // The table's own fields (its vtable and the fields `fields` checks), once per table and
    // kind; the tables it leads to are the caller's.
    template <class F>
    bool table(const void* t, const char* what, F&& fields) {
        const auto& tb = *static_cast<const fb::Table*>(t);
        if (!tb.VerifyTableStart(verifier_) || !fields(tb)) {
            return fail(fmt::format("a {} table at byte {} is invalid", what,
                                    static_cast<const std::uint8_t*>(t) - buf_));
        }
        verifier_.EndTable();
        return true;
    }

    // A vector of tables: the vector itself, then each element's offset (checked before a
    // pointer is formed from it), then each table through `each`.
    template <class T, class F>
    bool table_vector(const fb::Vector<fb::Offset<T>>* v, F&& each) {
        if (v == nullptr) return true;
        if (!verifier_.VerifyVector(v)) return fail("a vector leads out of the buffer");
        const auto first = static_cast<std::size_t>(v->Data() - buf_);
        for (fb::uoffset_t i = 0; i < v->size(); ++i) {
            const auto at = first + i * sizeof(fb::uoffset_t);
            const auto o = verifier_.VerifyOffset(at);
            if (o == 0)
                return fail(fmt::format("an offset at byte {} leads out of the buffer", at));
            if (!each(reinterpret_cast<const T*>(buf_ + at + o))) return false;
        }
        return true;
    }

    bool schema_table(const rf::Schema* s) {
        using S = rf::Schema;
        if (!first_visit(s, TableKind::schema)) return true;
        const bool own = table(s, "Schema", [&](const fb::Table& t) {
            return t.VerifyOffsetRequired(verifier_, S::VT_OBJECTS) &&
                   t.VerifyOffsetRequired(verifier_, S::VT_ENUMS);
        });
        return own && table_vector(s->objects(), [&](const rf::Object* o) { return object(o); }) &&
               table_vector(s->enums(), [&](const rf::Enum* e) { return enumeration(e); });
    }

    bool object(const rf::Object* o) {
        using O = rf::Object;
        if (!first_visit(o, TableKind::object)) return true;
        const bool own = table(o, "Object", [&](const fb::Table& t) {
            return t.VerifyOffsetRequired(verifier_, O::VT_NAME) &&
                   verifier_.VerifyString(o->name()) &&
                   t.VerifyOffsetRequired(verifier_, O::VT_FIELDS) &&
                   t.VerifyField<std::uint8_t>(verifier_, O::VT_IS_STRUCT, 1) &&
                   t.VerifyField<std::int32_t>(verifier_, O::VT_MINALIGN, 4) &&
                   t.VerifyField<std::int32_t>(verifier_, O::VT_BYTESIZE, 4);
        });
        return own && table_vector(o->fields(), [&](const rf::Field* f) { return field(f); });
    }

    bool field(const rf::Field* f) {
        using F = rf::Field;
        if (!first_visit(f, TableKind::field)) return true;
        const bool own = table(f, "Field", [&](const fb::Table& t) {
            return t.VerifyOffsetRequired(verifier_, F::VT_NAME) &&
                   verifier_.VerifyString(f->name()) &&
                   t.VerifyOffsetRequired(verifier_, F::VT_TYPE) &&
                   t.VerifyField<std::uint16_t>(verifier_, F::VT_ID, 2) &&
                   t.VerifyField<std::uint16_t>(verifier_, F::VT_OFFSET, 2) &&
                   t.VerifyField<std::int64_t>(verifier_, F::VT_DEFAULT_INTEGER, 8) &&
                   t.VerifyField<double>(verifier_, F::VT_DEFAULT_REAL, 8) &&
                   t.VerifyField<std::uint8_t>(verifier_, F::VT_DEPRECATED, 1) &&
                   t.VerifyField<std::uint8_t>(verifier_, F::VT_REQUIRED, 1) &&
                   t.VerifyField<std::uint8_t>(verifier_, F::VT_OPTIONAL, 1);
        });
        return own && type(f->type());
    }

    bool type(const rf::Type* ty) {
        using T = rf::Type;
        if (!first_visit(ty, TableKind::type)) return true;
        return table(ty, "Type", [&](const fb::Table& t) {
            // The base types must be values of reflection::BaseType before any accessor turns
            // them into one (an out-of-range enum value is undefined behaviour).
            const auto known = [&](fb::voffset_t field) {
                const std::int8_t v = t.GetField<std::int8_t>(field, 0);
                return v >= 0 && v < rf::MaxBaseType;
            };
            return t.VerifyField<std::int8_t>(verifier_, T::VT_BASE_TYPE, 1) &&
                   t.VerifyField<std::int8_t>(verifier_, T::VT_ELEMENT, 1) &&
                   t.VerifyField<std::int32_t>(verifier_, T::VT_INDEX, 4) &&
                   t.VerifyField<std::uint16_t>(verifier_, T::VT_FIXED_LENGTH, 2) &&
                   known(T::VT_BASE_TYPE) && known(T::VT_ELEMENT);
        });
    }

    bool enumeration(const rf::Enum* e) {
        using E = rf::Enum;
        if (!first_visit(e, TableKind::enumeration)) return true;
        const bool own = table(e, "Enum", [&](const fb::Table& t) {
            return t.VerifyOffsetRequired(verifier_, E::VT_NAME) &&
                   verifier_.VerifyString(e->name()) &&
                   t.VerifyOffsetRequired(verifier_, E::VT_VALUES) &&
                   t.VerifyField<std::uint8_t>(verifier_, E::VT_IS_UNION, 1) &&
                   t.VerifyOffsetRequired(verifier_, E::VT_UNDERLYING_TYPE);
        });
        return own && type(e->underlying_type()) &&
               table_vector(e->values(), [&](const rf::EnumVal* v) { return enum_value(v); });
    }

    bool enum_value(const rf::EnumVal* v) {
        using V = rf::EnumVal;
        if (!first_visit(v, TableKind::enum_value)) return true;
        const bool own = table(v, "EnumVal", [&](const fb::Table& t) {
            return t.VerifyOffsetRequired(verifier_, V::VT_NAME) &&
                   verifier_.VerifyString(v->name()) &&
                   t.VerifyField<std::int64_t>(verifier_, V::VT_VALUE, 8) &&
                   t.VerifyOffset(verifier_, V::VT_UNION_TYPE);
        });
        return own && (v->union_type() == nullptr || type(v->union_type()));
    }

    const std::uint8_t* buf_;
    std::size_t size_;
    fb::Verifier verifier_;
    std::set<std::pair<const void*, TableKind>> visited_;
    std::string why_;
};

// A verified private copy of a binary schema. The copy is aligned (the verifier checks
// alignment relative to the buffer start, the accessors read in place) and cannot change
// under the comparison, as shared memory could.
class LoadedSchema {
  public:
    LoadedSchema(std::span<const std::uint8_t> bytes, std::string_view whose) {
        if (bytes.empty()) {
            error_ = fmt::format("{} binary schema is empty", whose);
            return;
        }
        if (bytes.size() > max_compared_schema) {
            error_ = fmt::format("{} binary schema is {} bytes, more than the {} accepted", whose,
                                 bytes.size(), max_compared_schema);
            return;
        }
        bytes_.assign(bytes.begin(), bytes.end());
        SchemaVerifier verifier(bytes_.data(), bytes_.size());
        schema_ = verifier.verify();
        if (schema_ == nullptr) {
            error_ =
                fmt::format("{} binary schema ({} bytes) is not a valid FlatBuffers schema: {}",
                            whose, bytes_.size(), verifier.why());
        }
    }
    LoadedSchema(const LoadedSchema&) = delete;
    LoadedSchema& operator=(const LoadedSchema&) = delete;

    const rf::Schema* schema() const { return schema_; }
    const std::string& error() const { return error_; }

    // The index of the object named `name` (a linear scan: the vector is sorted by name in an
    // honest schema, but a hostile one need not be), or -1.
    int find_object(std::string_view name) const {
        const auto& objects = *schema_->objects();
        for (fb::uoffset_t i = 0; i < objects.size(); ++i) {
            if (objects.Get(i)->name()->string_view() == name) return static_cast<int>(i);
        }
        return -1;
    }

  private:
    std::vector<std::uint8_t> bytes_;
    const rf::Schema* schema_ = nullptr;
    std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Stage 2: comparison.

bool is_scalar(rf::BaseType t) {
    return t >= rf::UType && t <= rf::Double;
}
bool is_real(rf::BaseType t) {
    return t == rf::Float || t == rf::Double;
}

// The schema language's spelling.
std::string_view base_name(rf::BaseType t) {
    switch (t) {
        case rf::None:
            return "none";
        case rf::UType:
            return "union type";
        case rf::Bool:
            return "bool";
        case rf::Byte:
            return "byte";
        case rf::UByte:
            return "ubyte";
        case rf::Short:
            return "short";
        case rf::UShort:
            return "ushort";
        case rf::Int:
            return "int";
        case rf::UInt:
            return "uint";
        case rf::Long:
            return "long";
        case rf::ULong:
            return "ulong";
        case rf::Float:
            return "float";
        case rf::Double:
            return "double";
        case rf::String:
            return "string";
        case rf::Vector:
            return "vector";
        case rf::Obj:
            return "object";
        case rf::Union:
            return "union";
        case rf::Array:
            return "array";
        default:
            return "unknown type";
    }
}

// Scalar defaults are equal, NaN equal to NaN (`= nan` on both sides is no change).
bool same_real(double a, double b) {
    return a == b || (std::isnan(a) && std::isnan(b));
}

enum class Mode {
    evolution,  // check_table_evolution: what a reader reads; names of fields and types free
    exact,      // describe_struct_mismatch: what the layout fingerprint covers, names included
};

// One side's view for the comparison: its schema and how messages call it.
struct Side {
    const rf::Schema* schema;
    const char* whose;  // "the region's" / "this reader's"

    std::size_t objects() const { return schema->objects()->size(); }
    std::size_t enums() const { return schema->enums()->size(); }
    const rf::Object* object(int i) const {
        return schema->objects()->Get(static_cast<fb::uoffset_t>(i));
    }
    const rf::Enum* enumeration(int i) const {
        return schema->enums()->Get(static_cast<fb::uoffset_t>(i));
    }
};

// A plain type or a vector's or array's element: a base type and, for objects, enums and
// unions, the index of the definition.
struct Element {
    rf::BaseType base;
    int index;
};

class Comparer {
  public:
    Comparer(Side there, Side here, Mode mode, std::string own)
        : w_(there), r_(here), mode_(mode), own_(std::move(own)) {}

    // Compares the objects at these (checked) indices and all they reach.
    void run(int w_root, int r_root) {
        enqueue(Pair::object, w_root, r_root, "");
        while (!todo_.empty() && error_.empty()) {
            const Work work = std::move(todo_.front());
            todo_.pop_front();
            if (work.kind == Pair::object) {
                compare_objects(work);
            } else {
                compare_enums(work);
            }
        }
    }

    std::vector<SchemaDifference> differences;
    std::size_t omitted = 0;
    std::vector<SchemaDifference> notes;
    const std::string& error() const { return error_; }

  private:
    enum class Pair { object, enumeration };
    struct Work {
        Pair kind;
        int w, r;
        std::string via;  // the field path that first reached this pair ("" for the root)
    };
    // The type being compared, for messages.
    struct Where {
        std::string type;   // as SchemaDifference::type
        std::string field;  // "field 'grade' (id 3)" or "field 'x' (offset 4)"
        std::string path;   // "school.Enrolment.grade": how the definitions it leads to are reached
    };

    void enqueue(Pair kind, int w, int r, std::string via) {
        if (seen_.emplace(kind, w, r).second) todo_.push_back({kind, w, r, std::move(via)});
    }

    void differ(const std::string& type, std::string text) {
        if (differences.size() < max_reported_differences) {
            differences.push_back({type, std::move(text)});
        } else {
            ++omitted;
        }
    }
    void note(const std::string& type, std::string text) {
        if (notes.size() < max_reported_differences) notes.push_back({type, std::move(text)});
    }

    // Bounds-checks an index read from a schema; false (and the error set) when it is out of
    // range. The reader's schema is checked as well: it is trusted, but a check costs nothing.
    bool index_ok(const Side& side, int index, std::size_t count, const char* what,
                  const Where& at) {
        if (index >= 0 && static_cast<std::size_t>(index) < count) return true;
        error_ = fmt::format("{} schema is corrupt: {} of {} refers to {} #{} of {}", side.whose,
                             at.field, at.type, what, index, count);
        return false;
    }

    // SchemaDifference::type: this side's name, the region's when it differs, and the path.
    static std::string type_label(std::string_view here, std::string_view there,
                                  const std::string& via) {
        std::string label(here);
        if (there != here) label += fmt::format(" ('{}' there)", there);
        if (!via.empty()) label += fmt::format(" (via {})", via);
        return label;
    }

    // How a type reads in a message, in its own side's names.
    std::string describe(const Side& side, Element e) const {
        const auto named = [&](bool object) -> std::string {
            const std::size_t count = object ? side.objects() : side.enums();
            if (e.index < 0 || static_cast<std::size_t>(e.index) >= count) return "?";
            return std::string(object ? side.object(e.index)->name()->string_view()
                                      : side.enumeration(e.index)->name()->string_view());
        };
        if (e.base == rf::Obj) {
            const bool is_struct = e.index >= 0 &&
                                   static_cast<std::size_t>(e.index) < side.objects() &&
                                   side.object(e.index)->is_struct();
            return fmt::format("{} {}", is_struct ? "struct" : "table", named(true));
        }
        if (e.base == rf::Union) return "union " + named(false);
        if (e.base == rf::UType) return "union type of " + named(false);
        if (is_scalar(e.base) && e.index >= 0) {
            return fmt::format("{} (a {} enum)", named(false), base_name(e.base));
        }
        return std::string(base_name(e.base));
    }

    std::string describe(const Side& side, const rf::Type& t) const {
        if (t.base_type() == rf::Vector) {
            return "[" + describe(side, Element{t.element(), t.index()}) + "]";
        }
        if (t.base_type() == rf::Array) {
            return fmt::format("[{}:{}]", describe(side, Element{t.element(), t.index()}),
                               t.fixed_length());
        }
        return describe(side, Element{t.base_type(), t.index()});
    }

    // Whether two elements read alike; queues the pairs of definitions they lead to. A
    // difference is reported by the caller, who knows how to describe the whole type.
    // `reason` gets an explanation when the bare types would not make it clear.
    bool same_element(Element w, Element r, const Where& at, std::string& reason) {
        if (w.base != r.base) return false;
        const bool w_named = w.index >= 0, r_named = r.index >= 0;
        if (is_scalar(w.base) && w.base != rf::UType) {
            if (!w_named && !r_named) return true;
            if (mode_ == Mode::exact) {
                // The fingerprint lists each enum by name and underlying type.
                if (w_named != r_named) return false;
                if (!index_ok(w_, w.index, w_.enums(), "enum", at) ||
                    !index_ok(r_, r.index, r_.enums(), "enum", at)) {
                    return true;  // the error stops the comparison
                }
                return w_.enumeration(w.index)->name()->string_view() ==
                       r_.enumeration(r.index)->name()->string_view();
            }
            if (!r_named) return true;  // an enum there, plain here: any value reads
            if (!w_named) {
                reason = "the writer may send values the enum does not name";
                return false;
            }
            if (index_ok(w_, w.index, w_.enums(), "enum", at) &&
                index_ok(r_, r.index, r_.enums(), "enum", at)) {
                enqueue(Pair::enumeration, w.index, r.index, at.path);
            }
            return true;
        }
        switch (w.base) {
            case rf::String:
                return true;
            case rf::UType:
            case rf::Union: {
                if (!index_ok(w_, w.index, w_.enums(), "union", at) ||
                    !index_ok(r_, r.index, r_.enums(), "union", at)) {
                    return true;
                }
                enqueue(Pair::enumeration, w.index, r.index, at.path);
                return true;
            }
            case rf::Obj: {
                if (!index_ok(w_, w.index, w_.objects(), "object", at) ||
                    !index_ok(r_, r.index, r_.objects(), "object", at)) {
                    return true;
                }
                const auto* wo = w_.object(w.index);
                const auto* ro = r_.object(r.index);
                if (wo->is_struct() != ro->is_struct()) return false;
                if (mode_ == Mode::exact &&
                    wo->name()->string_view() != ro->name()->string_view()) {
                    return false;  // the fingerprint names every nested struct
                }
                enqueue(Pair::object, w.index, r.index, at.path);
                return true;
            }
            default:
                // None, Vector or Array as an element: no honest schema has them.
                reason = fmt::format("{} as an element type", base_name(w.base));
                return false;
        }
    }

    bool same_type(const rf::Type& w, const rf::Type& r, const Where& at, std::string& reason) {
        if (w.base_type() != r.base_type()) return false;
        switch (w.base_type()) {
            case rf::Vector:
                return same_element({w.element(), w.index()}, {r.element(), r.index()}, at, reason);
            case rf::Array:
                return w.fixed_length() == r.fixed_length() &&
                       same_element({w.element(), w.index()}, {r.element(), r.index()}, at, reason);
            default:
                return same_element({w.base_type(), w.index()}, {r.base_type(), r.index()}, at,
                                    reason);
        }
    }

    // Reports a type difference of one field; true when the types agree.
    bool check_type(const rf::Field& wf, const rf::Field& rf_, const Where& at) {
        std::string reason;
        if (same_type(*wf.type(), *rf_.type(), at, reason)) return true;
        if (!error_.empty()) return false;
        differ(at.type, fmt::format("{} is {} there, {} expects {}{}", at.field,
                                    describe(w_, *wf.type()), own_, describe(r_, *rf_.type()),
                                    reason.empty() ? "" : " (" + reason + ")"));
        return false;
    }

    void compare_objects(const Work& work) {
        const auto* wo = w_.object(work.w);
        const auto* ro = r_.object(work.r);
        const std::string type =
            type_label(ro->name()->string_view(), wo->name()->string_view(), work.via);
        if (ro->is_struct()) {
            compare_structs(*wo, *ro, type);
        } else {
            compare_tables(*wo, *ro, type);
        }
    }

    static std::string scalar_default(const rf::Field& f) {
        if (f.optional()) return "null";
        if (is_real(f.type()->base_type())) return fmt::format("{}", f.default_real());
        return fmt::format("{}", f.default_integer());
    }

    void compare_tables(const rf::Object& wo, const rf::Object& ro, const std::string& type) {
        // Fields by id (the vtable slot: what the bytes are keyed by), and W's by name too.
        std::map<std::uint16_t, const rf::Field*> w_by_id;
        std::map<std::string_view, const rf::Field*> w_by_name;
        for (const auto* f : *wo.fields()) {
            if (!w_by_id.emplace(f->id(), f).second) {
                error_ = fmt::format("the region's schema is corrupt: {} has two fields with id {}",
                                     wo.name()->string_view(), f->id());
                return;
            }
            w_by_name.emplace(f->name()->string_view(), f);
        }
        std::vector<const rf::Field*> r_fields(ro.fields()->begin(), ro.fields()->end());
        std::sort(r_fields.begin(), r_fields.end(),
                  [](const rf::Field* a, const rf::Field* b) { return a->id() < b->id(); });
        for (const auto* rfield : r_fields) {
            if (!error_.empty()) return;
            const auto name = rfield->name()->string_view();
            const Where at{type, fmt::format("field '{}' (id {})", name, rfield->id()),
                           fmt::format("{}.{}", ro.name()->string_view(), name)};
            if (rfield->deprecated()) continue;  // this reader never reads it
            // The same name at another id: the writer's bytes for it sit in another slot.
            const auto by_name = w_by_name.find(name);
            if (by_name != w_by_name.end() && by_name->second->id() != rfield->id() &&
                !by_name->second->deprecated()) {
                differ(type, fmt::format("field '{}' has id {} there, {} expects id {} (ids "
                                         "reordered, or a field removed instead of deprecated)",
                                         name, by_name->second->id(), own_, rfield->id()));
            }
            const auto by_id = w_by_id.find(rfield->id());
            if (by_id == w_by_id.end()) {
                // The reader is newer: absent fields read their default...
                if (rfield->required()) {
                    // ...but a required one fails verification of every record.
                    differ(type, fmt::format("{} is required by {} but absent there (no record "
                                             "of the writer's would pass verification)",
                                             at.field, own_));
                }
                continue;
            }
            compare_fields(*by_id->second, *rfield, at);
        }
        // Fields only there: a newer writer's, which this reader skips.
    }

    void compare_fields(const rf::Field& wf, const rf::Field& rfield, const Where& at) {
        const auto& type = at.type;
        if (wf.name()->string_view() != rfield.name()->string_view()) {
            note(type, fmt::format("{} is named '{}' there (a rename: the same bytes)", at.field,
                                   wf.name()->string_view()));
        }
        if (wf.deprecated()) {
            // Never written any more: this reader reads the default.
            if (rfield.required()) {
                differ(type, fmt::format("{} is deprecated there, {} requires it", at.field, own_));
            } else {
                note(type,
                     fmt::format("{} is deprecated there: {} reads its default", at.field, own_));
            }
            return;
        }
        if (!check_type(wf, rfield, at)) return;
        const auto base = rfield.type()->base_type();
        if (is_scalar(base) && base != rf::UType) {
            // A default is not stored: a record without the field reads the reader's default,
            // which must be the one the writer meant. Optional (null) is such a default too.
            const bool same = wf.optional() == rfield.optional() &&
                              (wf.optional() ||
                               (is_real(base) ? same_real(wf.default_real(), rfield.default_real())
                                              : wf.default_integer() == rfield.default_integer()));
            if (!same) {
                differ(type,
                       fmt::format("{} defaults to {} there, {} expects {} (a record "
                                   "without it would read otherwise)",
                                   at.field, scalar_default(wf), own_, scalar_default(rfield)));
            }
        }
        if (rfield.required() && !wf.required()) {
            differ(type, fmt::format("{} is not required there, {} requires it (a record without "
                                     "it would fail verification)",
                                     at.field, own_));
        }
    }

    // Structs are stored inline, so only exactly the same layout reads right: size,
    // alignment and every field's offset and type. Fields are matched by name for the
    // messages; one at the same offset with the same type under another name is a rename.
    void compare_structs(const rf::Object& wo, const rf::Object& ro, const std::string& type) {
        if (wo.bytesize() != ro.bytesize() || wo.minalign() != ro.minalign()) {
            differ(type,
                   fmt::format("{} bytes aligned to {} there, {} expects {} bytes aligned "
                               "to {}",
                               wo.bytesize(), wo.minalign(), own_, ro.bytesize(), ro.minalign()));
        }
        const auto by_offset = [](const rf::Field* a, const rf::Field* b) {
            return a->offset() < b->offset() || (a->offset() == b->offset() && a->id() < b->id());
        };
        std::vector<const rf::Field*> w_fields(wo.fields()->begin(), wo.fields()->end());
        std::vector<const rf::Field*> r_fields(ro.fields()->begin(), ro.fields()->end());
        std::sort(w_fields.begin(), w_fields.end(), by_offset);
        std::sort(r_fields.begin(), r_fields.end(), by_offset);
        std::vector<bool> w_matched(w_fields.size(), false);
        const auto find_w = [&](auto&& pred) -> std::size_t {
            for (std::size_t i = 0; i < w_fields.size(); ++i) {
                if (!w_matched[i] && pred(*w_fields[i])) return i;
            }
            return w_fields.size();
        };
        std::vector<const rf::Field*> r_unmatched;
        for (const auto* rfield : r_fields) {
            const auto name = rfield->name()->string_view();
            const std::size_t i =
                find_w([&](const rf::Field& f) { return f.name()->string_view() == name; });
            if (i == w_fields.size()) {
                r_unmatched.push_back(rfield);
                continue;
            }
            w_matched[i] = true;
            const auto& wf = *w_fields[i];
            const Where at{type, fmt::format("field '{}' (offset {})", name, rfield->offset()),
                           fmt::format("{}.{}", ro.name()->string_view(), name)};
            if (wf.offset() != rfield->offset()) {
                differ(type, fmt::format("field '{}' is at offset {} there, {} expects offset {}",
                                         name, wf.offset(), own_, rfield->offset()));
            }
            check_type(wf, *rfield, at);
            if (!error_.empty()) return;
        }
        for (const auto* rfield : r_unmatched) {
            const auto name = rfield->name()->string_view();
            const Where at{type, fmt::format("field '{}' (offset {})", name, rfield->offset()),
                           fmt::format("{}.{}", ro.name()->string_view(), name)};
            // A rename: the same offset and type under another name.
            const std::size_t i = find_w([&](const rf::Field& f) {
                return f.offset() == rfield->offset() &&
                       f.type()->base_type() == rfield->type()->base_type() &&
                       describe(w_, *f.type()) == describe(r_, *rfield->type());
            });
            if (i != w_fields.size()) {
                w_matched[i] = true;
                const auto text =
                    fmt::format("field at offset {} is '{}' there, {} names it '{}'",
                                rfield->offset(), w_fields[i]->name()->string_view(), own_, name);
                if (mode_ == Mode::exact) {
                    differ(type, text);
                } else {
                    note(type, text + " (a rename: the same bytes)");
                    check_type(*w_fields[i], *rfield, at);  // queues nested definitions
                }
                continue;
            }
            differ(type,
                   fmt::format("field '{}' ({} at offset {}) is not there, only in {} "
                               "schema",
                               name, describe(r_, *rfield->type()), rfield->offset(), r_.whose));
        }
        for (std::size_t i = 0; i < w_fields.size(); ++i) {
            if (w_matched[i]) continue;
            differ(type, fmt::format("field '{}' ({} at offset {}) is there only, not in {} "
                                     "schema",
                                     w_fields[i]->name()->string_view(),
                                     describe(w_, *w_fields[i]->type()), w_fields[i]->offset(),
                                     r_.whose));
        }
    }

    void compare_enums(const Work& work) {
        const auto* we = w_.enumeration(work.w);
        const auto* re = r_.enumeration(work.r);
        const std::string type =
            type_label(re->name()->string_view(), we->name()->string_view(), work.via);
        if (we->is_union() != re->is_union()) {
            differ(type,
                   fmt::format("is {} there, {} expects {}", we->is_union() ? "a union" : "an enum",
                               own_, re->is_union() ? "a union" : "an enum"));
            return;
        }
        const bool is_union = re->is_union();
        const char* value_word = is_union ? "variant" : "value";
        const auto wu = we->underlying_type()->base_type();
        const auto ru = re->underlying_type()->base_type();
        if (wu != ru) {
            differ(type, fmt::format("underlying type is {} there, {} expects {}", base_name(wu),
                                     own_, base_name(ru)));
            return;
        }
        std::map<std::int64_t, const rf::EnumVal*> r_by_value;
        std::map<std::string_view, const rf::EnumVal*> r_by_name;
        for (const auto* v : *re->values()) {
            r_by_value.emplace(v->value(), v);
            r_by_name.emplace(v->name()->string_view(), v);
        }
        for (const auto* wv : *we->values()) {
            if (!error_.empty()) return;
            const auto name = wv->name()->string_view();
            const auto same_name = r_by_name.find(name);
            if (same_name != r_by_name.end() && same_name->second->value() != wv->value()) {
                differ(type, fmt::format("{} '{}' is {} there, {} expects {}", value_word, name,
                                         wv->value(), own_, same_name->second->value()));
                continue;
            }
            const auto same_value = r_by_value.find(wv->value());
            if (same_value == r_by_value.end()) {
                // Values only here are fine (a newer reader); values only there may arrive.
                differ(type, fmt::format("{} '{}' ({}) exists there only: the writer may send a "
                                         "{} {} does not know",
                                         value_word, name, wv->value(), value_word, own_));
                continue;
            }
            const auto& rv = *same_value->second;
            if (rv.name()->string_view() != name) {
                note(type, fmt::format("{} {} is '{}' there, '{}' in {} schema (a rename: the "
                                       "same value)",
                                       value_word, wv->value(), name, rv.name()->string_view(),
                                       r_.whose));
            }
            if (is_union && wv->value() != 0) {
                compare_variant(*wv, rv, type, re->name()->string_view());
            }
        }
    }

    void compare_variant(const rf::EnumVal& wv, const rf::EnumVal& rv, const std::string& type,
                         std::string_view owner) {
        const auto* wt = wv.union_type();
        const auto* rt = rv.union_type();
        const auto name = rv.name()->string_view();
        if (wt == nullptr || rt == nullptr) {
            // FlatBuffers 2.0.8 always records a variant's type; without one there is nothing
            // to compare, and nothing to read either.
            if (wt != rt) {
                differ(type, fmt::format("variant '{}' has {} type there, {} {}", name,
                                         wt ? "a" : "no", own_, rt ? "has one" : "has none"));
            }
            return;
        }
        const Where at{type, fmt::format("variant '{}' ({})", name, rv.value()),
                       fmt::format("{}.{}", owner, name)};
        std::string reason;
        if (same_type(*wt, *rt, at, reason) || !error_.empty()) return;
        differ(type, fmt::format("{} is {} there, {} expects {}", at.field, describe(w_, *wt), own_,
                                 describe(r_, *rt)));
    }

    Side w_, r_;
    Mode mode_;
    std::string own_;  // "this reader" / "this program"
    std::deque<Work> todo_;
    std::set<std::tuple<Pair, int, int>> seen_;
    std::string error_;
};

constexpr const char* region_whose = "the region's";

}  // namespace

EvolutionResult check_table_evolution(std::span<const std::uint8_t> writer_schema,
                                      std::span<const std::uint8_t> reader_schema,
                                      std::string_view root) {
    EvolutionResult result;
    const LoadedSchema w(writer_schema, region_whose);
    if (!w.error().empty()) {
        result.error = w.error();
        return result;
    }
    const LoadedSchema r(reader_schema, "this reader's");
    if (!r.error().empty()) {
        result.error = r.error();
        return result;
    }
    const int r_root = r.find_object(root);
    if (r_root < 0 || r.schema()->objects()->Get(r_root)->is_struct()) {
        result.error = fmt::format("this reader's schema has no table {}{}", root,
                                   r_root < 0 ? "" : " (it is a struct)");
        return result;
    }
    const int w_root = w.find_object(root);
    if (w_root < 0) {
        result.error = fmt::format(
            "the region's schema has no type {}: it was written with "
            "another schema",
            root);
        return result;
    }
    if (w.schema()->objects()->Get(w_root)->is_struct()) {
        result.error = fmt::format(
            "{} is a struct in the region's schema, this reader expects "
            "a table",
            root);
        return result;
    }
    Comparer comparer({w.schema(), region_whose}, {r.schema(), "this reader's"}, Mode::evolution,
                      "this reader");
    comparer.run(w_root, r_root);
    result.error = comparer.error();
    if (!result.error.empty()) return result;
    result.differences = std::move(comparer.differences);
    result.omitted = comparer.omitted;
    result.notes = std::move(comparer.notes);
    result.compatible = result.differences.empty();
    return result;
}

std::vector<std::string> describe_struct_mismatch(std::span<const std::uint8_t> region_schema,
                                                  std::span<const std::uint8_t> own_schema,
                                                  std::string_view struct_name) {
    const LoadedSchema w(region_schema, region_whose);
    const LoadedSchema r(own_schema, "this program's");
    if (w.schema() == nullptr || r.schema() == nullptr) return {};
    const int w_root = w.find_object(struct_name);
    const int r_root = r.find_object(struct_name);
    if (w_root < 0 || r_root < 0) return {};
    const bool w_struct = w.schema()->objects()->Get(w_root)->is_struct();
    const bool r_struct = r.schema()->objects()->Get(r_root)->is_struct();
    if (!w_struct || !r_struct) {
        if (w_struct == r_struct) return {};
        return {fmt::format("{}: is a {} there, this program expects a {}", struct_name,
                            w_struct ? "struct" : "table", r_struct ? "struct" : "table")};
    }
    Comparer comparer({w.schema(), region_whose}, {r.schema(), "this program's"}, Mode::exact,
                      "this program");
    comparer.run(w_root, r_root);
    if (!comparer.error().empty()) return {};
    std::vector<std::string> lines;
    for (const auto& d : comparer.differences) lines.push_back(d.line());
    if (comparer.omitted != 0) {
        lines.push_back(fmt::format("and {} more differences", comparer.omitted));
    }
    return lines;
}

std::string explain_incompatibility(const EvolutionResult& result, std::string_view region,
                                    std::string_view root) {
    if (!result.error.empty()) {
        return fmt::format("{} holds {}, which this reader cannot check: {}", region, root,
                           result.error);
    }
    std::string out = fmt::format("{} holds {}: ", region, root);
    bool first = true;
    for (const auto& d : result.differences) {
        if (!first) out += "; ";
        first = false;
        out += d.type == root ? d.text : d.line();
    }
    if (result.omitted != 0) out += fmt::format("; and {} more differences", result.omitted);
    return out;
}

}  // namespace shmrec::detail
