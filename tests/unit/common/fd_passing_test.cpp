// SPDX-License-Identifier: MIT
#include "common/fd_passing.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

namespace ocr {
namespace {

// Verifies that a message and a descriptor arrive together and the descriptor works.
TEST(FdPassing, MessageWithDescriptor)
{
    auto [a, b] = make_seqpacket_pair();
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    UniqueFd rd(pipefd[0]), wr(pipefd[1]);
    ASSERT_EQ(send_with_fds(a.get(), "session", {rd.get()}), 0);
    int err = -1;
    auto msg = recv_with_fds(b.get(), err);
    ASSERT_TRUE(msg);
    EXPECT_EQ(err, 0);
    EXPECT_EQ(msg->bytes, "session");
    ASSERT_EQ(msg->fds.size(), 1u);
    ASSERT_EQ(::write(wr.get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(msg->fds[0].get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
    EXPECT_TRUE(::fcntl(msg->fds[0].get(), F_GETFD) & FD_CLOEXEC);
}

// Verifies that closing the peer reads as end of stream and oversized sends are refused.
TEST(FdPassing, EndOfStreamAndLimits)
{
    auto [a, b] = make_seqpacket_pair();
    EXPECT_EQ(send_with_fds(a.get(), std::string(kMaxIpcMessage + 1, 'x'), {}), EMSGSIZE);
    a.reset();
    int err = -1;
    EXPECT_FALSE(recv_with_fds(b.get(), err));
    EXPECT_EQ(err, 0);
}

} // namespace
} // namespace ocr
