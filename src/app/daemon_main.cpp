// SPDX-License-Identifier: MIT
// Start-up order (each step depends on the ones before it):
//   1. load and check the configuration (as the user who started us, normally root)
//   2. choose the log destination and open the log file
//   3. bind the listening sockets (873 needs root)
//   4. detach, write the pid file
//   5. fork the privileged spawner (it keeps root to start workers and re-read the config)
//   6. drop root in this process, which from then on is the network-facing front-end
//   7. serve
#include "app/daemon_main.hpp"

#include "app/logging.hpp"
#include "app/pid_file.hpp"
#include "app/privileges.hpp"
#include "app/spawner.hpp"
#include "app/startup_checks.hpp"
#include "common/fd_passing.hpp"
#include "daemon/auth.hpp"
#include "daemon/config_package.hpp"
#include "daemon/config_validate.hpp"
#include "daemon/tls_material.hpp"
#include "daemon/user_db.hpp"
#include "frontend/listen_sockets.hpp"
#include "frontend/server.hpp"
#include "frontend/tls_check.hpp"
#include "worker/module_filters.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ocr::app {
namespace {

constexpr int kExitSyntax = 1;   // upstream RERR_SYNTAX
constexpr int kExitSocketIo = 10; // upstream RERR_SOCKETIO
constexpr int kExitFileIo = 11;  // upstream RERR_FILEIO

void print_problems(const std::vector<daemon::Problem>& problems)
{
    for (const auto& p : problems)
        std::fprintf(stderr, "%s\n", daemon::format_problem(p).c_str());
}

bool has_errors(const std::vector<daemon::Problem>& problems)
{
    for (const auto& p : problems)
        if (p.severity == daemon::Severity::Error)
            return true;
    return false;
}

// Loads the configuration from disk with every check that must pass before serving.
daemon::LoadResult load_checked(const daemon::LoadOptions& options, std::vector<daemon::Problem>& problems)
{
    daemon::DiskFileSource files;
    daemon::LoadResult r = daemon::load_config(options, files);
    problems = r.problems;
    if (r.config) {
        const auto unsupported = unsupported_settings(*r.config);
        problems.insert(problems.end(), unsupported.begin(), unsupported.end());
    }
    return r;
}

// Reads and checks the TLS files while we can still read them (root). nullopt with
// @p errors set when they must not be served; @p warnings (expiry) are worth telling.
std::optional<daemon::TlsMaterial> load_tls_material(const daemon::GlobalSettings& g, std::vector<std::string>& errors,
                                                     std::vector<std::string>& warnings)
{
    std::string error;
    auto material = daemon::read_tls_material(g, error);
    if (!material) {
        errors.push_back(error);
        return std::nullopt;
    }
    auto check = frontend::check_tls_material(*material, g, std::time(nullptr));
    warnings = std::move(check.warnings);
    if (!check.errors.empty()) {
        errors = std::move(check.errors);
        return std::nullopt;
    }
    return material;
}

// Resolves the plain listener's address as open_listen_sockets() would, for when that
// listener is not opened. Throws with the same text a failed bind address gives.
void check_bind_address(const frontend::ListenSpec& spec)
{
    if (!spec.address || spec.address->empty())
        return;
    addrinfo hints{};
    hints.ai_family = spec.family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(spec.port);
    if (int rc = ::getaddrinfo(spec.address->c_str(), port.c_str(), &hints, &res); rc != 0)
        throw std::runtime_error("getaddrinfo: bind address " + *spec.address + ": " + ::gai_strerror(rc));
    ::freeaddrinfo(res);
}

} // namespace

daemon::LoadOptions load_options_for(const CommandLine& cl)
{
    daemon::LoadOptions o;
    o.config_path = cl.config_path;
    o.dparams = cl.dparams;
    o.session.log_file_format = cl.log_file_format;
    o.session.bwlimit_kib = static_cast<int>(std::min<std::int64_t>(cl.bwlimit_kib.value_or(0), INT32_MAX));
    for (const auto& m : cl.modules)
        o.cli_modules.push_back(daemon::CliModule{m.name, m.path, m.writable});
    for (char** e = environ; e && *e; ++e) {
        const std::string kv(*e);
        if (auto eq = kv.find('='); eq != std::string::npos)
            o.environment.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return o;
}

int run_check_config(const CommandLine& cl)
{
    const daemon::LoadOptions options = load_options_for(cl);
    std::vector<daemon::Problem> problems;
    daemon::LoadResult r = load_checked(options, problems);
    if (r.config) {
        daemon::SystemValidationEnvironment env;
        const auto more = daemon::validate_config(*r.config, env);
        problems.insert(problems.end(), more.begin(), more.end());
    }
    print_problems(problems);
    if (!r.config || has_errors(problems))
        return 1;
    std::printf("configuration OK: %zu module%s\n", r.config->modules().size(),
                r.config->modules().size() == 1 ? "" : "s");
    return 0;
}

int run_daemon(const CommandLine& cl)
{
    // 1. Configuration.
    const daemon::LoadOptions options = load_options_for(cl);
    std::vector<daemon::Problem> problems;
    daemon::LoadResult loaded = load_checked(options, problems);
    print_problems(problems);
    if (!loaded.config || has_errors(problems)) {
        std::fprintf(stderr, "Failed to parse config file: %s\n",
                     options.config_path ? options.config_path->c_str() : "(command line)");
        return kExitSyntax;
    }
    std::shared_ptr<const daemon::Config> config = loaded.config;
    const daemon::GlobalSettings& g = config->globals();
    if (auto problem = daemon::listener_problem(g)) {
        // Checked before the warnings below, which would repeat it as a mere warning.
        const daemon::SourceLocation* where = g.where_set("plain listener");
        std::fprintf(stderr, "refusing to start: %s\n",
                     daemon::format_problem(daemon::Problem{where ? *where : daemon::SourceLocation{}, *problem})
                         .c_str());
        return kExitSyntax;
    }
    {
        // Problems that only show when clients connect are worth a warning now.
        daemon::SystemValidationEnvironment env;
        for (const auto& p : daemon::validate_config(*config, env))
            std::fprintf(stderr, "warning: %s\n", daemon::format_problem(p).c_str());
    }
    // MD4 comes from OpenSSL's legacy provider, which must be loaded before we lose access
    // to it; the greeting lists only digests we can compute.
    (void)daemon::auth_digest_list();

    // TLS files are read now, as the user who started us, and refused before anything binds.
    std::optional<daemon::TlsMaterial> tls_material;
    std::vector<std::string> tls_warnings;
    if (daemon::tls_port_for(g) != 0) {
        std::vector<std::string> tls_errors;
        tls_material = load_tls_material(g, tls_errors, tls_warnings);
        if (!tls_material) {
            for (const auto& e : tls_errors)
                std::fprintf(stderr, "%s\n", e.c_str());
            std::fprintf(stderr, "refusing to start: the TLS certificate or key cannot be used\n");
            return kExitSyntax;
        }
    }

    // 2. Logging. Upstream: --log-file wins over "log file"; without a file, syslog.
    LogTarget log;
    log.verbosity = cl.verbose;
    log.syslog_tag = config->defaults().syslog_tag;
    log.syslog_facility = config->defaults().syslog_facility;
    const std::string log_path = cl.log_file.value_or(config->defaults().log_file);
    UniqueFd log_fd;
    if (!log_path.empty()) {
        log_fd.reset(open_log_file(log_path));
        if (!log_fd) {
            std::fprintf(stderr, "failed to open log-file %s: %s\n", log_path.c_str(), std::strerror(errno));
            return kExitFileIo;
        }
        log.kind = LogTarget::Kind::File;
        log.fd = log_fd.get();
    } else {
        log.kind = cl.detach ? LogTarget::Kind::Syslog : LogTarget::Kind::Stderr;
    }

    // 3. Listening sockets.
    frontend::ListenSpec spec;
    // Upstream clientserver.c:daemon_main: --port=0 is no port given (the config's
    // "port", then 873).
    spec.port = cl.port.value_or(0) != 0 ? *cl.port : (g.rsync_port > 0 ? g.rsync_port : 873);
    spec.address = cl.address ? cl.address : (g.bind_address.empty() ? std::nullopt : std::optional(g.bind_address));
    spec.family = cl.family;
    // Upstream's default backlog is 5; ours is the kernel's maximum unless set explicitly.
    spec.backlog = g.where_set("listen backlog") ? g.listen_backlog : 0;
    std::vector<frontend::ListenSocket> listeners;
    const int tls_port = daemon::tls_port_for(g);
    try {
        // "plain listener = no" leaves the plain port closed; "address" still applies to the
        // TLS port when "tls address" is unset, and is resolved either way so that a typo
        // in it is refused as it always was.
        if (g.plain_listener)
            listeners = frontend::open_listen_sockets(spec);
        else
            check_bind_address(spec);
        if (tls_port != 0) {
            frontend::ListenSpec tls_spec = spec;
            tls_spec.port = tls_port;
            if (!g.tls_address.empty())
                tls_spec.address = g.tls_address;
            for (auto& l : frontend::open_listen_sockets(tls_spec)) {
                l.tls = true;
                l.description += " (TLS)";
                listeners.push_back(std::move(l));
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return kExitSocketIo;
    }

    // 4. Detach and pid file. From the pid file on, a SIGTERM (a stop right after the
    // start) must find the front-end's handler, which exits cleanly and removes the file:
    // hold the signals until that handler exists.
    sigset_t held;
    sigemptyset(&held);
    for (const int sig : {SIGHUP, SIGINT, SIGTERM})
        sigaddset(&held, sig);
    ::sigprocmask(SIG_BLOCK, &held, nullptr);
    if (cl.detach)
        become_daemon();
    UniqueFd pid_fd;
    if (!g.pid_file.empty()) {
        try {
            pid_fd = create_pid_file(g.pid_file);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
            return kExitFileIo;
        }
    }
    const long fd_limit = raise_descriptor_limit();
    init_logging(log);
    ::setenv(kLogTargetEnv, encode_log_target(log).c_str(), 1);
    std::string where;
    for (const auto& l : listeners)
        where += (where.empty() ? "" : ", ") + l.description;
    // Upstream's line names the plain port (Upstream: clientserver.c:daemon_main); without
    // one, the TLS port is named instead, so that the line never claims a closed port.
    if (g.plain_listener)
        spdlog::info("ocrsyncd version {} starting, listening on port {} ({})", OCR_VERSION, spec.port, where);
    else
        spdlog::info("ocrsyncd version {} starting, listening on TLS port {} only ({})", OCR_VERSION, tls_port,
                     where);
    for (const auto& w : tls_warnings)
        spdlog::warn("{}", w);
    if (g.proxy_protocol && g.proxy_protocol_hosts.empty())
        spdlog::warn("\"proxy protocol = true\" but \"proxy protocol hosts\" is unset: all connections will be "
                     "rejected as untrusted proxy peers.  Set \"proxy protocol hosts\" to your trusted proxy's "
                     "address.");

    // 5. The privileged spawner.
    UniqueFd exe(::open("/proc/self/exe", O_PATH | O_CLOEXEC));
    if (!exe) {
        spdlog::critical("cannot open our own executable: {}", std::strerror(errno));
        return kExitFileIo;
    }
    auto [frontend_end, spawner_end] = make_seqpacket_pair();
    const bool am_root = ::geteuid() == 0;
    const std::string pid_file = g.pid_file;
    const pid_t spawner_pid = ::fork();
    if (spawner_pid < 0) {
        spdlog::critical("fork: {}", std::strerror(errno));
        return kExitFileIo;
    }
    if (spawner_pid == 0) {
        frontend_end.reset();
        listeners.clear();
        tls_material.reset(); // the spawner re-reads the files on reload; it needs no copy
        pid_fd.reset();
        SpawnerSetup setup;
        setup.control = std::move(spawner_end);
        setup.executable = std::move(exe);
        setup.package = daemon::encode_config_package(options, *config);
        setup.log_fd = std::move(log_fd);
        setup.reload = [options]() {
            ReloadOutcome out;
            std::vector<daemon::Problem> reload_problems;
            daemon::LoadResult r = load_checked(options, reload_problems);
            if (!r.config || has_errors(reload_problems)) {
                for (const auto& p : reload_problems)
                    if (p.severity == daemon::Severity::Error)
                        out.problems += daemon::format_problem(p) + "\n";
                if (out.problems.empty())
                    out.problems = "the configuration could not be loaded\n";
                return out;
            }
            if (daemon::tls_port_for(r.config->globals()) != 0) {
                std::vector<std::string> errors;
                std::vector<std::string> warnings;
                auto material = load_tls_material(r.config->globals(), errors, warnings);
                for (const auto& w : warnings)
                    spdlog::warn("{}", w);
                if (!material) {
                    for (const auto& e : errors)
                        out.problems += e + "\n";
                    return out;
                }
                out.tls_material = daemon::encode_tls_material(*material);
            }
            out.ok = true;
            out.package = daemon::encode_config_package(options, *r.config);
            out.lock_files = daemon::open_lock_files(*r.config);
            return out;
        };
        const int rc = run_spawner(std::move(setup));
        // The front-end has gone: it cannot remove a root-owned pid file itself.
        if (!pid_file.empty())
            ::unlink(pid_file.c_str());
        ::_exit(rc);
    }
    spawner_end.reset();
    exe.reset();
    // log_fd stays open: it is the front-end's own log destination too.
    // Upstream opens a module's lock file for each connection, as root; the front-end will
    // not be, so it gets them open now (and from the spawner after a reload).
    daemon::LockFileTable lock_files = daemon::open_lock_files(*config);

    // 6. Drop root.
    if (am_root) {
        const std::string user = g.daemon_uid.empty() ? daemon::kNobodyUser : g.daemon_uid;
        const std::string group = g.daemon_gid.empty() ? daemon::nobody_group_name() : g.daemon_gid;
        try {
            drop_privileges(user, group);
        } catch (const std::exception& e) {
            spdlog::critical("cannot drop privileges: {}", e.what());
            ::kill(spawner_pid, SIGTERM);
            return kExitSyntax;
        }
    }

    // 7. Serve.
    int rc = 0;
    try {
        frontend::ServerOptions so;
        so.daemon_is_root = am_root;
        so.daemon_uid = am_root ? 0 : ::getuid();
        so.socket_options_override = cl.sockopts.value_or("");
        so.environment = options.environment;
        so.cpu_count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        so.tls_material = std::move(tls_material);
        so.filter_rule_check = worker::module_filter_rule_errors;
        so.lock_files = std::move(lock_files);
        spdlog::debug("descriptor limit {}", fd_limit);
        frontend::Server server(std::move(listeners), config, std::move(frontend_end), so);
        ::sigprocmask(SIG_UNBLOCK, &held, nullptr); // what arrived meanwhile reaches the server now
        server.run();
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        rc = kExitSocketIo;
    }
    // The spawner removes the pid file once it sees us go; wait so that our exit means
    // the daemon is completely gone.
    pid_fd.reset();
    int status = 0;
    while (::waitpid(spawner_pid, &status, 0) < 0 && errno == EINTR) {
    }
    return rc;
}

} // namespace ocr::app
