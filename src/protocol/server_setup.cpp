// SPDX-License-Identifier: MIT
// Server-side protocol setup. Facts from upstream compat.c:setup_protocol,
// set_allow_inc_recurse, negotiate_the_strings and send_negotiate_str.
#include "protocol/server_setup.hpp"

#include "protocol/wire.hpp"

#include <unistd.h>

#include <ctime>

namespace ocr::protocol {
namespace {
bool has_letter(std::string_view info, char c) noexcept
{
    return info.find(c) != std::string_view::npos;
}
} // namespace

bool compute_allow_inc_recurse(bool recurse, bool use_qsort, bool am_sender, bool delete_before,
                               bool delete_after, bool delay_updates, bool prune_empty_dirs,
                               std::string_view client_info) noexcept
{
    if (!recurse || use_qsort)
        return false;
    if (!am_sender && (delete_before || delete_after || delay_updates || prune_empty_dirs))
        return false;
    return has_letter(client_info, 'i');
}

ServerSetup encode_server_setup(const ServerSetupInputs& in)
{
    ServerSetup out;
    if (in.protocol >= 30) {
        const std::string_view info = in.client_info;
        int flags = in.allow_inc_recurse ? kCfIncRecurse : 0;
        // We can set symlink times, and (like Debian's build) we advertise the iconv
        // capability bit; it only matters when --iconv is in use, which needs `charset`.
        flags |= kCfSymlinkTimes | kCfSymlinkIconv;
        if (has_letter(info, 'f'))
            flags |= kCfSafeFlist;
        if (has_letter(info, 'x'))
            flags |= kCfAvoidXattrOptim;
        if (has_letter(info, 'C'))
            flags |= kCfChksumSeedFix;
        if (has_letter(info, 'I'))
            flags |= kCfInplacePartialDir;
        if (has_letter(info, 'u'))
            flags |= kCfId0Names;
        if (has_letter(info, 'v')) {
            out.negotiated_strings = true;
            flags |= kCfVarintFlistFlags;
        }
        if (has_letter(info, 'V')) {
            // A pre-release client letter: varint file-list flags, but the flags go as one byte.
            flags |= kCfVarintFlistFlags;
            put_byte(out.bytes, static_cast<std::uint8_t>(flags));
        } else {
            put_varint(out.bytes, flags);
        }
        out.compat_flags = flags;
    }
    if (out.negotiated_strings) {
        if (!in.checksum_choice_given) {
            put_vstring(out.bytes, kChecksumNameList);
            out.client_sends_checksum_list = true;
        }
        if (in.compression_requested && !in.compress_choice_given) {
            put_vstring(out.bytes, kCompressNameList);
            out.client_sends_compress_list = true;
        }
    }
    put_i32(out.bytes, in.seed);
    return out;
}

std::int32_t make_checksum_seed() noexcept
{
    const auto t = static_cast<std::uint32_t>(std::time(nullptr));
    const auto p = static_cast<std::uint32_t>(::getpid()) << 6;
    return static_cast<std::int32_t>(t ^ p);
}

} // namespace ocr::protocol
