// SPDX-License-Identifier: MIT
#include "protocol/exit_handshake.hpp"

#include "protocol/mux.hpp"

namespace ocr::protocol {

bool ExitHandshakeWatcher::feed(std::string_view bytes) noexcept
{
    std::size_t i = 0;
    while (i < bytes.size() && !done_ && !broken_) {
        if (skip_ > 0) {
            const std::size_t n = std::min<std::size_t>(skip_, bytes.size() - i);
            skip_ -= static_cast<std::uint32_t>(n);
            i += n;
            continue;
        }
        const auto b = static_cast<std::uint8_t>(bytes[i++]);
        if (vstrings_left_ > 0) {
            // vstring length: one byte, or two when the first has its top bit set.
            if (vlen_bytes_ == 0) {
                if (b & 0x80) {
                    header_[0] = b;
                    vlen_bytes_ = 1;
                } else {
                    skip_ = b;
                    --vstrings_left_;
                }
            } else {
                skip_ = ((header_[0] & 0x7Fu) << 8) | b;
                vlen_bytes_ = 0;
                --vstrings_left_;
            }
            continue;
        }
        header_[header_have_++] = b;
        if (header_have_ < 4)
            continue;
        header_have_ = 0;
        const auto h = decode_frame_header(header_);
        if (!h) {
            broken_ = true;
            break;
        }
        if (h->code == MsgCode::ErrorExit)
            done_ = true;
        skip_ = h->length;
    }
    return done_;
}

} // namespace ocr::protocol
