// SPDX-License-Identifier: MIT
// Pieces a pull and a push session both need.
#include "worker/session_parts.hpp"

#include "protocol/checksum.hpp"
#include "worker/transfer_ending.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace ocr::worker {

protocol::FlistOptions flist_options(const daemon::ServerOptions& o, const StartedProtocol& started,
                                     bool munge_symlinks, std::size_t module_dirlen)
{
    const daemon::ProtocolSetupPlan& plan = started.plan;
    protocol::FlistOptions f;
    f.protocol = plan.protocol;
    f.varint_flags = plan.varint_flist_flags;
    f.preserve_uid = o.preserve_uid != 0;
    f.preserve_gid = o.preserve_gid != 0;
    f.preserve_links = o.preserve_links != 0;
    f.preserve_devices = o.preserve_devices != 0;
    f.preserve_specials = o.preserve_specials != 0;
    f.preserve_hard_links = o.preserve_hard_links != 0;
    f.preserve_atimes = o.preserve_atimes != 0;
    f.preserve_crtimes = o.preserve_crtimes != 0;
    f.always_checksum = o.always_checksum != 0;
    f.checksum_len = protocol::checksum_length(started.checksums.file_list);
    f.inc_recurse = plan.inc_recurse;
    f.numeric_ids = numeric_ids_mode(o.numeric_ids);
    f.xmit_id0_names = plan.xmit_id0_names;
    f.use_safe_inc_flist = plan.use_safe_inc_flist;
    f.relative_paths = o.relative_paths > 0;
    f.recurse = o.recurse != 0;
    f.ignore_errors = o.ignore_errors != 0;
    f.delete_missing_args = o.missing_args == 2;
    f.munge_symlinks = munge_symlinks;
    f.sanitize_paths = module_dirlen != 0;
    return f;
}

protocol::NumericIds numeric_ids_mode(int numeric_ids)
{
    if (numeric_ids == 0)
        return protocol::NumericIds::Off;
    return numeric_ids < 0 ? protocol::NumericIds::Local : protocol::NumericIds::Wire;
}

transfer::OptionRuleKind option_rule_kind(daemon::FilterOption::Kind kind)
{
    using K = daemon::FilterOption::Kind;
    switch (kind) {
    case K::Filter:
        return transfer::OptionRuleKind::Filter;
    case K::Exclude:
        return transfer::OptionRuleKind::Exclude;
    case K::Include:
        return transfer::OptionRuleKind::Include;
    case K::ExcludeFrom:
        return transfer::OptionRuleKind::ExcludeFrom;
    case K::IncludeFrom:
        return transfer::OptionRuleKind::IncludeFrom;
    }
    return transfer::OptionRuleKind::Filter;
}

void log_to_daemon(transfer::Reporter::LogLevel level, std::string_view line)
{
    const std::string text = daemon_log_text(line);
    switch (level) {
    case transfer::Reporter::LogLevel::Info:
        spdlog::info("{}", text);
        break;
    case transfer::Reporter::LogLevel::Warning:
        spdlog::warn("{}", text);
        break;
    case transfer::Reporter::LogLevel::Error:
        spdlog::error("{}", text);
        break;
    }
}

transfer::FilterOptions session_filter_options(const daemon::ServerOptions& o, transfer::FilterSide side,
                                               const char* who, int protocol, bool module_chroot)
{
    transfer::FilterOptions fo;
    fo.role = side;
    fo.protocol_version = protocol;
    fo.delete_excluded = o.delete_excluded != 0;
    fo.eol_nulls = o.eol_nulls != 0;
    fo.who = who;
    fo.module_chroot = module_chroot;
    fo.home_dir.clear();
    return fo;
}

transfer::SessionChmod session_chmod(const daemon::ServerOptions& o, const std::string& module_chmod, bool outgoing)
{
    // umask() is the only way to read it; it is put back at once.
    const mode_t umask_now = ::umask(0);
    ::umask(umask_now);
    transfer::SessionChmod chmod = transfer::combine_session_chmod(o.chmod, module_chmod, outgoing, umask_now);
    if (!chmod.log_line.empty())
        spdlog::info("{}", chmod.log_line);
    return chmod;
}

std::string int32_le(int v)
{
    std::string p(4, '\0');
    for (int i = 0; i < 4; ++i)
        p[static_cast<std::size_t>(i)] = static_cast<char>((static_cast<unsigned>(v) >> (8 * i)) & 0xFF);
    return p;
}

} // namespace ocr::worker
