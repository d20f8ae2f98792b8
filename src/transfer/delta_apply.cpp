// SPDX-License-Identifier: MIT
// Rebuilding a file from delta tokens (receiver.c:receive_data) and writing it out with
// upstream's buffering, sparse and in-place rules (fileio.c:write_file, write_sparse, sparse_end).
#include "transfer/delta_apply.hpp"

#include "protocol/protocol_error.hpp"
#include "transfer/file_window.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;

// Output is gathered into writes of this size: far fewer syscalls than one per token, and
// large enough that the page cache, not the syscall rate, limits throughput.
constexpr std::size_t kWriteBuffer = std::size_t{1} << 20;
// Upstream SPARSE_WRITE_SIZE: interior zero runs shorter than this are written as data.
constexpr std::size_t kSparseMinHole = 1024;
// How much output passes between keepalive calls.
constexpr std::int64_t kKeepaliveEvery = std::int64_t{1} << 20;
// Reading the kept prefix for --append-verify.
constexpr std::size_t kPrefixChunk = std::size_t{1} << 20;

/// Adds without signed overflow: a hostile stream of block runs can name more bytes than an
/// int64 holds, and the only outcome we need then is "very large".
void advance(std::int64_t& v, std::int64_t n) noexcept
{
    v = v > std::numeric_limits<std::int64_t>::max() - n ? std::numeric_limits<std::int64_t>::max() : v + n;
}

std::span<const std::byte> as_byte_span(std::span<const std::uint8_t> s) noexcept
{
    return std::as_bytes(s);
}

/// The output file: buffered writes at explicit offsets, holes for --sparse.
///
/// Every write starts where the previous write or skip ended, as in upstream, where the fd's
/// position does the bookkeeping; here pwrite takes the offset, so a hole is just a gap
/// (or, inside the old length of an in-place file, a punched range).
class OutputFile {
public:
    OutputFile(int fd, bool sparse, std::int64_t preallocated) : fd_(fd), sparse_(sparse), preallocated_(preallocated)
    {
        buf_.reserve(kWriteBuffer);
    }

    /// fileio.c:write_file with use_seek 0.
    bool write(std::int64_t offset, std::span<const std::uint8_t> data)
    {
        return sparse_ ? sparse_write(offset, data, false) : put(offset, data);
    }

    /// receiver.c:skip_matched: a block already in place. With --sparse its zero runs still
    /// become holes (write_sparse with use_seek); otherwise nothing is written.
    bool skip(std::int64_t offset, std::span<const std::uint8_t> data)
    {
        return sparse_ ? sparse_write(offset, data, true) : true;
    }

    /// The end of the data: fileio.c:flush_write_file, or sparse_end with --sparse.
    bool finish(std::int64_t size, bool updating_basis)
    {
        if (!flush())
            return false;
        if (!sparse_)
            return true;
        // sparse_end: an in-place file gets its trailing hole punched and is cut (it may have
        // been longer); a fresh file only needs extending when it ends in a hole.
        bool ok = true;
        if (updating_basis) {
            if (hole_ != 0 && !punch(past_write_, hole_))
                ok = false;
            else if (::ftruncate(fd_, size) != 0)
                ok = fail(errno);
        } else if (hole_ != 0 && ::ftruncate(fd_, size) != 0) {
            ok = fail(errno);
        }
        hole_ = 0;
        past_write_ = 0;
        return ok;
    }

    [[nodiscard]] int error() const noexcept { return error_; }

    /// What upstream's cleanup.c:_exit_cleanup does when a file that got literal data is cut
    /// short: the buffered bytes still go out (a --partial or --inplace file keeps them).
    void salvage() noexcept
    {
        if (fd_ != -1)
            (void)flush();
    }

private:
    bool fail(int err)
    {
        if (error_ == 0)
            error_ = err != 0 ? err : EIO;
        return false;
    }

    bool pwrite_all(std::int64_t offset, const std::uint8_t* p, std::size_t n)
    {
        while (n > 0) {
            const ssize_t w = ::pwrite(fd_, p, n, offset);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return fail(errno);
            if (w == 0)
                return fail(ENOSPC);
            p += w;
            n -= static_cast<std::size_t>(w);
            offset += w;
        }
        return true;
    }

    bool flush()
    {
        if (buf_.empty())
            return error_ == 0;
        const bool ok = pwrite_all(buf_offset_, buf_.data(), buf_.size());
        buf_.clear();
        return ok;
    }

    bool put(std::int64_t offset, std::span<const std::uint8_t> data)
    {
        if (!buf_.empty() && buf_offset_ + static_cast<std::int64_t>(buf_.size()) != offset && !flush())
            return false;
        if (buf_.empty()) {
            buf_offset_ = offset;
            if (data.size() >= kWriteBuffer)
                return pwrite_all(offset, data.data(), data.size());
        }
        buf_.insert(buf_.end(), data.begin(), data.end());
        return buf_.size() < kWriteBuffer || flush();
    }

    bool punch(std::int64_t pos, std::int64_t len)
    {
        // syscall.c:do_punch_hole: deallocate, else zero the range, else write zeros.
        if (!flush())
            return false;
#ifdef FALLOC_FL_PUNCH_HOLE
        if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, pos, len) == 0)
            return true;
#endif
#ifdef FALLOC_FL_ZERO_RANGE
        if (::fallocate(fd_, FALLOC_FL_ZERO_RANGE, pos, len) == 0)
            return true;
#endif
        static constexpr std::array<std::uint8_t, 4096> kZeros{};
        while (len > 0) {
            const auto n = static_cast<std::size_t>(std::min<std::int64_t>(len, kZeros.size()));
            if (!pwrite_all(pos, kZeros.data(), n))
                return false;
            pos += static_cast<std::int64_t>(n);
            len -= static_cast<std::int64_t>(n);
        }
        return true;
    }

    /// fileio.c:flush_sparse_hole: past what the file held before (preallocated_len) a hole
    /// is just not written; inside it, the old bytes must be punched out.
    bool flush_hole()
    {
        if (hole_ == 0)
            return true;
        const std::int64_t start = past_write_;
        const std::int64_t len = hole_;
        hole_ = 0;
        return start >= preallocated_ || punch(start, len);
    }

    bool emit_span(std::int64_t offset, std::span<const std::uint8_t> data, bool seek_only)
    {
        if (!flush_hole())
            return false;
        return seek_only || put(offset, data);
    }

    /// fileio.c:write_sparse: leading and trailing zeros stay pending (they may join the
    /// neighbours' holes); interior runs of at least SPARSE_WRITE_SIZE zeros become holes;
    /// the rest goes out as large spans.
    bool sparse_write(std::int64_t offset, std::span<const std::uint8_t> data, bool seek_only)
    {
        const std::size_t len = data.size();
        const std::uint8_t* d = data.data();
        std::size_t lead = 0;
        while (lead < len && d[lead] == 0)
            ++lead;
        hole_ += static_cast<std::int64_t>(lead);
        if (lead == len)
            return true;
        std::size_t trail = 0;
        while (trail < len - lead && d[len - 1 - trail] == 0)
            ++trail;
        std::size_t start = lead;
        const std::size_t end = len - trail;
        for (std::size_t i = lead; i < end;) {
            const void* z0 = std::memchr(d + i, 0, end - i);
            if (z0 == nullptr)
                break;
            i = static_cast<std::size_t>(static_cast<const std::uint8_t*>(z0) - d);
            std::size_t run = 1;
            while (i + run < end && d[i + run] == 0)
                ++run;
            if (run < kSparseMinHole) {
                i += run;
                continue;
            }
            if (i > start) {
                if (!emit_span(offset + static_cast<std::int64_t>(start), data.subspan(start, i - start), seek_only))
                    return false;
                past_write_ = offset + static_cast<std::int64_t>(i);
            }
            hole_ += static_cast<std::int64_t>(run);
            i += run;
            start = i;
        }
        if (end > start &&
            !emit_span(offset + static_cast<std::int64_t>(start), data.subspan(start, end - start), seek_only))
            return false;
        hole_ = static_cast<std::int64_t>(trail);
        past_write_ = offset + static_cast<std::int64_t>(len - trail);
        return true;
    }

    int fd_;
    bool sparse_;
    std::int64_t preallocated_;
    std::vector<std::uint8_t> buf_;
    std::int64_t buf_offset_ = 0;
    std::int64_t past_write_ = 0; ///< upstream sparse_past_write: end of the last data span
    std::int64_t hole_ = 0;       ///< upstream sparse_seek: zeros pending after past_write_
    int error_ = 0;
};

/// The bytes of a basis range, zeros where the basis ends or a read comes up short
/// (fileio.c:map_ptr zero-fills what it cannot read).
class BasisReader {
public:
    BasisReader(DataWindow* window, std::int64_t size) : window_(window), size_(window ? size : 0) {}

    [[nodiscard]] bool present() const noexcept { return window_ != nullptr && size_ > 0; }

    std::span<const std::uint8_t> read(std::int64_t offset, std::size_t len)
    {
        std::size_t avail = 0;
        std::span<const std::uint8_t> got;
        if (offset < size_) {
            avail = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(len), size_ - offset));
            got = window_->map(offset, avail);
            if (got.size() == len)
                return got;
        }
        scratch_.assign(len, 0);
        if (!got.empty())
            std::memcpy(scratch_.data(), got.data(), std::min(got.size(), avail));
        return scratch_;
    }

    [[nodiscard]] int read_errno() const noexcept
    {
        if (window_ == nullptr || !window_->read_failed())
            return 0;
        if (const auto* fw = dynamic_cast<const FileDataWindow*>(window_); fw && fw->read_errno() != 0)
            return fw->read_errno();
        return ENODATA; // what map_ptr records for a file that came up short
    }

private:
    DataWindow* window_;
    std::int64_t size_;
    std::vector<std::uint8_t> scratch_;
};

void require_consistent(const ApplyParams& p)
{
    const auto& h = p.head;
    if (h.count < 0 || h.blength < 0 || h.remainder < 0 || h.remainder > h.blength || (h.count > 0 && h.blength == 0))
        throw std::invalid_argument("apply_delta: invalid sum header");
    if (p.append_offset < 0 || p.basis_size < 0)
        throw std::invalid_argument("apply_delta: negative append_offset or basis_size");
}

/// receive_data for both callers: @p writing is "fd != -1", @p basis its mapbuf.
ApplyResult receive(protocol::ByteSource& in, protocol::TokenDecoder& tokens, const ApplyParams& p,
                    BasisReader& basis, bool writing)
{
    require_consistent(p);
    ApplyResult result;
    const protocol::SumHead& head = p.head;
    const bool inplace_sizing = p.inplace || p.inplace_sizing;
    bool is_device = false;

    // receive_data: an in-place output keeps its old bytes (preallocated_len = size_r), unless
    // --sparse --whole-file emptied it first so that holes need no punching.
    std::int64_t preallocated = 0;
    if (writing && inplace_sizing) {
        preallocated = p.basis_size;
        if (p.sparse && p.whole_file && ::ftruncate(p.out_fd, 0) == 0)
            preallocated = 0;
    }
    if (writing) {
        struct stat st{};
        is_device = ::fstat(p.out_fd, &st) == 0 && (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode));
    }
    OutputFile out(writing ? p.out_fd : -1, p.sparse, preallocated);

    tokens.begin_file(protocol::BlockLayout{head.count, head.blength, head.remainder});
    protocol::FileChecksum sum = protocol::FileChecksum::for_transfer(p.file_sum_kind, p.checksum_seed);

    std::int64_t offset = 0;
    if (p.append_offset > 0) {
        // receive_data: only --append-verify sums the kept bytes, and only from a mapped basis.
        if (p.append_verify && basis.present()) {
            for (std::int64_t pos = 0; pos < p.append_offset;) {
                const auto n = static_cast<std::size_t>(
                    std::min<std::int64_t>(static_cast<std::int64_t>(kPrefixChunk), p.append_offset - pos));
                sum.update(basis.read(pos, n));
                pos += static_cast<std::int64_t>(n);
            }
        }
        offset = p.append_offset;
    }

    std::vector<std::uint8_t> zeros;
    std::int64_t next_keepalive = offset + kKeepaliveEvery;
    auto write_failed = [&] {
        result.write_errno = out.error();
        result.file_size = offset;
        if (result.literal_bytes > 0)
            out.salvage();
        return result;
    };
    try {
        for (;;) {
            const protocol::Token t = tokens.next(in);
            if (t.kind == protocol::Token::Kind::End)
                break;
            if (p.keepalive && offset >= next_keepalive) {
                p.keepalive();
                next_keepalive = offset + kKeepaliveEvery;
            }
            if (t.kind == protocol::Token::Kind::Literal) {
                const std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(t.data.data()),
                                                         t.data.size());
                advance(result.literal_bytes, static_cast<std::int64_t>(data.size()));
                sum.update(data);
                if (writing && !out.write(offset, data))
                    return write_failed();
                advance(offset, static_cast<std::int64_t>(data.size()));
                continue;
            }

            // The decoders check the index already; a second look keeps this loop safe on its own.
            if (t.block < 0 || t.block >= head.count)
                throw ProtocolError(ExitCode::Protocol, "Invalid block index " + std::to_string(t.block) +
                                                            " (count=" + std::to_string(head.count) + ") [" +
                                                            std::string(p.who) + "]");
            const std::int32_t len = head.block_length(t.block);
            const std::int64_t offset2 = static_cast<std::int64_t>(t.block) * head.blength;
            advance(result.matched_bytes, len);

            if (!basis.present()) {
                if (writing)
                    throw ProtocolError(ExitCode::Protocol, "got a block match with no basis file for " + p.full_fname +
                                                                " [" + std::string(p.who) + "]");
                // Upstream absorbs the block without touching the decoder; ours must see some bytes
                // to stay in step, and zeros are what a missing basis reads as.
                if (zeros.size() < static_cast<std::size_t>(len))
                    zeros.resize(static_cast<std::size_t>(len), 0);
                const std::span<const std::uint8_t> none(zeros.data(), static_cast<std::size_t>(len));
                tokens.see_block(as_byte_span(none));
                advance(offset, len);
                continue;
            }

            const std::span<const std::uint8_t> data = basis.read(offset2, static_cast<std::size_t>(len));
            tokens.see_block(as_byte_span(data));
            sum.update(data);
            if (writing) {
                const bool ok = p.inplace && offset == offset2 ? out.skip(offset, data) : out.write(offset, data);
                if (!ok)
                    return write_failed();
            }
            advance(offset, len);
        }
    } catch (...) {
        if (result.literal_bytes > 0)
            out.salvage();
        throw;
    }

    if (writing && offset > 0 && !out.finish(offset, p.inplace))
        return write_failed();
    // receive_data: an in-place output may have been longer than the new data (devices excepted).
    if (writing && inplace_sizing && !is_device && ::ftruncate(p.out_fd, offset) != 0)
        result.truncate_errno = errno;

    std::array<std::uint8_t, protocol::kMaxChecksumLength> ours{};
    std::array<std::uint8_t, protocol::kMaxChecksumLength> theirs{};
    const std::size_t sum_len = sum.finish(ours);
    in.read_exact(std::as_writable_bytes(std::span(theirs.data(), sum_len)));

    result.file_size = offset;
    result.basis_read_errno = basis.read_errno();
    result.sum_matches = !writing || std::memcmp(ours.data(), theirs.data(), sum_len) == 0;
    result.sender_sum = theirs;
    result.sender_sum_len = sum_len;
    return result;
}

} // namespace

ApplyResult apply_delta(protocol::ByteSource& in, protocol::TokenDecoder& tokens, const ApplyParams& params)
{
    BasisReader basis(params.basis, params.basis_size);
    return receive(in, tokens, params, basis, params.out_fd != -1);
}

ApplyResult discard_delta(protocol::ByteSource& in, protocol::TokenDecoder& tokens, const ApplyParams& params)
{
    // receiver.c:discard_receive_data passes no basis and no output.
    BasisReader none(nullptr, 0);
    ApplyParams p;
    p.head = params.head;
    p.append_offset = params.append_offset;
    p.file_sum_kind = params.file_sum_kind;
    p.checksum_seed = params.checksum_seed;
    p.protocol = params.protocol;
    p.who = params.who;
    p.keepalive = params.keepalive;
    return receive(in, tokens, p, none, false);
}

} // namespace ocr::transfer
