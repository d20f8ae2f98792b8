// SPDX-License-Identifier: MIT
// Dispatches on the mode the command line selects.
#include "app/entry.hpp"

#include "app/cli.hpp"
#include "app/daemon_main.hpp"
#include "app/logging.hpp"
#include "worker/worker_main.hpp"

#include <cstdio>
#include <cstdlib>

namespace ocr::app {

int run(int argc, char** argv)
{
    const CliParse parsed = parse_command_line(argc, argv);
    if (parsed.error) {
        // Upstream's wording for a bad daemon option, with our program name.
        std::fprintf(stderr, "ocrsyncd: %s\n(Type \"ocrsyncd --help\" for assistance.)\n", parsed.error->c_str());
        return 1;
    }
    const CommandLine& cl = parsed.command;
    switch (cl.mode) {
    case CommandLine::Mode::Help:
        std::fputs(usage_text().c_str(), stdout);
        return 0;
    case CommandLine::Mode::Version:
        std::fputs(version_text().c_str(), stdout);
        return 0;
    case CommandLine::Mode::CheckConfig:
        return run_check_config(cl);
    case CommandLine::Mode::Worker: {
        const char* target = std::getenv(kLogTargetEnv);
        init_logging(decode_log_target(target ? target : "stderr:0:0:rsyncd", worker::kLogFd));
        return worker::run_worker();
    }
    case CommandLine::Mode::Daemon:
        return run_daemon(cl);
    }
    return 1;
}

} // namespace ocr::app
