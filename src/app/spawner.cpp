// SPDX-License-Identifier: MIT
#include "app/spawner.hpp"

#include "common/fd_passing.hpp"
#include "common/tlv.hpp"
#include "frontend/spawner_messages.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

extern char** environ;

namespace ocr::app {
namespace msg = frontend::spawner_msg;

namespace {

// A front-end asking for more than this at once is broken or compromised.
constexpr std::int64_t kMaxSpawnBatch = 4096;
constexpr int kWorkerChannelFd = 3;
constexpr int kWorkerPackageFd = 4;
constexpr int kWorkerLogFd = 5;
constexpr int kChildExeFd = 6;

void send_to_frontend(int control, const TlvWriter& w, const std::vector<int>& fds = {})
{
    // A failure here means the front-end is gone; the poll loop notices and exits.
    (void)send_with_fds(control, w.bytes(), fds);
}

// Runs in the forked child: put the descriptors where worker mode expects them, then exec.
[[noreturn]] void exec_worker(int exe_fd, int channel_fd, int package_fd, int log_fd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGPIPE})
        signal(sig, SIG_DFL);
    // Move sources out of the way of their targets first.
    const int exe = fcntl(exe_fd, F_DUPFD, 10);
    const int chan = fcntl(channel_fd, F_DUPFD, 10);
    const int pkg = fcntl(package_fd, F_DUPFD, 10);
    const int log = log_fd >= 0 ? fcntl(log_fd, F_DUPFD, 10) : -1;
    if (exe < 0 || chan < 0 || pkg < 0 || dup2(chan, kWorkerChannelFd) < 0 ||
        dup2(pkg, kWorkerPackageFd) < 0 || dup2(exe, kChildExeFd) < 0)
        _exit(127);
    if (log >= 0) {
        if (dup2(log, kWorkerLogFd) < 0)
            _exit(127);
    } else {
        close(kWorkerLogFd);
    }
    // Everything else (listening sockets, the front-end's channel, other workers'
    // channels) must not leak into the worker.
    syscall(SYS_close_range, kChildExeFd + 1, ~0U, 0);
    fcntl(kChildExeFd, F_SETFD, FD_CLOEXEC);
    char arg0[] = "ocrsyncd";
    char arg1[] = "--worker";
    char* argv[] = {arg0, arg1, nullptr};
    syscall(SYS_execveat, kChildExeFd, "", argv, environ, AT_EMPTY_PATH);
    _exit(127);
}

class Spawner {
public:
    explicit Spawner(SpawnerSetup setup) : s_(std::move(setup))
    {
        packages_[generation_] = make_sealed_memfd("ocrsyncd-config", s_.package);
    }

    int run()
    {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, nullptr);
        UniqueFd sfd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!sfd)
            return 1;
        // The front-end's signals (SIGHUP reload, SIGTERM stop) are its business.
        signal(SIGHUP, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
            pollfd fds[2] = {{s_.control.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
            if (poll(fds, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                return 1;
            }
            if (fds[1].revents & POLLIN) {
                signalfd_siginfo info;
                while (read(sfd.get(), &info, sizeof info) == sizeof info) {
                }
                reap();
            }
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                int err = 0;
                auto m = recv_with_fds(s_.control.get(), err);
                if (!m)
                    return 0; // the front-end is gone: so are we
                handle(m->bytes);
            }
        }
    }

private:
    void reap()
    {
        for (;;) {
            int status = 0;
            const pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0)
                return;
            TlvWriter w;
            w.add(msg::kType, msg::kExited).add_int(msg::kPid, pid).add_int(msg::kStatus, status);
            send_to_frontend(s_.control.get(), w);
        }
    }

    void handle(const std::string& bytes)
    {
        auto r = TlvReader::parse(bytes, 64);
        auto type = r ? r->get(msg::kType) : std::nullopt;
        if (!type)
            return;
        if (*type == msg::kSpawn) {
            const std::int64_t count = r->get_int(msg::kCount).value_or(0);
            const auto gen = static_cast<std::uint64_t>(r->get_int(msg::kGeneration).value_or(0));
            for (std::int64_t i = 0; i < count && i < kMaxSpawnBatch; ++i)
                spawn(gen);
        } else if (*type == msg::kReload) {
            reload();
        } else if (*type == msg::kForget) {
            const auto gen = static_cast<std::uint64_t>(r->get_int(msg::kGeneration).value_or(0));
            // Never forget the current generation: new workers are built from it.
            for (auto it = packages_.begin(); it != packages_.end();)
                it = (it->first < gen && it->first != generation_) ? packages_.erase(it) : std::next(it);
        }
    }

    void spawn(std::uint64_t gen)
    {
        auto pkg = packages_.find(gen);
        if (pkg == packages_.end()) {
            TlvWriter w;
            w.add(msg::kType, msg::kSpawnFailed)
                .add_int(msg::kGeneration, static_cast<std::int64_t>(gen))
                .add(msg::kText, "unknown config generation " + std::to_string(gen));
            send_to_frontend(s_.control.get(), w);
            return;
        }
        std::pair<UniqueFd, UniqueFd> pair;
        try {
            pair = make_seqpacket_pair();
        } catch (const std::system_error& e) {
            report_spawn_failure(gen, e.what());
            return;
        }
        const pid_t pid = fork();
        if (pid < 0) {
            report_spawn_failure(gen, std::string("fork: ") + std::strerror(errno));
            return;
        }
        if (pid == 0)
            exec_worker(s_.executable.get(), pair.second.get(), pkg->second.get(), s_.log_fd.get());
        pair.second.reset();
        TlvWriter w;
        w.add(msg::kType, msg::kWorker).add_int(msg::kPid, pid).add_int(msg::kGeneration,
                                                                       static_cast<std::int64_t>(gen));
        send_to_frontend(s_.control.get(), w, {pair.first.get()});
    }

    void report_spawn_failure(std::uint64_t gen, const std::string& why)
    {
        TlvWriter w;
        w.add(msg::kType, msg::kSpawnFailed)
            .add_int(msg::kGeneration, static_cast<std::int64_t>(gen))
            .add(msg::kText, why);
        send_to_frontend(s_.control.get(), w);
    }

    void reload()
    {
        ReloadOutcome outcome;
        try {
            outcome = s_.reload();
        } catch (const std::exception& e) {
            outcome.ok = false;
            outcome.problems = e.what();
        }
        if (!outcome.ok) {
            TlvWriter w;
            w.add(msg::kType, msg::kConfigFailed).add(msg::kText, outcome.problems);
            send_to_frontend(s_.control.get(), w);
            return;
        }
        UniqueFd memfd;
        UniqueFd tls_memfd;
        try {
            memfd = make_sealed_memfd("ocrsyncd-config", outcome.package);
            if (!outcome.tls_material.empty())
                tls_memfd = make_sealed_memfd("ocrsyncd-tls", outcome.tls_material);
        } catch (const std::exception& e) {
            TlvWriter w;
            w.add(msg::kType, msg::kConfigFailed).add(msg::kText, e.what());
            send_to_frontend(s_.control.get(), w);
            return;
        }
        ++generation_;
        TlvWriter w;
        w.add(msg::kType, msg::kConfig).add_int(msg::kGeneration, static_cast<std::int64_t>(generation_));
        std::vector<int> fds{memfd.get()};
        if (tls_memfd)
            fds.push_back(tls_memfd.get());
        std::vector<std::string> lock_paths;
        std::vector<std::string> lock_errnos;
        for (const auto& [path, lock] : outcome.lock_files) {
            int open_errno = lock.open_errno;
            if (open_errno == 0 && fds.size() == kMaxIpcFds) {
                // More lock files than one message carries: these refuse their clients
                // ("failed to open lock file") rather than go uncounted.
                spdlog::error("too many lock files; {} is not used", path);
                open_errno = EMFILE;
            }
            lock_paths.push_back(path);
            lock_errnos.push_back(std::to_string(open_errno));
            if (open_errno == 0)
                fds.push_back(lock.fd->get());
        }
        w.add_list(msg::kLockPaths, lock_paths).add_list(msg::kLockErrnos, lock_errnos);
        send_to_frontend(s_.control.get(), w, fds);
        // Our copy of the key goes now; only the front-end keeps one.
        tls_memfd.reset();
        outcome.tls_material.assign(outcome.tls_material.size(), '\0');
        packages_[generation_] = std::move(memfd);
    }

    SpawnerSetup s_;
    std::uint64_t generation_ = 1;
    std::map<std::uint64_t, UniqueFd> packages_;
};

} // namespace

UniqueFd make_sealed_memfd(const std::string& name, const std::string& bytes)
{
    UniqueFd fd(memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd)
        throw std::system_error(errno, std::system_category(), "memfd_create");
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::system_error(errno, std::system_category(), "write memfd");
        }
        done += static_cast<std::size_t>(n);
    }
    // Sealed so that no process holding it (a compromised front-end included) can change
    // what later workers read.
    if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        throw std::system_error(errno, std::system_category(), "seal memfd");
    return fd;
}

std::string read_whole_fd(int fd, std::size_t max_bytes)
{
    std::string out;
    char buf[65536];
    off_t off = 0;
    for (;;) {
        const ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("read: ") + std::strerror(errno));
        }
        if (n == 0)
            return out;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            throw std::runtime_error("config package larger than " + std::to_string(max_bytes) + " bytes");
        out.append(buf, static_cast<std::size_t>(n));
        off += n;
    }
}

int run_spawner(SpawnerSetup setup)
{
    Spawner spawner(std::move(setup));
    return spawner.run();
}

} // namespace ocr::app
