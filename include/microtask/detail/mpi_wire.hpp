// microtask — detail/mpi_wire.hpp
// How mt::mpi turns reducer values into bytes and back, and the serializer customization
// point (documented in microtask/mpi.hpp, which includes this file). Standard library
// only: nothing here talks to MPI.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace microtask::mpi {

/// Customization point: how a value type that mt::mpi cannot copy as bytes crosses the
/// wire. Specialise it for your type `T` (before the first mt::mpi call that uses T) with
///
///     static void write(const T& value, std::vector<std::byte>& out); // appends bytes
///     static T read(std::span<const std::byte> bytes);  // exactly what write appended
///
/// Requirement the compiler cannot check: read(write(v)) must equal v bit for bit, or
/// the distributed result is no longer bitwise the single-process one. Both may throw;
/// a throw in write fails the call on every rank (see mt::mpi::map_reduce).
template <class T>
struct serializer;

/// A type with a user specialisation of mt::mpi::serializer.
template <class T>
concept has_serializer = requires(const T& value, std::vector<std::byte>& out, std::span<const std::byte> bytes) {
    serializer<T>::write(value, out);
    { serializer<T>::read(bytes) } -> std::same_as<T>;
};

/// A type whose object representation is its value, sent as its bytes: trivially
/// copyable, default-initializable, and not a pointer (an address means nothing in
/// another process).
template <class T>
concept byte_copyable = std::is_trivially_copyable_v<T> && std::default_initializable<T> && !std::is_pointer_v<T> &&
                        !std::is_member_pointer_v<T>;

}  // namespace microtask::mpi

namespace microtask::detail {

template <class T>
struct vector_traits : std::false_type {};
template <class E, class A>
struct vector_traits<std::vector<E, A>> : std::true_type {
    using element = E;
};
template <class T>
struct basic_string_traits : std::false_type {};
template <class C, class Tr, class A>
struct basic_string_traits<std::basic_string<C, Tr, A>> : std::true_type {};

/// A vector or basic_string of byte_copyable elements stored contiguously: sent as one
/// block of element bytes (a variable-length gather moves it in one piece).
template <class T>
constexpr bool is_contiguous_bytes() {
    if constexpr (basic_string_traits<T>::value) {
        return mpi::byte_copyable<typename T::value_type>;
    } else if constexpr (vector_traits<T>::value) {
        // std::vector<bool> packs bits and has no data(): element by element instead.
        return mpi::byte_copyable<typename T::value_type> && !std::is_same_v<typename T::value_type, bool>;
    } else {
        return false;
    }
}

template <class T>
constexpr bool wire_supported() {
    if constexpr (mpi::has_serializer<T> || mpi::byte_copyable<T> || is_contiguous_bytes<T>()) {
        return true;
    } else if constexpr (vector_traits<T>::value) {
        return wire_supported<typename vector_traits<T>::element>();
    } else {
        return false;
    }
}

}  // namespace microtask::detail

namespace microtask::mpi {

/// A value mt::mpi can send between ranks. In the order tried: a type with a
/// mt::mpi::serializer specialisation; a byte_copyable type (its bytes); a std::vector or
/// std::basic_string of byte_copyable elements (their bytes, one block); a std::vector of
/// serializable elements (each element length-prefixed). Anything else: specialise
/// mt::mpi::serializer<T>.
template <class T>
concept serializable = detail::wire_supported<T>();

}  // namespace microtask::mpi

namespace microtask::detail {

inline void append_bytes(std::vector<std::byte>& out, const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    out.insert(out.end(), bytes, bytes + size);
}

inline void append_u64(std::vector<std::byte>& out, std::uint64_t value) { append_bytes(out, &value, sizeof value); }

/// Reads consecutive fields from a received buffer; throws std::runtime_error on a
/// buffer too short for what is read (a mismatched serializer, not a transport error).
class wire_reader {
public:
    explicit wire_reader(std::span<const std::byte> bytes) noexcept : m_bytes(bytes) {}
    [[nodiscard]] bool done() const noexcept { return m_bytes.empty(); }
    std::uint64_t u64() {
        std::uint64_t value = 0;
        std::memcpy(&value, take(sizeof value).data(), sizeof value);
        return value;
    }
    std::span<const std::byte> take(std::size_t size) {
        if (size > m_bytes.size()) throw std::runtime_error("microtask::mpi: a received value is truncated");
        const auto head = m_bytes.first(size);
        m_bytes = m_bytes.subspan(size);
        return head;
    }

private:
    std::span<const std::byte> m_bytes;
};

/// Appends the wire form of `value` to `out`.
template <class T>
void write_wire(const T& value, std::vector<std::byte>& out) {
    if constexpr (mpi::has_serializer<T>) {
        mpi::serializer<T>::write(value, out);
    } else if constexpr (mpi::byte_copyable<T>) {
        append_bytes(out, &value, sizeof(T));
    } else if constexpr (is_contiguous_bytes<T>()) {
        append_bytes(out, value.data(), value.size() * sizeof(typename T::value_type));
    } else {
        static_assert(vector_traits<T>::value, "microtask::mpi: unreachable (serializable checked by the caller)");
        append_u64(out, value.size());
        for (const typename T::value_type& element : value) {
            // A length slot patched after the element: serializers need not know their size.
            const std::size_t slot = out.size();
            append_u64(out, 0);
            write_wire(element, out);
            const std::uint64_t length = out.size() - slot - sizeof(std::uint64_t);
            std::memcpy(out.data() + slot, &length, sizeof length);
        }
    }
}

/// The value whose wire form is exactly `bytes`. Throws std::runtime_error if the
/// bytes cannot be one (wrong size); what a user serializer's read throws.
template <class T>
T read_wire(std::span<const std::byte> bytes) {
    if constexpr (mpi::has_serializer<T>) {
        return mpi::serializer<T>::read(bytes);
    } else if constexpr (mpi::byte_copyable<T>) {
        if (bytes.size() != sizeof(T)) throw std::runtime_error("microtask::mpi: a received value has the wrong size");
        T value;
        std::memcpy(static_cast<void*>(&value), bytes.data(), sizeof(T));
        return value;
    } else if constexpr (is_contiguous_bytes<T>()) {
        using element = typename T::value_type;
        if (bytes.size() % sizeof(element) != 0) {
            throw std::runtime_error("microtask::mpi: a received container has a partial element");
        }
        T value;
        value.resize(bytes.size() / sizeof(element));
        if (!bytes.empty()) std::memcpy(static_cast<void*>(value.data()), bytes.data(), bytes.size());
        return value;
    } else {
        wire_reader reader(bytes);
        T value;
        const std::uint64_t count = reader.u64();
        value.reserve(static_cast<std::size_t>(count));
        for (std::uint64_t k = 0; k < count; ++k) {
            const std::uint64_t length = reader.u64();
            value.push_back(read_wire<typename T::value_type>(reader.take(static_cast<std::size_t>(length))));
        }
        if (!reader.done()) throw std::runtime_error("microtask::mpi: a received container has trailing bytes");
        return value;
    }
}

}  // namespace microtask::detail
