// SPDX-License-Identifier: MIT
// Fuzz target: a peer's token stream rebuilt by apply_delta/discard_delta against a small basis,
// checked against a plain in-memory rebuild of the same stream.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/token_codec.hpp"
#include "transfer/delta_apply.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace ocr;
using protocol::ChecksumKind;
using protocol::Compression;

namespace {

[[noreturn]] void fail()
{
    __builtin_trap();
}

// Inputs whose rebuilt file would be larger are skipped: block runs amplify a few input bytes
// into many kilobytes, and the point is the parsing, not the page cache.
constexpr std::size_t kMaxOutput = 8u << 20;
constexpr std::size_t kHeaderBytes = 6;
constexpr std::array<Compression, 5> kFormats{Compression::None, Compression::Zlib, Compression::Zlibx,
                                              Compression::Zstd, Compression::Lz4};
constexpr std::array<ChecksumKind, 6> kSums{ChecksumKind::Xxh128, ChecksumKind::Xxh3, ChecksumKind::Xxh64,
                                            ChecksumKind::Md5,    ChecksumKind::Sha1, ChecksumKind::None};

struct Setup {
    protocol::TokenSettings settings;
    transfer::ApplyParams params;
    std::vector<std::uint8_t> basis; // what the basis window holds (may be shorter than the header says)
    bool discard = false;
    bool has_basis = true;
    bool writing = true;
};

// Header bytes:
//  0: format (% 5), 0x08 protocol 30, 0x10 --sparse, 0x20 --inplace, 0x40 discard, 0x80 no basis
//  1: block count (% 17)   2: block length 1 + 3*b   3: remainder (% length)
//  4: 0x01 append, 0x02 append-verify, 0x04 whole-file, 0x08 no output fd, high nibble: basis shrink
//  5: file checksum (% 6) and seed
Setup make_setup(const std::uint8_t* h)
{
    Setup s;
    s.settings.compression = kFormats[(h[0] & 0x07) % kFormats.size()];
    s.settings.protocol = (h[0] & 0x08) != 0 ? 30 : 32;
    s.discard = (h[0] & 0x40) != 0;
    s.has_basis = (h[0] & 0x80) == 0;
    s.writing = (h[4] & 0x08) == 0;

    protocol::SumHead head;
    head.count = h[1] % 17;
    head.blength = 1 + h[2] * 3;
    head.remainder = h[3] % head.blength;
    head.s2length = 2;
    auto& p = s.params;
    p.head = head;
    p.sparse = (h[0] & 0x10) != 0;
    p.inplace = (h[0] & 0x20) != 0;
    p.whole_file = (h[4] & 0x04) != 0;
    if ((h[4] & 0x01) != 0) {
        p.append_offset = head.file_length();
        p.append_verify = (h[4] & 0x02) != 0;
    }
    p.file_sum_kind = kSums[h[5] % kSums.size()];
    p.checksum_seed = static_cast<std::int32_t>(h[5] * 0x01010101u);
    p.protocol = s.settings.protocol;
    p.full_fname = "\"x\"";

    const auto full = static_cast<std::size_t>(head.file_length());
    const std::size_t shrink = static_cast<std::size_t>(h[4] >> 4) * 97;
    s.basis.resize(full > shrink ? full - shrink : 0);
    for (std::size_t i = 0; i < s.basis.size(); ++i)
        s.basis[i] = (i / 300) % 3 == 1 ? 0 : static_cast<std::uint8_t>((i * 131 + i / 7) & 0xFF);
    return s;
}

struct Outcome {
    std::string error; // empty: no ProtocolError
    std::vector<std::uint8_t> bytes;
    std::int64_t literal = 0;
    std::int64_t matched = 0;
    bool too_big = false;
};

// The rebuild done the obvious way, in memory: what apply_delta must produce.
Outcome reference(const Setup& s, std::string_view wire)
{
    Outcome o;
    const auto& p = s.params;
    const bool basis_present = s.has_basis && !s.discard && !s.basis.empty();
    const bool writes = s.writing && !s.discard;
    auto block_bytes = [&](std::int32_t i) {
        std::vector<std::uint8_t> b(static_cast<std::size_t>(p.head.block_length(i)), 0);
        if (!basis_present)
            return b;
        const std::size_t off = static_cast<std::size_t>(i) * static_cast<std::size_t>(p.head.blength);
        for (std::size_t k = 0; k < b.size() && off + k < s.basis.size(); ++k)
            b[k] = s.basis[off + k];
        return b;
    };
    o.bytes.resize(static_cast<std::size_t>(p.append_offset), 0);
    for (std::size_t k = 0; k < o.bytes.size() && k < s.basis.size(); ++k)
        o.bytes[k] = s.basis[k];
    const auto dec = protocol::make_token_decoder(s.settings);
    protocol::MemorySource in(wire);
    try {
        dec->begin_file(protocol::BlockLayout{p.head.count, p.head.blength, p.head.remainder});
        for (protocol::Token t = dec->next(in); t.kind != protocol::Token::Kind::End; t = dec->next(in)) {
            if (t.kind == protocol::Token::Kind::Literal) {
                o.literal += static_cast<std::int64_t>(t.data.size());
                const auto* d = reinterpret_cast<const std::uint8_t*>(t.data.data());
                o.bytes.insert(o.bytes.end(), d, d + t.data.size());
            } else {
                if (writes && !basis_present)
                    throw protocol::ProtocolError(protocol::ExitCode::Protocol,
                                                  "got a block match with no basis file for \"x\" [receiver]");
                const auto b = block_bytes(t.block);
                dec->see_block(std::as_bytes(std::span(b)));
                o.matched += static_cast<std::int64_t>(b.size());
                o.bytes.insert(o.bytes.end(), b.begin(), b.end());
            }
            if (o.bytes.size() > kMaxOutput) {
                o.too_big = true;
                return o;
            }
        }
        std::array<std::byte, protocol::kMaxChecksumLength> sum{};
        in.read_exact(std::span(sum.data(), protocol::checksum_length(p.file_sum_kind)));
    } catch (const protocol::ProtocolError& e) {
        o.error = e.what();
    }
    return o;
}

std::vector<std::uint8_t> read_fd(int fd)
{
    struct stat st{};
    if (::fstat(fd, &st) != 0)
        fail();
    std::vector<std::uint8_t> out(static_cast<std::size_t>(st.st_size));
    if (!out.empty() && ::pread(fd, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size()))
        fail();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < kHeaderBytes)
        return 0;
    Setup s = make_setup(data);
    const std::string_view wire(reinterpret_cast<const char*>(data + kHeaderBytes), size - kHeaderBytes);
    const Outcome want = reference(s, wire);
    if (want.too_big)
        return 0;

    int fd = -1;
    if (s.writing && !s.discard) {
        fd = ::memfd_create("delta_apply_out", 0);
        if (fd < 0)
            return 0;
        // An in-place output starts as the basis, as a real one would.
        if (s.params.inplace && !s.basis.empty() &&
            ::pwrite(fd, s.basis.data(), s.basis.size(), 0) != static_cast<ssize_t>(s.basis.size()))
            fail();
    }
    transfer::MemoryDataWindow window(s.basis);
    s.params.basis = s.has_basis ? &window : nullptr;
    s.params.basis_size = s.has_basis ? static_cast<std::int64_t>(s.basis.size()) : 0;
    s.params.out_fd = fd;

    const auto dec = protocol::make_token_decoder(s.settings);
    protocol::MemorySource in(wire);
    std::optional<transfer::ApplyResult> got;
    std::string error;
    try {
        got = s.discard ? transfer::discard_delta(in, *dec, s.params) : transfer::apply_delta(in, *dec, s.params);
    } catch (const protocol::ProtocolError& e) {
        error = e.what();
    }
    if (error != want.error)
        fail();
    if (got) {
        if (got->write_errno != 0 || got->literal_bytes != want.literal || got->matched_bytes != want.matched ||
            got->file_size != static_cast<std::int64_t>(want.bytes.size()))
            fail();
        if (fd != -1) {
            // An in-place output is cut to the new length; a fresh one only grows where data
            // (or a trailing hole) went, so an empty delta after --append leaves it empty.
            const auto out = read_fd(fd);
            const auto from = static_cast<std::size_t>(s.params.append_offset);
            const bool wrote_something = want.bytes.size() > from;
            if (out.size() > want.bytes.size() ||
                ((s.params.inplace || wrote_something) && out.size() != want.bytes.size()))
                fail();
            // --sparse --whole-file empties an in-place output first, so a block "already in
            // place" is gone (a real sender sends no blocks with --whole-file).
            const bool emptied_first = s.params.inplace && s.params.sparse && s.params.whole_file;
            const auto skip = static_cast<std::ptrdiff_t>(std::min(from, out.size()));
            if (!emptied_first && !std::equal(out.begin() + skip, out.end(), want.bytes.begin() + skip))
                fail();
        } else if (!got->sum_matches) {
            fail(); // nothing written: upstream reports success
        }
    }
    if (fd != -1)
        ::close(fd);
    return 0;
}
