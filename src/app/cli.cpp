// SPDX-License-Identifier: MIT
// Command-line parsing with getopt_long. The daemon options and their texts follow
// upstream's daemon option table (options.c long_daemon_options, `rsync --daemon --help`).
#include "app/cli.hpp"

#include "common/strings.hpp"

#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace ocr::app {
namespace {

enum LongOnly : int {
    kOptDaemon = 1000,
    kOptAddress,
    kOptBwlimit,
    kOptConfig,
    kOptNoDetach,
    kOptDetach,
    kOptPort,
    kOptLogFile,
    kOptLogFileFormat,
    kOptSockopts,
    kOptVersion,
    kOptModule,
    kOptCheckConfig,
    kOptWorker,
};

const option kLongOptions[] = {
    {"daemon", no_argument, nullptr, kOptDaemon},
    {"address", required_argument, nullptr, kOptAddress},
    {"bwlimit", required_argument, nullptr, kOptBwlimit},
    {"config", required_argument, nullptr, kOptConfig},
    {"dparam", required_argument, nullptr, 'M'},
    {"no-detach", no_argument, nullptr, kOptNoDetach},
    {"detach", no_argument, nullptr, kOptDetach},
    {"port", required_argument, nullptr, kOptPort},
    {"log-file", required_argument, nullptr, kOptLogFile},
    {"log-file-format", required_argument, nullptr, kOptLogFileFormat},
    {"sockopts", required_argument, nullptr, kOptSockopts},
    {"verbose", no_argument, nullptr, 'v'},
    {"ipv4", no_argument, nullptr, '4'},
    {"ipv6", no_argument, nullptr, '6'},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, kOptVersion},
    {"module", required_argument, nullptr, kOptModule},
    {"check-config", no_argument, nullptr, kOptCheckConfig},
    // Internal: the spawner re-executes this binary in worker mode.
    {"worker", no_argument, nullptr, kOptWorker},
    {nullptr, 0, nullptr, 0},
};

std::optional<std::pair<std::string, std::string>> split_assignment(const std::string& text)
{
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        return std::nullopt;
    return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

} // namespace

std::optional<std::int64_t> parse_kib(const std::string& text)
{
    // Upstream accepts a number with an optional fraction and a K/M/G (or KB/MB/GB
    // for powers of 1000) suffix; the unit without a suffix is KiB.
    std::string_view s = trim(text);
    if (s.empty())
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    std::string num(s);
    double value = std::strtod(num.c_str(), &end);
    if (errno != 0 || end == num.c_str() || value < 0)
        return std::nullopt;
    std::string suffix = to_lower(std::string_view(end));
    double bytes_per_unit = 1024.0;
    if (suffix.empty() || suffix == "k" || suffix == "kib" || suffix == "ki")
        bytes_per_unit = 1024.0;
    else if (suffix == "kb")
        bytes_per_unit = 1000.0;
    else if (suffix == "m" || suffix == "mib" || suffix == "mi")
        bytes_per_unit = 1024.0 * 1024;
    else if (suffix == "mb")
        bytes_per_unit = 1000.0 * 1000;
    else if (suffix == "g" || suffix == "gib" || suffix == "gi")
        bytes_per_unit = 1024.0 * 1024 * 1024;
    else if (suffix == "gb")
        bytes_per_unit = 1000.0 * 1000 * 1000;
    else
        return std::nullopt;
    const double kib = value * bytes_per_unit / 1024.0;
    if (kib > static_cast<double>(INT_MAX))
        return std::nullopt;
    return static_cast<std::int64_t>(kib + 0.5);
}

CliParse parse_command_line(int argc, char** argv)
{
    CliParse out;
    CommandLine& cl = out.command;
    bool saw_config = false;
    opterr = 0;
    optind = 1;
    for (;;) {
        const int prev_optind = optind;
        int c = getopt_long(argc, argv, ":M:v46h", kLongOptions, nullptr);
        if (c == -1)
            break;
        switch (c) {
        case kOptDaemon:
            break;
        case kOptAddress:
            cl.address = optarg;
            break;
        case kOptBwlimit:
            cl.bwlimit_kib = parse_kib(optarg);
            if (!cl.bwlimit_kib) {
                out.error = std::string("--bwlimit=") + optarg + ": invalid rate";
                return out;
            }
            break;
        case kOptConfig:
            cl.config_path = optarg;
            saw_config = true;
            break;
        case 'M': {
            auto kv = split_assignment(optarg);
            if (!kv) {
                out.error = std::string("--dparam=") + optarg + ": expected NAME=VALUE";
                return out;
            }
            cl.dparams.push_back(*kv);
            break;
        }
        case kOptNoDetach:
            cl.detach = false;
            break;
        case kOptDetach:
            cl.detach = true;
            break;
        case kOptPort: {
            auto p = parse_int(optarg);
            if (!p || *p < 0 || *p > 65535) {
                out.error = std::string("--port=") + optarg + ": invalid port number";
                return out;
            }
            cl.port = static_cast<int>(*p);
            break;
        }
        case kOptLogFile:
            cl.log_file = optarg;
            break;
        case kOptLogFileFormat:
            cl.log_file_format = optarg;
            break;
        case kOptSockopts:
            cl.sockopts = optarg;
            break;
        case 'v':
            ++cl.verbose;
            break;
        case '4':
            cl.family = AF_INET;
            break;
        case '6':
            cl.family = AF_INET6;
            break;
        case 'h':
            cl.mode = CommandLine::Mode::Help;
            break;
        case kOptVersion:
            cl.mode = CommandLine::Mode::Version;
            break;
        case kOptModule: {
            auto kv = split_assignment(optarg);
            if (!kv || kv->second.empty()) {
                out.error = std::string("--module ") + optarg + ": expected NAME=PATH or NAME=PATH:rw";
                return out;
            }
            CliModuleSpec m{kv->first, kv->second, false};
            if (m.path.size() > 3 && m.path.compare(m.path.size() - 3, 3, ":rw") == 0) {
                m.writable = true;
                m.path.resize(m.path.size() - 3);
            } else if (m.path.size() > 3 && m.path.compare(m.path.size() - 3, 3, ":ro") == 0) {
                m.path.resize(m.path.size() - 3);
            }
            if (m.name.find_first_of("/]") != std::string::npos) {
                out.error = "--module " + m.name + ": a module name may not contain '/' or ']'";
                return out;
            }
            cl.modules.push_back(std::move(m));
            break;
        }
        case kOptCheckConfig:
            cl.mode = CommandLine::Mode::CheckConfig;
            break;
        case kOptWorker:
            cl.mode = CommandLine::Mode::Worker;
            break;
        case ':':
            out.error = std::string(argv[prev_optind]) + ": option requires an argument";
            return out;
        default:
            out.error = std::string(argv[prev_optind < argc ? prev_optind : argc - 1]) +
                        ": unknown option";
            return out;
        }
    }
    if (optind < argc) {
        out.error = std::string(argv[optind]) + ": unexpected argument";
        return out;
    }
    // With only --module given, no config file is read at all.
    if (!saw_config && cl.modules.empty())
        cl.config_path = kDefaultConfigPath;
    return out;
}

std::string usage_text()
{
    return "Usage: ocrsyncd [--daemon] [OPTION]...\n"
           "--daemon                 run as an rsync daemon (the default; accepted for compatibility)\n"
           "--address=ADDRESS        bind to the specified address\n"
           "--bwlimit=RATE           limit socket I/O bandwidth\n"
           "--config=FILE            specify alternate config file (default /etc/ocrsyncd.conf)\n"
           "--dparam=OVERRIDE, -M    override global daemon config parameter\n"
           "--no-detach              do not detach from the parent\n"
           "--detach                 detach from the parent (the default)\n"
           "--port=PORT              listen on alternate port number\n"
           "--log-file=FILE          override the \"log file\" setting\n"
           "--log-file-format=FMT    override the \"log format\" setting\n"
           "--sockopts=OPTIONS       specify custom TCP options\n"
           "--verbose, -v            increase verbosity\n"
           "--ipv4, -4               prefer IPv4\n"
           "--ipv6, -6               prefer IPv6\n"
           "--module NAME=PATH[:rw]  serve PATH as module NAME (read-only unless :rw);\n"
           "                         without --config, no config file is read\n"
           "--check-config           check the config file, print each problem, exit 0 or 1\n"
           "--version                print the version and exit\n"
           "--help, -h               show this help\n";
}

std::string version_text()
{
    return std::string("ocrsyncd version ") + OCR_VERSION +
           "  rsync daemon protocol versions 27 to 32\n"
           "Daemon auth list:\n"
           "    sha512 sha256 sha1 md5 md4\n";
}

} // namespace ocr::app
