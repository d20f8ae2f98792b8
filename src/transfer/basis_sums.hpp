// SPDX-License-Identifier: MIT
// The generator's side of a delta: the sum header it picks for a basis file and the block sums it sends.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/checksum.hpp"
#include "protocol/sum_head.hpp"
#include "transfer/delta_matcher.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

namespace ocr::transfer {

/// @brief What decides the sum header of one basis file (upstream generator.c:generate_and_send_sums).
struct BasisSumsParams {
    int protocol = 32;
    std::int32_t block_size = 0;   ///< --block-size (0: upstream's square-root rule)
    std::size_t xfer_sum_len = 16; ///< checksum_length() of the negotiated transfer checksum
    bool redo = false;             ///< phase 2 redo: full-length strong sums (SUM_LENGTH)
    bool append = false;           ///< --append: header describes the whole basis, no sums sent
};

/// @brief The header upstream's sum_sizes_sqroot gives a basis of @p length bytes, or nullopt
///        where upstream warns "WARNING: file is too large for checksum sending: NAME" and sends
///        the all-zero header instead (more blocks than an int32 counts, e.g. a tiny --block-size).
/// @return the all-zero header for @p length <= 0 (upstream sends no sums for an empty basis).
/// @throw std::invalid_argument if params.block_size is negative or above the protocol's
///        largest block (upstream's option parser refuses those before any transfer).
[[nodiscard]] std::optional<protocol::SumHead> choose_sum_head_checked(std::int64_t length,
                                                                      const BasisSumsParams& params);

/// @brief Chooses the header for a basis of @p length bytes (0 length: all-zero header);
///        choose_sum_head_checked() with its nullopt turned into the all-zero header.
[[nodiscard]] protocol::SumHead choose_sum_head(std::int64_t length, const BasisSumsParams& params);

/// @brief Writes the header and, unless @p append, one rolling sum (int32) and s2length
///        strong-sum bytes per block, reading the basis through @p basis.
///
/// The basis is read a megabyte at a time, and sums go out in batches, so that hashing runs at
/// disk or digest speed. A basis that yields fewer bytes than the header describes (it shrank)
/// is hashed as if padded with zeros, as upstream's map_ptr does.
/// @param head from choose_sum_head() (head.file_length() bytes of @p basis are read).
/// @param strong the session's block checksum; its length must be at least head.s2length.
/// @param keepalive called between batches, about every 8 MiB hashed (may be empty).
/// @param append --append on a first pass: only the header goes out (params.append).
/// @throw std::invalid_argument for a header that get_sum_head() would reject or an s2length
///        above the checksum's length; whatever @p out, @p basis, @p strong or @p keepalive throw.
void write_basis_sums(protocol::ByteSink& out, const protocol::SumHead& head, DataWindow& basis,
                      protocol::BlockChecksum& strong, int protocol, const std::function<void()>& keepalive,
                      bool append = false);

} // namespace ocr::transfer
