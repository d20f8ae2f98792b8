// SPDX-License-Identifier: MIT
// Sum header choice and block-sum generation for one basis file.
#include "transfer/basis_sums.hpp"

#include "protocol/checksum_rolling.hpp"
#include "protocol/wire.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ocr::transfer {
namespace {

// One map() per megabyte: FileDataWindow reads ahead exactly this much, so every call is a
// single pread and the digest loop never waits on a syscall per block.
constexpr std::size_t kHashWindow = std::size_t{1} << 20;
// Sums are handed to the sink in batches of about this size rather than 6..24 bytes at a time.
constexpr std::size_t kSendBatch = 64 * 1024;
// How much basis data is hashed between keepalive calls.
constexpr std::int64_t kKeepaliveEvery = std::int64_t{8} << 20;

void require_sane(const protocol::SumHead& head)
{
    if (head.count < 0 || head.blength < 0 || head.s2length < 0 || head.remainder < 0 ||
        head.remainder > head.blength || (head.count > 0 && head.blength == 0) ||
        static_cast<std::size_t>(head.s2length) > protocol::kMaxChecksumLength)
        throw std::invalid_argument("write_basis_sums: invalid sum header");
}

void send(protocol::ByteSink& out, const std::string& bytes)
{
    out.write_all(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

} // namespace

std::optional<protocol::SumHead> choose_sum_head_checked(std::int64_t length, const BasisSumsParams& params)
{
    const std::int32_t max_block = params.protocol < 30 ? protocol::kOldMaxBlockLength : protocol::kMaxBlockLength;
    if (params.block_size < 0 || params.block_size > max_block)
        throw std::invalid_argument("choose_sum_head: --block-size out of range");
    // generator.c:recv_generator sends the null header for a basis of size <= 0 without calling
    // generate_and_send_sums.
    if (length <= 0)
        return protocol::SumHead{};
    protocol::SumSizesInputs in;
    in.file_length = length;
    in.block_size = params.block_size;
    in.protocol = params.protocol;
    in.xfer_sum_len = params.xfer_sum_len;
    // generator.c:check_for_finished_files raises csum_length to SUM_LENGTH for a redo.
    in.csum_length = params.redo ? protocol::kFullSumLength : protocol::kShortSumLength;
    return protocol::sum_sizes_sqroot(in);
}

protocol::SumHead choose_sum_head(std::int64_t length, const BasisSumsParams& params)
{
    return choose_sum_head_checked(length, params).value_or(protocol::SumHead{});
}

void write_basis_sums(protocol::ByteSink& out, const protocol::SumHead& head, DataWindow& basis,
                      protocol::BlockChecksum& strong, int protocol, const std::function<void()>& keepalive,
                      bool append)
{
    require_sane(head);
    const auto s2length = static_cast<std::size_t>(head.s2length);
    if (head.count > 0 && !append && s2length > strong.length())
        throw std::invalid_argument("write_basis_sums: s2length exceeds the block checksum's length");

    std::string batch;
    protocol::put_sum_head(batch, head, protocol);
    // generator.c:generate_and_send_sums stops after the header in append mode.
    if (append || head.count == 0) {
        send(out, batch);
        return;
    }

    const auto blength = static_cast<std::size_t>(head.blength);
    const std::size_t blocks_per_window = std::max<std::size_t>(1, kHashWindow / blength);
    const std::int64_t total = head.file_length();
    batch.reserve(kSendBatch + 4 + s2length);
    std::vector<std::uint8_t> padded;
    std::array<std::uint8_t, protocol::kMaxChecksumLength> digest{};
    std::int64_t offset = 0;
    std::int64_t since_keepalive = 0;

    for (std::int32_t i = 0; i < head.count;) {
        const auto n_blocks = static_cast<std::int32_t>(
            std::min<std::int64_t>(static_cast<std::int64_t>(blocks_per_window), head.count - i));
        const auto want = static_cast<std::size_t>(
            std::min<std::int64_t>(static_cast<std::int64_t>(n_blocks) * head.blength, total - offset));
        std::span<const std::uint8_t> data = basis.map(offset, want);
        if (data.size() < want) {
            // A shrunken basis reads as zeros past its end (fileio.c:map_ptr).
            padded.assign(want, 0);
            if (!data.empty())
                std::memcpy(padded.data(), data.data(), data.size());
            data = padded;
        }
        std::size_t pos = 0;
        for (std::int32_t k = 0; k < n_blocks; ++k, ++i) {
            const auto len = static_cast<std::size_t>(head.block_length(i));
            const auto block = data.subspan(pos, len);
            pos += len;
            // Per block: get_checksum1 then get_checksum2 truncated to s2length
            // (generator.c:generate_and_send_sums).
            protocol::put_i32(batch, static_cast<std::int32_t>(protocol::rolling_checksum(block)));
            strong.compute(block, digest);
            batch.append(reinterpret_cast<const char*>(digest.data()), s2length);
        }
        offset += static_cast<std::int64_t>(want);
        since_keepalive += static_cast<std::int64_t>(want);
        if (batch.size() >= kSendBatch) {
            send(out, batch);
            batch.clear();
        }
        if (keepalive && since_keepalive >= kKeepaliveEvery) {
            // Queue what is hashed before the caller touches the connection.
            if (!batch.empty()) {
                send(out, batch);
                batch.clear();
            }
            since_keepalive = 0;
            keepalive();
        }
    }
    if (!batch.empty())
        send(out, batch);
}

} // namespace ocr::transfer
