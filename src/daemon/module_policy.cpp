// SPDX-License-Identifier: MIT
// Post-parse daemon decisions (upstream clientserver.c:rsync_module, main.c, compat.c).
#include "daemon/module_policy.hpp"

#include <string_view>

namespace ocr::daemon {
namespace {

// Upstream rsync.h CF_* bits.
constexpr int kCfIncRecurse = 1 << 0;
constexpr int kCfSymlinkTimes = 1 << 1;
constexpr int kCfSymlinkIconv = 1 << 2;
constexpr int kCfSafeFlist = 1 << 3;
constexpr int kCfAvoidXattrOptim = 1 << 4;
constexpr int kCfChksumSeedFix = 1 << 5;
constexpr int kCfInplacePartialDir = 1 << 6;
constexpr int kCfVarintFlistFlags = 1 << 7;
constexpr int kCfId0Names = 1 << 8;

// Upstream compat.c:set_allow_inc_recurse reads the -e argument as "client_info".
std::string_view client_info(const ServerOptions& o)
{
    return o.shell_cmd ? std::string_view(*o.shell_cmd) : std::string_view();
}

bool has_letter(std::string_view info, char c)
{
    return info.find(c) != std::string_view::npos;
}

std::string_view alt_dest_name(int type)
{
    switch (type) {
    case 1: return "--compare-dest";
    case 2: return "--copy-dest";
    default: return "--link-dest";
    }
}

Rejection log_only(std::string text, int code)
{
    return Rejection{std::move(text), code, false};
}

} // namespace

std::optional<Rejection> check_module_policy(const ServerOptions& o, bool read_only,
                                             bool write_only)
{
    if (o.am_sender) {
        // Upstream: main.c:do_server_sender.
        if (write_only)
            return Rejection{"ERROR: module is write only\n", 1, true};
        if (read_only && o.remove_source_files) {
            return Rejection{std::string("ERROR: --remove-")
                                 + (o.remove_source_files == 1 ? "source" : "sent")
                                 + "-files cannot be used with a read-only module\n",
                             1, true};
        }
        if (o.args.empty())
            return Rejection{"ERROR: do_server_sender called without args\n", 1, true};
        return std::nullopt;
    }
    // Upstream: main.c:do_server_recv.
    if (read_only)
        return Rejection{"ERROR: module is read only\n", 1, true};
    return std::nullopt;
}

UpstreamSite policy_refusal_site(const Rejection& r, UpstreamRole& role)
{
    if (r.message.rfind("ERROR: module is read only", 0) == 0) {
        role = UpstreamRole::Receiver;
        return kSiteModuleReadOnly;
    }
    role = UpstreamRole::Sender;
    if (r.message.rfind("ERROR: module is write only", 0) == 0)
        return kSiteModuleWriteOnly;
    if (r.message.rfind("ERROR: do_server_sender called without args", 0) == 0)
        return kSiteSenderWithoutArgs;
    return kSiteRemoveSourceReadOnly;
}

void apply_module_overrides(ServerOptions& o, const ModuleOverrides& m)
{
    // Upstream: clientserver.c:rsync_module, after parse_arguments.
    if (m.open_noatime >= 0)
        o.open_noatime = m.open_noatime;
    o.munge_symlinks = m.munge_symlinks;
    if (m.tcp_daemon)
        o.msgs2stderr = 0;
    o.am_server = 1;
    o.quiet = 0;
    if (m.ignore_errors)
        o.ignore_errors = 1;
    if (o.write_batch < 0)
        o.dry_run = 1;
    if (m.fake_super) {
        if (o.preserve_xattrs > 1)
            o.preserve_xattrs = 1;
        o.am_root = -1;
    } else if (o.am_root < 0) {
        o.am_root = 2; // a client's --fake-super acts as --super
    }
    limit_output_verbosity(o, m.max_verbosity);
    if (!o.numeric_ids && module_ids_numeric(m.use_chroot, m.numeric_ids, m.name_converter))
        o.numeric_ids = -1; // numeric without telling the client
    o.io_timeout = effective_timeout(o.io_timeout, m.timeout);
}

bool module_ids_numeric(bool chrooted, int numeric_ids, bool name_converter) noexcept
{
    return chrooted ? (numeric_ids != 0 && !name_converter) : numeric_ids == 1;
}

int effective_timeout(int client_timeout, int module_timeout) noexcept
{
    if (module_timeout && (!client_timeout || module_timeout < client_timeout))
        return module_timeout;
    return client_timeout;
}

int effective_bwlimit(int client_bwlimit, int daemon_bwlimit) noexcept
{
    if (daemon_bwlimit && (!client_bwlimit || client_bwlimit > daemon_bwlimit))
        return daemon_bwlimit;
    return client_bwlimit;
}

std::size_t bwlimit_writemax(int bwlimit) noexcept
{
    if (bwlimit <= 0)
        return 0;
    const std::size_t v = static_cast<std::size_t>(bwlimit) * 128;
    return v < 512 ? 512 : v;
}

bool allow_inc_recurse(const ServerOptions& o, bool server_is_sender)
{
    if (!o.allow_inc_recurse)
        return false;
    if (!o.recurse || o.use_qsort)
        return false;
    if (!server_is_sender
        && (o.delete_before || o.delete_after || o.delay_updates || o.prune_empty_dirs))
        return false;
    return has_letter(client_info(o), 'i');
}

int compute_compat_flags(const ServerOptions& o, int protocol, bool server_is_sender,
                         const ServerCapabilities& caps)
{
    if (protocol < 30)
        return 0;
    const std::string_view info = client_info(o);
    int flags = allow_inc_recurse(o, server_is_sender) ? kCfIncRecurse : 0;
    if (caps.symlink_times)
        flags |= kCfSymlinkTimes;
    if (caps.symlink_iconv)
        flags |= kCfSymlinkIconv;
    if (has_letter(info, 'f'))
        flags |= kCfSafeFlist;
    if (has_letter(info, 'x'))
        flags |= kCfAvoidXattrOptim;
    if (has_letter(info, 'C'))
        flags |= kCfChksumSeedFix;
    if (has_letter(info, 'I'))
        flags |= kCfInplacePartialDir;
    if (has_letter(info, 'u'))
        flags |= kCfId0Names;
    if (has_letter(info, 'v'))
        flags |= kCfVarintFlistFlags;
    // A pre-release "V" client reads the flags as one byte but wants varint file lists.
    if (has_letter(info, 'V') && !o.write_batch)
        flags |= kCfVarintFlistFlags;
    return flags;
}

ProtocolSetupPlan plan_protocol_setup(ServerOptions& o, const ServerCapabilities& caps)
{
    // Upstream: compat.c:setup_protocol for a daemon (the protocol exchange is already done).
    ProtocolSetupPlan plan;
    const int protocol = o.protocol_version;
    plan.protocol = protocol;
    const std::string_view info = client_info(o);
    const bool sender = o.am_sender != 0;

    if (protocol < 20) {
        plan.rejection = log_only("--protocol must be at least 20 on the Server.\n", 2);
        return plan;
    }
    if (protocol > 32) {
        plan.rejection = log_only("--protocol must be no more than 32 on the Server.\n", 2);
        return plan;
    }

    if (!o.saw_stderr_opt && protocol <= 28)
        o.msgs2stderr = 0;

    if (protocol < 30) {
        if (o.append_mode == 1)
            o.append_mode = 2;
        if (o.preserve_acls) {
            plan.rejection = log_only("--acls requires protocol 30 or higher (negotiated "
                                          + std::to_string(protocol) + ").\n",
                                      2);
            return plan;
        }
        if (o.preserve_xattrs) {
            plan.rejection = log_only("--xattrs requires protocol 30 or higher (negotiated "
                                          + std::to_string(protocol) + ").\n",
                                      2);
            return plan;
        }
    }

    if (o.delete_mode && !(o.delete_before + o.delete_during + o.delete_after)) {
        if (protocol < 30)
            o.delete_before = 1;
        else
            o.delete_during = 1;
    }

    const std::string negotiated = " (negotiated " + std::to_string(protocol) + ").\n";
    const int basis_cnt = static_cast<int>(o.basis_dirs.size());
    if (protocol < 29) {
        if (o.fuzzy_basis) {
            plan.rejection = log_only("--fuzzy requires protocol 29 or higher" + negotiated, 2);
            return plan;
        }
        if (basis_cnt && o.inplace) {
            plan.rejection = log_only(std::string(alt_dest_name(o.alt_dest_type))
                                          + " with --inplace requires protocol 29 or higher"
                                          + negotiated,
                                      2);
            return plan;
        }
        if (basis_cnt > 1) {
            plan.rejection = log_only("Using more than one "
                                          + std::string(alt_dest_name(o.alt_dest_type))
                                          + " option requires protocol 29 or higher" + negotiated,
                                      2);
            return plan;
        }
        if (o.prune_empty_dirs) {
            plan.rejection =
                log_only("--prune-empty-dirs requires protocol 29 or higher" + negotiated, 2);
            return plan;
        }
    } else if (protocol >= 30) {
        plan.send_compat_flags = true;
        plan.compat_flags = compute_compat_flags(o, protocol, sender, caps);
        plan.compat_flags_as_byte = has_letter(info, 'V');
        plan.negotiated_strings = has_letter(info, 'v');
        plan.inc_recurse = (plan.compat_flags & kCfIncRecurse) != 0;
        plan.want_xattr_optim = protocol >= 31 && !(plan.compat_flags & kCfAvoidXattrOptim);
        plan.proper_seed_order = (plan.compat_flags & kCfChksumSeedFix) != 0;
        plan.xmit_id0_names = (plan.compat_flags & kCfId0Names) != 0;
        const bool varint_flags = (plan.compat_flags & kCfVarintFlistFlags) != 0;
        plan.varint_flist_flags = varint_flags;
        if (!varint_flags && o.preserve_crtimes) {
            // Upstream writes this to stderr, which a daemon has pointed at /dev/null.
            plan.rejection =
                Rejection{"Both rsync versions must be at least 3.2.0 for --crtimes.\n", 2, false};
            return plan;
        }
        if (sender)
            plan.receiver_symlink_times = has_letter(info, 'L');
        else
            plan.receiver_symlink_times = caps.symlink_times;
        plan.sender_symlink_iconv = caps.symlink_iconv && o.iconv_opt && has_letter(info, 's');
        plan.use_safe_inc_flist = (plan.compat_flags & kCfSafeFlist) || protocol >= 31;
        o.need_messages_from_generator = 1;
        plan.inplace_partial = (plan.compat_flags & kCfInplacePartialDir) != 0;
    } else if (!sender) {
        plan.receiver_symlink_times = caps.symlink_times;
    }

    // Upstream: compat.c:negotiate_the_strings. Lists are only written and read when the
    // client sent "v"; otherwise md5/md4 and zlib are implied.
    plan.exchange_checksum_list = plan.negotiated_strings && !o.checksum_choice;
    plan.exchange_compress_list = plan.negotiated_strings && o.do_compression && !o.compress_choice;
    if (o.write_batch) {
        plan.forced_checksum_list = protocol >= 30 ? "md5" : "md4";
        plan.forced_compress_list = "zlib";
    }
    plan.checksum_seed = o.checksum_seed;
    return plan;
}

} // namespace ocr::daemon
