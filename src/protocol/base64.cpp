// SPDX-License-Identifier: MIT
// Implementation of rsync's base64 encoder.
#include "protocol/base64.hpp"

namespace ocr::protocol {

std::string base64_encode(std::span<const std::uint8_t> data, bool pad)
{
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve(base64_encoded_length(data.size(), pad));

    // Whole 3-byte groups give four characters each.
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) |
                                (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out.push_back(kAlphabet[(v >> 18) & 0x3f]);
        out.push_back(kAlphabet[(v >> 12) & 0x3f]);
        out.push_back(kAlphabet[(v >> 6) & 0x3f]);
        out.push_back(kAlphabet[v & 0x3f]);
    }
    // A 1- or 2-byte tail gives two or three characters, the missing low bits being zero.
    const std::size_t rest = data.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t{data[i]} << 16;
        if (rest == 2)
            v |= std::uint32_t{data[i + 1]} << 8;
        out.push_back(kAlphabet[(v >> 18) & 0x3f]);
        out.push_back(kAlphabet[(v >> 12) & 0x3f]);
        if (rest == 2)
            out.push_back(kAlphabet[(v >> 6) & 0x3f]);
    }
    while (pad && out.size() % 4 != 0)
        out.push_back('=');
    return out;
}

std::string base64_encode(std::string_view data, bool pad)
{
    return base64_encode(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                      data.size()),
        pad);
}

} // namespace ocr::protocol
