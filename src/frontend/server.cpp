// SPDX-License-Identifier: MIT
#include "frontend/server.hpp"

#include "common/strings.hpp"
#include "daemon/config_package.hpp"
#include "daemon/host_lookup.hpp"
#include "daemon/proxy_header.hpp"
#include "frontend/tls_context.hpp"
#include "frontend/tls_relay.hpp"
#include "frontend/tls_session_info.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <stdexcept>

namespace ocr::frontend {
namespace {

// Blocking lookups (DNS, NSS) run here, never on the event loop. Sized so that a few
// stalled resolvers do not hold up everyone else's lookups.
constexpr std::size_t kBlockingThreads = 16;
// How many bytes a closing connection may still be fed while we drain it.
constexpr std::size_t kMaxDrainBytes = 1 << 20;

std::int64_t monotonic_ms()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void log_line(const daemon::HandshakeLog& l)
{
    switch (l.level) {
    case daemon::HandshakeLog::Level::Info:
        spdlog::info("{}", l.text);
        break;
    case daemon::HandshakeLog::Level::Warning:
        spdlog::warn("{}", l.text);
        break;
    case daemon::HandshakeLog::Level::Error:
        spdlog::error("{}", l.text);
        break;
    }
}

// A coroutine that runs a blocking function where it is spawned (the blocking pool).
// Parameters live in the coroutine frame; a capturing lambda coroutine would not keep
// its captures alive across the first suspension.
asio::awaitable<void> run_blocking_job(std::function<void()> job)
{
    job();
    co_return;
}

tcp protocol_of(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        throw std::runtime_error("getsockname on a listening socket failed");
    return ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
}

// Reads a sealed memfd from the spawner (config package or TLS material).
std::string read_package(int fd)
{
    std::string bytes;
    std::array<char, 65536> buf;
    off_t off = 0;
    for (;;) {
        const ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw std::runtime_error("cannot read a package from the spawner");
        if (n == 0)
            break;
        bytes.append(buf.data(), static_cast<std::size_t>(n));
        off += n;
        if (bytes.size() > (256u << 20))
            throw std::runtime_error("package from the spawner too large");
    }
    return bytes;
}

} // namespace

// A named function rather than a capturing lambda in the coroutine body: GCC 12 mishandles
// the destruction of such lambdas in coroutine frames.
static void arm_deadline(asio::steady_timer& deadline, tcp::socket& socket, const std::string& addr,
                         asio::steady_timer::time_point when)
{
    deadline.expires_at(when);
    deadline.async_wait([&socket, addr](const boost::system::error_code& e) {
        if (e)
            return; // cancelled: the connection moved on or is gone
        spdlog::info("daemon handshake timeout for {} -- closing", addr);
        boost::system::error_code ignored;
        socket.close(ignored);
    });
}

// The whole handshake -- PROXY header, TLS and the daemon protocol up to the module line --
// runs under the global deadline, counted from accept (upstream clientserver.c:start_daemon
// arms it before reading the PROXY header; daemon_handshake_timeout).
static int global_handshake_limit(const daemon::Config& config)
{
    const int limit = config.globals().handshake_timeout > 0 ? config.globals().handshake_timeout : 60;
    const int t = config.defaults().timeout;
    return (t > 0 && t < limit) ? t : limit;
}

static void log_tls_failure(const std::string& addr, const boost::system::error_code& ec)
{
    std::string reason = ec.message();
    if (ec.category() == asio::error::get_ssl_category()) {
        const char* r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
        if (r)
            reason = r;
    }
    spdlog::info("TLS handshake with {} failed: {}", addr, reason);
}

WorkerPool::Limits Server::limits_for(const daemon::Config& config, int cpu_count)
{
    const auto& g = config.globals();
    WorkerPool::Limits l;
    l.max_busy = g.transfer_workers > 0 ? g.transfer_workers : 16 * cpu_count;
    l.spares = g.spare_workers >= 0 ? g.spare_workers : 2 * cpu_count;
    if (l.spares > l.max_busy)
        l.spares = l.max_busy;
    l.queue_capacity = static_cast<std::size_t>(2 * l.max_busy);
    return l;
}

Server::Server(std::vector<ListenSocket> listeners, std::shared_ptr<const daemon::Config> config,
               UniqueFd spawner_control, ServerOptions options)
    : blocking_pool_(kBlockingThreads), config_(std::move(config)), options_(std::move(options)),
      spawner_(io_, std::move(spawner_control),
               SpawnerLink::Handlers{
                   [this](pid_t pid, UniqueFd fd, std::uint64_t gen) {
                       pool_.worker_started(pid, std::move(fd), gen);
                   },
                   [this](pid_t pid, int status) { pool_.worker_exited(pid, status); },
                   [this](std::uint64_t gen) { pool_.spawn_failed(gen); },
                   [this](std::uint64_t gen, UniqueFd fd, UniqueFd tls, daemon::LockFileTable locks) {
                       reload_arrived(gen, std::move(fd), std::move(tls), std::move(locks));
                   },
                   [this](const std::string& text) {
                       reloading_ = false;
                       spdlog::error("configuration reload failed; keeping the current configuration:");
                       for (const auto& line : split(text, '\n'))
                           if (!line.empty())
                               spdlog::error("  {}", line);
                       notifier_.ready();
                   },
                   [this] {
                       spdlog::critical("the worker spawner exited; no new sessions can start");
                       begin_shutdown();
                   }}),
      pool_(io_, spawner_, limits_for(*config_, options_.cpu_count), generation_),
      env_([this](const std::string& lock_file, int max) { return connection_slots_.claim(lock_file, max); },
           options_.daemon_is_root,
           options_.daemon_uid, options_.environment, options_.filter_rule_check),
      signals_(io_, SIGHUP, SIGTERM, SIGINT), resume_timer_(io_), watchdog_timer_(io_)
{
    for (auto& l : listeners) {
        auto acc = std::make_unique<tcp::acceptor>(io_);
        const tcp proto = protocol_of(l.fd.get());
        acc->assign(proto, l.fd.release());
        acceptors_.push_back(Listener{std::move(acc), l.tls});
    }
    if (options_.tls_material)
        install_tls(*options_.tls_material, config_->globals());
    // The key stays in the context only.
    options_.tls_material.reset();
    connection_slots_.use_lock_files(std::move(options_.lock_files));
}

void Server::install_tls(const daemon::TlsMaterial& material, const daemon::GlobalSettings& g)
{
    // The privileged side checked the same bytes and settings, so this only fails when
    // memory does; then the old context (if any) stays.
    tls_context_ = make_tls_context(material, g);
}

Server::~Server()
{
    blocking_pool_.join();
}

void Server::run()
{
    pool_.set_capacity_listener([this] { update_accepting(); });
    spawner_.start();
    pool_.start();
    for (auto& l : acceptors_)
        asio::co_spawn(io_, accept_loop(l), asio::detached);
    wait_signals();
    arm_watchdog();
    notifier_.ready();
    publish_status();
    io_.run();
}

asio::awaitable<void> Server::accept_loop(Listener& listener)
{
    tcp::acceptor& acceptor = *listener.acceptor;
    asio::steady_timer backoff(io_);
    for (;;) {
        if (stopping_)
            co_return;
        boost::system::error_code ec;
        if (paused_) {
            co_await resume_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted)
                continue; // paused or stopping: the loop head decides
            if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec.value() == ENOBUFS ||
                ec.value() == ENOMEM) {
                // Out of descriptors: back off instead of spinning on a ready listener.
                spdlog::warn("accept: {}; pausing new connections for 100 ms", ec.message());
                backoff.expires_after(std::chrono::milliseconds(100));
                co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            continue;
        }
        ++connections_;
        ++handshakes_;
        asio::co_spawn(io_, serve(std::move(socket), next_connection_id_++, listener.tls), asio::detached);
        update_accepting();
    }
}

asio::awaitable<void> Server::serve(tcp::socket socket, std::uint64_t id, bool tls)
{
    // Undoes this connection's accounting however the coroutine ends, unless the session
    // went to a worker (then the pool's on_end callback does it).
    struct Scope {
        Server& server;
        std::optional<daemon::ConnectionSlot> slot;
        bool handed_off = false;
        ~Scope()
        {
            if (handed_off)
                return;
            --server.handshakes_;
            if (slot)
                server.connection_slots_.release(*slot);
            server.connection_ended();
        }
    } scope{*this, std::nullopt, false};

    const auto accepted_at = asio::steady_timer::clock_type::now();
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec)
        co_return;
    std::string addr = daemon::address_text(remote.data(), static_cast<socklen_t>(remote.size()));
    const std::shared_ptr<const daemon::Config> config = config_;
    const std::uint64_t generation = generation_;
    // Taken now: a reload during the handshake does not change this session's certificate.
    const std::shared_ptr<ssl::context> tls_context = tls_context_;
    if (tls && !tls_context)
        co_return;
    {
        int one = 1;
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        // The relay hands TCP whole batches of records, so Nagle could only hold back the
        // tail of one until the client ACKs; stunnel turns it off for the same reason.
        // Set first: "socket options" may say otherwise.
        if (tls)
            ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const std::string& opts = options_.socket_options_override.empty()
                                      ? config->globals().socket_options
                                      : options_.socket_options_override;
        if (!opts.empty()) {
            const std::vector<std::string> problems = apply_socket_options(socket.native_handle(), opts);
            // Upstream sets them once, on its listening sockets, so it complains at start
            // only; we set them on each connection (a reload may change them) and complain
            // once per setting.
            if (opts != sockopts_reported_) {
                for (const auto& p : problems)
                    spdlog::error("{}", p);
                sockopts_reported_ = opts;
            }
        }
    }

    asio::steady_timer deadline(io_);
    const auto global_deadline = accepted_at + std::chrono::seconds(global_handshake_limit(*config));
    arm_deadline(deadline, socket, addr, global_deadline);

    try {
        // Bytes read past the PROXY header: the start of the greeting or of the TLS hello.
        std::string early;
        if (config->globals().proxy_protocol && !co_await read_proxy_header(socket, *config, addr, early))
            co_return;

        std::string host(daemon::kUndeterminedHost);
        if (config->defaults().reverse_lookup) {
            daemon::ClientName name;
            std::function<void()> lookup = [&name, &addr] { name = daemon::lookup_client_name(addr); };
            co_await asio::co_spawn(blocking_pool_, run_blocking_job(std::move(lookup)), asio::use_awaitable);
            for (const auto& l : name.log_lines)
                spdlog::info("{}", l);
            host = name.name;
            if (!socket.is_open())
                co_return;
        }

        std::optional<TlsStream> tls_stream;
        std::optional<std::string> tls_user;
        if (tls) {
            tls_stream.emplace(socket, *tls_context);
            co_await tls_stream->async_handshake(ssl::stream_base::server, asio::buffer(early),
                                                 asio::redirect_error(asio::use_awaitable, ec));
            early.clear();
            if (ec) {
                // A failed handshake costs a log line and nothing else.
                if (socket.is_open())
                    log_tls_failure(addr, ec);
                socket.close(ec);
                co_return;
            }
            const TlsSessionInfo info = describe_tls_session(tls_stream->native_handle(), config->globals().tls_user_from);
            spdlog::info("TLS session from {} ({}): {} {}, {}", host, addr, info.version, info.cipher,
                         info.subject ? "client certificate " + *info.subject : std::string("no client certificate"));
            tls_user = info.user;
        }
        ClientIo io{socket, tls_stream ? &*tls_stream : nullptr};

        daemon::HandshakeMachine::Settings settings;
        settings.addr = addr;
        settings.host = host;
        settings.connection_id = id;
        settings.config_generation = generation;
        settings.environment = options_.environment;
        settings.tls = tls;
        settings.tls_user = tls_user;
        daemon::HandshakeMachine machine(config, std::move(settings), env_);
        machine.start();
        if (!early.empty())
            machine.feed(early);
        unsigned serial = 0;
        // Lives in every connection's coroutine frame: handshake lines are short, so a
        // small buffer keeps thousands of idle connections cheap.
        std::array<char, 2048> buf;
        for (;;) {
            for (const auto& l : machine.take_log())
                log_line(l);
            scope.slot = machine.claimed_slot();
            if (machine.deadline_serial() != serial) {
                // The first deadline counts from accept; later ones (module known, args)
                // from now, as upstream re-arms them.
                const auto from = serial == 0 ? accepted_at : asio::steady_timer::clock_type::now();
                serial = machine.deadline_serial();
                arm_deadline(deadline, socket, addr, from + std::chrono::seconds(machine.deadline_seconds()));
            }
            const std::string out = machine.take_output();
            if (!out.empty()) {
                co_await io.write(asio::buffer(out), ec);
                if (ec)
                    co_return;
            }
            switch (machine.step()) {
            case daemon::HandshakeMachine::Step::NeedInput: {
                const std::size_t n = co_await io.read_some(asio::buffer(buf), ec);
                if (ec == asio::error::eof)
                    machine.feed_eof();
                else if (ec)
                    co_return;
                else
                    machine.feed(std::string_view(buf.data(), n));
                break;
            }
            case daemon::HandshakeMachine::Step::RunJob: {
                std::function<void()> job = machine.take_job();
                co_await asio::co_spawn(blocking_pool_, run_blocking_job(std::move(job)), asio::use_awaitable);
                machine.job_done();
                if (!socket.is_open())
                    co_return; // the deadline passed while we were looking things up
                break;
            }
            case daemon::HandshakeMachine::Step::Dispatch: {
                deadline.cancel();
                PendingSession session{UniqueFd(), machine.take_session(), {}};
                session.descriptor.handshake_deadline_ms = monotonic_ms();
                const std::optional<daemon::ConnectionSlot> slot = machine.claimed_slot();
                scope.handed_off = true;
                --handshakes_;
                if (!tls_stream) {
                    session.connection.reset(socket.release(ec));
                    session.on_end = [this, slot] { session_over(slot); };
                    pool_.submit(std::move(session));
                    co_return;
                }
                // TLS: the worker gets one end of a socketpair and we relay. The connection
                // is over when both the worker and the relay are.
                asio::local::stream_protocol::socket local(io_);
                asio::local::stream_protocol::socket remote_end(io_);
                asio::local::connect_pair(local, remote_end);
                session.connection.reset(remote_end.release());
                auto parts = std::make_shared<int>(2);
                session.on_end = [this, slot, parts] {
                    if (--*parts == 0)
                        session_over(slot);
                };
                pool_.submit(std::move(session));
                co_await relay_tls(*tls_stream, local);
                if (--*parts == 0)
                    session_over(slot);
                co_return;
            }
            case daemon::HandshakeMachine::Step::Close:
                deadline.cancel();
                co_await close_connection(io, machine.close_action());
                co_return;
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("connection from {}: {}", addr, e.what());
    }
}

void Server::session_over(const std::optional<daemon::ConnectionSlot>& slot)
{
    if (slot)
        connection_slots_.release(*slot);
    connection_ended();
}

asio::awaitable<bool> Server::read_proxy_header(tcp::socket& socket, const daemon::Config& config, std::string& addr,
                                                std::string& early)
{
    // Only listed peers may speak for someone else; with the option on, everyone else is
    // turned away (upstream clientserver.c:proxy_peer_allowed).
    daemon::AccessDecision trusted;
    const std::string& hosts = config.globals().proxy_protocol_hosts;
    std::function<void()> check = [this, &trusted, &hosts, &addr] {
        trusted = daemon::check_proxy_protocol_peer(hosts, addr, env_.resolver());
    };
    co_await asio::co_spawn(blocking_pool_, run_blocking_job(std::move(check)), asio::use_awaitable);
    for (const auto& l : trusted.log_lines)
        spdlog::info("{}", l);
    if (!trusted.allowed) {
        spdlog::info("proxy protocol rejected from untrusted peer {} ({})", daemon::kUndeterminedHost, addr);
        co_return false;
    }
    std::array<char, 512> buf;
    boost::system::error_code ec;
    for (;;) {
        const std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            co_return false; // EOF, a reset or the deadline
        early.append(buf.data(), n);
        const daemon::ProxyParse p = daemon::parse_proxy_header(early);
        if (p.status == daemon::ProxyParse::Status::NeedMore)
            continue;
        if (p.status == daemon::ProxyParse::Status::Invalid) {
            // Upstream closes without a word to the client; the log line is ours.
            spdlog::info("bad PROXY protocol header from {}: {}", addr, p.reason);
            co_return false;
        }
        early.erase(0, p.consumed);
        if (p.source)
            addr = p.source->addr;
        co_return true;
    }
}

asio::awaitable<void> Server::close_connection(ClientIo& io, const daemon::CloseAction& how)
{
    boost::system::error_code ec;
    asio::steady_timer timer(io_);
    if (how.wait_before.count() > 0) {
        timer.expires_after(how.wait_before);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!how.late_output.empty())
        co_await io.write(asio::buffer(how.late_output), ec);
    if (how.wait_after.count() > 0) {
        timer.expires_after(how.wait_after);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (io.tls) {
        // Over TLS there is no upstream behaviour to copy: end the session properly.
        co_await io.finish(std::chrono::seconds(2));
        co_return;
    }
    tcp::socket& socket = io.socket;
    if (!how.abandon_input) {
        // Read what the client has sent so that closing does not turn into a reset that
        // could destroy our last message before the client reads it.
        std::array<char, 16384> buf;
        std::size_t drained = 0;
        socket.non_blocking(true, ec);
        while (!ec && drained < kMaxDrainBytes)
            drained += socket.read_some(asio::buffer(buf), ec);
    }
    // With unread input, close() alone makes the kernel answer with a reset (as upstream's
    // exit does); a shutdown() first would send an orderly end of stream instead.
    if (!how.abandon_input)
        socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

void Server::connection_ended()
{
    --connections_;
    update_accepting();
    maybe_finish_shutdown();
}

void Server::update_accepting()
{
    const int cap = config_->globals().daemon_max_connections;
    const bool pause = stopping_ || (cap > 0 && connections_ >= cap) || pool_.saturated();
    if (pause && !paused_) {
        paused_ = true;
        resume_timer_.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        for (auto& l : acceptors_)
            l.acceptor->cancel(ec);
        if (!stopping_)
            spdlog::debug("pausing accept: {} connections, {} busy workers, {} queued", connections_,
                          pool_.busy(), pool_.queued());
    } else if (!pause && paused_) {
        paused_ = false;
        resume_timer_.cancel();
    }
}

void Server::wait_signals()
{
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        if (sig == SIGHUP) {
            start_reload();
        } else if (stopping_) {
            spdlog::warn("second stop signal: exiting without waiting for {} sessions", pool_.busy());
            io_.stop();
            return;
        } else {
            spdlog::info("received {}; no new connections, finishing {} sessions",
                         sig == SIGTERM ? "SIGTERM" : "SIGINT", pool_.busy() + pool_.queued());
            begin_shutdown();
        }
        wait_signals();
    });
}

void Server::start_reload()
{
    if (reloading_ || stopping_)
        return;
    reloading_ = true;
    notifier_.reloading();
    spdlog::info("reloading configuration");
    spawner_.request_reload();
}

void Server::reload_arrived(std::uint64_t generation, UniqueFd package_fd, UniqueFd tls_fd,
                            daemon::LockFileTable lock_files)
{
    reloading_ = false;
    try {
        const std::string bytes = read_package(package_fd.get());
        auto package = daemon::decode_config_package(bytes);
        if (!package)
            throw std::runtime_error("malformed configuration package");
        auto result = daemon::load_config_package(*package);
        if (!result.config)
            throw std::runtime_error("the new configuration did not load in the front-end");
        std::optional<daemon::TlsMaterial> material;
        if (tls_fd) {
            material = daemon::decode_tls_material(read_package(tls_fd.get()));
            if (!material)
                throw std::runtime_error("malformed TLS material from the spawner");
        }
        if (material) {
            // Live sessions hold their own reference to the old context and keep it.
            install_tls(*material, result.config->globals());
            spdlog::info("TLS certificate and key reloaded");
        } else if (tls_context_) {
            spdlog::warn("the new configuration has no TLS certificate; the TLS port keeps the old one");
        }
        config_ = result.config;
        // Slots claimed before keep their own reference to the old lock files.
        connection_slots_.use_lock_files(std::move(lock_files));
        generation_ = generation;
        pool_.set_limits(limits_for(*config_, options_.cpu_count));
        pool_.set_generation(generation);
        spawner_.forget_before(generation);
        spdlog::info("configuration reloaded ({} modules)", config_->modules().size());
    } catch (const std::exception& e) {
        spdlog::error("configuration reload failed; keeping the current configuration: {}", e.what());
    }
    notifier_.ready();
    publish_status();
    update_accepting();
}

void Server::begin_shutdown()
{
    if (stopping_)
        return;
    stopping_ = true;
    notifier_.stopping();
    boost::system::error_code ec;
    for (auto& l : acceptors_)
        l.acceptor->close(ec);
    resume_timer_.cancel();
    pool_.drain();
    maybe_finish_shutdown();
}

void Server::maybe_finish_shutdown()
{
    if (!stopping_ || connections_ > 0)
        return;
    spdlog::info("all sessions finished; exiting");
    spawner_.close();
    signals_.cancel();
    watchdog_timer_.cancel();
    io_.stop();
}

void Server::publish_status()
{
    notifier_.status(std::to_string(pool_.busy()) + " sessions running, " + std::to_string(pool_.queued()) +
                     " queued, " + std::to_string(handshakes_) + " in handshake, " +
                     std::to_string(pool_.idle()) + " idle workers");
}

void Server::arm_watchdog()
{
    const auto interval = notifier_.watchdog_interval();
    if (!interval)
        return;
    watchdog_timer_.expires_after(*interval);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        // Pinged from the event loop itself: a stuck loop stops the pings.
        notifier_.watchdog();
        publish_status();
        arm_watchdog();
    });
}

} // namespace ocr::frontend
