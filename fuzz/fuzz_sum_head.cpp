// SPDX-License-Identifier: MIT
// Fuzz target: peer bytes through the sum-header and block-sum decoders at several
// protocols and digest lengths; whatever decodes must re-encode to the bytes it came from
// and respect upstream's bounds.
#include "protocol/memory_stream.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace ocr::protocol;
    if (size < 2)
        return 0;
    // Byte 0: protocol and digest length; byte 1: allocation limit.
    static constexpr int kProtocols[] = {26, 27, 29, 30, 31, 32};
    static constexpr std::size_t kDigestLengths[] = {1, 8, 16, 20};
    const int protocol = kProtocols[(data[0] & 0x0F) % 6];
    const std::size_t xfer_sum_len = kDigestLengths[(data[0] >> 4) & 3];
    BlockSumLimits limits;
    limits.max_alloc = (data[1] & 1) != 0 ? kDefaultMaxAlloc : std::size_t{24} * (data[1] >> 1);
    const std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);

    MemorySource src(wire);
    try {
        const SumHead head = get_sum_head(src, {protocol, xfer_sum_len, "sender"});
        const std::int32_t max_blength = protocol < 30 ? kOldMaxBlockLength : kMaxBlockLength;
        check(head.count >= 0 && head.blength >= 0 && head.blength <= max_blength);
        check(head.count == 0 || head.blength > 0);
        check(head.s2length >= 0 && static_cast<std::size_t>(head.s2length) <= xfer_sum_len);
        check(head.remainder >= 0 && head.remainder <= head.blength);
        const BlockSums sums = get_block_sums(src, head, limits);
        check(sums.head() == head);
        std::string again;
        put_block_sums(again, sums, protocol);
        check(again == wire.substr(0, wire.size() - src.remaining()));
    } catch (const ProtocolError&) {
        // Rejected input is the expected outcome for most bytes.
    }
    return 0;
}
