// SPDX-License-Identifier: MIT
// Fuzz target: a peer's token stream into every format's decoder (with a small basis), and
// encoder scripts that must survive a round trip through the matching decoder.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace ocr::protocol;

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

// Enough output to cover every buffer size, little enough to keep each input fast.
constexpr std::size_t kMaxOutput = 8u << 20;
constexpr std::array<Compression, 5> kFormats{Compression::None, Compression::Zlib, Compression::Zlibx,
                                              Compression::Zstd, Compression::Lz4};

struct Setup {
    TokenSettings settings;
    BlockLayout layout;
    std::string basis;
};

// Header: format/protocol byte, block count, block length, remainder.
Setup make_setup(const std::uint8_t* h)
{
    Setup s;
    s.settings.compression = kFormats[h[0] % kFormats.size()];
    s.settings.protocol = (h[0] & 0x08) != 0 ? 30 : 32;
    s.settings.level = s.settings.compression == Compression::Zstd ? 1 : (h[0] & 0x10) != 0 ? 0 : 6;
    // Lengths above 64 KiB reach zlib's history piece loop (and its protocol-30 quirk); few
    // such blocks keep the basis small.
    const bool big = (h[2] & 0x80) != 0;
    s.layout.count = h[1] % (big ? 3 : 16);
    s.layout.length = big ? 65536 + (h[2] & 0x7F) * 37 : 1 + h[2] * 3;
    s.layout.remainder = h[3] % s.layout.length;
    const std::size_t size = s.layout.count == 0 ? 0
                                                 : static_cast<std::size_t>(s.layout.count - 1) *
                                                           static_cast<std::size_t>(s.layout.length) +
                                                       static_cast<std::size_t>(s.layout.block_length(s.layout.count - 1));
    s.basis.resize(size);
    for (std::size_t i = 0; i < size; ++i)
        s.basis[i] = static_cast<char>((i * 131 + i / 7) & 0xFF);
    return s;
}

std::string_view block_of(const Setup& s, std::int32_t i)
{
    return std::string_view(s.basis).substr(static_cast<std::size_t>(i) * static_cast<std::size_t>(s.layout.length),
                                            static_cast<std::size_t>(s.layout.block_length(i)));
}

std::span<const std::byte> bytes_of(std::string_view v)
{
    return std::as_bytes(std::span(v.data(), v.size()));
}

// Decodes files until the input ends or is rejected; returns the rebuilt bytes.
std::string decode_all(const Setup& s, std::string_view wire, int max_files)
{
    const auto dec = make_token_decoder(s.settings);
    MemorySource in(wire);
    std::string out;
    try {
        for (int file = 0; file < max_files && in.remaining() > 0; ++file) {
            dec->begin_file(s.layout);
            for (Token t = dec->next(in); t.kind != Token::Kind::End; t = dec->next(in)) {
                if (t.kind == Token::Kind::Literal) {
                    if (t.data.empty() || t.data.size() > 300000)
                        fail();
                    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
                    if (out.size() > kMaxOutput)
                        return out;
                    continue;
                }
                if (t.block < 0 || t.block >= s.layout.count || t.length != s.layout.block_length(t.block))
                    fail();
                dec->see_block(bytes_of(block_of(s, t.block)));
                out += block_of(s, t.block);
            }
        }
    } catch (const ProtocolError&) {
        out += "<error>";
    }
    return out;
}

// Script: each op byte is a literal of 1..64 bytes taken from the script (high bit clear) or
// a run of blocks (high bit set); bytes 0xFE/0xFF end the file and start another.
void round_trip(const Setup& s, std::string_view script)
{
    MemorySink sink;
    const auto enc = make_token_encoder(s.settings, sink);
    std::string expected;
    std::size_t pos = 0;
    bool skip = false;
    while (pos < script.size()) {
        enc->begin_file(skip);
        while (pos < script.size()) {
            if (expected.size() > kMaxOutput / 2) {
                pos = script.size();
                break;
            }
            const auto op = static_cast<std::uint8_t>(script[pos++]);
            if (op >= 0xFE) {
                skip = op == 0xFF;
                break;
            }
            if ((op & 0x80) != 0 && s.layout.count > 0) {
                const std::int32_t first = (op & 0x0F) % s.layout.count;
                const std::int32_t run = (op >> 4) & 0x07;
                for (std::int32_t b = first; b <= first + run && b < s.layout.count; ++b) {
                    enc->block(b, bytes_of(block_of(s, b)));
                    expected += block_of(s, b);
                }
                continue;
            }
            const std::size_t n = std::min<std::size_t>((op & 0x3F) + 1, script.size() - pos);
            // Repeat the bytes so that compressors find matches, sometimes past 32 KiB.
            std::string lit;
            const std::size_t reps = (op & 0x40) != 0 ? 700 : 1;
            for (std::size_t r = 0; r < reps; ++r)
                lit.append(script.substr(pos, n));
            pos += n;
            enc->literal(bytes_of(lit));
            expected += lit;
        }
        enc->end_file();
    }
    if (decode_all(s, sink.bytes(), 1 << 20) != expected)
        fail();
}

} // namespace

// Input: 4 header bytes (see make_setup; bit 0x80 of the first selects the round-trip mode),
// then the token stream or the encoder script.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 4)
        return 0;
    const Setup s = make_setup(data);
    const std::string_view rest(reinterpret_cast<const char*>(data + 4), size - 4);
    if ((data[0] & 0x80) != 0)
        round_trip(s, rest);
    else
        (void)decode_all(s, rest, 4);
    return 0;
}
