// SPDX-License-Identifier: MIT
// The parameter table and the typed parsing of parameter values.
#include "daemon/config_params.hpp"

#include "common/strings.hpp"

#include <array>
#include <cstdint>
#include <type_traits>

namespace ocr::daemon {
namespace {

using G = GlobalSettings;
using M = ModuleSettings;

struct Ext {
    bool extension = false;
    int min_value = INT_MIN;
    int max_value = INT_MAX;
};

constexpr ParamInfo global(std::string_view label, ParamType type, ParamMember member,
                           std::string_view alias = {}, Ext ext = {})
{
    return ParamInfo{label, alias, type, true, ext.extension, ext.min_value, ext.max_value, member};
}

constexpr ParamInfo local(std::string_view label, ParamType type, ParamMember member, Ext ext = {})
{
    return ParamInfo{label, {}, type, false, ext.extension, ext.min_value, ext.max_value, member};
}

constexpr int kMaxPort = 65535;
constexpr Ext kPortRange{false, 0, kMaxPort};

// Order and defaults follow upstream's daemon-parm.txt; the defaults themselves live in
// the member initialisers of GlobalSettings / ModuleSettings.
// Upstream spells the bind address and port "address" and "port" only; "bind address"
// and "rsync port" (the names of the variables behind them) are accepted as aliases.
const std::array kParams{
    // Globals.
    global("address", ParamType::String, &G::bind_address, "bind address"),
    global("daemon chroot", ParamType::String, &G::daemon_chroot),
    global("daemon gid", ParamType::String, &G::daemon_gid),
    global("daemon uid", ParamType::String, &G::daemon_uid),
    global("motd file", ParamType::String, &G::motd_file),
    global("pid file", ParamType::String, &G::pid_file),
    global("proxy protocol hosts", ParamType::String, &G::proxy_protocol_hosts),
    global("socket options", ParamType::String, &G::socket_options),
    global("listen backlog", ParamType::Integer, &G::listen_backlog),
    global("port", ParamType::Integer, &G::rsync_port, "rsync port", kPortRange),
    global("proxy protocol", ParamType::Bool, &G::proxy_protocol),

    // Locals.
    local("auth digest", ParamType::String, &M::auth_digest),
    local("auth users", ParamType::String, &M::auth_users),
    local("charset", ParamType::String, &M::charset),
    local("comment", ParamType::String, &M::comment),
    local("dont compress", ParamType::String, &M::dont_compress),
    local("early exec", ParamType::String, &M::early_exec),
    local("exclude", ParamType::String, &M::exclude),
    local("exclude from", ParamType::String, &M::exclude_from),
    local("filter", ParamType::String, &M::filter),
    local("gid", ParamType::String, &M::gid),
    local("hosts allow", ParamType::String, &M::hosts_allow),
    local("hosts deny", ParamType::String, &M::hosts_deny),
    local("include", ParamType::String, &M::include),
    local("include from", ParamType::String, &M::include_from),
    local("incoming chmod", ParamType::String, &M::incoming_chmod),
    local("lock file", ParamType::String, &M::lock_file),
    local("log file", ParamType::String, &M::log_file),
    local("log format", ParamType::String, &M::log_format),
    local("name", ParamType::String, &M::name),
    local("name converter", ParamType::String, &M::name_converter),
    local("outgoing chmod", ParamType::String, &M::outgoing_chmod),
    local("post-xfer exec", ParamType::String, &M::post_xfer_exec),
    local("pre-xfer exec", ParamType::String, &M::pre_xfer_exec),
    local("refuse options", ParamType::String, &M::refuse_options),
    local("secrets file", ParamType::String, &M::secrets_file),
    local("syslog tag", ParamType::String, &M::syslog_tag),
    local("uid", ParamType::String, &M::uid),
    local("path", ParamType::Path, &M::path),
    local("temp dir", ParamType::Path, &M::temp_dir),
    local("max connections", ParamType::Integer, &M::max_connections),
    local("max verbosity", ParamType::Integer, &M::max_verbosity),
    local("timeout", ParamType::Integer, &M::timeout),
    local("syslog facility", ParamType::Enum, &M::syslog_facility),
    local("fake super", ParamType::Bool, &M::fake_super),
    local("forward lookup", ParamType::Bool, &M::forward_lookup),
    local("ignore errors", ParamType::Bool, &M::ignore_errors),
    local("ignore nonreadable", ParamType::Bool, &M::ignore_nonreadable),
    local("insecure links", ParamType::Bool, &M::insecure_links),
    local("list", ParamType::Bool, &M::list),
    local("read only", ParamType::Bool, &M::read_only),
    local("reverse lookup", ParamType::Bool, &M::reverse_lookup),
    local("strict modes", ParamType::Bool, &M::strict_modes),
    local("transfer logging", ParamType::Bool, &M::transfer_logging),
    local("write only", ParamType::Bool, &M::write_only),
    local("munge symlinks", ParamType::Bool3, &M::munge_symlinks),
    local("numeric ids", ParamType::Bool3, &M::numeric_ids),
    local("open noatime", ParamType::Bool3, &M::open_noatime),
    local("use chroot", ParamType::Bool3, &M::use_chroot),

    // ocrsyncd extensions.
    global("transfer workers", ParamType::Integer, &G::transfer_workers, {}, Ext{true, 1, INT_MAX}),
    global("spare workers", ParamType::Integer, &G::spare_workers, {}, Ext{true, 0, INT_MAX}),
    global("handshake timeout", ParamType::Integer, &G::handshake_timeout, {},
           Ext{true, 1, INT_MAX}),
    global("daemon max connections", ParamType::Integer, &G::daemon_max_connections, {},
           Ext{true, 0, INT_MAX}),
    global("plain listener", ParamType::Bool, &G::plain_listener, {}, Ext{true}),
    global("tls port", ParamType::Integer, &G::tls_port, {}, Ext{true, 0, kMaxPort}),
    global("tls address", ParamType::String, &G::tls_address, {}, Ext{true}),
    global("tls cert file", ParamType::String, &G::tls_cert_file, {}, Ext{true}),
    global("tls key file", ParamType::String, &G::tls_key_file, {}, Ext{true}),
    global("tls ca file", ParamType::String, &G::tls_ca_file, {}, Ext{true}),
    global("tls verify client", ParamType::Enum, &G::tls_verify_client, {}, Ext{true}),
    global("tls min version", ParamType::Enum, &G::tls_min_version, {}, Ext{true}),
    global("tls ciphers", ParamType::String, &G::tls_ciphers, {}, Ext{true}),
    global("tls ciphersuites", ParamType::String, &G::tls_ciphersuites, {}, Ext{true}),
    global("tls user from", ParamType::Enum, &G::tls_user_from, {}, Ext{true}),
    local("tls only", ParamType::Bool, &M::tls_only, Ext{true}),
};

struct FacilityName {
    std::string_view name;
    int value;
};

// Upstream lists "security" as a second name for LOG_AUTH; the first name of a value is
// the one shown. (Upstream: loadparm.c enum_syslog_facility.)
const std::array kFacilities{
    FacilityName{"auth", LOG_AUTH},     FacilityName{"authpriv", LOG_AUTHPRIV},
    FacilityName{"cron", LOG_CRON},     FacilityName{"daemon", LOG_DAEMON},
    FacilityName{"ftp", LOG_FTP},       FacilityName{"kern", LOG_KERN},
    FacilityName{"lpr", LOG_LPR},       FacilityName{"mail", LOG_MAIL},
    FacilityName{"news", LOG_NEWS},     FacilityName{"security", LOG_AUTH},
    FacilityName{"syslog", LOG_SYSLOG}, FacilityName{"user", LOG_USER},
    FacilityName{"uucp", LOG_UUCP},     FacilityName{"local0", LOG_LOCAL0},
    FacilityName{"local1", LOG_LOCAL1}, FacilityName{"local2", LOG_LOCAL2},
    FacilityName{"local3", LOG_LOCAL3}, FacilityName{"local4", LOG_LOCAL4},
    FacilityName{"local5", LOG_LOCAL5}, FacilityName{"local6", LOG_LOCAL6},
    FacilityName{"local7", LOG_LOCAL7},
};

template <typename E>
struct EnumName {
    std::string_view name;
    E value;
};

const std::array kVerifyNames{
    EnumName<TlsVerifyClient>{"no", TlsVerifyClient::No},
    EnumName<TlsVerifyClient>{"optional", TlsVerifyClient::Optional},
    EnumName<TlsVerifyClient>{"require", TlsVerifyClient::Require},
};

const std::array kVersionNames{
    EnumName<TlsVersion>{"1.2", TlsVersion::Tls12},
    EnumName<TlsVersion>{"1.3", TlsVersion::Tls13},
};

// "none" is accepted as an explicit way to write the default.
const std::array kUserFromNames{
    EnumName<TlsUserFrom>{"none", TlsUserFrom::None},
    EnumName<TlsUserFrom>{"cn", TlsUserFrom::Cn},
    EnumName<TlsUserFrom>{"san-email", TlsUserFrom::SanEmail},
    EnumName<TlsUserFrom>{"san-dns", TlsUserFrom::SanDns},
};

constexpr bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string quoted(std::string_view s)
{
    std::string out = "\"";
    out += printable(s);
    out += '"';
    return out;
}

template <typename E, std::size_t N>
std::string names_list(const std::array<EnumName<E>, N>& names)
{
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        if (i)
            out += (i + 1 == N) ? " or " : ", ";
        out += names[i].name;
    }
    return out;
}

template <typename E, std::size_t N>
std::optional<std::string> set_enum(const ParamInfo& p, std::string_view value,
                                    const std::array<EnumName<E>, N>& names, E& out)
{
    for (const auto& n : names) {
        if (iequals(n.name, value)) {
            out = n.value;
            return std::nullopt;
        }
    }
    return quoted(p.label) + " expects " + names_list(names) + ", got " + quoted(value);
}

template <typename E, std::size_t N>
std::string enum_text(const std::array<EnumName<E>, N>& names, E value)
{
    for (const auto& n : names)
        if (n.value == value)
            return std::string(n.name);
    return {};
}

// Whole decimal numbers only: upstream uses atoi() and would read "10k" as 10 and
// "ten" as 0; a silent misreading of a limit is worse than a startup error.
std::optional<std::string> set_int(const ParamInfo& p, std::string_view value, int& out)
{
    std::optional<std::int64_t> v = parse_int(value);
    if (!v)
        return quoted(p.label) + " expects an integer, got " + quoted(value);
    if (*v < INT_MIN || *v > INT_MAX)
        return quoted(p.label) + " expects an integer between " + std::to_string(INT_MIN) + " and "
               + std::to_string(INT_MAX) + ", got " + quoted(value);
    if (*v < p.min_value || *v > p.max_value) {
        if (p.max_value == INT_MAX)
            return quoted(p.label) + " must be at least " + std::to_string(p.min_value) + ", got "
                   + quoted(value);
        return quoted(p.label) + " must be between " + std::to_string(p.min_value) + " and "
               + std::to_string(p.max_value) + ", got " + quoted(value);
    }
    out = static_cast<int>(*v);
    return std::nullopt;
}

// Upstream accepts a facility name, or any number atoi() reads as positive.
std::optional<std::string> set_facility(const ParamInfo& p, std::string_view value, int& out)
{
    if (auto f = syslog_facility_from_name(value)) {
        out = *f;
        return std::nullopt;
    }
    if (auto v = parse_int(value); v && *v > 0 && *v <= INT_MAX) {
        out = static_cast<int>(*v);
        return std::nullopt;
    }
    return quoted(p.label)
           + " expects a facility name (auth, authpriv, cron, daemon, ftp, kern, lpr, mail, "
             "news, security, syslog, user, uucp, local0 .. local7), got "
           + quoted(value);
}

std::string strip_trailing_slashes(std::string_view v)
{
    // Upstream keeps a lone "/" (Upstream: loadparm.c:do_parameter P_PATH).
    while (v.size() > 1 && v.back() == '/')
        v.remove_suffix(1);
    return std::string(v);
}

// The struct a member pointer points into.
template <typename T>
struct MemberOwner;
template <typename Value, typename Owner>
struct MemberOwner<Value Owner::*> {
    using Type = Owner;
};
template <typename T>
using OwnerOf = typename MemberOwner<T>::Type;

std::string bool_text(bool b)
{
    return b ? "yes" : "no";
}

} // namespace

std::span<const ParamInfo> all_params() noexcept
{
    return kParams;
}

bool names_equal(std::string_view a, std::string_view b) noexcept
{
    std::size_t i = 0;
    std::size_t j = 0;
    for (;;) {
        while (i < a.size() && is_space(a[i]))
            ++i;
        while (j < b.size() && is_space(b[j]))
            ++j;
        if (i == a.size() || j == b.size())
            return i == a.size() && j == b.size();
        if (!iequals(a.substr(i, 1), b.substr(j, 1)))
            return false;
        ++i;
        ++j;
    }
}

const ParamInfo* find_param(std::string_view name) noexcept
{
    for (const auto& p : kParams) {
        if (names_equal(p.label, name) || (!p.alias.empty() && names_equal(p.alias, name)))
            return &p;
    }
    return nullptr;
}

std::optional<bool> parse_bool(std::string_view value) noexcept
{
    if (names_equal(value, "yes") || names_equal(value, "true") || names_equal(value, "1"))
        return true;
    if (names_equal(value, "no") || names_equal(value, "false") || names_equal(value, "0"))
        return false;
    return std::nullopt;
}

std::optional<Bool3> parse_bool3(std::string_view value) noexcept
{
    if (auto b = parse_bool(value))
        return *b ? Bool3::True : Bool3::False;
    if (names_equal(value, "unset") || names_equal(value, "-1"))
        return Bool3::Unset;
    return std::nullopt;
}

std::optional<int> syslog_facility_from_name(std::string_view name) noexcept
{
    for (const auto& f : kFacilities)
        if (iequals(f.name, name))
            return f.value;
    return std::nullopt;
}

std::string_view syslog_facility_name(int facility) noexcept
{
    for (const auto& f : kFacilities)
        if (f.value == facility)
            return f.name;
    return {};
}

std::optional<std::string> apply_param(const ParamInfo& p, std::string_view value,
                                       GlobalSettings& globals, ModuleSettings& module)
{
    const ParamMember& m = p.member;
    switch (p.type) {
    case ParamType::String:
        if (auto* gm = std::get_if<std::string G::*>(&m))
            globals.*(*gm) = std::string(value);
        else
            module.*std::get<std::string M::*>(m) = std::string(value);
        return std::nullopt;
    case ParamType::Path:
        module.*std::get<std::string M::*>(m) = strip_trailing_slashes(value);
        return std::nullopt;
    case ParamType::Integer:
        if (auto* gm = std::get_if<int G::*>(&m))
            return set_int(p, value, globals.*(*gm));
        return set_int(p, value, module.*std::get<int M::*>(m));
    case ParamType::Bool: {
        std::optional<bool> b = parse_bool(value);
        if (!b)
            return quoted(p.label) + " expects a boolean (yes/no), got " + quoted(value);
        if (auto* gm = std::get_if<bool G::*>(&m))
            globals.*(*gm) = *b;
        else
            module.*std::get<bool M::*>(m) = *b;
        return std::nullopt;
    }
    case ParamType::Bool3: {
        std::optional<Bool3> b = parse_bool3(value);
        if (!b)
            return quoted(p.label) + " expects a boolean (yes/no) or \"unset\", got "
                   + quoted(value);
        module.*std::get<Bool3 M::*>(m) = *b;
        return std::nullopt;
    }
    case ParamType::Enum:
        if (auto* fm = std::get_if<int M::*>(&m))
            return set_facility(p, value, module.*(*fm));
        if (auto* vm = std::get_if<TlsVerifyClient G::*>(&m))
            return set_enum(p, value, kVerifyNames, globals.*(*vm));
        if (auto* tm = std::get_if<TlsVersion G::*>(&m))
            return set_enum(p, value, kVersionNames, globals.*(*tm));
        return set_enum(p, value, kUserFromNames, globals.*std::get<TlsUserFrom G::*>(m));
    }
    return std::nullopt;
}

std::string format_param(const ParamInfo& p, const GlobalSettings& globals,
                         const ModuleSettings& module)
{
    struct Formatter {
        const GlobalSettings& g;
        const ModuleSettings& mod;
        std::string operator()(std::string G::*f) const { return g.*f; }
        std::string operator()(int G::*f) const { return std::to_string(g.*f); }
        std::string operator()(bool G::*f) const { return bool_text(g.*f); }
        std::string operator()(TlsVerifyClient G::*f) const
        {
            return enum_text(kVerifyNames, g.*f);
        }
        std::string operator()(TlsVersion G::*f) const { return enum_text(kVersionNames, g.*f); }
        std::string operator()(TlsUserFrom G::*f) const { return enum_text(kUserFromNames, g.*f); }
        std::string operator()(std::string M::*f) const { return mod.*f; }
        std::string operator()(int M::*f) const { return std::to_string(mod.*f); }
        std::string operator()(bool M::*f) const { return bool_text(mod.*f); }
        std::string operator()(Bool3 M::*f) const
        {
            switch (mod.*f) {
            case Bool3::True:
                return "yes";
            case Bool3::False:
                return "no";
            case Bool3::Unset:
                break;
            }
            return "unset";
        }
    };
    if (p.type == ParamType::Enum) {
        if (const auto* fm = std::get_if<int M::*>(&p.member)) {
            std::string_view name = syslog_facility_name(module.*(*fm));
            return name.empty() ? std::to_string(module.*(*fm)) : std::string(name);
        }
    }
    return std::visit(Formatter{globals, module}, p.member);
}

void copy_param(const ParamInfo& p, ModuleSettings& to, const ModuleSettings& from)
{
    std::visit(
        [&](auto member) {
            if constexpr (std::is_same_v<OwnerOf<decltype(member)>, ModuleSettings>)
                to.*member = from.*member;
        },
        p.member);
}

} // namespace ocr::daemon
