// SPDX-License-Identifier: MIT
// The receiver's side of a delta: rebuilds one file from the sender's tokens and a basis file.
#pragma once

#include "protocol/byte_stream.hpp"
#include "protocol/checksum.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/token_codec.hpp"
#include "transfer/delta_matcher.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief How one file is rebuilt (upstream receiver.c:receive_data's arguments and globals).
struct ApplyParams {
    protocol::SumHead head;      ///< the header as the sender echoed it (read with get_sum_head)
    DataWindow* basis = nullptr; ///< nullptr: no basis (only literal data may arrive)
    /// Bytes of @c basis that may be read; blocks past it read as zeros (fileio.c:map_ptr).
    /// 0 counts as "no basis", as upstream maps nothing for an empty basis.
    std::int64_t basis_size = 0;
    int out_fd = -1; ///< where the new file is written (temp file or the file itself); -1: nowhere
    bool sparse = false; ///< --sparse: holes for runs of zeros (fileio.c:write_sparse rules)
    /// The output IS the basis (upstream updating_basis_or_equiv): a matched block at its own
    /// offset is skipped, not rewritten. Implies inplace_sizing. Like upstream, nothing stops a
    /// sender from naming a block the output already overwrote: a sender that honours
    /// updating_basis never does (match.c), and the result of one that does is merely wrong
    /// data, which the whole-file sum then reports.
    bool inplace = false;
    /// The output is the destination file itself (--inplace, or an in-place partial file; upstream
    /// receive_data's inplace_sizing): it is cut to the new length at the end, and with --sparse
    /// zero runs inside its old length are punched out instead of skipped.
    bool inplace_sizing = false;
    /// --whole-file: with --sparse and inplace_sizing the output is first cut to 0 so that
    /// every zero run can become a hole by seeking (receive_data).
    bool whole_file = false;
    /// --append / --append-verify: where the new data starts. Set it to head.file_length(),
    /// which is what upstream receive_data uses; the kept bytes are not written again.
    std::int64_t append_offset = 0;
    /// --append-verify (append_mode 2): the whole-file sum covers the kept bytes, read from
    /// @c basis (not when there is no basis, as upstream).
    bool append_verify = false;
    protocol::ChecksumKind file_sum_kind = protocol::ChecksumKind::Md5; ///< negotiated transfer checksum
    std::int32_t checksum_seed = 0;
    int protocol = 32;
    /// Upstream full_fname() of the output, for "got a block match with no basis file for %s".
    std::string full_fname;
    /// who_am_i() in error texts.
    std::string_view who = "receiver";
    /// Called about every MiB of output (receive_data's maybe_send_keepalive); may be empty.
    std::function<void()> keepalive;
};

/// @brief What rebuilding one file gave.
struct ApplyResult {
    /// Whole-file checksum equal to the sender's. Always true when nothing was written
    /// (out_fd -1, and discard_delta): receive_data returns 1 then.
    bool sum_matches = false;
    /// The whole-file sum the sender sent after the data (upstream sender_file_sum): the
    /// first sender_sum_len bytes; the transfer log's %C shows it.
    std::array<std::uint8_t, protocol::kMaxChecksumLength> sender_sum{};
    std::size_t sender_sum_len = 0;
    std::int64_t literal_bytes = 0; ///< stats.literal_data
    std::int64_t matched_bytes = 0; ///< stats.matched_data
    std::int64_t file_size = 0;     ///< bytes of the result (including an append prefix)
    /// errno of a failed write, seek or hole punch. Upstream then stops at once with
    /// rsyserr(FERROR_XFER, errno, "write failed on %s", full_fname) and exit_cleanup(RERR_FILEIO)
    /// (receive_data's report_write_error), so apply_delta returns right away too, WITHOUT
    /// reading the rest of the file's tokens or its checksum: the stream is out of step and the
    /// caller must report that text and end the session with ExitCode::FileIo.
    int write_errno = 0;
    /// Reading the basis failed (its bytes counted as zeros; upstream ignores this too).
    int basis_read_errno = 0;
    /// The final ftruncate of an in-place or sparse output failed; upstream only warns:
    /// rsyserr(FERROR_XFER, errno, "ftruncate failed on %s", full_fname).
    int truncate_errno = 0;
};

/// @brief Reads tokens until the end token, rebuilds the file, then reads the sender's
///        whole-file checksum (checksum_length(file_sum_kind) bytes) and compares.
///
/// Literal data is written as it comes and matched blocks are copied from the basis
/// (offset = index * blength), all through one large write buffer (or, with --sparse, as
/// data spans between holes, fileio.c:write_sparse). The output is written with pwrite at
/// explicit offsets, so the fd's file position is left undefined.
/// @throw ProtocolError: whatever @p tokens throws (including "Invalid block index %d
///        (count=%d) [receiver]"), "got a block match with no basis file for %s [%s]"
///        (Protocol) when a block arrives for an output with no basis, StreamIo when @p in ends.
/// @throw std::invalid_argument for inconsistent params (a negative append_offset or basis_size,
///        a header get_sum_head() would not return).
[[nodiscard]] ApplyResult apply_delta(protocol::ByteSource& in, protocol::TokenDecoder& tokens,
                                      const ApplyParams& params);

/// @brief A sink that discards (dry run / a file we cannot write): reads and checks the stream
///        the same way (upstream discard_receive_data: no basis, no output; block tokens only
///        advance the offset). Only head, append_offset, file_sum_kind, checksum_seed, who and
///        keepalive of @p params are used.
[[nodiscard]] ApplyResult discard_delta(protocol::ByteSource& in, protocol::TokenDecoder& tokens,
                                        const ApplyParams& params);

} // namespace ocr::transfer
