// SPDX-License-Identifier: MIT
#include "worker/worker_main.hpp"

#include "common/fd_passing.hpp"
#include "daemon/config_package.hpp"
#include "daemon/session_descriptor.hpp"
#include "worker/session.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ocr::worker {
namespace {

// The package is written by our own privileged spawner; the bound only guards mistakes.
constexpr std::size_t kMaxPackage = 256u << 20;

std::optional<std::string> read_package(int fd)
{
    std::string out;
    char buf[65536];
    off_t off = 0;
    for (;;) {
        const ssize_t n = ::pread(fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return std::nullopt;
        if (n == 0)
            return out;
        out.append(buf, static_cast<std::size_t>(n));
        off += n;
        if (out.size() > kMaxPackage)
            return std::nullopt;
    }
}

} // namespace

int run_worker()
{
    ::signal(SIGPIPE, SIG_IGN);
    auto bytes = read_package(kPackageFd);
    ::close(kPackageFd);
    auto package = bytes ? daemon::decode_config_package(*bytes) : std::nullopt;
    if (!package) {
        spdlog::error("worker {}: unreadable configuration package", ::getpid());
        return 1;
    }
    daemon::LoadResult loaded = daemon::load_config_package(*package);
    if (!loaded.config) {
        spdlog::error("worker {}: the configuration package did not load", ::getpid());
        return 1;
    }
    // Idle until the front-end hands us a session (or closes the channel to retire us).
    int err = 0;
    auto msg = recv_with_fds(kChannelFd, err);
    if (!msg) {
        if (err != 0)
            spdlog::error("worker {}: channel error: {}", ::getpid(), std::strerror(err));
        return err == 0 ? 0 : 1;
    }
    auto session = daemon::decode_session(msg->bytes);
    if (!session || msg->fds.size() != 1) {
        spdlog::error("worker {}: malformed session hand-off", ::getpid());
        return 1;
    }
    // The front-end's socket was non-blocking for its event loop; ours is a blocking stream.
    const int client = msg->fds[0].get();
    const int flags = ::fcntl(client, F_GETFL);
    if (flags >= 0)
        ::fcntl(client, F_SETFL, flags & ~O_NONBLOCK);
    return run_session(*loaded.config, package->options.session, *session, std::move(msg->fds[0]));
}

} // namespace ocr::worker
