// SPDX-License-Identifier: MIT
// A worker's session. The front-end has already done the handshake and refused what it
// must; the worker re-derives everything that grants access from its own copy of the
// config (module, auth rule, read only) rather than trusting the front-end, confines
// itself to the module, parses the client's options itself, and runs the session.
#include "worker/session.hpp"

#include "daemon/auth_group_lookup.hpp"
#include "daemon/auth_rules.hpp"
#include "daemon/daemon_args.hpp"
#include "daemon/session_setup.hpp"
#include "daemon/var_expand.hpp"
#include "protocol/exit_code.hpp"
#include "protocol/protocol_error.hpp"
#include "worker/confinement.hpp"
#include "worker/fd_stream.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

namespace ocr::worker {
namespace {

using daemon::ModuleSettings;

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

} // namespace

int run_session(const daemon::Config& config, const daemon::SessionDescriptor& s, UniqueFd client)
{
    FdStream io(client.get());
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
    auto confined = confine_to_module(config.globals(), *m, lookup);
    const bool chrooted = std::holds_alternative<ConfinedModule>(confined) && std::get<ConfinedModule>(confined).chrooted;
    const daemon::ServerParseContext ctx =
        daemon::module_parse_context(*m, path, chrooted, daemon_is_root, s.protocol);
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
    if (auto why = daemon::check_module_policy(options, read_only, m->write_only))
        return end_with_error(io, options, s.protocol, timeout, why->message, why->exit_code, true);

    // TODO(issue 3, issue 4): the transfer engine. Until it lands the session ends here with
    // an explicit error, after a protocol setup the client understands.
    return end_with_error(io, options, s.protocol, timeout,
                          "ERROR: this ocrsyncd cannot transfer files yet (listing and the handshake "
                          "work; file transfers arrive with a later version)\n",
                          protocol::to_int(protocol::ExitCode::Unsupported));
}

} // namespace ocr::worker
