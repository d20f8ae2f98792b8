// SPDX-License-Identifier: MIT
// Fuzz target: arbitrary sender bytes through the file-list decoder, as a receiver reads
// them: the first list, then (with incremental recursion) sub-list headers and sub-lists
// until NDX_FLIST_EOF. The first three input bytes pick the protocol and the options.
#include "protocol/flist_decoder.hpp"
#include "protocol/memory_stream.hpp"
#include "protocol/ndx.hpp"
#include "protocol/protocol_error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

ocr::protocol::FlistOptions options_from(std::uint8_t a, std::uint8_t b, std::uint8_t c)
{
    using ocr::protocol::NumericIds;
    ocr::protocol::FlistOptions o;
    static constexpr int kProtocols[] = {27, 28, 29, 30, 31, 32, 32, 32};
    o.protocol = kProtocols[a & 7];
    const bool modern = o.protocol >= 30;
    o.varint_flags = modern && (a & 0x08);
    o.inc_recurse = modern && (a & 0x10);
    o.preserve_hard_links = a & 0x20;
    o.always_checksum = a & 0x40;
    o.checksum_len = (a & 0x80) ? 20 : 16;
    o.preserve_uid = b & 0x01;
    o.preserve_gid = b & 0x01;
    o.preserve_links = b & 0x02;
    o.preserve_devices = b & 0x04;
    o.preserve_specials = b & 0x04;
    o.preserve_atimes = b & 0x08;
    o.preserve_crtimes = o.varint_flags && (b & 0x10);
    o.relative_paths = b & 0x20;
    o.sanitize_paths = b & 0x40;
    o.munge_symlinks = b & 0x80;
    o.xmit_id0_names = modern && (c & 0x01);
    o.use_safe_inc_flist = o.protocol >= 31 || (c & 0x02);
    o.numeric_ids = (c & 0x04)   ? NumericIds::Wire
                    : (c & 0x08) ? NumericIds::Local
                                 : NumericIds::Off;
    o.delete_missing_args = c & 0x10;
    o.ignore_errors = c & 0x20;
    o.recurse = !(c & 0x40);
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 3)
        return 0;
    const ocr::protocol::FlistOptions opts = options_from(data[0], data[1], data[2]);
    ocr::protocol::MemorySource in(
        std::string_view(reinterpret_cast<const char*>(data) + 3, size - 3));
    ocr::protocol::FlistDecoder decoder(
        opts, "receiver", [](std::string_view name, bool) { return name == "excluded"; });
    decoder.set_max_list_entries(1u << 12);
    try {
        (void)decoder.read_first_list(in);
        if (!opts.inc_recurse)
            return 0;
        ocr::protocol::NdxDecoder ndx(opts.protocol);
        for (int lists = 0; lists < 256; ++lists) {
            const std::int32_t v = ndx.get(in);
            if (v == ocr::protocol::kNdxFlistEof || v >= 0)
                break;
            const std::int32_t dir =
                ocr::protocol::dir_ndx_from_header(v, decoder.dir_count(), "receiver");
            (void)decoder.read_sublist(in, dir);
        }
    } catch (const ocr::protocol::ProtocolError&) {
        // Refusing bad input is the expected outcome; anything else escapes and is a bug.
    }
    return 0;
}
