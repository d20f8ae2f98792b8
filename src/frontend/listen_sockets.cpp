// SPDX-License-Identifier: MIT
#include "frontend/listen_sockets.hpp"

#include "common/strings.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

namespace ocr::frontend {
namespace {

std::string endpoint_text(const sockaddr* sa, socklen_t len)
{
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (::getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return "?";
    if (sa->sa_family == AF_INET6)
        return std::string("[") + host + "]:" + serv;
    return std::string(host) + ":" + serv;
}

struct SockOpt {
    const char* name;
    int level;
    int option;
    /// Non-zero: the option is set to this fixed value and takes none (upstream OPT_ON);
    /// zero: it takes "=N", 1 when none is given (OPT_BOOL, OPT_INT).
    int fixed_value;
};

// The options upstream's socket.c socket_options[] table knows about on Linux.
const SockOpt kSockOpts[] = {
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 0},
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 0},
    {"SO_BROADCAST", SOL_SOCKET, SO_BROADCAST, 0},
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 0},
    {"IPTOS_LOWDELAY", IPPROTO_IP, IP_TOS, IPTOS_LOWDELAY},
    {"IPTOS_THROUGHPUT", IPPROTO_IP, IP_TOS, IPTOS_THROUGHPUT},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 0},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 0},
    {"SO_SNDLOWAT", SOL_SOCKET, SO_SNDLOWAT, 0},
    {"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 0},
    {"SO_SNDTIMEO", SOL_SOCKET, SO_SNDTIMEO, 0},
    {"SO_RCVTIMEO", SOL_SOCKET, SO_RCVTIMEO, 0},
};

} // namespace

std::vector<ListenSocket> open_listen_sockets(const ListenSpec& spec)
{
    addrinfo hints{};
    hints.ai_family = spec.family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(spec.port);
    const char* node = spec.address && !spec.address->empty() ? spec.address->c_str() : nullptr;
    if (int rc = ::getaddrinfo(node, port.c_str(), &hints, &res); rc != 0)
        throw std::runtime_error(std::string("getaddrinfo: bind address ") + (node ? node : "") +
                                 ": " + ::gai_strerror(rc));
    std::vector<ListenSocket> out;
    std::string failures;
    // A backlog above net.core.somaxconn is silently capped by the kernel to its maximum.
    const int backlog = spec.backlog > 0 ? spec.backlog : INT_MAX;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd) {
            failures += std::string(" socket: ") + std::strerror(errno) + ";";
            continue;
        }
        int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        const std::string where = endpoint_text(ai->ai_addr, ai->ai_addrlen);
        if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
            failures += " bind " + where + ": " + std::strerror(errno) + ";";
            continue;
        }
        if (::listen(fd.get(), backlog) != 0) {
            failures += " listen " + where + ": " + std::strerror(errno) + ";";
            continue;
        }
        out.push_back(ListenSocket{std::move(fd), where});
    }
    ::freeaddrinfo(res);
    if (out.empty())
        throw std::runtime_error("unable to bind any inbound sockets on port " + port + ":" + failures);
    return out;
}

std::vector<std::string> apply_socket_options(int fd, const std::string& options)
{
    // Upstream: socket.c:set_socket_options, including the text of each complaint.
    std::vector<std::string> problems;
    for (std::string token : split_ws(options)) {
        for (const std::string& item : split(token, ',')) {
            if (item.empty())
                continue;
            std::string name = item;
            int value = 1;
            bool has_value = false;
            if (auto eq = item.find('='); eq != std::string::npos) {
                name = item.substr(0, eq);
                value = static_cast<int>(atoi_like(item.substr(eq + 1)));
                has_value = true;
            }
            const SockOpt* found = nullptr;
            for (const auto& o : kSockOpts)
                if (name == o.name)
                    found = &o;
            if (!found) {
                problems.push_back("Unknown socket option " + name);
                continue;
            }
            if (found->fixed_value != 0) {
                if (has_value)
                    problems.push_back("syntax error -- " + name + " does not take a value");
                value = found->fixed_value;
            }
            if (::setsockopt(fd, found->level, found->option, &value, sizeof value) != 0)
                problems.push_back("failed to set socket option " + name + ": " + std::strerror(errno) + " (" +
                                   std::to_string(errno) + ")");
        }
    }
    return problems;
}

} // namespace ocr::frontend
