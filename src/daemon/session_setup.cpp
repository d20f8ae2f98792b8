// SPDX-License-Identifier: MIT
#include "daemon/session_setup.hpp"

#include "protocol/mux.hpp"
#include "protocol/server_setup.hpp"
#include "protocol/wire.hpp"

namespace ocr::daemon {
namespace {
std::string int32_payload(std::int32_t v)
{
    std::string out;
    protocol::put_i32(out, v);
    return out;
}
// [MSG_IO_TIMEOUT] message, "rsync error: ..." and (31+) MSG_ERROR_EXIT, as exit_cleanup
// sends them.
std::string error_frames(int protocol, int io_timeout, std::string_view message, int exit_code, UpstreamSite site,
                         UpstreamRole role)
{
    const protocol::MsgCode tag = protocol::error_tag_for(protocol);
    std::string frames;
    if (io_timeout > 0 && protocol >= 31)
        frames += protocol::encode_frame(protocol::MsgCode::IoTimeout, int32_payload(io_timeout));
    frames += protocol::encode_frame(tag, message);
    frames += protocol::encode_frame(tag, rsync_error_line(exit_code, site, role));
    if (protocol >= 31)
        frames += protocol::encode_frame(protocol::MsgCode::ErrorExit, int32_payload(exit_code));
    return frames;
}

} // namespace

BuildFeatures daemon_build_features()
{
    BuildFeatures f;
    f.acls = false;
    f.xattrs = false;
    f.iconv = false;
    f.crtimes = false;
    return f;
}

RefuseSet module_refuse_set(const ModuleSettings& module)
{
    RefuseContext rc;
    rc.charset_set = !module.charset.empty();
    rc.features = daemon_build_features();
    // --copy-as would have a root worker act as another local user on the client's say-so;
    // upstream lets a root daemon honour it, we refuse it outright.
    return parse_refuse_options(module.refuse_options + " copy-as", rc);
}

ServerParseContext module_parse_context(const ModuleSettings& module, const std::string& path, bool chroot,
                                        bool daemon_is_root, int protocol)
{
    ServerParseContext ctx;
    ctx.protocol_version = protocol;
    ctx.am_server = false;
    ctx.am_root = daemon_is_root && (module.uid == "root" || module.uid == "0") ? 1 : 0;
    if (!module.temp_dir.empty())
        ctx.module_temp_dir = module.temp_dir;
    // Upstream clientserver.c:rsync_module: a chrooted module sees "/" (module_dirlen 0)
    // unless "/./" names an inner directory; an unchrooted one sees its full path, and
    // client paths are then sanitized into it.
    std::string dir = path;
    if (chroot) {
        const auto split = path.find("/./");
        dir = split == std::string::npos ? "/" : path.substr(split + 2);
    }
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    ctx.module_dir = dir;
    ctx.module_dirlen = dir == "/" ? 0 : dir.size();
    ctx.sanitize_paths = ctx.module_dirlen != 0;
    ctx.features = daemon_build_features();
    return ctx;
}

std::string encode_setup(const ProtocolSetupPlan& plan)
{
    return encode_setup(plan, plan.checksum_seed != 0 ? plan.checksum_seed : protocol::make_checksum_seed());
}

std::string encode_setup(const ProtocolSetupPlan& plan, std::int32_t seed)
{
    protocol::ServerSetupInputs in;
    in.send_compat_flags = plan.send_compat_flags;
    in.compat_flags_as_byte = plan.compat_flags_as_byte;
    in.compat_flags = plan.compat_flags;
    if (plan.exchange_checksum_list)
        in.checksum_list = plan.forced_checksum_list.value_or(std::string(protocol::kChecksumNameList));
    if (plan.exchange_compress_list)
        in.compress_list = plan.forced_compress_list.value_or(std::string(protocol::kCompressNameList));
    in.seed = seed;
    return protocol::encode_server_setup(in);
}

RefusalEnding option_refusal(const ProtocolSetupPlan& plan, const std::string& setup, bool am_sender,
                             bool files_from_byte, const std::string& client_message)
{
    using std::chrono::milliseconds;
    const protocol::MsgCode tag = protocol::error_tag_for(plan.protocol);
    RefusalEnding e;
    e.now = setup;
    if (!am_sender && files_from_byte)
        e.now.push_back('\0');
    // option_error() flushes the message, then upstream sleeps 20 + 400 ms and exits.
    e.now += protocol::encode_frame(tag, client_message);
    e.wait_before = milliseconds(420);
    if (!am_sender) {
        // A receiving daemon flushes its exit messages; a sending one never does.
        e.late = protocol::encode_frame(tag, rsync_error_line(4, kSiteOptionRefused, UpstreamRole::Receiver));
        if (plan.protocol >= 31)
            e.late += protocol::encode_frame(protocol::MsgCode::ErrorExit, int32_payload(4));
    }
    e.wait_after = milliseconds(100);
    // Upstream never started reading the client's data, so exiting resets the connection.
    e.abandon_input = true;
    return e;
}

RefusalEnding start_refusal(const ProtocolSetupPlan& plan, const std::string& setup, bool am_sender, int io_timeout,
                            std::string_view message, int exit_code, UpstreamSite site)
{
    using std::chrono::milliseconds;
    const std::string frames = error_frames(plan.protocol, io_timeout, message, exit_code, site,
                                            am_sender ? UpstreamRole::Sender : UpstreamRole::Receiver);
    RefusalEnding e;
    e.now = setup;
    e.wait_after = milliseconds(100);
    if (am_sender) {
        // The sending daemon has started reading (the filter list), so it waits for the
        // client's answer to MSG_ERROR_EXIT. Below 31 its buffered messages are never
        // flushed and the client just sees the connection end.
        if (plan.protocol >= 31) {
            e.now += frames;
            e.await_exit_answer = true;
            e.client_lists = (plan.exchange_checksum_list ? 1 : 0) + (plan.exchange_compress_list ? 1 : 0);
        }
    } else {
        // The receiving daemon flushes everything but has read nothing: it resets.
        e.now += frames;
        e.abandon_input = true;
    }
    return e;
}

RefusalEnding session_error(const ProtocolSetupPlan& plan, const std::string& setup, bool am_sender, int io_timeout,
                            std::string_view message, int exit_code, UpstreamSite site)
{
    RefusalEnding e;
    e.now = setup + error_frames(plan.protocol, io_timeout, message, exit_code, site,
                                 am_sender ? UpstreamRole::Sender : UpstreamRole::Receiver);
    // 31+ clients answer MSG_ERROR_EXIT; wait for that, then close in order.
    e.await_exit_answer = plan.protocol >= 31;
    e.client_lists = (plan.exchange_checksum_list ? 1 : 0) + (plan.exchange_compress_list ? 1 : 0);
    e.wait_after = std::chrono::milliseconds(100);
    return e;
}

std::string without_newline(std::string_view text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.remove_suffix(1);
    return std::string(text);
}

} // namespace ocr::daemon
