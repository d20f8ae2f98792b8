// SPDX-License-Identifier: MIT
// The daemon handshake as a sans-I/O state machine: greeting, motd, listing, module
// selection, access control, connection limits, authentication, "@RSYNCD: OK", the
// argument list and the option policy. The async front-end drives it over a socket;
// tests and fuzzers drive it with byte strings.
#pragma once

#include "daemon/access.hpp"
#include "daemon/auth.hpp"
#include "daemon/config.hpp"
#include "daemon/connection_slots.hpp"
#include "daemon/daemon_args.hpp"
#include "daemon/host_lookup.hpp"
#include "daemon/module_policy.hpp"
#include "daemon/server_options.hpp"
#include "daemon/session_descriptor.hpp"
#include "daemon/session_setup.hpp"
#include "protocol/exit_handshake.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// The protocol version we speak (and announce in the greeting).
inline constexpr int kOurProtocol = 32;
/// The oldest protocol we accept from a client.
inline constexpr int kMinProtocol = 27;
/// The upstream release whose behaviour (and message texts) we reproduce.
inline constexpr const char* kUpstreamVersion = "3.5.0";

/// @brief What the handshake needs from the world around it.
///
/// Methods marked blocking are only called from inside a job (see HandshakeMachine::take_job)
/// so the front-end can run them off its event loop.
class HandshakeEnvironment {
public:
    virtual ~HandshakeEnvironment() = default;
    /// @brief Forward lookups for host names in hosts lists (blocking).
    virtual NameResolver& resolver() = 0;
    /// @brief Group memberships for "@group" auth rules (blocking).
    virtual GroupLookup& groups() = 0;
    /// @brief Reverse lookup of the client, for a module with "reverse lookup" when the
    ///        global setting is off (blocking).
    virtual ClientName client_name(std::string_view addr) = 0;
    /// @brief Checks a module's uid/gid/path the way upstream fails before "@RSYNCD: OK"
    ///        (blocking: NSS, stat). Returns the (log line, @ERROR text) on failure.
    virtual std::optional<std::pair<std::string, std::string>> check_module(const ModuleSettings& m,
                                                                            const std::string& path) = 0;
    /// @brief Claims one of the first @p max_connections slots of @p lock_file
    ///        (non-blocking); no slot when none is free, or when the lock file could not
    ///        be opened (open_errno). The front-end releases it when the connection ends.
    virtual SlotClaim claim_connection_slot(const std::string& lock_file, int max_connections) = 0;
    /// @brief True when the daemon was started as root (upstream am_root).
    virtual bool daemon_is_root() const = 0;
};

/// @brief How the connection ends when the handshake does not hand it to a worker.
///
/// The driver waits @c wait_before, sends @c late_output, waits @c wait_after, then closes.
/// Unless @c abandon_input is set it first reads what the client has already sent, so that
/// closing is orderly; with it, unread input makes the kernel reset the connection, which
/// is what upstream's daemon does in those cases and what clients' exit codes reflect.
struct CloseAction {
    std::chrono::milliseconds wait_before{0};
    std::string late_output;
    std::chrono::milliseconds wait_after{0};
    bool abandon_input = false;
};

/// @brief One log line with its severity (the daemon log has no other structure).
struct HandshakeLog {
    enum class Level { Info, Warning, Error };
    Level level = Level::Info;
    std::string text;
};

/// @brief The handshake of one connection.
class HandshakeMachine {
public:
    /// What the driver should do next.
    enum class Step {
        NeedInput, ///< read more bytes from the client and call feed() (or feed_eof())
        RunJob,    ///< run take_job()'s function (may block), then call job_done()
        Dispatch,  ///< hand the connection and take_session() to a worker
        Close,     ///< close the connection as close_action() says
    };

    struct Settings {
        std::string addr;           ///< client address text
        std::string host;           ///< client name, "UNKNOWN" or "UNDETERMINED"
        std::uint64_t connection_id = 0;
        std::uint64_t config_generation = 0;
        /// The environment %VAR% references in values see; the machine adds the RSYNC_*
        /// variables upstream sets for the session (module name, host, user, ...).
        std::map<std::string, std::string, std::less<>> environment;
        /// ocrsyncd: the connection came in over TLS (a "tls only" module needs this).
        bool tls = false;
        /// ocrsyncd: the user name a verified client certificate stands for ("tls user
        /// from"); when set, "auth users" rules apply to it and no password is asked.
        std::optional<std::string> tls_user;
    };

    HandshakeMachine(std::shared_ptr<const Config> config, Settings settings, HandshakeEnvironment& env);

    /// @brief Sends the greeting (and motd); call once before anything else.
    void start();

    [[nodiscard]] Step step() const noexcept { return step_; }

    /// @brief Feeds client bytes (only in NeedInput); the machine keeps what it does not use yet.
    void feed(std::string_view bytes);
    /// @brief The client closed its side.
    void feed_eof();

    /// @brief The blocking work to run in RunJob.
    [[nodiscard]] std::function<void()> take_job();
    /// @brief The job has run; the machine continues.
    void job_done();

    /// @brief Bytes to send to the client (drain after every call into the machine).
    [[nodiscard]] std::string take_output();
    /// @brief Log lines produced so far.
    [[nodiscard]] std::vector<HandshakeLog> take_log();

    /// @brief The deadline for the current phase, in seconds from the moment it was set;
    ///        changes when a new phase starts (see deadline_serial()).
    [[nodiscard]] int deadline_seconds() const noexcept { return deadline_seconds_; }
    /// @brief Increases whenever the driver must re-arm its deadline timer from now.
    [[nodiscard]] unsigned deadline_serial() const noexcept { return deadline_serial_; }

    /// @brief The session to hand over (Dispatch).
    [[nodiscard]] SessionDescriptor take_session();
    /// @brief How to close (Close).
    [[nodiscard]] const CloseAction& close_action() const noexcept { return close_; }

    /// @brief The connection slot this handshake claimed, if any.
    [[nodiscard]] const std::optional<ConnectionSlot>& claimed_slot() const noexcept { return claimed_; }
    /// @brief The client host name as %h and RSYNC_HOST_NAME show it.
    [[nodiscard]] const std::string& host() const noexcept { return settings_.host; }

private:
    enum class Phase {
        Greeting,
        ModuleLine,
        EarlyInput,
        AccessCheck,
        AuthReply,
        AuthCheck,
        ModuleCheck,
        Args,
        SecludedArgs,
        AwaitExit,
        Done,
    };

    // Line reading as upstream io.c:read_line_old does it.
    enum class LineResult { Incomplete, Line, Failed };
    LineResult next_line(std::size_t buffer_size, std::string& line);

    void process();
    bool on_greeting_line(const std::string& line);
    bool on_module_line(const std::string& line);
    void select_module();
    void after_access();
    void start_auth();
    void start_certificate_auth();
    void start_auth_check();
    void after_auth();
    void after_module_check();
    void begin_args();
    /// @brief Consumes argument bytes; false when more input is needed or the phase ended.
    bool feed_args();
    void log_unmatched_refusals();
    void after_args(const OptionParseResult& parsed, const ProcessedArgs& processed);
    void reject_option(const OptionParseResult& parsed);
    void reject_policy(ServerOptions& options, const ProtocolSetupPlan& plan, const Rejection& why);
    void end_with(const RefusalEnding& ending);
    [[nodiscard]] ServerParseContext parse_context() const;
    [[nodiscard]] std::string where_from() const;

    void send(std::string_view text) { output_ += text; }
    void log(std::string text, HandshakeLog::Level level = HandshakeLog::Level::Info);
    void close(CloseAction how = {});
    void run_job(Phase phase, std::function<void()> job);
    void set_deadline(int seconds);
    [[nodiscard]] int handshake_timeout_for(const ModuleSettings& m) const;
    [[nodiscard]] std::string expand(std::string_view value) const;

    std::shared_ptr<const Config> config_;
    Settings settings_;
    HandshakeEnvironment& env_;

    Step step_ = Step::NeedInput;
    Phase phase_ = Phase::Greeting;
    std::string input_;
    std::string output_;
    std::vector<HandshakeLog> logs_;
    CloseAction close_;
    std::function<void()> job_;
    Phase job_phase_ = Phase::Done;
    int deadline_seconds_ = 60;
    unsigned deadline_serial_ = 0;

    // Negotiated state.
    int remote_protocol_ = 0;
    int protocol_ = kOurProtocol;
    bool nul_args_ = false;
    std::optional<std::string> client_digests_;
    std::string early_input_;
    std::size_t early_input_len_ = 0;

    // The selected module.
    const ModuleSettings* module_ = nullptr;
    std::optional<ConnectionSlot> claimed_;
    AuthDigest digest_ = AuthDigest::Md5;
    std::string challenge_;
    std::string auth_reply_;
    AccessDecision access_;
    AuthResult auth_;
    std::optional<std::pair<std::string, std::string>> module_problem_;
    std::string auth_user_;
    bool read_only_ = true;

    /// The name log lines use: an access rule that names an otherwise undetermined
    /// client replaces it here only (upstream access.c:match_hostname).
    std::string log_host_;

    // The argument list.
    std::optional<DaemonArgReader> arg_reader_;
    bool eof_seen_ = false; ///< the client closed its side while we read arguments
    std::vector<std::string> args_;
    std::vector<std::string> secluded_args_;
    std::optional<OptionParseResult> first_batch_;
    ProcessedArgs first_processed_;
    RefuseSet refused_;
    std::string module_path_;
    bool module_chroot_ = false;
    std::optional<protocol::ExitHandshakeWatcher> exit_watch_;
    std::chrono::milliseconds exit_wait_after_{0};
};

} // namespace ocr::daemon
