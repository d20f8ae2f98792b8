// SPDX-License-Identifier: MIT
// Fuzz target: the integer and string readers of protocol/wire.hpp over arbitrary bytes;
// every value read must survive being written again and read back.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace ocr::protocol;

// Writes @p v with @p put, reads it back with @p get and aborts unless the value and the
// amount consumed agree.
template <typename T, typename Put, typename Get>
void round_trip(const T& v, Put put, Get get)
{
    std::string wire;
    put(wire, v);
    MemorySource again(wire);
    if (!(get(again) == v) || again.remaining() != 0)
        std::abort();
}

} // namespace

// Each step: one selector byte picks the reader, the reader consumes what follows.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    MemorySource in(std::string_view(reinterpret_cast<const char*>(data), size));
    try {
        while (in.remaining() > 0) {
            const std::uint8_t sel = get_byte(in);
            switch (sel % 9) {
            case 0:
                round_trip(get_byte(in), put_byte, get_byte);
                break;
            case 1:
                round_trip(get_u16(in), put_u16, get_u16);
                break;
            case 2:
                round_trip(get_i32(in), put_i32, get_i32);
                break;
            case 3:
                round_trip(get_longint(in), put_longint, get_longint);
                break;
            case 4:
                round_trip(get_varint(in), put_varint, get_varint);
                break;
            case 5:
            case 6: {
                // Upstream's two minimums (sizes 3, times 4) and any other legal one.
                const int min_bytes = sel % 9 == 5 ? 3 + (sel / 9) % 6 : 4;
                round_trip(
                    get_varlong(in, min_bytes),
                    [min_bytes](std::string& out, std::int64_t v) { put_varlong(out, v, min_bytes); },
                    [min_bytes](ByteSource& src) { return get_varlong(src, min_bytes); });
                break;
            }
            case 7:
            case 8: {
                const std::size_t max_len = sel % 9 == 7 ? kMaxVstringLength : sel / 9;
                const std::string s = get_vstring(in, max_len);
                if (s.size() > max_len)
                    std::abort();
                round_trip(s, [](std::string& out, const std::string& v) { put_vstring(out, v); },
                           [max_len](ByteSource& src) { return get_vstring(src, max_len); });
                break;
            }
            }
        }
    } catch (const ProtocolError&) {
        // Truncated input, an over-long varint or vstring: the readers' expected failures.
    }
    return 0;
}
