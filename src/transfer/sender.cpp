// SPDX-License-Identifier: MIT
// The pull's sending side. Order and checks follow upstream: main.c:do_server_sender
// (filter list, file list, send_files, stats, final goodbye), sender.c:send_files and
// rsync.c:read_ndx_and_attrs (request validation, the phase/NDX_DONE logic and
// incremental-recursion list retirement), io.c:read_a_msg (what a sender accepts).
#include "transfer/sender.hpp"

#include "protocol/flist_xmit.hpp"
#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/token_codec.hpp"
#include "protocol/wire.hpp"
#include "transfer/delta_matcher.hpp"
#include "transfer/file_window.hpp"
#include "transfer/filter_wire.hpp"
#include "transfer/itemize.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;

// Upstream MIN_FILECNT_LOOKAHEAD: how far ahead of the client's requests sub-lists go.
constexpr int kFileLookahead = 1000;
// While waiting for the client, lists keep going out up to this many entries in flight
// (upstream rsync.h MAX_FILECNT_LOOKAHEAD, used by io.c:perform_io).
constexpr std::int64_t kMaxFileLookahead = 10000;
// Upstream FNAMECMP_FNAME / FNAMECMP_PARTIAL_DIR: the basis is the file itself / the
// partial file.
constexpr std::uint8_t kBasisFname = 0x80;
constexpr std::uint8_t kBasisPartialDir = 0x81;
std::string int32_payload(std::int32_t v)
{
    std::string p;
    protocol::put_i32(p, v);
    return p;
}

// The range upstream names in its index errors: from the oldest live list's parent slot to
// the newest list's last entry (rsync.c:flist_for_ndx), or 0 - -1 when no list is live.
// The live lists cover one contiguous run of indexes at or above -1: walk up to its start
// (only on this fatal path), then search for its end.
std::pair<std::int32_t, std::int32_t> live_index_range(const SenderFileLists& lists)
{
    if (lists.live_lists() == 0)
        return {0, -1};
    std::int64_t first = -1;
    while (first <= INT32_MAX && !lists.valid(static_cast<std::int32_t>(first)))
        ++first;
    if (first > INT32_MAX)
        return {0, -1};
    std::int64_t lo = first;
    std::int64_t hi = static_cast<std::int64_t>(INT32_MAX) + 1; // the end lies in [lo, hi)
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (lists.valid(static_cast<std::int32_t>(mid)))
            lo = mid;
        else
            hi = mid;
    }
    return {static_cast<std::int32_t>(first), static_cast<std::int32_t>(lo)};
}

// Upstream io.c:read_a_msg's "[%s%s]": who_am_i() plus "/inc" with incremental recursion.
std::string who_tag(bool inc_recurse)
{
    return inc_recurse ? "sender/inc" : "sender";
}

std::int32_t int32_from(std::string_view p)
{
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
                                     (static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8) |
                                     (static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16) |
                                     (static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24));
}

// Feeds the matcher's steps to a token encoder, one upstream send_token() call per step,
// encoded straight from the file window (no copy of the literal data on the way).
class TokenSink final : public DeltaSink {
public:
    explicit TokenSink(protocol::TokenEncoder& enc) : enc_(enc) {}
    void step(const DeltaStep& s) override
    {
        const std::int32_t index = s.block >= 0                   ? s.block
                                   : s.block == kTokenEndOfFile ? protocol::TokenEncoder::kStepEndOfFile
                                                                : protocol::TokenEncoder::kStepDataOnly;
        enc_.step(std::as_bytes(s.literal), index, std::as_bytes(s.block_data));
    }

private:
    protocol::TokenEncoder& enc_;
};

} // namespace

Sender::Sender(const SenderOptions& options, Services services, const ChmodRules* chmod)
    : opt_(options), s_(std::move(services)), ndx_out_(options.flist.protocol),
      ndx_in_(options.flist.protocol, "sender"),
      flists_(options,
              SenderFileLists::Services{
                  s_.fs, s_.filters, s_.report, s_.conn, ndx_out_,
                  [this](const std::string& path) -> std::optional<std::string> {
                      // Upstream checksum.c:file_checksum has no "none" sum to compute.
                      if (opt_.file_checksum == protocol::ChecksumKind::None)
                          throw ProtocolError(ExitCode::Unsupported, "Invalid checksum-choice for --checksum: none (0)",
                                              protocol::UpstreamSite{"checksum.c", 551});
                      UniqueFd fd = s_.fs.open_read(path, opt_.links.copy_links);
                      if (!fd)
                          return std::nullopt;
                      struct stat st{};
                      if (::fstat(fd.get(), &st) != 0)
                          return std::nullopt;
                      auto sum = protocol::FileChecksum::for_file_list(opt_.file_checksum);
                      FileDataWindow window(fd.get(), st.st_size);
                      for (std::int64_t off = 0; off < st.st_size;) {
                          const auto chunk = window.map(off, 1u << 20);
                          if (chunk.empty())
                              break;
                          sum.update(chunk);
                          off += static_cast<std::int64_t>(chunk.size());
                      }
                      std::string out(sum.length(), '\0');
                      sum.finish(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
                      return out;
                  },
                  s_.user_name, s_.group_name, s_.chrooted, s_.module_name},
              chmod)
{
    if (opt_.xfer_checksum.kind != protocol::ChecksumKind::None)
        block_sum_.emplace(opt_.xfer_checksum, opt_.checksum_seed);
}

void Sender::on_message(protocol::MsgCode code, std::string_view payload)
{
    using protocol::MsgCode;
    switch (code) {
    case MsgCode::IoError:
        if (payload.size() != 4)
            break;
        s_.report.add_io_error(int32_from(payload) & (kIoErrorGeneral | kIoErrorVanished | kIoErrorDelLimit));
        return;
    case MsgCode::Noop:
        if (!payload.empty())
            break;
        s_.conn.keepalive();
        return;
    case MsgCode::Success:
        if (payload.size() != 4)
            break;
        successful_send(int32_from(payload));
        return;
    case MsgCode::ErrorExit: {
        if (payload.size() != 4 && !payload.empty())
            break;
        const int val = payload.empty() ? 0 : int32_from(payload);
        // Upstream: a sender answers a client's MSG_ERROR_EXIT with an empty one (31+).
        if (!payload.empty() && opt_.flist.protocol >= 31) {
            s_.conn.send_message(MsgCode::ErrorExit, "");
            s_.conn.flush();
        }
        throw PeerExit{val};
    }
    case MsgCode::Info:
        s_.report.emit(LogCode::Info, payload);
        return;
    case MsgCode::Error:
        s_.report.emit(LogCode::Error, payload);
        return;
    case MsgCode::ErrorXfer:
        s_.report.emit(LogCode::ErrorXfer, payload);
        return;
    case MsgCode::Warning:
        // Upstream io.c:read_a_msg hands the client's messages to rwrite, which on a
        // server logs them and passes them back to the client.
        s_.report.emit(LogCode::Warning, payload);
        return;
    case MsgCode::NoSend:
        if (payload.size() != 4)
            break;
        // Upstream io.c:read_a_msg: a sender (not being the generator) passes it on.
        s_.conn.send_message(MsgCode::NoSend, payload);
        return;
    case MsgCode::Deleted:
        // Upstream logs a peer's deletion (log_delete), which for a sending daemon adds
        // nothing the client or the transfer sees; accept it as upstream does.
        return;
    case MsgCode::Redo:
    case MsgCode::Stats:
    case MsgCode::IoTimeout:
    case MsgCode::ErrorSocket:
    case MsgCode::ErrorUtf8:
    case MsgCode::Client:
    case MsgCode::Log:
        break;
    default:
        throw ProtocolError(ExitCode::StreamIo,
                            "unexpected tag " + std::to_string(static_cast<int>(code)) + " [" + who_tag(opt_.flist.inc_recurse) + "]",
                            protocol::UpstreamSite{"io.c", 1896});
    }
    throw ProtocolError(ExitCode::StreamIo,
                        "invalid multi-message " + std::to_string(static_cast<int>(code)) + ":" +
                            std::to_string(payload.size()) + " [" + who_tag(opt_.flist.inc_recurse) + "]",
                        protocol::UpstreamSite{"io.c", 1799});
}

void Sender::successful_send(std::int32_t ndx)
{
    // --remove-source-files: the client got this file intact; remove our copy if it is
    // still the one we sent (upstream sender.c:successful_send).
    if (!opt_.remove_source_files)
        return;
    if (!flists_.valid(ndx)) {
        // Upstream sender.c:successful_send looks the index up with flist_for_ndx.
        const auto [first, last] = live_index_range(flists_);
        throw ProtocolError(ExitCode::Protocol,
                            "File-list index " + std::to_string(ndx) + " not in " + std::to_string(first) + " - " +
                                std::to_string(last) + " (successful_send) [sender]",
                            protocol::UpstreamSite{"rsync.c", 982});
    }
    SentFile* f = flists_.find(ndx);
    if (!f)
        return;
    // Every type the client reports is removed, not only regular files: its generator
    // sends MSG_SUCCESS for symlinks, devices and specials too (upstream generator.c:
    // recv_generator), and successful_send has no type check. Directories never get one.
    // Messages name the file as upstream's f_name(): relative to the transfer root.
    const std::string& fname = f->entry.name;
    const std::string path = flists_.local_path(*f);
    const auto slash = path.rfind('/');
    const std::string leaf = slash == std::string::npos ? path : path.substr(slash + 1);
    // upstream sender.c:successful_send: a failed step names itself ("secure-open-parent",
    // "re-lstat", "remove"); a name already gone is only an informational line.
    auto failed = [&](const char* op, int err) {
        if (err == ENOENT)
            s_.report.emit(LogCode::Info, "sender file already removed: " + fname + "\n");
        else
            s_.report.syserr(LogCode::ErrorXfer, err, std::string("sender failed to ") + op + " " + fname);
    };
    UniqueFd dir = slash == std::string::npos ? s_.fs.open_dir("") : s_.fs.open_dir(path.substr(0, slash));
    if (!dir)
        return failed("secure-open-parent", errno);
    // upstream: stat with --copy-links, lstat otherwise.
    struct stat st{};
    if (::fstatat(dir.get(), leaf.c_str(), &st, opt_.links.copy_links ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
        return failed("re-lstat", errno);
    // upstream compares the length, the mtime seconds and, when the entry carries them
    // (FLAG_MOD_NSEC: protocol 31+ and a non-zero value), the nanoseconds.
    const bool has_nsec = opt_.flist.protocol >= 31 && f->entry.mtime_nsec != 0;
    if (st.st_size != f->entry.size || st.st_mtim.tv_sec != f->entry.mtime ||
        (has_nsec && static_cast<std::uint32_t>(st.st_mtim.tv_nsec) != f->entry.mtime_nsec)) {
        s_.report.emit(LogCode::ErrorXfer, "ERROR: Skipping sender remove for changed file: " + fname + "\n");
        return;
    }
    if (::unlinkat(dir.get(), leaf.c_str(), 0) != 0)
        return failed("remove", errno);
    if (opt_.info_remove >= 1)
        s_.report.emit(LogCode::Info, "sender removed " + fname + "\n");
}

bool Sender::read_request(std::int32_t& ndx, std::uint32_t& iflags, std::uint8_t& basis_type, std::string& xname)
{
    const int protocol = opt_.flist.protocol;
    for (;;) {
        ndx = ndx_in_.get(s_.conn);
        if (ndx == protocol::kNdxDone)
            return false;
        if (ndx >= 0) {
            iflags = protocol >= 29 ? protocol::get_u16(s_.conn) : (kItemTransfer | kItemMissingData);
            // Upstream rsync.c:read_ndx_and_attrs: a protocol-29 peer's keep-alive is the
            // index just past the (only) list with ITEM_IS_NEW alone.
            if (protocol < 30 && iflags == kItemIsNew && ndx > 0 && !flists_.valid(ndx) && flists_.valid(ndx - 1)) {
                s_.conn.keepalive();
                continue;
            }
            break;
        }
        if (ndx == protocol::kNdxDelStats) {
            // Deletion statistics: a sending server echoes them (main.c:read_del_stats).
            std::string record;
            ndx_out_.put(record, protocol::kNdxDelStats);
            for (int i = 0; i < 5; ++i)
                protocol::put_varint(record, protocol::get_varint(s_.conn));
            s_.conn.write(record);
            continue;
        }
        // Upstream rsync.c:read_ndx_and_attrs names the last index of the newest list.
        throw ProtocolError(ExitCode::Protocol,
                            "Invalid file index: " + std::to_string(ndx) + " (-1 - " +
                                std::to_string(live_index_range(flists_).second) + ") [sender]",
                            protocol::UpstreamSite{"rsync.c", 353});
    }
    SentFile* f = flists_.find(ndx);
    if (!f) {
        // Upstream rsync.c:flist_for_ndx.
        const auto [first, last] = live_index_range(flists_);
        throw ProtocolError(ExitCode::Protocol,
                            "File-list index " + std::to_string(ndx) + " not in " + std::to_string(first) + " - " +
                                std::to_string(last) + " (read_ndx_and_attrs) [sender]",
                            protocol::UpstreamSite{"rsync.c", 982});
    }
    basis_type = kBasisFname;
    if (iflags & kItemBasisTypeFollows)
        basis_type = protocol::get_byte(s_.conn);
    xname.clear();
    if (iflags & kItemXnameFollows)
        xname = protocol::get_vstring(s_.conn, protocol::kMaxPathLen - 1);
    if ((iflags & kItemTransfer) && !protocol::is_regular(f->entry.mode))
        throw ProtocolError(ExitCode::Protocol,
                            "received request to transfer non-regular file: " + std::to_string(ndx) + " [sender]",
                            protocol::UpstreamSite{"rsync.c", 442});
    return true;
}

void Sender::echo_request(std::int32_t ndx, std::uint32_t iflags, std::uint8_t basis_type, const std::string& xname)
{
    // Upstream sender.c:write_ndx_and_attrs.
    std::string out;
    ndx_out_.put(out, ndx);
    if (opt_.flist.protocol >= 29) {
        protocol::put_u16(out, static_cast<std::uint16_t>(iflags));
        if (iflags & kItemBasisTypeFollows)
            protocol::put_byte(out, basis_type);
        if (iflags & kItemXnameFollows)
            protocol::put_vstring(out, xname);
    }
    s_.conn.write(out);
}

void Sender::send_one(std::int32_t ndx, SentFile& file, std::uint32_t iflags, std::uint8_t basis_type,
                      const std::string& xname, bool redo)
{
    const int protocol = opt_.flist.protocol;
    // upstream sender.c:send_files calls remember_initial_stats here, after reading the
    // request and before the sums: %b and %c count from this point (log.c:log_formatted).
    const std::uint64_t written_before = s_.conn.data_written();
    const std::uint64_t read_before = s_.conn.data_read();
    const std::size_t digest_len = opt_.xfer_checksum.kind == protocol::ChecksumKind::None
                                       ? 0
                                       : protocol::checksum_length(opt_.xfer_checksum.kind);
    protocol::SumHeadRules rules{protocol, digest_len, "sender"};
    const protocol::SumHead head = protocol::get_sum_head(s_.conn, rules);
    protocol::BlockSums sums;
    if (opt_.append_mode <= 0 || redo)
        sums = protocol::get_block_sums(s_.conn, head, protocol::BlockSumLimits{});
    const std::string path = flists_.local_path(file);
    const bool follow = opt_.links.copy_links || opt_.links.copy_unsafe_links || opt_.links.copy_dirlinks;
    UniqueFd fd = s_.fs.open_read(path, follow);
    if (!fd) {
        const int err = errno;
        if (err == ENOENT) {
            s_.report.add_io_error(kIoErrorVanished);
            s_.report.emit(protocol < 28 ? LogCode::Error : LogCode::Warning,
                           "file has vanished: " + flists_.full_fname_of(file) + "\n");
        } else {
            s_.report.add_io_error(kIoErrorGeneral);
            s_.report.syserr(LogCode::ErrorXfer, err, "send_files failed to open " + flists_.full_fname_of(file));
        }
        if (protocol >= 30)
            s_.conn.send_message(protocol::MsgCode::NoSend, int32_payload(ndx));
        return;
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) {
        const int err = errno;
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.syserr(LogCode::ErrorXfer, err, "fstat failed");
        throw ProtocolError(ExitCode::FileIo, "");
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        // Upstream sender.c:send_files: the client asked for a device's contents that the
        // file list did not announce as a regular file.
        if (!opt_.copy_devices)
            throw ProtocolError(ExitCode::Protocol, "attempt to copy device contents without --copy-devices",
                                protocol::UpstreamSite{"sender.c", 739});
        if (st.st_size == 0) {
            const off_t end = ::lseek(fd.get(), 0, SEEK_END);
            st.st_size = end > 0 ? end : 0;
            ::lseek(fd.get(), 0, SEEK_SET);
        }
    } else if (!S_ISREG(st.st_mode)) {
        // The name was swapped for something else after the scan (a FIFO would block us).
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.emit(LogCode::ErrorXfer, "skipping non-regular file " + flists_.full_fname_of(file) + "\n");
        if (protocol >= 30)
            s_.conn.send_message(protocol::MsgCode::NoSend, int32_payload(ndx));
        return;
    }
    if (opt_.append_mode > 0 && st.st_size < file.entry.size) {
        s_.report.emit(LogCode::Warning, "skipped diminished file: " + flists_.full_fname_of(file) + "\n");
        if (protocol >= 30)
            s_.conn.send_message(protocol::MsgCode::NoSend, int32_payload(ndx));
        return;
    }
    echo_request(ndx, iflags, basis_type, xname);
    {
        std::string h;
        protocol::put_sum_head(h, head, protocol);
        s_.conn.write(h);
    }
    protocol::TokenSettings ts;
    ts.compression = opt_.compression.value_or(protocol::Compression::None);
    ts.level = opt_.compress_level;
    ts.protocol = protocol;
    if (!token_encoder_)
        token_encoder_ = protocol::make_token_encoder(ts, s_.conn);
    token_encoder_->begin_file(false);
    TokenSink sink(*token_encoder_);
    FileDataWindow window(fd.get(), st.st_size);
    MatchOptions mo;
    // Upstream send_files' updating_basis_file; a redo turns -b off for this file.
    const bool backups = opt_.make_backups && !redo;
    mo.updating_basis = (opt_.inplace_partial && basis_type == kBasisPartialDir) ||
                        (opt_.inplace && (protocol >= 29 ? basis_type == kBasisFname : !backups));
    if (opt_.append_mode > 0 && !redo) {
        mo.append_length = head.file_length();
        mo.append_verify = opt_.append_mode == 2;
    }
    mo.count_hash_hits = opt_.debug_deltasum >= 1;
    protocol::BlockChecksum no_sum(protocol::TransferChecksum{protocol::ChecksumKind::Md5, protocol::SeedPlacement::Prepend},
                                   opt_.checksum_seed);
    protocol::BlockChecksum& strong = block_sum_ ? *block_sum_ : no_sum;
    const MatchResult result = matcher_.match(sums, st.st_size, window, strong,
                                              protocol::FileChecksum::for_transfer(opt_.xfer_checksum.kind, opt_.checksum_seed),
                                              sink, mo);
    // The matcher's last step normally ended the file already.
    if (token_encoder_->in_file())
        token_encoder_->end_file();
    const auto sum = result.file_checksum();
    s_.conn.write(std::string_view(reinterpret_cast<const char*>(sum.data()), sum.size()));
    literal_data_ += result.stats.literal_data;
    total_matches_ += result.stats.matches;
    total_hash_hits_ += result.stats.hash_hits;
    total_false_alarms_ += result.stats.false_alarms;
    matched_data_ += result.stats.matched_data;
    if (window.read_failed()) {
        s_.report.add_io_error(kIoErrorGeneral);
        s_.report.syserr(LogCode::ErrorXfer, window.read_errno() ? window.read_errno() : EIO,
                         "read errors mapping " + flists_.full_fname_of(file));
    }
    if (s_.log_item)
        s_.log_item(SentLogItem{file, flists_.pathname_of(file), iflags, {},
                                static_cast<std::int64_t>(s_.conn.data_written() - written_before),
                                static_cast<std::int64_t>(s_.conn.data_read() - read_before),
                                std::as_bytes(sum)});
    file.sent = true;
}

bool Sender::send_idle_list()
{
    if (flists_.eof() || flists_.in_flight() >= kMaxFileLookahead)
        return false;
    flists_.send_extra_lists(-1);
    return !flists_.eof();
}

void Sender::send_files()
{
    const int protocol = opt_.flist.protocol;
    const int max_phase = protocol >= 29 ? 2 : 1;
    const int save_io_error = s_.report.io_error();
    for (;;) {
        if (opt_.flist.inc_recurse) {
            flists_.send_extra_lists(kFileLookahead);
            // A client that has every list it was sent may wait for the next one before it
            // asks for anything (upstream send_files: extra_flist_sending_enabled).
            if (!flists_.eof())
                s_.conn.set_idle_work([this] { return send_idle_list(); });
        }
        std::int32_t ndx = 0;
        std::uint32_t iflags = 0;
        std::uint8_t basis_type = kBasisFname;
        std::string xname;
        bool got = false;
        {
            // Cleared however the read ends: the connection outlives this sender.
            struct IdleWorkScope {
                Connection& conn;
                ~IdleWorkScope() { conn.set_idle_work({}); }
            } scope{s_.conn};
            got = read_request(ndx, iflags, basis_type, xname);
        }
        if (!got) {
            if (opt_.flist.inc_recurse && flists_.live_lists() > 0) {
                flists_.retire_oldest();
                if (flists_.live_lists() > 0) {
                    std::string out;
                    ndx_out_.put(out, protocol::kNdxDone);
                    s_.conn.write(out);
                    continue;
                }
            }
            if (++phase_ > max_phase)
                break;
            std::string out;
            ndx_out_.put(out, protocol::kNdxDone);
            s_.conn.write(out);
            continue;
        }
        if (opt_.flist.inc_recurse)
            flists_.send_extra_lists(kFileLookahead);
        SentFile* file = flists_.find(ndx);
        if (!(iflags & kItemTransfer)) {
            // upstream sender.c:send_files: maybe_log_item, then the echo. On a server it
            // logs with the daemon's format when that has %i (log.c:maybe_log_item).
            if (s_.log_item &&
                server_logs_untransferred_item(iflags, opt_.logfile_format_has_i, !xname.empty(),
                                               opt_.stdout_format_has_i, opt_.info_name, opt_.dry_run,
                                               opt_.logfile_format_has_i))
                s_.log_item(SentLogItem{*file, flists_.pathname_of(*file), iflags, xname, 0, 0});
            echo_request(ndx, iflags, basis_type, xname);
            if (iflags & kItemIsNew)
                ++created_files_;
            continue;
        }
        if (phase_ == 2)
            throw ProtocolError(ExitCode::Protocol, "got transfer request in phase 2 [sender]",
                                protocol::UpstreamSite{"sender.c", 607});
        const bool redo = file->sent;
        ++xferred_files_;
        if (opt_.dry_run) {
            echo_request(ndx, iflags, basis_type, xname);
            continue;
        }
        send_one(ndx, *file, iflags, basis_type, xname, redo);
    }
    if (s_.report.io_error() != save_io_error && protocol >= 30)
        s_.conn.send_message(protocol::MsgCode::IoError, int32_payload(s_.report.io_error()));
    // Upstream sender.c:send_files ends with match.c:match_report.
    if (opt_.debug_deltasum >= 1)
        s_.report.emit(LogCode::Info, "total: matches=" + std::to_string(total_matches_) +
                                          "  hash_hits=" + std::to_string(total_hash_hits_) +
                                          "  false_alarms=" + std::to_string(total_false_alarms_) +
                                          " data=" + std::to_string(literal_data_) + "\n");
    std::string out;
    ndx_out_.put(out, protocol::kNdxDone);
    s_.conn.write(out);
}

void Sender::write_stats()
{
    // Upstream main.c:handle_stats for a sending server.
    s_.conn.flush();
    const auto total_read = static_cast<std::int64_t>(s_.conn.total_read());
    const auto total_written = static_cast<std::int64_t>(s_.conn.total_written());
    std::string out;
    const int protocol = opt_.flist.protocol;
    auto put = [&](std::int64_t v) {
        if (protocol >= 30)
            protocol::put_varlong(out, v, 3);
        else
            protocol::put_longint(out, v);
    };
    put(total_read);
    put(total_written);
    put(flists_.stats().total_size);
    if (protocol >= 29) {
        put(flists_.build_time_ms());
        put(flists_.xfer_time_ms());
    }
    s_.conn.write(out);
}

void Sender::read_final_goodbye()
{
    // Upstream main.c:read_final_goodbye.
    const int protocol = opt_.flist.protocol;
    std::int32_t i;
    if (protocol < 29) {
        i = protocol::get_i32(s_.conn);
    } else {
        std::uint32_t iflags = 0;
        std::uint8_t type = 0;
        std::string xname;
        std::int32_t ndx = 0;
        i = read_request(ndx, iflags, type, xname) ? ndx : protocol::kNdxDone;
        if (protocol >= 31 && i == protocol::kNdxDone) {
            std::string out;
            ndx_out_.put(out, protocol::kNdxDone);
            s_.conn.write(out);
            s_.conn.flush();
            i = read_request(ndx, iflags, type, xname) ? ndx : protocol::kNdxDone;
        }
    }
    if (i != protocol::kNdxDone)
        throw ProtocolError(ExitCode::Protocol, "Invalid packet at end of run (" + std::to_string(i) + ") [sender]",
                            protocol::UpstreamSite{"main.c", 947});
}

SenderResult Sender::run(const WireFilterParams& wire)
{
    s_.conn.set_handler(this);
    s_.conn.set_inc_recurse(opt_.flist.inc_recurse);
    s_.report.set_can_send(true);
    recv_filter_list(s_.conn, s_.filters, wire);
    for (const auto& m : s_.filters.take_messages())
        s_.report.emit(m.level == FilterMessage::Level::Error ? LogCode::Error : LogCode::Info, m.text);
    if (s_.after_filter_list)
        s_.after_filter_list();
    const std::int32_t count = flists_.send_first_list();
    SenderResult result;
    if (count == 0 && (!opt_.flist.inc_recurse || flists_.eof())) {
        // Upstream ends a sender with an empty list right away, after ending its input
        // buffering (so its exit path does not wait for the client either).
        s_.conn.flush();
        result.input_abandoned = true;
    } else {
        send_files();
        write_stats();
        if (opt_.flist.protocol >= 24)
            read_final_goodbye();
        s_.conn.flush();
    }
    // Upstream's exit_cleanup(0) turns the I/O error bits and got_xfer_error into 23/24/25.
    result.exit_code = s_.report.partial_exit_code();
    result.total_read = s_.conn.total_read();
    result.total_written = s_.conn.total_written();
    result.total_size = flists_.stats().total_size;
    return result;
}

} // namespace ocr::transfer
