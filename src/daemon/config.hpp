// SPDX-License-Identifier: MIT
// The rsyncd.conf model (global and module settings, immutable Config) and load_config().
#pragma once

#include "daemon/file_source.hpp"

#include <syslog.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ocr::daemon {

/// @brief A BOOL3 parameter: yes, no, or "unset" (the daemon picks per module).
enum class Bool3 : signed char { Unset = -1, False = 0, True = 1 };

/// @brief The -1 / 0 / 1 spelling of a Bool3 that option handling uses.
[[nodiscard]] constexpr int tristate(Bool3 b) noexcept { return static_cast<int>(b); }

/// @brief "tls verify client".
enum class TlsVerifyClient { No, Optional, Require };

/// @brief "tls user from": where an authenticated user name comes from in a client
///        certificate.
enum class TlsUserFrom { None, Cn, SanEmail, SanDns };

/// @brief "tls min version".
enum class TlsVersion { Tls12, Tls13 };

/// @brief Where something was written: a config file and 1-based line, or a pseudo file
///        "--dparam" / "--module" with the 1-based position of the option.
///        Line 0 means "the file as a whole".
struct SourceLocation {
    std::string file;
    int line = 0;

    bool operator==(const SourceLocation&) const = default;
};

/// @brief Where each parameter of a section was set, by canonical parameter name
///        (e.g. "max connections"). A module inherits the entries of the defaults it was
///        created from.
using ParamLocations = std::map<std::string, SourceLocation, std::less<>>;

/// @brief Global (daemon-wide) parameters. Strings: empty means unset (upstream NULL).
///        Values are raw: %VAR% references are expanded by the user of a value.
struct GlobalSettings {
    // Upstream 3.5.0 globals (daemon-parm.txt "Globals").
    std::string bind_address;         ///< "address"
    std::string daemon_chroot;        ///< "daemon chroot"
    std::string daemon_gid;           ///< "daemon gid"
    std::string daemon_uid;           ///< "daemon uid"
    std::string motd_file;            ///< "motd file"
    std::string pid_file;             ///< "pid file"
    std::string proxy_protocol_hosts; ///< "proxy protocol hosts"
    std::string socket_options;       ///< "socket options"
    int listen_backlog = 5;           ///< "listen backlog"
    int rsync_port = 0;               ///< "port" (0: 873)
    bool proxy_protocol = false;      ///< "proxy protocol"

    // ocrsyncd extensions.
    int transfer_workers = 0;          ///< "transfer workers" (0: 16 per CPU)
    int spare_workers = -1;            ///< "spare workers" (-1: 2 per CPU)
    int handshake_timeout = 60;        ///< "handshake timeout", seconds
    int daemon_max_connections = 4096; ///< "daemon max connections" (0: no cap)
    bool plain_listener = true;        ///< "plain listener": no: TLS port(s) only, "port" unused
    int tls_port = 0;                  ///< "tls port" (0: 874 when a certificate is set)
    std::string tls_address;           ///< "tls address"
    std::string tls_cert_file;         ///< "tls cert file"
    std::string tls_key_file;          ///< "tls key file"
    std::string tls_ca_file;           ///< "tls ca file"
    TlsVerifyClient tls_verify_client = TlsVerifyClient::No; ///< "tls verify client"
    TlsVersion tls_min_version = TlsVersion::Tls12;          ///< "tls min version"
    std::string tls_ciphers;                                 ///< "tls ciphers"
    std::string tls_ciphersuites;                            ///< "tls ciphersuites"
    TlsUserFrom tls_user_from = TlsUserFrom::None;           ///< "tls user from"

    ParamLocations set_at; ///< where each parameter was set

    /// @brief Where @p param (canonical name, e.g. "pid file") was set, or null if it
    ///        still has its built-in default.
    [[nodiscard]] const SourceLocation* where_set(std::string_view param) const;

    bool operator==(const GlobalSettings&) const = default;
};

/// @brief Upstream's DEFAULT_DONT_COMPRESS (generated from rsync.1.md's --skip-compress
///        list; the value compiled into rsync 3.5.0).
inline constexpr std::string_view kDefaultDontCompress =
    "*.3g2 *.3gp *.7z *.aac *.ace *.apk *.avi *.bz2 *.deb *.dmg *.ear *.f4v *.flac *.flv "
    "*.gpg *.gz *.iso *.jar *.jpeg *.jpg *.lrz *.lz *.lz4 *.lzma *.lzo *.m1a *.m1v *.m2a "
    "*.m2ts *.m2v *.m4a *.m4b *.m4p *.m4r *.m4v *.mka *.mkv *.mov *.mp1 *.mp2 *.mp3 *.mp4 "
    "*.mpa *.mpeg *.mpg *.mpv *.mts *.odb *.odf *.odg *.odi *.odm *.odp *.ods *.odt *.oga "
    "*.ogg *.ogm *.ogv *.ogx *.opus *.otg *.oth *.otp *.ots *.ott *.oxt *.png *.qt *.rar "
    "*.rpm *.rz *.rzip *.spx *.squashfs *.sxc *.sxd *.sxg *.sxm *.sxw *.sz *.tbz *.tbz2 "
    "*.tgz *.tlz *.ts *.txz *.tzo *.vob *.war *.webm *.webp *.xz *.z *.zip *.zst";

/// @brief Upstream's DEFAULT_LOCK_FILE (Upstream: rsync.h).
inline constexpr std::string_view kDefaultLockFile = "/var/run/rsyncd.lock";

/// @brief Module ("local") parameters; the same struct holds the defaults set in the
///        global section. Strings: empty means unset (upstream NULL).
struct ModuleSettings {
    std::string name; ///< the module name from its [header] (or a "name" parameter)

    std::string auth_digest; ///< weakest daemon-auth digest accepted (sha512 .. md4); empty: any
    std::string auth_users;  ///< login rules (user, @group, :ro, ...); empty: anonymous
    std::string charset;     ///< filename charset for --iconv; empty: --iconv refused
    std::string comment;     ///< text shown in the module listing
    std::string dont_compress{kDefaultDontCompress}; ///< patterns of files not to compress
    std::string early_exec;     ///< command run right after module selection and login
    std::string exclude;        ///< daemon exclude patterns
    std::string exclude_from;   ///< file of daemon exclude patterns
    std::string filter;         ///< daemon filter rules
    std::string gid;            ///< group(s) for transfers when running as root ("*": all of uid's)
    std::string hosts_allow;    ///< client address/name patterns allowed
    std::string hosts_deny;     ///< client address/name patterns denied
    std::string include;        ///< daemon include patterns
    std::string include_from;   ///< file of daemon include patterns
    std::string incoming_chmod; ///< chmod rules for received files
    std::string lock_file{kDefaultLockFile}; ///< file for the "max connections" record locks
    std::string log_file;                    ///< log to this file instead of syslog
    std::string log_format{"%o %h [%a] %m (%u) %f %l"}; ///< per-file transfer log format
    std::string name_converter;       ///< program for user/group name <-> id lookups
    std::string outgoing_chmod;       ///< chmod rules for sent files
    std::string post_xfer_exec;       ///< "post-xfer exec"
    std::string pre_xfer_exec;        ///< "pre-xfer exec"
    std::string refuse_options;       ///< client options to refuse
    std::string secrets_file;         ///< user:password file for "auth users"
    std::string syslog_tag{"rsyncd"}; ///< syslog ident
    std::string uid;                  ///< user for transfers when running as root

    std::string path;     ///< trailing slashes removed
    std::string temp_dir; ///< "temp dir", trailing slashes removed

    int max_connections = 0; ///< per-module connection limit; 0: none, < 0: module disabled
    int max_verbosity = 1;   ///< cap on client-requested verbosity
    int timeout = 0;         ///< I/O timeout in seconds; 0: none

    int syslog_facility = LOG_DAEMON; ///< a LOG_* facility value

    bool fake_super = false;         ///< store privileged attributes in xattrs (--fake-super)
    bool forward_lookup = true;      ///< resolve host names in hosts allow/deny
    bool ignore_errors = false;      ///< delete even after I/O errors
    bool ignore_nonreadable = false; ///< hide files the module user cannot read
    bool insecure_links = false;     ///< follow any symlink (disables the symlink-race defences)
    bool list = true;                ///< show the module in listings
    bool read_only = true;           ///< refuse uploads
    bool reverse_lookup = true;      ///< look up the client's host name
    bool strict_modes = true;        ///< check the secrets file's mode (and owner, as root)
    bool transfer_logging = false;   ///< log each transferred file
    bool write_only = false;         ///< refuse downloads

    Bool3 munge_symlinks = Bool3::Unset; ///< prefix stored symlinks with /rsyncd-munged/
    Bool3 numeric_ids = Bool3::Unset;    ///< no user/group name mapping
    Bool3 open_noatime = Bool3::Unset;   ///< open files with O_NOATIME
    Bool3 use_chroot = Bool3::Unset;     ///< chroot to the module path

    bool tls_only = false; ///< ocrsyncd: "tls only" (refuse the module on plain TCP)

    SourceLocation defined_at; ///< the [header] (first one, if the module was reopened)
    ParamLocations set_at;     ///< where each parameter was set (incl. inherited ones)

    /// @brief Where @p param (canonical name, e.g. "read only") was set, or null if it
    ///        still has its built-in default.
    [[nodiscard]] const SourceLocation* where_set(std::string_view param) const;

    bool operator==(const ModuleSettings&) const = default;
};

/// @brief A module from "--module NAME=PATH[:rw]".
struct CliModule {
    std::string name;
    std::string path;
    bool writable = false;
};

/// @brief Daemon command-line settings that shape every session (not rsyncd.conf
///        parameters, but carried with the configuration to the workers).
struct SessionDefaults {
    std::optional<std::string> log_file_format; ///< --log-file-format
    int bwlimit_kib = 0;                        ///< --bwlimit (0: none): caps the client's

    bool operator==(const SessionDefaults&) const = default;
};

/// @brief Everything load_config() needs besides the files.
struct LoadOptions {
    /// @brief The config file; nullopt: none (only --module modules).
    std::optional<std::string> config_path;
    /// @brief --dparam NAME=VALUE, in command-line order.
    std::vector<std::pair<std::string, std::string>> dparams;
    /// @brief --module definitions, in command-line order.
    std::vector<CliModule> cli_modules;
    /// @brief The daemon's environment, used where upstream calls getenv() at load time:
    ///        %VAR% in non-string values (booleans, integers, enums), and the motd and
    ///        secrets file paths that load_config() reads ahead.
    std::map<std::string, std::string, std::less<>> environment;
    /// @brief Command-line settings the workers apply to each session.
    SessionDefaults session;
};

/// @brief How serious a Problem is. Errors make --check-config fail; warnings are
///        reported but the setting is legal.
enum class Severity { Error, Warning };

/// @brief One thing wrong with the configuration.
struct Problem {
    SourceLocation where;
    std::string message; ///< one line, plain English, names the parameter
    Severity severity = Severity::Error;

    bool operator==(const Problem&) const = default;
};

/// @brief "FILE:LINE: message" (or "FILE: message" for line 0), with "warning: " before
///        the message of a warning.
[[nodiscard]] std::string format_problem(const Problem& problem);

/// @brief A loaded configuration. Immutable, so any number of threads may read it at
///        once; shared between sessions as std::shared_ptr<const Config>.
class Config {
public:
    /// @brief Assembles a Config; used by load_config().
    Config(GlobalSettings globals, ModuleSettings defaults, std::vector<ModuleSettings> modules,
           std::map<std::string, std::string, std::less<>> environment, FileBundle bundle);

    /// @brief The global parameters.
    [[nodiscard]] const GlobalSettings& globals() const noexcept { return globals_; }
    /// @brief Module parameters as set in the global section at the end of the load
    ///        (upstream's lp_xxx(-1)).
    [[nodiscard]] const ModuleSettings& defaults() const noexcept { return defaults_; }
    /// @brief The modules in file order, then the --module ones.
    [[nodiscard]] const std::vector<ModuleSettings>& modules() const noexcept { return modules_; }
    /// @brief The module a client asked for: exact, case-sensitive; the last one when a
    ///        "name" parameter made two equal (Upstream: loadparm.c:lp_number).
    [[nodiscard]] const ModuleSettings* find_module(std::string_view name) const;

    /// @brief The contents captured at load time for @p path (motd and secrets files), or
    ///        null if it was not read or could not be read.
    [[nodiscard]] const FileData* file(const std::string& path) const;
    /// @brief Why @p path could not be read at load time, if it could not.
    [[nodiscard]] std::optional<FileError> file_error(const std::string& path) const;

    /// @brief The "motd file" path with the daemon environment's %VAR%s expanded: the key
    ///        for file(); empty when there is no motd.
    [[nodiscard]] std::string motd_path() const;
    /// @brief The module's "secrets file" path as load_config() read it: %VAR%s expanded
    ///        from the daemon environment plus RSYNC_MODULE_NAME. Empty when unset;
    ///        nullopt when the path refers to RSYNC_HOST_ADDR or RSYNC_HOST_NAME, which
    ///        upstream sets per connection before reading it, so it could not be read
    ///        ahead.
    [[nodiscard]] std::optional<std::string> secrets_path(const ModuleSettings& module) const;

    /// @brief Everything read during the load; replayed through BundleFileSource with the
    ///        same LoadOptions it yields an equal Config.
    [[nodiscard]] const FileBundle& bundle() const noexcept { return bundle_; }
    /// @brief The environment the config was loaded with.
    [[nodiscard]] const std::map<std::string, std::string, std::less<>>&
    environment() const noexcept
    {
        return environment_;
    }

    bool operator==(const Config&) const = default;

private:
    GlobalSettings globals_;
    ModuleSettings defaults_;
    std::vector<ModuleSettings> modules_;
    std::map<std::string, std::string, std::less<>> environment_;
    FileBundle bundle_;
};

/// @brief What load_config() produced.
struct LoadResult {
    std::shared_ptr<const Config> config; ///< null when a fatal problem stopped the load
    std::vector<Problem> problems;        ///< in the order found
};

/// @brief Parses the config file (following &include / &merge), applies --dparam and
///        --module, then reads the motd file and the secrets files of modules that have
///        "auth users" through @p files (see Config::motd_path(), Config::secrets_path()).
///
/// Syntax and semantics follow upstream's params.c and loadparm.c; the differences are
/// that problems upstream only logs (unknown parameter, bad boolean, ...) are reported
/// here, integers must be whole numbers, and include recursion and sizes are bounded.
/// Fatal problems (those upstream stops parsing at: unreadable config or include, bad
/// module header, empty parameter name, unknown directive; plus include nesting or count
/// exceeded, NUL bytes, unknown --dparam name) leave config null.
/// @param options the command-line inputs.
/// @param files where files come from; every answer is recorded into the Config's bundle.
/// @return the config (or null) and the problems found.
/// @throw std::bad_alloc only.
[[nodiscard]] LoadResult load_config(const LoadOptions& options, FileSource& files);

} // namespace ocr::daemon
