// Fixed-size text in a record: shmrec::FixedString<N>, the C++ type of a schema field
// `name: [ubyte:N] (shmrec_text)` (docs/codegen.md, "Text fields"), and set_string /
// get_string / to_string for plain byte arrays ([ubyte:N] or [byte:N] without the attribute).
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>

namespace shmrec {

// N bytes holding text: exactly the bytes of flatc's `[ubyte:N]` (size N, alignment 1, no
// other member), trivially copyable and standard layout, so a record holding it is still
// copied byte-wise between processes.
//
// Writing truncates the text to N-1 bytes, so the field always ends in NUL, and zero-fills
// the rest: no byte of a previous, longer value reaches a reader. Reading stops at the first
// NUL, or takes all N bytes when a peer wrote none (shared memory is untrusted input).
//
// Two faces, deliberately kept apart:
//  - the text: assignment from anything convertible to std::string_view, view() and the
//    implicit conversion to std::string_view, str(), empty(), comparison with strings,
//    operator<<;
//  - the bytes, as std::array<char, N> has them: size() is N (not the text's length: that
//    is view().size()), data(), operator[], begin()/end(), fill().
template <std::size_t N>
    requires(N > 0)
class FixedString {
  public:
    // Text types: string literals, const char*, std::string, std::string_view, another
    // FixedString of any size.
    template <class S>
    static constexpr bool is_text =
        std::is_convertible_v<const S&, std::string_view> &&
        !std::is_same_v<std::remove_cvref_t<S>, FixedString>;

    constexpr FixedString() noexcept = default;  // all zero: the empty text

    // Implicit, so `Student s{42, "Ada"}` works; truncates like assign().
    template <class S>
        requires is_text<S>
    constexpr FixedString(const S& text) noexcept {  // NOLINT(google-explicit-constructor)
        assign(text);
    }

    template <class S>
        requires is_text<S>
    constexpr FixedString& operator=(const S& text) noexcept {
        assign(text);
        return *this;
    }

    // Stores `text` (up to N-1 bytes) and zero-fills the rest. Returns false when the text
    // had to be truncated. A NUL inside `text` ends the text a reader sees.
    constexpr bool assign(std::string_view text) noexcept {
        const std::size_t n = std::min(text.size(), N - 1);
        std::char_traits<char>::copy(bytes_.data(), text.data(), n);
        std::char_traits<char>::assign(bytes_.data() + n, N - n, '\0');
        return n == text.size();
    }

    constexpr void clear() noexcept { bytes_.fill('\0'); }

    // The most text a write keeps: N-1 bytes, one is left for the NUL.
    static constexpr std::size_t capacity() noexcept { return N - 1; }

    // The text up to the first NUL, or all N bytes if there is none. Points into this
    // object: copy it (str()) if the record may change under it.
    constexpr std::string_view view() const noexcept {
        std::size_t n = 0;
        if (std::is_constant_evaluated()) {
            while (n < N && bytes_[n] != '\0') ++n;
        } else {
            const void* nul = std::memchr(bytes_.data(), 0, N);
            n = nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - bytes_.data()) : N;
        }
        return {bytes_.data(), n};
    }
    constexpr operator std::string_view() const noexcept { return view(); }
    std::string str() const { return std::string(view()); }
    constexpr bool empty() const noexcept { return bytes_[0] == '\0'; }

    // The bytes, as std::array<char, N> exposes them. Writing through them can leave the
    // field without a NUL; readers cope (view() then takes all N bytes).
    static constexpr std::size_t size() noexcept { return N; }
    constexpr char* data() noexcept { return bytes_.data(); }
    constexpr const char* data() const noexcept { return bytes_.data(); }
    constexpr char& operator[](std::size_t i) noexcept { return bytes_[i]; }
    constexpr const char& operator[](std::size_t i) const noexcept { return bytes_[i]; }
    constexpr char* begin() noexcept { return bytes_.data(); }
    constexpr char* end() noexcept { return bytes_.data() + N; }
    constexpr const char* begin() const noexcept { return bytes_.data(); }
    constexpr const char* end() const noexcept { return bytes_.data() + N; }
    constexpr void fill(char c) noexcept { bytes_.fill(c); }

    // Text comparison: bytes after the first NUL do not take part. Templates, so that a
    // string literal matches exactly instead of converting either to std::string_view or,
    // through the constructor, to FixedString (which would be ambiguous).
    friend constexpr bool operator==(const FixedString& a, const FixedString& b) noexcept {
        return a.view() == b.view();
    }
    friend constexpr std::strong_ordering operator<=>(const FixedString& a,
                                                      const FixedString& b) noexcept {
        return a.view() <=> b.view();
    }
    template <class S>
        requires is_text<S>
    friend constexpr bool operator==(const FixedString& a, const S& b) noexcept {
        return a.view() == std::string_view(b);
    }
    template <class S>
        requires is_text<S>
    friend constexpr std::strong_ordering operator<=>(const FixedString& a, const S& b) noexcept {
        return a.view() <=> std::string_view(b);
    }

    // Templated on the traits so that this header needs only <iosfwd>; the stream's
    // operator<< for string_view is found when the caller has included <ostream>.
    template <class Traits>
    friend std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& os,
                                                        const FixedString& s) {
        const std::string_view v = s.view();
        return os << std::basic_string_view<char, Traits>(v.data(), v.size());
    }

  private:
    std::array<char, N> bytes_{};
};

// Plain byte arrays as text --------------------------------------------------------------

// Stores `text` into `field`, truncated to N-1 bytes so the field always ends in NUL, and
// zero-fills the rest (no stale bytes from a previous value leak to readers).
// Returns false when the text had to be truncated.
template <class Byte, std::size_t N>
    requires(sizeof(Byte) == 1 && N > 0)
bool set_string(std::array<Byte, N>& field, std::string_view text) noexcept {
    const std::size_t n = std::min(text.size(), N - 1);
    std::memcpy(field.data(), text.data(), n);
    std::memset(field.data() + n, 0, N - n);
    return n == text.size();
}

// The text in `field` up to its first NUL, or all N bytes when a peer wrote no NUL. The view
// points into `field`; copy it (or use to_string) if the record may change.
template <class Byte, std::size_t N>
    requires(sizeof(Byte) == 1)
std::string_view get_string(const std::array<Byte, N>& field) noexcept {
    const auto* p = reinterpret_cast<const char*>(field.data());
    const void* nul = std::memchr(p, 0, N);
    return {p, nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - p) : N};
}

template <class Byte, std::size_t N>
    requires(sizeof(Byte) == 1)
std::string to_string(const std::array<Byte, N>& field) {
    return std::string(get_string(field));
}

// The same three for text fields, so code written against byte arrays keeps working.
template <std::size_t N>
bool set_string(FixedString<N>& field, std::string_view text) noexcept {
    return field.assign(text);
}

template <std::size_t N>
std::string_view get_string(const FixedString<N>& field) noexcept {
    return field.view();
}

template <std::size_t N>
std::string to_string(const FixedString<N>& field) {
    return field.str();
}

}  // namespace shmrec
