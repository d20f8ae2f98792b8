// SPDX-License-Identifier: MIT
#include "worker/fd_stream.hpp"

#include "protocol/exit_handshake.hpp"
#include "protocol/protocol_error.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ocr::worker {
namespace {
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::size_t kWriteBuffer = 256 * 1024;
} // namespace

FdStream::FdStream(int fd, std::chrono::seconds timeout) : fd_(fd), timeout_(timeout) {}

bool FdStream::wait(short events, int timeout_ms)
{
    pollfd p{fd_, events, 0};
    for (;;) {
        const int n = ::poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw protocol::ProtocolError(protocol::ExitCode::SocketIo,
                                          std::string("poll failed: ") + std::strerror(errno));
        return n > 0;
    }
}

void FdStream::fill()
{
    const int timeout_ms = timeout_.count() > 0 ? static_cast<int>(timeout_.count() * 1000) : -1;
    if (!wait(POLLIN, timeout_ms))
        throw protocol::ProtocolError(protocol::ExitCode::Timeout,
                                      "io timeout after " + std::to_string(timeout_.count()) +
                                          " seconds -- exiting");
    if (in_pos_ == in_.size()) {
        in_.clear();
        in_pos_ = 0;
    }
    const std::size_t old = in_.size();
    in_.resize(old + kReadChunk);
    ssize_t n;
    do {
        n = ::read(fd_, in_.data() + old, kReadChunk);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        in_.resize(old);
        if (n == 0)
            throw protocol::ProtocolError(protocol::ExitCode::StreamIo, "connection unexpectedly closed");
        throw protocol::ProtocolError(protocol::ExitCode::SocketIo,
                                      std::string("read error: ") + std::strerror(errno));
    }
    in_.resize(old + static_cast<std::size_t>(n));
    read_total_ += static_cast<std::uint64_t>(n);
}

void FdStream::read_exact(std::span<std::byte> out)
{
    std::size_t done = 0;
    while (done < out.size()) {
        if (in_pos_ == in_.size()) {
            // Never sit in a read while our own output waits in the buffer: the peer may
            // be waiting for it before it sends what we want.
            flush();
            fill();
        }
        const std::size_t take = std::min(out.size() - done, in_.size() - in_pos_);
        std::memcpy(out.data() + done, in_.data() + in_pos_, take);
        in_pos_ += take;
        done += take;
    }
}

void FdStream::write_all(std::span<const std::byte> data)
{
    out_.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (out_.size() >= kWriteBuffer)
        flush();
}

void FdStream::flush()
{
    const int timeout_ms = timeout_.count() > 0 ? static_cast<int>(timeout_.count() * 1000) : -1;
    std::size_t done = 0;
    while (done < out_.size()) {
        if (!wait(POLLOUT, timeout_ms))
            throw protocol::ProtocolError(protocol::ExitCode::Timeout,
                                          "io timeout after " + std::to_string(timeout_.count()) +
                                              " seconds -- exiting");
        const ssize_t n = ::send(fd_, out_.data() + done, out_.size() - done, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            throw protocol::ProtocolError(protocol::ExitCode::SocketIo,
                                          std::string("write error: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    written_total_ += out_.size();
    out_.clear();
}

void FdStream::drain(std::chrono::milliseconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !wait(POLLIN, static_cast<int>(left.count())))
            return;
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            return;
    }
}

} // namespace ocr::worker

namespace ocr::worker {

bool FdStream::await_exit_answer(int raw_vstrings, std::chrono::milliseconds limit)
{
    protocol::ExitHandshakeWatcher watch(raw_vstrings);
    if (in_pos_ < in_.size() && watch.feed(std::string_view(in_).substr(in_pos_)))
        return true;
    in_.clear();
    in_pos_ = 0;
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !wait(POLLIN, static_cast<int>(left.count())))
            return false;
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        if (watch.feed(std::string_view(buf, static_cast<std::size_t>(n))))
            return true;
        if (watch.broken())
            return false;
    }
}

} // namespace ocr::worker
