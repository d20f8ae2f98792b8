// SPDX-License-Identifier: MIT
#include "common/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace ocr {

std::pair<UniqueFd, UniqueFd> make_seqpacket_pair()
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::system_error(errno, std::system_category(), "socketpair");
    return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

int send_with_fds(int sock, std::string_view bytes, const std::vector<int>& fds)
{
    if (fds.size() > kMaxIpcFds || bytes.size() > kMaxIpcMessage)
        return EMSGSIZE;
    // A zero-length SEQPACKET message is indistinguishable from end of stream.
    char filler = 0;
    iovec iov{};
    iov.iov_base = bytes.empty() ? &filler : const_cast<char*>(bytes.data());
    iov.iov_len = bytes.empty() ? 1 : bytes.size();
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxIpcFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        std::memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

std::optional<IpcMessage> recv_with_fds(int sock, int& err)
{
    err = 0;
    IpcMessage out;
    out.bytes.resize(kMaxIpcMessage);
    iovec iov{out.bytes.data(), out.bytes.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxIpcFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        err = errno;
        return std::nullopt;
    }
    // Take ownership of every descriptor first so none leaks on the error paths below.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            out.fds.emplace_back(fd);
        }
    }
    if (n == 0)
        return std::nullopt;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        err = EMSGSIZE;
        return std::nullopt;
    }
    out.bytes.resize(static_cast<std::size_t>(n));
    return out;
}

} // namespace ocr
