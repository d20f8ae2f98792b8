// SPDX-License-Identifier: MIT
#include "common/tcp_ack.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace ocr {

bool acknowledge_received(int fd) noexcept
{
    // Setting TCP_QUICKACK sends an ACK that is scheduled but delayed (Linux
    // tcp_sock_set_quickack); it is not sticky, which is why callers repeat it.
    const int on = 1;
    return ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on) == 0;
}

} // namespace ocr
