// SPDX-License-Identifier: MIT
// validate_config(): the --check-config checks that need the filesystem or user database.
#include "daemon/config_validate.hpp"

#include "common/strings.hpp"
#include "daemon/config_params.hpp"
#include "daemon/tls_material.hpp"
#include "daemon/var_expand.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ocr::daemon {

// ---------------------------------------------------------------------------------------
// SystemValidationEnvironment

namespace {

template <typename Entry, typename Lookup>
bool entry_exists(const std::string& name, Lookup lookup)
{
    std::vector<char> buf(16384);
    for (;;) {
        Entry entry{};
        Entry* result = nullptr;
        int rc = lookup(name.c_str(), &entry, buf.data(), buf.size(), &result);
        if (rc == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        return rc == 0 && result != nullptr;
    }
}

} // namespace

bool SystemValidationEnvironment::is_dir(const std::string& path) const
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool SystemValidationEnvironment::user_exists(const std::string& name) const
{
    return entry_exists<passwd>(name, ::getpwnam_r);
}

bool SystemValidationEnvironment::group_exists(const std::string& name) const
{
    return entry_exists<group>(name, ::getgrnam_r);
}

bool SystemValidationEnvironment::running_as_root() const
{
    return ::geteuid() == 0;
}

// ---------------------------------------------------------------------------------------
// validate_config

namespace {

std::string quoted(std::string_view s)
{
    return "\"" + printable(s) + "\"";
}

bool all_digits(std::string_view s) noexcept
{
    return !s.empty()
           && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

constexpr bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Splits a "gid" list as upstream does: on spaces and commas, or, when the list starts
// with a comma, on commas only (so a group name may hold a space); tokens are trimmed and
// empty ones dropped. (Upstream: util1.c:conf_strtok.)
std::vector<std::string> gid_tokens(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size() && is_space(s[i]))
        ++i;
    s.remove_prefix(i);
    std::vector<std::string> out;
    if (!s.empty() && s.front() == ',') {
        for (const auto& part : split(s.substr(1), ',')) {
            std::string_view t = trim(part);
            if (!t.empty())
                out.emplace_back(t);
        }
        return out;
    }
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\n') {
            if (!cur.empty())
                out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty())
        out.push_back(std::move(cur));
    return out;
}

std::string mode_text(mode_t mode)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

class Validator {
public:
    Validator(const Config& config, const ValidationEnvironment& env) : c_(config), env_(env) {}

    std::vector<Problem> run()
    {
        check_globals();
        check_facility(c_.defaults(), global_location("syslog facility"));
        for (const auto& m : c_.modules())
            check_module(m);
        return std::move(out_);
    }

private:
    void add(const SourceLocation& where, std::string message, Severity sev = Severity::Error)
    {
        Problem p{where, std::move(message), sev};
        // A value set in the global section is inherited by every module; say it once.
        if (seen_.insert(format_problem(p)).second)
            out_.push_back(std::move(p));
    }

    SourceLocation global_location(std::string_view param) const
    {
        if (const SourceLocation* at = c_.globals().where_set(param))
            return *at;
        if (const SourceLocation* at = c_.defaults().where_set(param))
            return *at;
        return SourceLocation{config_file(), 0};
    }

    std::string config_file() const
    {
        // Any location recorded in the config file will do; fall back to a neutral name.
        for (const auto& m : c_.modules())
            if (m.defined_at.line > 0)
                return m.defined_at.file;
        for (const auto& [name, at] : c_.globals().set_at)
            if (at.line > 0)
                return at.file;
        return "config";
    }

    static SourceLocation module_location(const ModuleSettings& m, std::string_view param)
    {
        if (const SourceLocation* at = m.where_set(param))
            return *at;
        return m.defined_at;
    }

    void check_globals()
    {
        const GlobalSettings& g = c_.globals();

        if (g.proxy_protocol && g.proxy_protocol_hosts.empty())
            add(global_location("proxy protocol"),
                "\"proxy protocol\" is on but \"proxy protocol hosts\" is not set, so every "
                "connection will be rejected as coming from an untrusted proxy",
                Severity::Error);

        if (g.transfer_workers > 0 && g.spare_workers > g.transfer_workers)
            add(global_location("spare workers"), "\"spare workers\" ("
                                                      + std::to_string(g.spare_workers)
                                                      + ") is larger than \"transfer workers\" ("
                                                      + std::to_string(g.transfer_workers) + ")");

        if (!g.tls_key_file.empty() && g.tls_cert_file.empty())
            add(global_location("tls key file"),
                "\"tls key file\" is set but \"tls cert file\" is not");
        if (!g.tls_cert_file.empty() && g.tls_key_file.empty())
            add(global_location("tls cert file"),
                "\"tls cert file\" is set but \"tls key file\" is not");
        if (auto problem = listener_problem(g))
            add(global_location("plain listener"), std::move(*problem));
        if (g.tls_verify_client != TlsVerifyClient::No && g.tls_ca_file.empty())
            add(global_location("tls verify client"),
                "\"tls verify client\" needs \"tls ca file\" to verify client certificates "
                "against");
        if (g.tls_user_from != TlsUserFrom::None && g.tls_verify_client == TlsVerifyClient::No)
            add(global_location("tls user from"),
                "\"tls user from\" needs \"tls verify client\" set to optional or require");

        if (!g.motd_file.empty()) {
            std::string path = c_.motd_path();
            check_readable("motd file", path, global_location("motd file"));
        }

        check_user("daemon uid", g.daemon_uid, global_location("daemon uid"));
        if (!g.daemon_gid.empty() && !has_var_reference(g.daemon_gid) && !all_digits(g.daemon_gid)
            && !env_.group_exists(g.daemon_gid))
            add(global_location("daemon gid"),
                "\"daemon gid\" names an unknown group " + quoted(g.daemon_gid));
    }

    // Reports a file that load_config() could not read; returns its data if it could.
    const FileData* check_readable(std::string_view param, const std::string& path,
                                   const SourceLocation& where)
    {
        if (auto err = c_.file_error(path)) {
            add(where, quoted(param) + " " + quoted(path)
                           + " cannot be read: " + std::strerror(err->errno_value));
            return nullptr;
        }
        const FileData* data = c_.file(path);
        if (data != nullptr && data->is_directory) {
            add(where, quoted(param) + " " + quoted(path) + " is a directory");
            return nullptr;
        }
        return data;
    }

    void check_user(std::string_view param, const std::string& value, const SourceLocation& where)
    {
        if (value.empty() || has_var_reference(value) || all_digits(value))
            return;
        if (!env_.user_exists(value))
            add(where, quoted(param) + " names an unknown user " + quoted(value));
    }

    void check_facility(const ModuleSettings& m, const SourceLocation& where)
    {
        if (syslog_facility_name(m.syslog_facility).empty())
            add(where, "\"syslog facility\" " + std::to_string(m.syslog_facility)
                           + " is not a known syslog facility");
    }

    void check_module(const ModuleSettings& m)
    {
        const GlobalSettings& g = c_.globals();

        if (m.path.empty()) {
            add(m.defined_at, "module " + quoted(m.name) + " has no \"path\" setting");
        } else if (!has_var_reference(m.path) && !has_var_reference(g.daemon_chroot)) {
            // Module paths are seen from inside the daemon chroot.
            std::string full = m.path;
            if (!g.daemon_chroot.empty()) {
                std::string_view rel = m.path;
                while (!rel.empty() && rel.front() == '/')
                    rel.remove_prefix(1);
                full = g.daemon_chroot;
                if (full.back() != '/')
                    full.push_back('/');
                full += rel;
            }
            if (!env_.is_dir(full))
                add(module_location(m, "path"),
                    "\"path\" " + quoted(full) + " is not an existing directory");
        }

        check_user("uid", m.uid, module_location(m, "uid"));
        if (!m.gid.empty() && !has_var_reference(m.gid)) {
            auto tokens = gid_tokens(m.gid);
            for (std::size_t i = 0; i < tokens.size(); ++i) {
                const std::string& t = tokens[i];
                if (t == "*") {
                    if (i != 0)
                        add(module_location(m, "gid"),
                            "\"gid\": \"*\" (all groups of the user) must come first");
                    continue;
                }
                if (!all_digits(t) && !env_.group_exists(t))
                    add(module_location(m, "gid"), "\"gid\" names an unknown group " + quoted(t));
            }
        }

        if (!m.auth_users.empty()) {
            if (m.secrets_file.empty())
                add(module_location(m, "auth users"),
                    "\"auth users\" is set but \"secrets file\" is not, so no login can succeed");
            else
                check_secrets(m);
        }

        check_facility(m, module_location(m, "syslog facility"));

        if (!m.auth_digest.empty()) {
            constexpr std::string_view kDigests[] = {"sha512", "sha256", "sha1", "md5", "md4"};
            bool known = std::any_of(std::begin(kDigests), std::end(kDigests),
                                     [&](std::string_view d) { return iequals(d, m.auth_digest); });
            if (!known)
                add(module_location(m, "auth digest"),
                    "\"auth digest\" " + quoted(m.auth_digest)
                        + " is not one of sha512, sha256, sha1, md5, md4 (every login would be "
                          "refused)");
        }
    }

    // (Upstream: authenticate.c:check_secret, the strict modes checks.)
    void check_secrets(const ModuleSettings& m)
    {
        std::optional<std::string> path = c_.secrets_path(m);
        if (!path || path->empty())
            return; // depends on the connection; cannot be checked ahead
        const SourceLocation where = module_location(m, "secrets file");
        const FileData* data = check_readable("secrets file", *path, where);
        if (data == nullptr || !m.strict_modes)
            return;
        if ((data->mode & 06) != 0)
            add(where, "\"secrets file\" " + quoted(*path)
                           + " must not be other-accessible while \"strict modes\" is on (mode "
                           + mode_text(data->mode) + ")");
        else if (env_.running_as_root() && data->uid != 0)
            add(where, "\"secrets file\" " + quoted(*path)
                           + " must be owned by root when the daemon runs as root (owner uid "
                           + std::to_string(data->uid) + ")");
    }

    const Config& c_;
    const ValidationEnvironment& env_;
    std::vector<Problem> out_;
    std::set<std::string> seen_;
};

} // namespace

std::optional<std::string> listener_problem(const GlobalSettings& globals)
{
    if (globals.plain_listener || tls_port_for(globals) != 0)
        return std::nullopt;
    return "\"plain listener\" is off but \"tls cert file\" is not set, so there is no port "
           "to listen on";
}

std::vector<Problem> validate_config(const Config& config, const ValidationEnvironment& env)
{
    return Validator(config, env).run();
}

} // namespace ocr::daemon
