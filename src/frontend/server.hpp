// SPDX-License-Identifier: MIT
// The front-end: accepts connections, runs their handshakes, feeds the worker pool,
// reloads and drains on signals, and reports to systemd.
#pragma once

#include "common/unique_fd.hpp"
#include "daemon/config.hpp"
#include "daemon/connection_slots.hpp"
#include "daemon/module_filter_files.hpp"
#include "daemon/tls_material.hpp"
#include "frontend/asio_ssl.hpp"
#include "frontend/client_io.hpp"
#include "frontend/handshake_env.hpp"
#include "frontend/listen_sockets.hpp"
#include "frontend/notify.hpp"
#include "frontend/spawner_link.hpp"
#include "frontend/worker_pool.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ocr::frontend {

/// @brief Settings of the front-end that do not come from the config file.
struct ServerOptions {
    bool daemon_is_root = false;
    uid_t daemon_uid = 0;
    std::string socket_options_override; ///< --sockopts (wins over "socket options")
    std::map<std::string, std::string, std::less<>> environment; ///< for %VAR% expansion
    int cpu_count = 1;
    /// Certificate, key and CA bytes read by the privileged side (TLS listeners need them).
    std::optional<daemon::TlsMaterial> tls_material;
    /// Checks a module's filter rules before "@RSYNCD: OK" (empty: the worker finds them).
    daemon::FilterRuleCheck filter_rule_check;
    /// The "max connections" lock files, opened before privileges were dropped.
    daemon::LockFileTable lock_files;
};

/// @brief The asynchronous front door; runs on one thread.
class Server {
public:
    Server(std::vector<ListenSocket> listeners, std::shared_ptr<const daemon::Config> config,
           UniqueFd spawner_control, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// @brief Serves until SIGTERM/SIGINT has drained every session.
    void run();

    /// @brief The resolved limits for a config (N, S, queue 2N).
    [[nodiscard]] static WorkerPool::Limits limits_for(const daemon::Config& config, int cpu_count);

private:
    struct Listener {
        std::unique_ptr<tcp::acceptor> acceptor;
        bool tls = false;
    };

    asio::awaitable<void> accept_loop(Listener& listener);
    asio::awaitable<void> serve(tcp::socket socket, std::uint64_t id, bool tls);
    /// @brief Reads the PROXY header if the config asks for one. False: the connection is refused.
    asio::awaitable<bool> read_proxy_header(tcp::socket& socket, const daemon::Config& config, std::string& addr,
                                            std::string& early);
    asio::awaitable<void> close_connection(ClientIo& io, const daemon::CloseAction& how);
    void install_tls(const daemon::TlsMaterial& material, const daemon::GlobalSettings& g);
    void wait_signals();
    void start_reload();
    void reload_arrived(std::uint64_t generation, UniqueFd package, UniqueFd tls_material,
                        daemon::LockFileTable lock_files);
    void begin_shutdown();
    void maybe_finish_shutdown();
    void update_accepting();
    void session_over(const std::optional<daemon::ConnectionSlot>& slot);
    void connection_ended();
    void publish_status();
    void arm_watchdog();

    asio::io_context io_;
    asio::thread_pool blocking_pool_;
    std::vector<Listener> acceptors_;
    std::shared_ptr<ssl::context> tls_context_; ///< new sessions use the current one
    std::shared_ptr<const daemon::Config> config_;
    std::uint64_t generation_ = 1;
    ServerOptions options_;
    SpawnerLink spawner_;
    WorkerPool pool_;
    FrontendHandshakeEnv env_;
    ServiceNotifier notifier_;
    asio::signal_set signals_;
    asio::steady_timer resume_timer_;
    asio::steady_timer watchdog_timer_;
    daemon::ConnectionSlots connection_slots_;
    std::string sockopts_reported_; ///< the "socket options" whose complaints were logged
    std::uint64_t next_connection_id_ = 1;
    int connections_ = 0;      ///< accepted and not yet over (handshake, queued or in a worker)
    int handshakes_ = 0;       ///< in the front-end right now
    bool paused_ = false;
    bool stopping_ = false;
    bool reloading_ = false;
};

} // namespace ocr::frontend
