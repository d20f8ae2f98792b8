// SPDX-License-Identifier: MIT
#include "common/tcp_ack.hpp"

#include "common/unique_fd.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace ocr {
namespace {

using namespace std::chrono_literals;

struct TcpPair {
    UniqueFd sender;   ///< writes the small pieces
    UniqueFd receiver; ///< the side that owes the ACK
};

TcpPair connect_loopback()
{
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(listener.valid());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    EXPECT_EQ(::listen(listener.get(), 1), 0);
    TcpPair p;
    p.sender = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::connect(p.sender.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    p.receiver = UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(p.receiver.valid());
    return p;
}

unsigned unacked_segments(int fd)
{
    tcp_info info{};
    socklen_t len = sizeof info;
    EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
    return info.tcpi_unacked;
}

void exchange_byte(int from, int to)
{
    char c = 'x';
    ASSERT_EQ(::write(from, &c, 1), 1);
    ASSERT_EQ(::read(to, &c, 1), 1);
}

/// The state the daemon meets: an interactive connection (so the kernel delays ACKs) whose
/// peer has just sent a byte we read and did not answer. Returns false when this attempt
/// did not reach that state (the machine stalled past the delayed-ACK timer).
bool reach_pending_ack(TcpPair& p)
{
    for (int i = 0; i < 4; ++i) {
        exchange_byte(p.sender.get(), p.receiver.get());
        exchange_byte(p.receiver.get(), p.sender.get());
    }
    exchange_byte(p.sender.get(), p.receiver.get());
    std::this_thread::sleep_for(2ms);
    return unacked_segments(p.sender.get()) == 1;
}

bool acked_within(int fd, std::chrono::milliseconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (unacked_segments(fd) == 0)
            return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// Verifies that the ACK a Nagle-bound peer waits for leaves at once rather than after the
// kernel's delayed-ACK time (40 ms), and that without the call it is indeed held back.
TEST(TcpAck, PendingAckIsSentAtOnce)
{
    int held_back = 0;
    int sent_at_once = 0;
    for (int attempt = 0; attempt < 5 && (held_back == 0 || sent_at_once == 0); ++attempt) {
        TcpPair without = connect_loopback();
        if (reach_pending_ack(without) && !acked_within(without.sender.get(), 10ms))
            ++held_back;
        TcpPair with = connect_loopback();
        if (!reach_pending_ack(with))
            continue;
        EXPECT_TRUE(acknowledge_received(with.receiver.get()));
        if (acked_within(with.sender.get(), 10ms))
            ++sent_at_once;
    }
    EXPECT_GT(held_back, 0) << "the kernel never delayed the ACK: the test proves nothing";
    EXPECT_GT(sent_at_once, 0) << "acknowledge_received did not send the pending ACK";
}

// Verifies that a stream that is not TCP is reported, so callers stop asking.
TEST(TcpAck, NotTcpIsReported)
{
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd a(sv[0]), b(sv[1]);
    EXPECT_FALSE(acknowledge_received(a.get()));
}

} // namespace
} // namespace ocr
