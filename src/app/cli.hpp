// SPDX-License-Identifier: MIT
// ocrsyncd's command line: upstream `rsync --daemon` options plus our own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ocr::app {

/// @brief A directory served from the command line (--module NAME=PATH[:rw]).
struct CliModuleSpec {
    std::string name;
    std::string path;
    bool writable = false;
};

/// @brief What the command line asked for.
struct CommandLine {
    enum class Mode { Daemon, Help, Version, CheckConfig, Worker };
    Mode mode = Mode::Daemon;
    std::optional<std::string> config_path;       ///< --config; nullopt = default or none
    bool detach = true;                            ///< upstream detaches unless --no-detach
    std::optional<int> port;                       ///< --port
    std::optional<std::string> address;            ///< --address
    int family = 0;                                ///< AF_INET for -4, AF_INET6 for -6, 0 = both
    std::vector<std::pair<std::string, std::string>> dparams; ///< --dparam/-M NAME=VALUE
    std::optional<std::string> log_file;           ///< --log-file
    std::optional<std::string> log_file_format;    ///< --log-file-format
    std::optional<std::int64_t> bwlimit_kib;       ///< --bwlimit, in KiB/s
    std::optional<std::string> sockopts;           ///< --sockopts
    int verbose = 0;                               ///< -v count
    std::vector<CliModuleSpec> modules;            ///< --module
};

/// @brief Default config file when neither --config nor --module is given.
inline constexpr const char* kDefaultConfigPath = "/etc/ocrsyncd.conf";

/// @brief The result of parsing; @c error is set (and upstream-style text) on misuse.
struct CliParse {
    CommandLine command;
    std::optional<std::string> error;
};

/// @brief Parses argv (argv[0] excluded from options). Never exits the process.
[[nodiscard]] CliParse parse_command_line(int argc, char** argv);

/// @brief The text printed by --help.
[[nodiscard]] std::string usage_text();

/// @brief The text printed by --version.
[[nodiscard]] std::string version_text();

/// @brief Parses an upstream-style size with an optional K/M/G suffix into KiB (for --bwlimit).
[[nodiscard]] std::optional<std::int64_t> parse_kib(const std::string& text);

} // namespace ocr::app
