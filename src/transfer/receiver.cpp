// SPDX-License-Identifier: MIT
// The receiver of a push. Order, checks and texts follow upstream receiver.c:recv_files
// and receive_data, rsync.c:read_ndx_and_attrs and finish_transfer, io.c:read_a_msg.
#include "transfer/receiver.hpp"

#include "protocol/protocol_error.hpp"
#include "protocol/sum_head.hpp"
#include "protocol/wire.hpp"
#include "transfer/delta_apply.hpp"
#include "transfer/file_window.hpp"
#include "transfer/itemize.hpp"
#include "transfer/push_deletion.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ocr::transfer {
namespace {

using protocol::ExitCode;
using protocol::ProtocolError;

std::int32_t int32_from(std::string_view p)
{
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(p[static_cast<std::size_t>(i)]);
    return static_cast<std::int32_t>(v);
}

std::string sys_text(int err, const std::string& text)
{
    return "rsync: [receiver] " + text + ": " + std::strerror(err) + " (" + std::to_string(err) + ")";
}

} // namespace

Receiver::Receiver(PushShared& shared, Connection& conn)
    : s_(shared), conn_(conn), ndx_in_(shared.opt.flist.protocol, "receiver")
{
    protocol::TokenSettings ts;
    ts.compression = s_.opt.compression.value_or(protocol::Compression::None);
    ts.protocol = s_.opt.flist.protocol;
    tokens_ = protocol::make_token_decoder(ts);
    if (s_.opt.xfer_checksum.kind != protocol::ChecksumKind::None)
        xfer_sum_len_ = protocol::checksum_length(s_.opt.xfer_checksum.kind);
    else
        xfer_sum_len_ = protocol::checksum_length(protocol::ChecksumKind::None);
}

void Receiver::post(PushEvent::Kind kind, std::int32_t ndx)
{
    PushEvent e;
    e.kind = kind;
    e.ndx = ndx;
    s_.channel.post(std::move(e));
}

void Receiver::on_message(protocol::MsgCode code, std::string_view payload)
{
    using protocol::MsgCode;
    switch (code) {
    case MsgCode::NoSend:
        if (payload.size() != 4)
            break;
        post(PushEvent::Kind::NoSend, int32_from(payload));
        return;
    case MsgCode::IoError:
        if (payload.size() != 4)
            break;
        s_.channel.add_io_error(int32_from(payload) & (kIoErrorGeneral | kIoErrorVanished | kIoErrorDelLimit));
        return;
    case MsgCode::Noop:
        if (!payload.empty())
            break;
        return;
    case MsgCode::ErrorExit: {
        if (payload.size() != 4 && !payload.empty())
            break;
        throw PushPeerExit{payload.empty() ? 0 : int32_from(payload)};
    }
    case MsgCode::Info:
        s_.channel.message(LogCode::Info, std::string(payload));
        return;
    case MsgCode::Error:
        s_.channel.message(LogCode::Error, std::string(payload));
        return;
    case MsgCode::ErrorXfer:
        s_.channel.message(LogCode::ErrorXfer, std::string(payload));
        return;
    case MsgCode::Warning:
        s_.channel.message(LogCode::Warning, std::string(payload));
        return;
    case MsgCode::Success:
    case MsgCode::Deleted:
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
                            "unexpected tag " + std::to_string(static_cast<int>(code)) + " [receiver]",
                            protocol::UpstreamSite{"io.c", 1896});
    }
    throw ProtocolError(ExitCode::StreamIo,
                        "invalid multi-message " + std::to_string(static_cast<int>(code)) + ":" +
                            std::to_string(payload.size()) + " [receiver]",
                        protocol::UpstreamSite{"io.c", 1799});
}

void Receiver::read_file_lists()
{
    s_.lists.read_first(conn_);
    // Upstream flist.c:recv_file_list: without incremental recursion the one list is all.
    if (!s_.opt.flist.inc_recurse)
        s_.lists.set_eof();
    if (s_.opt.flist.inc_recurse && s_.lists.total_entries() == 1) {
        // Upstream flist.c:recv_additional_file_list.
        const std::int32_t ndx = ndx_in_.get(conn_);
        if (ndx == protocol::kNdxFlistEof)
            s_.lists.set_eof();
        else
            s_.lists.read_sublist(conn_, ndx, protocol::HeaderSite::AdditionalList);
    }
}

void Receiver::fail_index(std::int32_t ndx, const char* where) const
{
    const auto count = s_.lists.list_count();
    const std::int32_t first = count ? s_.lists.list(0).ndx_start - 1 : 0;
    throw ProtocolError(ExitCode::Protocol,
                        "File-list index " + std::to_string(ndx) + " not in " + std::to_string(first) + " - " +
                            std::to_string(s_.lists.last_ndx()) + " (" + where + ") [receiver]",
                        protocol::UpstreamSite{"rsync.c", 982});
}

bool Receiver::read_ndx_and_attrs(std::int32_t& ndx, std::uint32_t& iflags, std::uint8_t& type, std::string& xname)
{
    const int protocol = s_.opt.flist.protocol;
    for (;;) {
        ndx = ndx_in_.get(conn_);
        if (ndx == protocol::kNdxDone)
            return false;
        if (ndx < 0) {
            if (ndx == protocol::kNdxDelStats) {
                for (int i = 0; i < 5; ++i)
                    (void)protocol::get_varint(conn_);
                continue;
            }
            if (!s_.opt.flist.inc_recurse)
                throw ProtocolError(ExitCode::Protocol,
                                    "Invalid file index: " + std::to_string(ndx) + " (-1 - " +
                                        std::to_string(s_.lists.last_ndx()) + ") [receiver]",
                                    protocol::UpstreamSite{"rsync.c", 353});
            if (ndx == protocol::kNdxFlistEof) {
                s_.lists.set_eof();
                post(PushEvent::Kind::FlistEof);
                continue;
            }
            s_.lists.read_sublist(conn_, ndx);
            // The count, not a bare "one more": the generator may already have counted
            // this list when it started.
            post(PushEvent::Kind::ListAdded, static_cast<std::int32_t>(s_.lists.list_count()));
            continue;
        }
        iflags = protocol >= 29 ? protocol::get_u16(conn_) : (kItemTransfer | kItemMissingData);
        // Upstream: a protocol-29 keep-alive is the index just past the list with ITEM_IS_NEW.
        if (protocol < 30 && iflags == kItemIsNew && ndx == s_.lists.last_ndx() + 1)
            continue;
        break;
    }
    if (!s_.lists.list_for_ndx(ndx))
        fail_index(ndx, "read_ndx_and_attrs");
    type = kBasisFname;
    if (iflags & kItemBasisTypeFollows)
        type = protocol::get_byte(conn_);
    xname.clear();
    if (iflags & kItemXnameFollows)
        xname = protocol::get_vstring(conn_, protocol::kMaxPathLen - 1);
    if (iflags & kItemTransfer) {
        const auto li = s_.lists.list_for_ndx(ndx);
        const protocol::FileEntry* e = s_.lists.entry_for_ndx(ndx);
        if (!e || ndx < s_.lists.list(*li).ndx_start || !protocol::is_regular(e->mode))
            throw ProtocolError(ExitCode::Protocol,
                                "received request to transfer non-regular file: " + std::to_string(ndx) +
                                    " [receiver]",
                                protocol::UpstreamSite{"rsync.c", 442});
    }
    return true;
}

void Receiver::recv_files()
{
    const int max_phase = s_.opt.flist.protocol >= 29 ? 2 : 1;
    for (;;) {
        std::int32_t ndx = 0;
        std::uint32_t iflags = 0;
        std::uint8_t type = kBasisFname;
        std::string xname;
        if (!read_ndx_and_attrs(ndx, iflags, type, xname)) {
            if (s_.opt.flist.inc_recurse && retired_lists_ < static_cast<std::int64_t>(s_.lists.list_count())) {
                ++retired_lists_;
                if (retired_lists_ < static_cast<std::int64_t>(s_.lists.list_count()))
                    continue;
            }
            if (++phase_ > max_phase)
                break;
            if (phase_ == 2 && s_.opt.delay_updates)
                handle_delayed_updates();
            post(PushEvent::Kind::Done);
            continue;
        }
        const protocol::FileEntry* e = s_.lists.entry_for_ndx(ndx);
        if (!e)
            throw ProtocolError(ExitCode::Protocol, "", protocol::UpstreamSite{"receiver.c", 877});
        if (!e->active)
            throw ProtocolError(ExitCode::Protocol,
                                "rsync: refusing transfer of cleared file index " + std::to_string(ndx),
                                protocol::UpstreamSite{"receiver.c", 889});
        const std::string rel = s_.local_path(e->name);
        if (s_.daemon_excluded && e->name != "." && s_.daemon_excluded(e->name, protocol::is_dir(e->mode)))
            throw ProtocolError(ExitCode::Protocol,
                                "ERROR: rejecting file transfer request for daemon excluded file: " + e->name,
                                protocol::UpstreamSite{"receiver.c", 900});
        if (!(iflags & kItemTransfer)) {
            if (s_.log_item && s_.opt.log_transfers &&
                server_logs_untransferred_item(iflags, s_.opt.logfile_format_has_i, !xname.empty(),
                                               s_.opt.stdout_format_has_i, s_.opt.info_name, s_.opt.dry_run,
                                               s_.opt.logfile_format_has_i))
                s_.log_item(PushLogItem{e, s_.entry_mode(*e), iflags, 0, {}, {}, false, {}, xname});
            continue;
        }
        if (phase_ == 2)
            throw ProtocolError(ExitCode::Protocol, "got transfer request in phase 2 [receiver]",
                                protocol::UpstreamSite{"receiver.c", 940});
        if (s_.opt.dry_run) {
            continue;
        }
        receive_file(ndx, *e, iflags, type, xname);
    }
    // Below protocol 29 there is no third phase to do this in.
    if (phase_ == 2 && s_.opt.delay_updates)
        handle_delayed_updates();
}

std::string Receiver::alt_basis_path(std::size_t j, const std::string& rel) const
{
    // The name as upstream has it: relative to the destination directory (its cwd).
    const std::string& base = s_.dest.base;
    std::string name = rel;
    if (!base.empty() && rel.size() > base.size() && rel.compare(0, base.size(), base) == 0 && rel[base.size()] == '/')
        name = rel.substr(base.size() + 1);
    const std::string& dir = basis_dirs_.at(j);
    return dir.empty() || dir == "." ? name : dir + "/" + name;
}

std::string Receiver::fuzzy_basis_path(std::uint8_t type, const std::string& rel, const std::string& name,
                                       const std::string& xname) const
{
    if (type == kBasisFuzzy) {
        const auto slash = rel.rfind('/');
        return slash == std::string::npos ? xname : rel.substr(0, slash + 1) + xname;
    }
    const auto slash = name.rfind('/');
    std::string dir = basis_dirs_.at(static_cast<std::size_t>(type - kBasisFuzzy - 1));
    if (slash != std::string::npos)
        dir = dir.empty() || dir == "." ? name.substr(0, slash) : dir + "/" + name.substr(0, slash);
    return dir.empty() || dir == "." ? xname : dir + "/" + xname;
}

void Receiver::receive_file(std::int32_t ndx, const protocol::FileEntry& e, std::uint32_t iflags, std::uint8_t type,
                            const std::string& xname)
{
    const ReceiverOptions& o = s_.opt;
    const int protocol = o.flist.protocol;
    const bool redoing = sent_.count(ndx) != 0;
    const std::uint64_t read_before = conn_.data_read();
    const std::string rel = s_.local_path(e.name);
    const std::string full = s_.full_fname(e.name);
    const bool hlinked = o.flist.preserve_hard_links && e.hlink_group >= 0;

    // The basis the sender names must be one we could have chosen (CVE-2024-12086).
    if (protocol >= 29 && type != kBasisFname) {
        // Upstream receiver.c:recv_files: a fuzzy basis in the file's own directory only
        // when we were asked to look for one; one in an alt-dest dir must name a dir we have.
        if (type == kBasisFuzzy && o.fuzzy_basis == 0) {
            throw ProtocolError(ExitCode::Protocol, "rsync: refusing malicious fuzzy operation for " + xname,
                                protocol::UpstreamSite{"receiver.c", 1010});
        }
        const bool alt_dir = type < kBasisFname && type < basis_dirs_.size();
        const bool fuzzy_alt = type > kBasisFuzzy && static_cast<std::size_t>(type - kBasisFuzzy) <= basis_dirs_.size();
        if (!alt_dir && !fuzzy_alt && (type < kBasisFname || type > kBasisFuzzy))
            throw ProtocolError(ExitCode::Protocol,
                                "invalid basis_dir index: " + std::to_string(type > kBasisFuzzy ? type - kBasisFuzzy - 1 : type) + ".",
                                protocol::UpstreamSite{"receiver.c", 1030});
    }

    ApplyParams ap;
    ap.file_sum_kind = o.xfer_checksum.kind == protocol::ChecksumKind::None ? protocol::ChecksumKind::None
                                                                            : o.xfer_checksum.kind;
    ap.checksum_seed = o.checksum_seed;
    ap.protocol = protocol;
    ap.full_fname = full;
    ap.keepalive = {};
    ap.head = protocol::get_sum_head(conn_, protocol::SumHeadRules{protocol, xfer_sum_len_, "receiver"});
    // Upstream negates append_mode while redoing a file (sender.c / generator.c).
    const bool appending = o.append_mode > 0 && !redoing;
    if (appending) {
        ap.append_offset = ap.head.file_length();
        ap.append_verify = o.append_mode == 2;
    }

    auto discard = [&](bool send_nosend) {
        ApplyParams dp = ap;
        const ApplyResult r = discard_delta(conn_, *tokens_, dp);
        (void)r;
        if (send_nosend && (o.flist.inc_recurse || hlinked))
            post(PushEvent::Kind::NoSend, ndx);
    };

    // Upstream receiver.c:recv_files: the partial file's place, then the basis the sender
    // was told about (fnamecmp).
    const std::optional<std::string> partial = s_.partial_path(rel, e.name);
    const bool keep_partial = o.keep_partial && !o.inplace;
    std::string basis_rel = rel;
    std::uint8_t basis_type = kBasisFname;
    if (protocol >= 29) {
        if (type == kBasisPartialDir && partial) {
            basis_rel = *partial;
            basis_type = kBasisPartialDir;
        } else if (type < kBasisFname && type < basis_dirs_.size()) {
            // Upstream: basis_dir[type] joined with the name, read confined like any basis.
            basis_rel = alt_basis_path(type, rel);
            basis_type = type;
        } else if (type >= kBasisFuzzy && !xname.empty()) {
            // Upstream: xname in the file's directory, or in basis_dir[type-FUZZY-1]
            // joined with the file's dirname; one the daemon excludes is not read.
            basis_rel = fuzzy_basis_path(type, rel, e.name, xname);
            basis_type = type;
            if (s_.daemon_excluded && s_.daemon_excluded(xname, false)) {
                basis_rel = rel;
                basis_type = kBasisFname;
            }
        }
    } else if (partial) {
        basis_rel = *partial;
        basis_type = kBasisPartialDir;
    }
    Errno err = 0;
    UniqueFd basis = s_.writer.open_read(basis_rel, err);
    if (!basis && protocol < 29 && !basis_dirs_.empty()) {
        // Upstream receiver.c:recv_files: before 29 the only alternative is the first dir.
        if (basis_type != kBasisFname) {
            basis_rel = rel;
            basis_type = kBasisFname;
            basis = s_.writer.open_read(basis_rel, err);
        }
        if (!basis) {
            basis_rel = alt_basis_path(0, rel);
            basis_type = 0;
            basis = s_.writer.open_read(basis_rel, err);
        }
    }
    if (!basis && basis_type == kBasisPartialDir) {
        // A partial basis that cannot be opened confined is dropped (upstream falls back
        // to the file itself).
        basis_rel = rel;
        basis_type = kBasisFname;
        basis = s_.writer.open_read(basis_rel, err);
    }
    const bool updating_basis = o.inplace && basis_type == kBasisFname;
    struct stat bst{};
    if (basis && ::fstat(basis.get(), &bst) != 0) {
        s_.channel.syserr(LogCode::ErrorXfer, errno, "fstat " + s_.full_fname(basis_rel) + " failed");
        discard(true);
        return;
    }
    if (!basis && err == EISDIR && basis_rel == rel) {
        s_.channel.message(LogCode::ErrorXfer, "recv_files: " + full + " is a directory\n");
        discard(true);
        return;
    }
    const bool exists = static_cast<bool>(basis);
    // The kept prefix the sender names comes from our own sum head, so it never outruns
    // the basis; a longer one (a lying peer, or a file shrunk meanwhile) would have us hash
    // up to 2^48 bytes of zeros as upstream does. Not verifying it fails the whole-file sum
    // instead, and the redo rewrites the file without appending.
    if (ap.append_verify && ap.head.file_length() > (exists ? bst.st_size : 0))
        ap.append_verify = false;
    std::uint32_t mode = s_.entry_mode(e);
    if (!o.preserve_perms)
        mode = dest_mode(mode, exists ? bst.st_mode : 0, s_.default_perms(), exists, o.preserve_executability);

    // The output: the file itself (--inplace, --append) or a temp file.
    std::optional<TempFile> temp;
    UniqueFd inplace_fd;
    int out_fd = -1;
    if (o.inplace) {
        Errno ierr = 0;
        inplace_fd = s_.writer.open_inplace(rel, ierr);
        if (!inplace_fd) {
            s_.channel.syserr(LogCode::ErrorXfer, ierr, "open " + full + " failed");
            discard(true);
            return;
        }
        out_fd = inplace_fd.get();
    } else {
        Errno terr = 0;
        std::string tried;
        temp = s_.writer.create_temp(rel, s_.temp_dir, terr, mode & 07777, &tried);
        if (!temp) {
            // Upstream names the template as it left it (with the last random name it tried,
            // if it got that far): in the temp dir, or beside the file.
            const auto tmpl = tried.empty() ? ModuleWriter::temp_name_template(rel, o.temp_dir)
                                            : std::optional<std::string>(tried);
            const auto slash = e.name.rfind('/');
            const std::string where = !o.temp_dir.empty()        ? o.temp_dir + "/"
                                      : slash == std::string::npos ? std::string()
                                                                   : e.name.substr(0, slash + 1);
            s_.channel.syserr(LogCode::ErrorXfer, terr,
                              "mkstemp " + s_.full_fname(tmpl ? where + *tmpl : e.name) + " failed");
            discard(true);
            return;
        }
        out_fd = temp->fd.get();
    }

    // Upstream receive_data / syscall.c:do_fallocate reserve the file's length first. With
    // --sparse upstream allocates it all and punches the zero runs out again; we skip the
    // reservation then, which leaves the same sparse file (delta_apply only punches holes
    // in an in-place file's old extent).
    if (o.preallocate && !o.sparse && e.size > 0 && (!o.inplace || e.size > (exists ? bst.st_size : 0))) {
        if (::fallocate(out_fd, FALLOC_FL_KEEP_SIZE, 0, e.size) != 0)
            s_.channel.syserr(LogCode::Warning, errno, "do_fallocate " + full);
    }

    if (s_.log_item && o.log_transfers && o.log_before_transfer)
        s_.log_item(PushLogItem{&e, mode, iflags, 0});

    FileDataWindow window(basis ? basis.get() : -1, exists ? bst.st_size : 0);
    ap.basis = exists ? &window : nullptr;
    ap.basis_size = exists ? bst.st_size : 0;
    ap.out_fd = out_fd;
    ap.sparse = o.sparse;
    ap.inplace = updating_basis;
    ap.inplace_sizing = o.inplace;
    ap.whole_file = o.whole_file;
    // Upstream cleanup.c:_exit_cleanup when the run dies inside a file: with --partial what
    // arrived is kept (in the partial dir, or under the file's own name), else the temp
    // file goes.
    auto abandon = [&] {
        if (!temp)
            return;
        struct stat pst{};
        const std::string keep_at = partial.value_or(rel);
        if (keep_partial && ::fstat(temp->fd.get(), &pst) == 0 && pst.st_size > 0 &&
            (o.partial_dir.empty() || s_.make_partial_dir(keep_at))) {
            AttrTarget t = s_.target_for(e, mode);
            (void)set_file_attrs(s_.writer, keep_at, temp->fd.get(), t, &pst, s_.attrs, kAttrsSkipMtime, full,
                                 [](int, const std::string&) {});
            bool copied = false;
            if (s_.writer.rename_into_place(*temp, keep_at, copied) != 0)
                s_.writer.discard(*temp);
        } else {
            s_.writer.discard(*temp);
        }
    };
    ApplyResult r;
    try {
        r = apply_delta(conn_, *tokens_, ap);
    } catch (...) {
        abandon();
        throw;
    }
    if (r.write_errno != 0) {
        abandon();
        throw ProtocolError(ExitCode::FileIo, sys_text(r.write_errno, "write failed on " + full),
                            protocol::UpstreamSite{"receiver.c", 640});
    }
    if (r.truncate_errno != 0)
        s_.channel.syserr(LogCode::ErrorXfer, r.truncate_errno, "ftruncate failed on " + full);
    if (o.do_fsync && ::fsync(out_fd) != 0) {
        const int ferr = errno;
        abandon();
        throw ProtocolError(ExitCode::FileIo, sys_text(ferr, "fsync failed on " + full),
                            protocol::UpstreamSite{"receiver.c", 666});
    }
    if (s_.log_item && o.log_transfers && !o.log_before_transfer)
        s_.log_item(PushLogItem{&e, mode, iflags, static_cast<std::int64_t>(conn_.data_read() - read_before), {}, {},
                                false, std::span<const std::uint8_t>(r.sender_sum.data(), r.sender_sum_len)});

    int recv_ok = r.sum_matches ? 1 : 0;
    auto on_error = [this](int e2, const std::string& text) { s_.channel.syserr(LogCode::ErrorXfer, e2, text); };
    const AttrTarget target = s_.target_for(e, mode);
    const int time_flags = recv_ok ? kAttrsAccurateTime : kAttrsSkipMtime;
    // Upstream rsync.c:finish_transfer: attributes on the temp file, then the rename.
    auto finish_transfer = [&](const std::string& final_rel, bool overwriting_basis) {
        if (overwriting_basis && s_.deletion && !s_.deletion->backup_replaced(final_rel)) {
            // -b keeps the old version first; a failure there ends the run.
            s_.writer.discard(*temp);
            throw ProtocolError(ExitCode::FileIo, "", protocol::UpstreamSite{"rsync.c", 899});
        }
        struct stat tst{};
        (void)::fstat(temp->fd.get(), &tst);
        (void)set_file_attrs(s_.writer, final_rel, temp->fd.get(), target, &tst, s_.attrs, time_flags, full,
                             on_error);
        bool copied = false;
        const std::string temp_name = temp->name;
        const Errno rerr = s_.writer.rename_into_place(*temp, final_rel, copied);
        if (rerr != 0) {
            s_.channel.syserr(LogCode::ErrorXfer, rerr,
                              "rename " + s_.full_fname(temp_name) + " -> \"" + final_rel + "\"");
            s_.writer.discard(*temp);
            return false;
        }
        if (copied)
            (void)set_file_attrs(s_.writer, final_rel, -1, target, nullptr, s_.attrs, time_flags, full, on_error);
        return true;
    };

    const bool into_partial_dir = static_cast<bool>(partial) && o.delay_updates;
    if ((recv_ok && !into_partial_dir) || o.inplace) {
        if (o.inplace) {
            struct stat ist{};
            (void)::fstat(out_fd, &ist);
            (void)set_file_attrs(s_.writer, rel, out_fd, target, &ist, s_.attrs, time_flags, full, on_error);
        } else if (!finish_transfer(rel, true)) {
            recv_ok = -1;
        } else if (basis_type == kBasisPartialDir && partial) {
            // The consumed partial basis goes, then its (now empty) dir.
            (void)s_.writer.unlink(*partial);
            s_.remove_partial_dir(*partial);
        }
    } else if (keep_partial && (partial || o.partial_dir.empty())) {
        const std::string keep_at = partial.value_or(rel);
        if (!o.partial_dir.empty() && !s_.make_partial_dir(keep_at)) {
            s_.channel.message(LogCode::Error, "Unable to create partial-dir for " + e.name + " -- discarding " +
                                                   (recv_ok ? "completed file" : "partial file") + ".\n");
            s_.writer.discard(*temp);
            recv_ok = -1;
        } else if (!finish_transfer(keep_at, o.partial_dir.empty())) {
            recv_ok = -1;
        } else if (o.delay_updates && recv_ok) {
            delayed_.push_back(ndx);
            recv_ok = 2;
        }
    } else {
        s_.writer.discard(*temp);
    }

    switch (recv_ok) {
    case 2:
        break;
    case 1:
        // Upstream receiver.c:recv_files: the generator hears of every file written when
        // the client is to remove its sources, and of every hard-linked one
        // (finish_hard_link).
        if (o.remove_source_files || o.flist.inc_recurse || hlinked)
            post(PushEvent::Kind::Success, ndx);
        break;
    case 0: {
        const bool kept = (keep_partial && (partial || o.partial_dir.empty())) || o.inplace;
        const std::string kept_text = !kept ? "discarded" : !o.partial_dir.empty() ? "put into partial-dir" : "retained";
        if (redoing) {
            s_.channel.message(LogCode::ErrorXfer,
                               "ERROR: " + e.name + " failed verification -- update " + kept_text + ".\n");
            if (o.flist.inc_recurse || hlinked)
                post(PushEvent::Kind::NoSend, ndx);
        } else {
            if (o.info_name >= 1 || o.stdout_format_has_i)
                s_.channel.message(LogCode::Warning, "WARNING: " + e.name + " failed verification -- update " +
                                                         kept_text + " (will try again).\n");
            post(PushEvent::Kind::Redo, ndx);
            sent_.insert(ndx);
        }
        break;
    }
    default:
        if (o.flist.inc_recurse || hlinked)
            post(PushEvent::Kind::NoSend, ndx);
        break;
    }
}

void Receiver::handle_delayed_updates()
{
    // Upstream receiver.c:handle_delayed_updates: every file kept back by --delay-updates
    // moves from its partial dir into place.
    for (const std::int32_t ndx : delayed_) {
        const protocol::FileEntry* e = s_.lists.entry_for_ndx(ndx);
        if (!e)
            continue;
        const std::string rel = s_.local_path(e->name);
        const std::optional<std::string> partial = s_.partial_path(rel, e->name);
        if (!partial)
            continue;
        if (s_.deletion && !s_.deletion->backup_replaced(rel))
            continue;
        if (const Errno err = s_.writer.rename(*partial, rel); err != 0) {
            s_.channel.syserr(LogCode::ErrorXfer, err,
                              "rename failed for " + s_.full_fname(e->name) + " (from " + *partial + ")");
        } else {
            s_.remove_partial_dir(*partial);
            if (s_.opt.remove_source_files || (s_.opt.flist.preserve_hard_links && e->hlink_group >= 0))
                post(PushEvent::Kind::Success, ndx);
        }
    }
    delayed_.clear();
}

void Receiver::read_final_goodbye()
{
    // Upstream main.c:do_recv's receiver tail: with protocol 31 the sender answers the
    // generator's late NDX_DONE, which the receiver passes on; then it waits to be stopped.
    if (s_.opt.flist.protocol < 31)
        return;
    std::int32_t ndx = 0;
    std::uint32_t iflags = 0;
    std::uint8_t type = 0;
    std::string xname;
    if (read_ndx_and_attrs(ndx, iflags, type, xname))
        throw ProtocolError(ExitCode::Protocol, "Invalid packet at end of run (" + std::to_string(ndx) + ") [receiver]",
                            protocol::UpstreamSite{"main.c", 947});
    post(PushEvent::Kind::Done);
}

void Receiver::run() noexcept
{
    try {
        recv_files();
        post(PushEvent::Kind::Done);
        read_final_goodbye();
    } catch (...) {
        s_.channel.set_failure(std::current_exception());
    }
    post(PushEvent::Kind::Ended);
}

} // namespace ocr::transfer
