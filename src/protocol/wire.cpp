// SPDX-License-Identifier: MIT
// Wire encodings. Layouts follow upstream io.c (write_varint, write_varlong,
// write_longint, write_vstring and their readers); see docs in rsync-protocol-notes §0.
#include "protocol/wire.hpp"

#include "protocol/protocol_error.hpp"

#include <array>
#include <stdexcept>

namespace ocr::protocol {
namespace {

// Leading one-bits of a varint lead byte = number of bytes that follow it. Upstream's
// lookup table (io.c int_byte_extra) stops counting at 6, so 0xFC..0xFF all mean 6.
int extra_bytes(std::uint8_t b) noexcept
{
    int n = 0;
    while (n < 6 && (b & (0x80u >> n)))
        ++n;
    return n;
}

// The lead byte's bits below its run of ones, as upstream masks them (1 << (8 - extra)) - 1.
std::uint8_t residual_bits(std::uint8_t lead, int extra) noexcept
{
    return extra == 0 ? lead : static_cast<std::uint8_t>(lead & ((1u << (8 - extra)) - 1));
}

std::uint8_t prefix_bits(int ones) noexcept
{
    return static_cast<std::uint8_t>((0xFF00u >> ones) & 0xFFu);
}

void read_into(ByteSource& in, std::uint8_t* dst, std::size_t n)
{
    in.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(dst), n));
}

// Shared by varint (4 bytes, nothing forced) and varlong (8 bytes, min_bytes forced):
// the lead byte's k leading ones say how many bytes follow beyond the forced ones;
// its remaining low bits are the next-higher byte.
void put_variable(std::string& out, std::uint64_t v, int width, int min_bytes)
{
    std::array<std::uint8_t, 8> b{};
    for (int i = 0; i < width; ++i)
        b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
    // forced = bytes always sent after the lead byte.
    const int forced = min_bytes - 1;
    for (int k = 0;; ++k) {
        const int explicit_bytes = forced + k;     // b[0..explicit_bytes-1] follow the lead
        const int residual_index = explicit_bytes; // b[residual_index] rides in the lead byte
        bool higher_zero = true;
        for (int i = residual_index + 1; i < width; ++i)
            higher_zero = higher_zero && b[static_cast<std::size_t>(i)] == 0;
        const std::uint8_t residual =
            residual_index < width ? b[static_cast<std::size_t>(residual_index)] : 0;
        const unsigned room = k >= 7 ? 0u : (1u << (7 - k)); // free bits after "k ones, one zero"
        if (explicit_bytes >= width || (higher_zero && residual < room)) {
            out.push_back(static_cast<char>(prefix_bits(k) | (explicit_bytes >= width ? 0 : residual)));
            for (int i = 0; i < explicit_bytes && i < width; ++i)
                out.push_back(static_cast<char>(b[static_cast<std::size_t>(i)]));
            return;
        }
    }
}

} // namespace

void put_byte(std::string& out, std::uint8_t v)
{
    out.push_back(static_cast<char>(v));
}

void put_u16(std::string& out, std::uint16_t v)
{
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
}

void put_i32(std::string& out, std::int32_t v)
{
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

void put_longint(std::string& out, std::int64_t v)
{
    if (v >= 0 && v <= 0x7FFFFFFF) {
        put_i32(out, static_cast<std::int32_t>(v));
        return;
    }
    put_i32(out, -1);
    const auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

void put_varint(std::string& out, std::int32_t v)
{
    put_variable(out, static_cast<std::uint32_t>(v), 4, 1);
}

void put_varlong(std::string& out, std::int64_t v, int min_bytes)
{
    if (min_bytes < 3 || min_bytes > 8)
        throw std::invalid_argument("put_varlong: min_bytes out of range");
    put_variable(out, static_cast<std::uint64_t>(v), 8, min_bytes);
}

void put_vstring(std::string& out, std::string_view s)
{
    if (s.size() > kMaxVstringLength)
        throw std::length_error("vstring too long");
    if (s.size() >= 0x80) {
        out.push_back(static_cast<char>(0x80 | (s.size() >> 8)));
        out.push_back(static_cast<char>(s.size() & 0xFF));
    } else {
        out.push_back(static_cast<char>(s.size()));
    }
    out.append(s);
}

std::uint8_t get_byte(ByteSource& in)
{
    std::uint8_t b = 0;
    read_into(in, &b, 1);
    return b;
}

std::uint16_t get_u16(ByteSource& in)
{
    std::array<std::uint8_t, 2> b{};
    read_into(in, b.data(), b.size());
    return static_cast<std::uint16_t>(b[0] | (b[1] << 8));
}

std::int32_t get_i32(ByteSource& in)
{
    std::array<std::uint8_t, 4> b{};
    read_into(in, b.data(), b.size());
    const std::uint32_t u = b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t{b[3]} << 24);
    return static_cast<std::int32_t>(u);
}

std::int64_t get_longint(ByteSource& in)
{
    const std::int32_t first = get_i32(in);
    if (first != -1)
        return first;
    std::array<std::uint8_t, 8> b{};
    read_into(in, b.data(), b.size());
    std::uint64_t u = 0;
    for (int i = 7; i >= 0; --i)
        u = (u << 8) | b[static_cast<std::size_t>(i)];
    return static_cast<std::int64_t>(u);
}

std::int32_t get_varint(ByteSource& in)
{
    const std::uint8_t lead = get_byte(in);
    const int extra = extra_bytes(lead);
    // Upstream io.c:read_varint rejects lead bytes announcing more than 4 extra bytes.
    if (extra > 4)
        throw ProtocolError(ExitCode::StreamIo, "Overflow in read_varint()");
    std::array<std::uint8_t, 5> b{};
    read_into(in, b.data(), static_cast<std::size_t>(extra));
    b[static_cast<std::size_t>(extra)] = residual_bits(lead, extra);
    const std::uint32_t u = b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t{b[3]} << 24);
    return static_cast<std::int32_t>(u);
}

std::int64_t get_varlong(ByteSource& in, int min_bytes)
{
    if (min_bytes < 3 || min_bytes > 8)
        throw std::invalid_argument("get_varlong: min_bytes out of range");
    std::array<std::uint8_t, 9> b{};
    const std::uint8_t lead = get_byte(in);
    read_into(in, b.data(), static_cast<std::size_t>(min_bytes - 1));
    const int extra = extra_bytes(lead);
    // Upstream io.c:read_varlong: forced plus extra bytes must fit its 9-byte buffer.
    if (min_bytes + extra > 9)
        throw ProtocolError(ExitCode::StreamIo, "Overflow in read_varlong()");
    read_into(in, b.data() + min_bytes - 1, static_cast<std::size_t>(extra));
    const std::size_t residual_index = static_cast<std::size_t>(min_bytes - 1 + extra);
    b[residual_index] = residual_bits(lead, extra);
    std::uint64_t u = 0;
    for (int i = 7; i >= 0; --i)
        u = (u << 8) | b[static_cast<std::size_t>(i)];
    return static_cast<std::int64_t>(u);
}

std::string get_vstring(ByteSource& in, std::size_t max_len)
{
    std::size_t len = get_byte(in);
    if (len & 0x80)
        len = ((len & 0x7F) << 8) | get_byte(in);
    if (len > max_len)
        throw ProtocolError(ExitCode::StreamIo,
                            "vstring of " + std::to_string(len) + " bytes exceeds the limit of " +
                                std::to_string(max_len));
    std::string s(len, '\0');
    in.read_exact(std::span<std::byte>(reinterpret_cast<std::byte*>(s.data()), s.size()));
    return s;
}

} // namespace ocr::protocol
