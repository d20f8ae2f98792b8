// SPDX-License-Identifier: MIT
#include "daemon/session_descriptor.hpp"

#include <gtest/gtest.h>

namespace ocr::daemon {
namespace {

// Verifies that every field survives encoding, including empty and binary strings.
TEST(SessionDescriptor, RoundTrip)
{
    SessionDescriptor s;
    s.config_generation = 7;
    s.connection_id = 42;
    s.module = "mirror";
    s.auth_user = "alice";
    s.read_only = false;
    s.protocol = 31;
    s.remote_protocol = 32;
    s.addr = "::1";
    s.host = "localhost";
    s.args = {"--server", "--sender", "-logDtpre.iLsfxCIvu", ".", "mirror/", ""};
    s.secluded_args = {"rsync", std::string("a\0b", 3)};
    s.early_input = std::string("\x00\xff", 2);
    s.pending_input = std::string("\x1d\x00\x00\x07rest", 8);
    s.handshake_deadline_ms = 123456;
    auto d = decode_session(encode_session(s));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->config_generation, 7u);
    EXPECT_EQ(d->connection_id, 42u);
    EXPECT_EQ(d->module, "mirror");
    EXPECT_EQ(d->auth_user, "alice");
    EXPECT_FALSE(d->read_only);
    EXPECT_EQ(d->protocol, 31);
    EXPECT_EQ(d->remote_protocol, 32);
    EXPECT_EQ(d->addr, "::1");
    EXPECT_EQ(d->host, "localhost");
    EXPECT_EQ(d->args, s.args);
    EXPECT_EQ(d->secluded_args, s.secluded_args);
    EXPECT_EQ(d->early_input, s.early_input);
    EXPECT_EQ(d->pending_input, s.pending_input);
    EXPECT_EQ(d->handshake_deadline_ms, 123456);
}

// Verifies that a descriptor with a missing field or a truncated tail is refused.
TEST(SessionDescriptor, RejectsIncomplete)
{
    SessionDescriptor s;
    s.module = "m";
    const std::string bytes = encode_session(s);
    EXPECT_FALSE(decode_session(bytes.substr(0, bytes.size() - 3)));
    EXPECT_FALSE(decode_session(""));
}

} // namespace
} // namespace ocr::daemon
