// SPDX-License-Identifier: MIT
// Server-side protocol setup bytes, laid out as upstream compat.c:setup_protocol and
// negotiate_the_strings write them.
#include "protocol/server_setup.hpp"

#include "protocol/wire.hpp"

#include <unistd.h>

#include <ctime>

namespace ocr::protocol {

std::string encode_server_setup(const ServerSetupInputs& in)
{
    std::string out;
    if (in.send_compat_flags) {
        // read_varint() reads a lone byte below 0x80 the same way, which is what keeps
        // 3.0/3.1 clients (that read one byte) working.
        if (in.compat_flags_as_byte)
            put_byte(out, static_cast<std::uint8_t>(in.compat_flags));
        else
            put_varint(out, in.compat_flags);
    }
    // Both sides write their lists before reading the other's, so order cannot deadlock.
    if (in.checksum_list)
        put_vstring(out, *in.checksum_list);
    if (in.compress_list)
        put_vstring(out, *in.compress_list);
    put_i32(out, in.seed);
    return out;
}

std::int32_t make_checksum_seed() noexcept
{
    const auto t = static_cast<std::uint32_t>(std::time(nullptr));
    const auto p = static_cast<std::uint32_t>(::getpid()) << 6;
    return static_cast<std::int32_t>(t ^ p);
}

} // namespace ocr::protocol
