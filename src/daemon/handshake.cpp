// SPDX-License-Identifier: MIT
// The daemon handshake. The order of steps, the texts and the limits follow upstream's
// clientserver.c (start_daemon, exchange_protocols, rsync_module, send_listing) and
// authenticate.c:auth_server; the argument phase is in handshake_args.cpp.
#include "daemon/handshake.hpp"

#include "common/strings.hpp"
#include "daemon/session_setup.hpp"
#include "daemon/upstream_text.hpp"
#include "daemon/var_expand.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace ocr::daemon {
namespace {

// Upstream start_daemon reads the greeting and module lines into a 1024-byte buffer.
constexpr std::size_t kLineBuffer = 1024;
// Upstream BIGPATHBUFLEN: the largest "#early_input=" payload.
constexpr long kMaxEarlyInput = 4096 + 1024;

// sscanf("%d") on the text at @p pos: optional white space, sign, digits.
bool scan_int(const std::string& s, std::size_t& pos, int& out)
{
    std::size_t i = pos;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
                            s[i] == '\f' || s[i] == '\v'))
        ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    std::size_t digits = i;
    long long v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (v < INT_MAX)
            v = v * 10 + (s[i] - '0');
        ++i;
    }
    if (i == digits)
        return false;
    if (v > INT_MAX)
        v = INT_MAX;
    out = static_cast<int>(neg ? -v : v);
    pos = i;
    return true;
}

// Upstream: sscanf(buf, "@RSYNCD: %d.%d", &proto, &sub); returns how many converted.
int scan_greeting(const std::string& line, int& protocol, int& sub)
{
    const std::string_view prefix = "@RSYNCD:";
    if (line.compare(0, prefix.size(), prefix) != 0)
        return 0;
    std::size_t pos = prefix.size();
    // The blank in the format matches any amount of white space, including none.
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
        ++pos;
    if (!scan_int(line, pos, protocol))
        return 0;
    if (pos >= line.size() || line[pos] != '.')
        return 1;
    ++pos;
    return scan_int(line, pos, sub) ? 2 : 1;
}

std::string pad15(std::string_view name)
{
    std::string out(name);
    if (out.size() < 15)
        out.append(15 - out.size(), ' ');
    return out;
}

} // namespace

HandshakeMachine::HandshakeMachine(std::shared_ptr<const Config> config, Settings settings,
                                   HandshakeEnvironment& env)
    : config_(std::move(config)), settings_(std::move(settings)), env_(env)
{
}

void HandshakeMachine::start()
{
    log("connect from " + settings_.host + " (" + settings_.addr + ")");
    set_deadline(handshake_timeout_for(config_->defaults()));
    // Upstream compat.c:output_daemon_greeting: protocol, sub-protocol 0, auth digests.
    send("@RSYNCD: " + std::to_string(kOurProtocol) + ".0 " + auth_digest_list() + "\n");
    // Upstream exchange_protocols: the motd goes out before we read the client's
    // greeting, followed by one newline even when the file cannot be read.
    const std::string motd = config_->motd_path();
    if (!motd.empty()) {
        if (const FileData* f = config_->file(motd))
            send(f->contents);
        send("\n");
    }
    step_ = Step::NeedInput;
    phase_ = Phase::Greeting;
}

void HandshakeMachine::feed(std::string_view bytes)
{
    input_.append(bytes);
    process();
}

void HandshakeMachine::feed_eof()
{
    if (step_ != Step::NeedInput)
        return;
    if (phase_ == Phase::AuthReply) {
        // Upstream: a reply that never came is an invalid challenge response.
        auth_reply_.clear();
        start_auth_check();
        return;
    }
    if ((phase_ == Phase::Args || phase_ == Phase::SecludedArgs) && !eof_seen_) {
        // Upstream's read_args takes the end of input for the end of the list (of both
        // batches) and goes on with what it got, a bare list making a receiver; the
        // session then meets the end of input again where it reads next, and ends with
        // upstream's error there.
        eof_seen_ = true;
        process();
        return;
    }
    close();
}

std::function<void()> HandshakeMachine::take_job()
{
    return std::move(job_);
}

void HandshakeMachine::job_done()
{
    if (step_ != Step::RunJob)
        return;
    const Phase done = job_phase_;
    step_ = Step::NeedInput;
    switch (done) {
    case Phase::AccessCheck:
        after_access();
        break;
    case Phase::AuthCheck:
        after_auth();
        break;
    case Phase::ModuleCheck:
        after_module_check();
        break;
    default:
        break;
    }
    if (step_ == Step::NeedInput)
        process();
}

std::string HandshakeMachine::take_output()
{
    return std::exchange(output_, std::string());
}

std::vector<HandshakeLog> HandshakeMachine::take_log()
{
    return std::exchange(logs_, {});
}

void HandshakeMachine::log(std::string text, HandshakeLog::Level level)
{
    logs_.push_back(HandshakeLog{level, std::move(text)});
}

void HandshakeMachine::close(CloseAction how)
{
    close_ = std::move(how);
    step_ = Step::Close;
    phase_ = Phase::Done;
}

void HandshakeMachine::run_job(Phase phase, std::function<void()> job)
{
    job_ = std::move(job);
    job_phase_ = phase;
    phase_ = phase;
    step_ = Step::RunJob;
}

void HandshakeMachine::set_deadline(int seconds)
{
    deadline_seconds_ = seconds;
    ++deadline_serial_;
}

int HandshakeMachine::handshake_timeout_for(const ModuleSettings& m) const
{
    // Upstream clientserver.c:daemon_handshake_timeout: a "timeout" of 1..limit seconds
    // tightens the bound; our "handshake timeout" replaces upstream's fixed 60 seconds.
    const int limit = config_->globals().handshake_timeout > 0 ? config_->globals().handshake_timeout : 60;
    return (m.timeout > 0 && m.timeout < limit) ? m.timeout : limit;
}

std::string HandshakeMachine::expand(std::string_view value) const
{
    const auto& env = settings_.environment;
    return expand_vars(value, [&env](std::string_view name) -> std::optional<std::string> {
        if (auto it = env.find(name); it != env.end())
            return it->second;
        return std::nullopt;
    });
}

HandshakeMachine::LineResult HandshakeMachine::next_line(std::size_t buffer_size, std::string& line)
{
    // Upstream io.c:read_line_old: CRs are dropped, a NUL fails the read, and a line
    // that fills the buffer (size - 1 characters) without a newline fails too.
    line.clear();
    std::size_t room = buffer_size - 1;
    for (std::size_t i = 0; i < input_.size(); ++i) {
        const char c = input_[i];
        if (c == '\0')
            return LineResult::Failed;
        if (c == '\n') {
            input_.erase(0, i + 1);
            return LineResult::Line;
        }
        if (c == '\r')
            continue;
        line.push_back(c);
        if (--room == 0)
            return LineResult::Failed;
    }
    return LineResult::Incomplete;
}

void HandshakeMachine::process()
{
    while (step_ == Step::NeedInput) {
        std::string line;
        switch (phase_) {
        case Phase::Greeting:
        case Phase::ModuleLine: {
            const LineResult r = next_line(kLineBuffer, line);
            if (r == LineResult::Incomplete)
                return;
            if (r == LineResult::Failed) {
                close();
                return;
            }
            if (phase_ == Phase::Greeting) {
                if (!on_greeting_line(line))
                    return;
            } else if (!on_module_line(line)) {
                return;
            }
            break;
        }
        case Phase::EarlyInput: {
            const std::size_t want = early_input_len_ - early_input_.size();
            const std::size_t take = std::min(want, input_.size());
            early_input_.append(input_, 0, take);
            input_.erase(0, take);
            if (early_input_.size() < early_input_len_)
                return;
            phase_ = Phase::ModuleLine;
            break;
        }
        case Phase::AuthReply: {
            // check_auth_reply() applies upstream's line rules to the reply, so give it
            // the line up to the newline, or up to and including a NUL, or one byte more
            // than fits upstream's buffer.
            std::size_t stop = std::string::npos;
            for (std::size_t i = 0; i < input_.size(); ++i) {
                if (input_[i] == '\n' || input_[i] == '\0') {
                    stop = i;
                    break;
                }
            }
            if (stop == std::string::npos) {
                if (input_.size() <= kAuthReplyBufferSize)
                    return;
                auth_reply_ = input_.substr(0, kAuthReplyBufferSize + 1);
                input_.clear();
            } else if (input_[stop] == '\0') {
                auth_reply_ = input_.substr(0, stop + 1);
                input_.clear();
            } else {
                auth_reply_ = input_.substr(0, stop);
                input_.erase(0, stop + 1);
            }
            start_auth_check();
            return;
        }
        case Phase::Args:
        case Phase::SecludedArgs:
            if (!feed_args())
                return;
            break;
        case Phase::AwaitExit:
            // Upstream's server waits for the client to answer MSG_ERROR_EXIT, then sleeps
            // 100 ms and exits (cleanup.c:_exit_cleanup, io.c:noop_io_until_death).
            exit_watch_->feed(input_);
            input_.clear();
            if (exit_watch_->done() || exit_watch_->broken())
                close(CloseAction{std::chrono::milliseconds(0), {}, exit_wait_after_, false});
            return;
        default:
            return;
        }
    }
}

bool HandshakeMachine::on_greeting_line(const std::string& line)
{
    int remote_sub = -1;
    if (scan_greeting(line, remote_protocol_, remote_sub) < 1) {
        send("@ERROR: protocol startup error\n");
        close();
        return false;
    }
    if (remote_sub < 0) {
        if (remote_protocol_ >= 30) {
            send("@ERROR: your client omitted the subprotocol value: " + line + "\n");
            close();
            return false;
        }
        remote_sub = 0;
    }
    // Upstream: the digest list is whatever follows the first blank after "@RSYNCD: ".
    if (line.size() > 9) {
        if (auto sp = line.find(' ', 9); sp != std::string::npos)
            client_digests_ = line.substr(sp + 1);
    }
    if (!client_digests_ && remote_protocol_ > 31) {
        send("@ERROR: your client omitted the digest name list: " + line + "\n");
        close();
        return false;
    }
    protocol_ = kOurProtocol;
    if (protocol_ > remote_protocol_) {
        protocol_ = remote_protocol_;
        if (remote_sub)
            --protocol_;
    } else if (protocol_ == remote_protocol_ && remote_sub != 0) {
        --protocol_;
    }
    nul_args_ = protocol_ >= 30;
    phase_ = Phase::ModuleLine;
    return true;
}

bool HandshakeMachine::on_module_line(const std::string& line)
{
    constexpr std::string_view kEarly = "#early_input=";
    if (line.compare(0, kEarly.size(), kEarly) == 0 && early_input_len_ == 0) {
        const long long n = atoi_like(std::string_view(line).substr(kEarly.size()));
        if (n <= 0 || n > kMaxEarlyInput) {
            send("@ERROR: invalid early_input length\n");
            close();
            return false;
        }
        early_input_len_ = static_cast<std::size_t>(n);
        phase_ = Phase::EarlyInput;
        return true;
    }
    const std::string& host = settings_.host;
    const std::string& addr = settings_.addr;
    if (line.empty() || line == "#list") {
        log("module-list request from " + host + " (" + addr + ")");
        for (const ModuleSettings& m : config_->modules()) {
            if (m.list)
                send(pad15(m.name) + "\t" + expand(m.comment) + "\n");
        }
        if (protocol_ >= 25)
            send("@RSYNCD: EXIT\n");
        close();
        return false;
    }
    if (line[0] == '#') {
        send("@ERROR: Unknown command '" + line + "'\n");
        close();
        return false;
    }
    module_ = config_->find_module(line);
    if (!module_) {
        log("unknown module '" + line + "' tried from " + host + " (" + addr + ")");
        send("@ERROR: Unknown module '" + line + "'\n");
        close();
        return false;
    }
    if (module_->tls_only && !settings_.tls) {
        // ocrsyncd "tls only": checked before access rules so a plain client learns nothing
        // else about the module.
        log("module " + module_->name + " requires TLS: plain connection from " + host + " (" + addr +
            ") refused");
        send("@ERROR: module " + module_->name + " requires TLS\n");
        close();
        return false;
    }
    if (protocol_ < kMinProtocol) {
        // Listings work with any protocol, as upstream's do; transfers need 27 or later
        // here (upstream goes down to 20), so say so while the client can still show it.
        log("protocol version " + std::to_string(protocol_) + " from " + host + " (" + addr + ") is too old");
        send("@ERROR: protocol version " + std::to_string(protocol_) +
             " is not supported by this daemon (27 to 32 are)\n");
        close();
        return false;
    }
    select_module();
    return step_ == Step::NeedInput;
}

void HandshakeMachine::select_module()
{
    settings_.environment["RSYNC_MODULE_NAME"] = module_->name;
    log_host_ = settings_.host;
    const bool need_name = settings_.host == kUndeterminedHost && module_->reverse_lookup;
    const bool lists = !module_->hosts_allow.empty() || !module_->hosts_deny.empty();
    if (!need_name && !lists) {
        access_ = AccessDecision{};
        after_access();
        return;
    }
    run_job(Phase::AccessCheck, [this, need_name] {
        if (need_name) {
            ClientName n = env_.client_name(settings_.addr);
            for (auto& l : n.log_lines)
                log(std::move(l));
            settings_.host = n.name;
            log_host_ = n.name;
        }
        AccessQuery q;
        q.addr = settings_.addr;
        q.host = settings_.host;
        q.forward_lookup = module_->forward_lookup;
        access_ = check_access(module_->hosts_allow, module_->hosts_deny, q, env_.resolver());
    });
}

void HandshakeMachine::after_access()
{
    for (auto& l : access_.log_lines)
        log(std::move(l));
    settings_.environment["RSYNC_HOST_NAME"] = settings_.host;
    settings_.environment["RSYNC_HOST_ADDR"] = settings_.addr;
    if (access_.host_name)
        log_host_ = *access_.host_name;
    const std::string& name = module_->name;
    const std::string where = where_from();
    if (!access_.allowed) {
        log("rsync denied on module " + name + " from " + where);
        if (!module_->list)
            send("@ERROR: Unknown module '" + name + "'\n");
        else
            send("@ERROR: access denied to " + name + " from " + where + "\n");
        close();
        return;
    }
    log("rsync allowed access on module " + name + " from " + where);
    if (module_->max_connections != 0) {
        // Upstream connection.c:claim_connection: 0 = unlimited; a negative limit never
        // has a free slot, so it refuses every client of the module.
        if (module_->max_connections > 0) {
            const SlotClaim claim = env_.claim_connection_slot(module_->lock_file, module_->max_connections);
            if (claim.open_errno != 0) {
                // Upstream clientserver.c:rsync_module, when claim_connection cannot open it.
                log("rsync: [Receiver] failed to open lock file " + module_->lock_file + ": " +
                        std::strerror(claim.open_errno) + " (" + std::to_string(claim.open_errno) + ")",
                    HandshakeLog::Level::Error);
                send("@ERROR: failed to open lock file\n");
                close();
                return;
            }
            claimed_ = claim.slot;
        }
        if (!claimed_) {
            const std::string n = std::to_string(module_->max_connections);
            log("max connections (" + n + ") reached");
            send("@ERROR: max connections (" + n + ") reached -- try again later\n");
            close();
            return;
        }
    }
    read_only_ = module_->read_only;
    // Upstream re-arms the handshake deadline once the module is known.
    set_deadline(handshake_timeout_for(*module_));
    start_auth();
}

void HandshakeMachine::start_auth()
{
    if (module_->auth_users.empty()) {
        auth_user_.clear();
        auth_ = AuthResult{};
        auth_.ok = true;
        after_auth();
        return;
    }
    if (settings_.tls_user) {
        start_certificate_auth();
        return;
    }
    DigestNegotiation n = negotiate_auth_digest(client_digests_, protocol_);
    if (!n.digest) {
        // Upstream compat.c:negotiate_daemon_auth sends the @ERROR, then exit_cleanup
        // (RERR_UNSUPPORTED) logs its exit line as the (not yet forked) receiver.
        send(n.error_line + "\n");
        log(without_newline(rsync_error_line(4, kSiteAuthDigestUnsupported, UpstreamRole::Receiver)),
            HandshakeLog::Level::Error);
        close();
        return;
    }
    digest_ = *n.digest;
    if (auto floor = check_auth_digest_floor(module_->name, log_host_, settings_.addr,
                                             module_->auth_digest, digest_)) {
        log(*floor);
        send("@ERROR: auth failed on module " + module_->name + "\n");
        close();
        return;
    }
    challenge_ = make_auth_challenge(digest_, settings_.addr);
    send("@RSYNCD: AUTHREQD " + challenge_ + "\n");
    phase_ = Phase::AuthReply;
}

void HandshakeMachine::start_certificate_auth()
{
    // The certificate already proved who the client is, so only the "auth users" rules
    // decide (a group rule may need NSS, hence the job).
    run_job(Phase::AuthCheck, [this] {
        auth_ = AuthResult{};
        auth_.user = *settings_.tls_user;
        const AuthRuleMatch rule = match_auth_rules(module_->auth_users, auth_.user, env_.groups());
        const std::string prefix = "auth failed on module " + module_->name + " from " + log_host_ + " (" +
                                   settings_.addr + ") for " + auth_.user + " (TLS client certificate): ";
        if (!rule.matched) {
            auth_.log_lines.push_back(prefix + "no matching rule");
        } else if (rule.option == 'd') {
            auth_.log_lines.push_back(prefix + "denied by rule");
        } else {
            auth_.ok = true;
            auth_.access = (rule.option == 'r' || rule.option == 'w') ? rule.option : 0;
            auth_.log_lines.push_back("TLS client certificate of " + auth_.user + " accepted for module " +
                                      module_->name);
        }
    });
}

void HandshakeMachine::start_auth_check()
{
    run_job(Phase::AuthCheck, [this] {
        AuthCheckInput in;
        in.module_name = module_->name;
        in.auth_users = module_->auth_users;
        in.secrets_file_path = module_->secrets_file;
        in.strict_modes = module_->strict_modes;
        in.daemon_is_root = env_.daemon_is_root();
        in.host = log_host_;
        in.addr = settings_.addr;
        SecretsFile secrets;
        const std::optional<std::string> path = config_->secrets_path(*module_);
        if (path && !path->empty()) {
            if (const FileData* f = config_->file(*path)) {
                secrets.contents = f->contents;
                secrets.mode = f->mode;
                secrets.uid = f->uid;
                in.secrets = &secrets;
            } else {
                in.secrets_errno = config_->file_error(*path).value_or(FileError{ENOENT}).errno_value;
            }
        } else {
            // No file, or a path that depends on the client's host (upstream reads it per
            // connection; we read secrets once, at load time, as the privileged process).
            in.secrets_errno = ENOENT;
        }
        auth_ = check_auth_reply(in, digest_, challenge_, auth_reply_, env_.groups());
        wipe_secret(secrets.contents);
    });
}

void HandshakeMachine::after_auth()
{
    for (auto& l : auth_.log_lines)
        log(std::move(l));
    wipe_secret(challenge_);
    wipe_secret(auth_reply_);
    if (!auth_.ok) {
        send("@ERROR: auth failed on module " + module_->name + "\n");
        close();
        return;
    }
    auth_user_ = module_->auth_users.empty() ? std::string() : auth_.user;
    if (auth_.access == 'r')
        read_only_ = true;
    else if (auth_.access == 'w')
        read_only_ = false;
    settings_.environment["RSYNC_USER_NAME"] = auth_user_;
    const std::string path = expand(module_->path);
    if (path.empty()) {
        log("No path specified for module " + module_->name);
        send("@ERROR: no path setting.\n");
        close();
        return;
    }
    run_job(Phase::ModuleCheck, [this, path] { module_problem_ = env_.check_module(*module_, path); });
}

void HandshakeMachine::after_module_check()
{
    if (module_problem_) {
        // A filter file that cannot be opened yields two log lines and no @ERROR text:
        // upstream then sends nothing before it closes (exclude.c:parse_filter_file).
        for (const std::string& line : split(module_problem_->first, '\n'))
            log(line);
        if (!module_problem_->second.empty())
            send(module_problem_->second + "\n");
        close();
        return;
    }
    begin_args();
}

SessionDescriptor HandshakeMachine::take_session()
{
    SessionDescriptor s;
    s.config_generation = settings_.config_generation;
    s.connection_id = settings_.connection_id;
    s.module = module_ ? module_->name : std::string();
    s.auth_user = auth_user_;
    s.read_only = read_only_;
    s.protocol = protocol_;
    s.remote_protocol = remote_protocol_;
    s.addr = settings_.addr;
    s.host = settings_.host;
    s.args = std::move(args_);
    s.secluded_args = std::move(secluded_args_);
    s.early_input = std::move(early_input_);
    s.pending_input = std::move(input_);
    input_.clear();
    return s;
}

} // namespace ocr::daemon
