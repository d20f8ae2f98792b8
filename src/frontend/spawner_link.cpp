// SPDX-License-Identifier: MIT
#include "frontend/spawner_link.hpp"

#include "common/fd_passing.hpp"
#include "common/tlv.hpp"
#include "frontend/spawner_messages.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ocr::frontend {

namespace msg = spawner_msg;

SpawnerLink::SpawnerLink(asio::io_context& io, UniqueFd control, Handlers handlers)
    : channel_(io, control.release()), handlers_(std::move(handlers))
{
}

void SpawnerLink::start()
{
    wait_readable();
}

void SpawnerLink::send(const std::string& bytes)
{
    if (closed_)
        return;
    if (int err = send_with_fds(channel_.native_handle(), bytes, {}); err != 0)
        spdlog::error("lost the worker spawner: {}", std::strerror(err));
}

void SpawnerLink::request_workers(int count, std::uint64_t generation)
{
    TlvWriter w;
    w.add(msg::kType, msg::kSpawn).add_int(msg::kCount, count).add_int(msg::kGeneration,
                                                                      static_cast<std::int64_t>(generation));
    send(w.bytes());
}

void SpawnerLink::request_reload()
{
    TlvWriter w;
    w.add(msg::kType, msg::kReload);
    send(w.bytes());
}

void SpawnerLink::forget_before(std::uint64_t generation)
{
    TlvWriter w;
    w.add(msg::kType, msg::kForget).add_int(msg::kGeneration, static_cast<std::int64_t>(generation));
    send(w.bytes());
}

void SpawnerLink::close()
{
    closed_ = true;
    boost::system::error_code ignored;
    channel_.close(ignored);
}

void SpawnerLink::wait_readable()
{
    channel_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const boost::system::error_code& ec) {
                            if (ec || closed_)
                                return;
                            for (;;) {
                                int err = 0;
                                auto m = recv_with_fds(channel_.native_handle(), err);
                                if (!m) {
                                    if (err == EAGAIN || err == EWOULDBLOCK)
                                        break;
                                    if (err != 0)
                                        spdlog::error("worker spawner channel: {}", std::strerror(err));
                                    closed_ = true;
                                    if (handlers_.lost)
                                        handlers_.lost();
                                    return;
                                }
                                handle(m->bytes, std::move(m->fds));
                            }
                            wait_readable();
                        });
    // The descriptor must be non-blocking so the drain loop above stops at EAGAIN.
    channel_.non_blocking(true);
}

void SpawnerLink::handle(const std::string& bytes, std::vector<UniqueFd> fds)
{
    auto r = TlvReader::parse(bytes);
    auto type = r ? r->get(msg::kType) : std::nullopt;
    if (!type) {
        spdlog::error("malformed message from the worker spawner");
        return;
    }
    const auto gen = static_cast<std::uint64_t>(r->get_int(msg::kGeneration).value_or(0));
    if (*type == msg::kWorker && fds.size() == 1) {
        handlers_.worker_started(static_cast<pid_t>(r->get_int(msg::kPid).value_or(0)),
                                 std::move(fds[0]), gen);
    } else if (*type == msg::kExited) {
        handlers_.worker_exited(static_cast<pid_t>(r->get_int(msg::kPid).value_or(0)),
                                static_cast<int>(r->get_int(msg::kStatus).value_or(0)));
    } else if (*type == msg::kSpawnFailed) {
        spdlog::error("could not start a worker: {}", r->get(msg::kText).value_or(""));
        handlers_.spawn_failed(gen);
    } else if (*type == msg::kConfig && !fds.empty()) {
        // The descriptors: the package, the TLS material if any, then one per lock file
        // that opened.
        const std::vector<std::string> paths = r->get_list(msg::kLockPaths);
        const std::vector<std::string> errnos = r->get_list(msg::kLockErrnos);
        std::size_t lock_fds = 0;
        for (const std::string& e : errnos)
            lock_fds += e == "0" ? 1 : 0;
        if (paths.size() != errnos.size() || fds.size() < 1 + lock_fds || fds.size() > 2 + lock_fds) {
            spdlog::error("malformed configuration message from the worker spawner");
            return;
        }
        const bool has_tls = fds.size() == 2 + lock_fds;
        std::size_t next = has_tls ? 2 : 1;
        daemon::LockFileTable locks;
        for (std::size_t i = 0; i < paths.size(); ++i) {
            daemon::LockFile lock;
            if (errnos[i] == "0")
                lock.fd = std::make_shared<const UniqueFd>(std::move(fds[next++]));
            else
                lock.open_errno = std::max(1, std::atoi(errnos[i].c_str()));
            locks.emplace(paths[i], std::move(lock));
        }
        UniqueFd tls = has_tls ? std::move(fds[1]) : UniqueFd();
        handlers_.config_loaded(gen, std::move(fds[0]), std::move(tls), std::move(locks));
    } else if (*type == msg::kConfigFailed) {
        handlers_.config_failed(std::string(r->get(msg::kText).value_or("")));
    } else {
        spdlog::error("unexpected message from the worker spawner");
    }
}

} // namespace ocr::frontend
