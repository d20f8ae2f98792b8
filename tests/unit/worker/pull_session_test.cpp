// SPDX-License-Identifier: MIT
// pull_error_site: the "at FILE(LINE)" a pull's fatal errors report when the code that
// raised them named no upstream site.
#include "worker/pull_session.hpp"

#include "protocol/exit_code.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ocr::worker {
namespace {

using protocol::ExitCode;

std::string where(ExitCode code, std::string_view message)
{
    const daemon::UpstreamSite s = pull_error_site(protocol::to_int(code), message);
    return std::string(s.file) + "(" + std::to_string(s.line) + ")";
}

// Verifies the sites of io.c:read_sum_head's checks and read_ndx's overflow check, told
// apart by their texts (all are RERR_PROTOCOL).
TEST(PullErrorSite, ProtocolErrorsByText)
{
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid checksum count -1 [sender]"), "io.c(2202)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid block length 999999999 [sender]"), "io.c(2223)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid zero block length [sender]"), "io.c(2228)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid checksum length 99 [sender]"), "io.c(2244)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid remainder length 5 [sender]"), "io.c(2250)");
    EXPECT_EQ(where(ExitCode::Protocol, "Invalid file index: 2147483648 [sender]"), "io.c(2585)");
    // Not the daemon-argument reader's "too many daemon arguments" site.
    EXPECT_NE(where(ExitCode::Protocol, "something else"), "io.c(1479)");
}

// Verifies the log formatter's two texts and the per-code fallbacks.
TEST(PullErrorSite, OtherCodes)
{
    EXPECT_EQ(where(ExitCode::MessageIo, "log-format string is WAY too long!"), "log.c(553)");
    EXPECT_EQ(where(ExitCode::MessageIo, "buffer overflow expanding %f -- exiting"), "log.c(807)");
    EXPECT_EQ(where(ExitCode::FileIo, ""), "sender.c(733)");
    EXPECT_EQ(where(ExitCode::Syntax, "found \"..\" dir in relative path: a/../b"), "flist.c(2665)");
    // A text of one code does not pick the site of another.
    EXPECT_EQ(where(ExitCode::FileIo, "Invalid checksum count -1 [sender]"), "sender.c(733)");
}

} // namespace
} // namespace ocr::worker
