// SPDX-License-Identifier: MIT
// A worker's session. The front-end has already done the handshake and refused what it
// must; the worker re-derives everything that grants access from its own copy of the
// config (module, auth rule, read only) rather than trusting the front-end, confines
// itself to the module, parses the client's options itself, and runs the session.
#include "worker/session.hpp"

#include "daemon/auth_group_lookup.hpp"
#include "daemon/auth_rules.hpp"
#include "daemon/daemon_args.hpp"
#include "daemon/module_policy.hpp"
#include "daemon/session_setup.hpp"
#include "daemon/var_expand.hpp"
#include "protocol/digest.hpp"
#include "protocol/exit_code.hpp"
#include "protocol/protocol_error.hpp"
#include "worker/confinement.hpp"
#include "worker/fd_stream.hpp"
#include "worker/filter_files.hpp"
#include "worker/module_filters.hpp"
#include "worker/pull_session.hpp"
#include "worker/push_session.hpp"
#include "worker/syscall_filter.hpp"
#include "transfer/filter_daemon.hpp"
#include "transfer/filter_error.hpp"
#include "transfer/filter_set.hpp"
#include "transfer/module_fs.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <chrono>
#include <map>
#include <thread>

namespace ocr::worker {
namespace {

using daemon::ModuleSettings;

// A --files-from list is read whole; this bounds what a module file can make us hold.
constexpr std::size_t kMaxFilesFromBytes = 256u << 20;

struct Parsed {
    daemon::OptionParseResult result;
    bool ok = false;
};

// The options exactly as the front-end parsed them, but with the module's real
// (post-confinement) facts.
Parsed parse_options(const ModuleSettings& m, const daemon::SessionDescriptor& s,
                     const daemon::ServerParseContext& ctx)
{
    Parsed out;
    const daemon::RefuseSet refused = daemon::module_refuse_set(m);
    daemon::DaemonArgContext ac;
    ac.module = m.name;
    ac.sanitize_paths = ctx.sanitize_paths;
    const daemon::ProcessedArgs first = daemon::process_daemon_args(s.args, ac);
    if (!first.ok)
        return out;
    out.result = daemon::parse_server_args(first.argv, refused, ctx);
    if (out.result.ok && out.result.wants_second_batch) {
        ac.secluded_batch = true;
        ac.relative_paths = out.result.options.relative_paths != 0;
        const daemon::ProcessedArgs second = daemon::process_daemon_args(s.secluded_args, ac);
        if (!second.ok)
            return out;
        out.result = daemon::parse_secluded_args(second.argv, refused, ctx, out.result);
    }
    out.ok = out.result.ok;
    return out;
}

// Carries out an ending the way the front-end does (see daemon::RefusalEnding).
void perform_ending(FdStream& io, const daemon::RefusalEnding& e)
{
    io.write(e.now);
    io.flush();
    if (e.await_exit_answer)
        io.await_exit_answer(e.client_lists, std::chrono::seconds(10));
    std::this_thread::sleep_for(e.wait_before);
    if (!e.late.empty()) {
        io.write(e.late);
        io.flush();
    }
    std::this_thread::sleep_for(e.wait_after);
    if (!e.abandon_input)
        io.drain(std::chrono::milliseconds(0));
}

// Ends the session after protocol setup with an error; returns the exit code. Refusals
// upstream also makes end as upstream's do; errors of our own are always delivered.
int end_with_error(FdStream& io, daemon::ServerOptions& options, int protocol, int timeout,
                   const std::string& message, int code, bool upstream_refusal = false,
                   daemon::UpstreamSite site = daemon::kSiteSessionSetup)
{
    options.protocol_version = protocol;
    const daemon::ProtocolSetupPlan plan = daemon::plan_protocol_setup(options);
    const daemon::UpstreamRole role = options.am_sender ? daemon::UpstreamRole::Sender : daemon::UpstreamRole::Receiver;
    spdlog::error("{}", daemon::without_newline(message));
    spdlog::error("{}", daemon::without_newline(daemon::rsync_error_line(code, site, role)));
    try {
        const std::string setup = daemon::encode_setup(plan);
        const bool sender = options.am_sender != 0;
        perform_ending(io, upstream_refusal
                               ? daemon::start_refusal(plan, setup, sender, timeout, message, code, site)
                               : daemon::session_error(plan, setup, sender, timeout, message, code, site));
    } catch (const protocol::ProtocolError& e) {
        spdlog::info("{}", e.what());
    }
    return code;
}

// Reads a --files-from=FILE that names a file inside the module (confined as every other
// read is). Upstream opens it while parsing options and reads it while building the list.
std::optional<std::string> read_files_from_file(const ConfinedModule& module, const std::string& sanitized,
                                                std::size_t module_dirlen, std::optional<std::string>& content)
{
    std::string rel = sanitized;
    if (!rel.empty() && rel[0] == '/')
        rel = rel.substr(std::min(module_dirlen, rel.size()));
    transfer::ModuleFs fs(UniqueFd(::fcntl(module.root.get(), F_DUPFD_CLOEXEC, 0)));
    UniqueFd fd = fs.open_read(transfer::relative_to_root(rel), true);
    if (!fd)
        return std::string(std::strerror(errno));
    transfer::FilterFileRead read = read_whole_fd(fd.get(), kMaxFilesFromBytes);
    if (!read.content)
        return std::string(std::strerror(read.error));
    content = std::move(read.content);
    return std::nullopt;
}

} // namespace

int run_session(const daemon::Config& config, const daemon::SessionDefaults& defaults,
                const daemon::SessionDescriptor& s, UniqueFd client)
{
    FdStream io(client.get(), s.pending_input);
    const ModuleSettings* m = config.find_module(s.module);
    if (!m) {
        // The front-end selected a module this configuration does not have: it is broken
        // or compromised. Do not guess; end the connection.
        spdlog::error("worker: no module '{}' in configuration generation {}", s.module, s.config_generation);
        return protocol::to_int(protocol::ExitCode::StartClient);
    }
    std::map<std::string, std::string, std::less<>> env(config.environment().begin(), config.environment().end());
    env["RSYNC_MODULE_NAME"] = m->name;
    env["RSYNC_HOST_ADDR"] = s.addr;
    env["RSYNC_HOST_NAME"] = s.host;
    env["RSYNC_USER_NAME"] = s.auth_user;
    env["RSYNC_PID"] = std::to_string(::getpid());
    const daemon::VarLookup lookup = [&env](std::string_view name) -> std::optional<std::string> {
        if (auto it = env.find(name); it != env.end())
            return it->second;
        return std::nullopt;
    };

    // Access the front-end reported is only believed as far as the config supports it.
    bool read_only = m->read_only;
    if (!m->auth_users.empty()) {
        daemon::SystemGroupLookup groups;
        const daemon::AuthRuleMatch rule = daemon::match_auth_rules(m->auth_users, s.auth_user, groups);
        if (s.auth_user.empty() || !rule.matched || rule.option == 'd') {
            spdlog::error("worker: session for module {} without a valid user", m->name);
            return protocol::to_int(protocol::ExitCode::StartClient);
        }
        if (rule.option == 'r')
            read_only = true;
        else if (rule.option == 'w')
            read_only = false;
    } else if (!s.auth_user.empty()) {
        spdlog::error("worker: a user for module {}, which has no auth users", m->name);
        return protocol::to_int(protocol::ExitCode::StartClient);
    }

    const bool daemon_is_root = ::getuid() == 0;
    const std::string path = daemon::expand_vars(m->path, lookup);

    // The module's filter rules, with the operator's files read while we can still see
    // them (upstream reads them in rsync_module before it chroots).
    WorkerFilterFiles filter_files;
    transfer::FilterOptions daemon_fo;
    daemon_fo.protocol_version = s.protocol;
    daemon_fo.who = "sender";
    transfer::FilterSet daemon_filters(daemon_fo, filter_files);
    try {
        transfer::load_module_filters(daemon_filters, module_filter_config(*m, path));
    } catch (const transfer::FilterError& e) {
        // Upstream exits here before "@RSYNCD: OK"; we have already said OK, so the
        // client sees the connection close.
        spdlog::error("{}", e.what());
        return protocol::to_int(e.code());
    }

    // OpenSSL loads its providers (MD4 lives in "legacy") from files a chroot hides.
    for (auto a : {protocol::DigestAlgorithm::Md4, protocol::DigestAlgorithm::Md5, protocol::DigestAlgorithm::Sha1})
        if (!protocol::digest_available(a))
            spdlog::warn("worker: {} is not available; sessions that negotiate it will fail", protocol::digest_name(a));

    auto confined = confine_to_module(config.globals(), *m, lookup);
    const auto* confined_ok = std::get_if<ConfinedModule>(&confined);
    const bool chrooted = confined_ok != nullptr && confined_ok->chrooted;
    if (confined_ok != nullptr) {
        // From here on the worker reads the client's options and runs the transfer:
        // only what that needs is left to it.
        SyscallFilterOptions filter;
        filter.name_service_sockets =
            !daemon::module_ids_numeric(chrooted, daemon::tristate(m->numeric_ids), !m->name_converter.empty());
        if (auto why = install_syscall_filter(filter)) {
            spdlog::error("{}", *why);
            return protocol::to_int(protocol::ExitCode::StartClient);
        }
    }
    daemon::ServerParseContext ctx = daemon::module_parse_context(*m, path, chrooted, daemon_is_root, s.protocol);
    std::optional<std::string> files_from_content;
    if (auto* c = std::get_if<ConfinedModule>(&confined)) {
        if (!m->filter.empty() || !m->include_from.empty() || !m->include.empty() || !m->exclude_from.empty() ||
            !m->exclude.empty())
            ctx.daemon_excludes = [&daemon_filters](std::string_view p, bool is_dir) {
                return daemon_filters.daemon_excluded(p, is_dir);
            };
        ctx.open_files_from = [c, &ctx, &files_from_content](const std::string& p) -> std::optional<std::string> {
            return read_files_from_file(*c, p, ctx.module_dirlen, files_from_content);
        };
    }
    Parsed parsed = parse_options(*m, s, ctx);
    daemon::ServerOptions& options = parsed.result.options;
    const int timeout = daemon::effective_timeout(options.io_timeout, m->timeout);
    io.set_timeout(std::chrono::seconds(timeout));

    if (auto* failed = std::get_if<ConfinementError>(&confined)) {
        spdlog::error("{}", failed->log_line);
        return end_with_error(io, options, s.protocol, 0, "@ERROR: " + failed->client_text + "\n",
                              protocol::to_int(protocol::ExitCode::StartClient));
    }
    if (!parsed.ok) {
        return end_with_error(io, options, s.protocol, 0,
                              parsed.result.client_message.empty() ? "rsync: " + parsed.result.error + "\n"
                                                                   : parsed.result.client_message,
                              protocol::to_int(protocol::ExitCode::Unsupported));
    }
    // A receiver refuses before it reads anything; a sender only after the client's filter
    // list (upstream main.c:do_server_recv, start_server and do_server_sender).
    std::optional<daemon::Rejection> refusal = daemon::check_module_policy(options, read_only, m->write_only);
    if (refusal && !options.am_sender)
        return end_with_error(io, options, s.protocol, timeout, refusal->message, refusal->exit_code,
                              true);

    ConfinedModule& module = std::get<ConfinedModule>(confined);
    daemon::ModuleOverrides overrides;
    overrides.open_noatime = daemon::tristate(m->open_noatime);
    overrides.munge_symlinks = module.munge_symlinks ? 1 : 0;
    overrides.ignore_errors = m->ignore_errors;
    overrides.fake_super = m->fake_super;
    overrides.max_verbosity = m->max_verbosity;
    overrides.use_chroot = module.chrooted;
    overrides.numeric_ids = daemon::tristate(m->numeric_ids);
    overrides.name_converter = !m->name_converter.empty();
    overrides.timeout = m->timeout;
    daemon::apply_module_overrides(options, overrides);

    // From here on the transfer owns the socket; the bytes the front-end read ahead are
    // handed on with it. (A receiver's refusal has ended the session above.)
    PullContext transfer{config,
                         defaults,
                         *m,
                         s,
                         module,
                         filter_files,
                         ctx.module_dirlen,
                         std::move(files_from_content),
                         daemon::effective_timeout(options.io_timeout, m->timeout),
                         std::move(refusal)};
    if (options.am_sender)
        return run_pull(transfer, options, std::move(client));
    // A push: the daemon runs the generator and the receiver.
    return run_push(transfer, options, std::move(client));
}

} // namespace ocr::worker
