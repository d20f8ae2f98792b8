// SPDX-License-Identifier: MIT
// Fuzz target: arbitrary bytes through the index decoder (protocol from the first byte),
// and every decoded sequence encoded again must decode to the same values.
#include "protocol/memory_stream.hpp"
#include "protocol/ndx.hpp"
#include "protocol/protocol_error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const int protocol = (data[0] & 1) ? 29 : 30 + (data[0] >> 1) % 3;
    ocr::protocol::MemorySource in(
        std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    ocr::protocol::NdxDecoder decoder(protocol);
    std::vector<std::int32_t> values;
    try {
        while (in.remaining() > 0)
            values.push_back(decoder.get(in));
    } catch (const ocr::protocol::ProtocolError&) {
    }
    ocr::protocol::NdxEncoder encoder(protocol);
    std::string wire;
    for (const std::int32_t v : values) {
        if (v != INT32_MIN)
            encoder.put(wire, v);
    }
    ocr::protocol::MemorySource again(wire);
    ocr::protocol::NdxDecoder check(protocol);
    for (const std::int32_t v : values) {
        if (v == INT32_MIN)
            continue;
        if (check.get(again) != v)
            std::abort();
    }
    if (again.remaining() != 0)
        std::abort();
    return 0;
}
