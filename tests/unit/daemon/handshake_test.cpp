// SPDX-License-Identifier: MIT
#include "daemon/handshake.hpp"

#include "protocol/mux.hpp"
#include "support/handshake_fixture.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace ocr::daemon {
namespace {

using Step = HandshakeMachine::Step;

const char* kConfig = R"(motd file = /etc/motd
[pub]
    path = /srv/pub
    comment = Public files
[hidden]
    path = /srv/hidden
    list = no
[a-long-module-name-x]
    path = /srv/long
[denied]
    path = /srv/denied
    hosts deny = 127.0.0.1
[secret]
    path = /srv/secret
    list = no
    hosts allow = 10.0.0.0/8
[one]
    path = /srv/one
    max connections = 1
[auth]
    path = /srv/auth
    auth users = alice
    secrets file = /etc/secrets
[gone]
    path = /missing
[nocompress]
    path = /srv/nc
    refuse options = compress
[upload]
    path = /srv/up
    read only = yes
)";

// A byte string literal with its embedded NULs.
template <std::size_t N>
std::string bytes(const char (&lit)[N])
{
    return std::string(lit, N - 1);
}

struct Session {
    test::FakeHandshakeEnv env;
    HandshakeMachine m;
    std::string out;

    explicit Session(const std::string& config = kConfig, std::uint64_t id = 1)
        : m(test::config_from(config, {{"/etc/motd", "Hello!\n"}, {"/etc/secrets", "alice:pw\n"}}),
            settings(id), env)
    {
        m.start();
        out = m.take_output();
    }
    static HandshakeMachine::Settings settings(std::uint64_t id)
    {
        HandshakeMachine::Settings s;
        s.addr = "127.0.0.1";
        s.host = "localhost";
        s.connection_id = id;
        return s;
    }
    std::string send(std::string_view bytes)
    {
        m.feed(bytes);
        test::settle(m);
        return m.take_output();
    }
};

// Verifies the greeting announces protocol 32 with our digests, followed by the motd and a
// blank line, before the client has said anything.
TEST(Handshake, GreetingAndMotd)
{
    Session s;
    EXPECT_EQ(s.out, "@RSYNCD: 32.0 " + auth_digest_list() + "\nHello!\n\n");
    EXPECT_EQ(s.m.step(), Step::NeedInput);
}

// Verifies the module listing: names padded to 15 then a tab, hidden modules left out,
// long names unpadded, and @RSYNCD: EXIT at the end.
TEST(Handshake, ListingLikeUpstream)
{
    Session s;
    const std::string reply = s.send("@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n\n");
    EXPECT_EQ(reply, "pub            \tPublic files\n"
                     "a-long-module-name-x\t\n"
                     "denied         \t\n"
                     "one            \t\n"
                     "auth           \t\n"
                     "gone           \t\n"
                     "nocompress     \t\n"
                     "upload         \t\n"
                     "@RSYNCD: EXIT\n");
    EXPECT_EQ(s.m.step(), Step::Close);
}

// Verifies that clients below protocol 25 get the listing without the EXIT line, and that
// "#list" asks for a listing too.
TEST(Handshake, OldProtocolListingAndHashList)
{
    Session old;
    const std::string reply = old.send("@RSYNCD: 24\n#list\n");
    EXPECT_EQ(reply.find("@RSYNCD: EXIT"), std::string::npos);
    EXPECT_NE(reply.find("pub            \tPublic files\n"), std::string::npos);
}

// Verifies upstream's greeting errors word for word.
TEST(Handshake, GreetingErrors)
{
    EXPECT_EQ(Session().send("HELLO\n"), "@ERROR: protocol startup error\n");
    EXPECT_EQ(Session().send("@RSYNCD: 31\n"), "@ERROR: your client omitted the subprotocol value: @RSYNCD: 31\n");
    EXPECT_EQ(Session().send("@RSYNCD: 32.0\n"), "@ERROR: your client omitted the digest name list: @RSYNCD: 32.0\n");
    Session ok;
    EXPECT_EQ(ok.send("@RSYNCD: 29\n"), "");
    EXPECT_EQ(ok.m.step(), Step::NeedInput);
}

// Verifies unknown modules and commands, and that a denied client of a hidden module is
// told the module does not exist while a listed one is told access is denied.
TEST(Handshake, UnknownAndDenied)
{
    const std::string greet = "@RSYNCD: 32.0 sha512 md5\n";
    EXPECT_EQ(Session().send(greet + "nope\n"), "@ERROR: Unknown module 'nope'\n");
    EXPECT_EQ(Session().send(greet + "#bogus\n"), "@ERROR: Unknown command '#bogus'\n");
    EXPECT_EQ(Session().send(greet + "denied\n"), "@ERROR: access denied to denied from localhost (127.0.0.1)\n");
    EXPECT_EQ(Session().send(greet + "secret\n"), "@ERROR: Unknown module 'secret'\n");
}

// Verifies that a module's connection limit refuses with upstream's text once its slots
// are taken.
TEST(Handshake, MaxConnections)
{
    Session first;
    EXPECT_EQ(first.send("@RSYNCD: 32.0 md5\none\n"), "@RSYNCD: OK\n");
    ASSERT_TRUE(first.m.claimed_slot().has_value());
    EXPECT_EQ(first.m.claimed_slot()->lock_file, "/var/run/rsyncd.lock");
    EXPECT_EQ(first.m.claimed_slot()->index, 0);
    Session second;
    ASSERT_TRUE(second.env.slots.claim("/var/run/rsyncd.lock", 1).slot.has_value());
    EXPECT_EQ(second.send("@RSYNCD: 32.0 md5\none\n"), "@ERROR: max connections (1) reached -- try again later\n");
    EXPECT_FALSE(second.m.claimed_slot().has_value());
}

// Verifies upstream's refusal when the module's lock file could not be opened: the @ERROR
// line for the client and rsyserr's line, with the path and errno, for the log.
TEST(Handshake, LockFileThatCannotBeOpened)
{
    Session s;
    LockFileTable locks;
    locks["/var/run/rsyncd.lock"] = LockFile{nullptr, EACCES};
    s.env.slots.use_lock_files(std::move(locks));
    EXPECT_EQ(s.send("@RSYNCD: 32.0 md5\none\n"), "@ERROR: failed to open lock file\n");
    EXPECT_FALSE(s.m.claimed_slot().has_value());
    bool logged = false;
    for (const auto& l : s.m.take_log())
        logged = logged || l.text == "rsync: [Receiver] failed to open lock file /var/run/rsyncd.lock: Permission denied (13)";
    EXPECT_TRUE(logged);
}

// Verifies challenge/response: the right password leads to OK, a wrong one to auth failed.
TEST(Handshake, Authentication)
{
    Session good;
    std::string challenge_line = good.send("@RSYNCD: 32.0 sha512 sha256\nauth\n");
    ASSERT_EQ(challenge_line.rfind("@RSYNCD: AUTHREQD ", 0), 0u);
    std::string challenge = challenge_line.substr(18, challenge_line.size() - 19);
    EXPECT_EQ(challenge.size(), 86u); // sha512
    EXPECT_EQ(good.send("alice " + auth_response(AuthDigest::Sha512, "pw", challenge) + "\n"), "@RSYNCD: OK\n");

    Session bad;
    challenge_line = bad.send("@RSYNCD: 32.0 sha512\nauth\n");
    challenge = challenge_line.substr(18, challenge_line.size() - 19);
    EXPECT_EQ(bad.send("alice " + auth_response(AuthDigest::Sha512, "nope", challenge) + "\n"),
              "@ERROR: auth failed on module auth\n");
    EXPECT_EQ(bad.m.step(), Step::Close);
}

// Verifies that a module whose directory is missing is refused before "OK" as upstream does.
TEST(Handshake, ModuleCheckFailure)
{
    EXPECT_EQ(Session().send("@RSYNCD: 32.0 md5\ngone\n"), "@ERROR: chdir failed\n");
}

// Verifies that a complete pull request is handed over with the arguments as received and
// the session's facts.
TEST(Handshake, DispatchesAPull)
{
    Session s;
    EXPECT_EQ(s.send("@RSYNCD: 32.0 md5\npub\n"), "@RSYNCD: OK\n");
    const std::string args = bytes("--server\0--sender\0-vlogDtpre.iLsfxCIvu\0.\0pub/\0\0");
    EXPECT_EQ(s.send(args), "");
    ASSERT_EQ(s.m.step(), Step::Dispatch);
    const SessionDescriptor d = s.m.take_session();
    EXPECT_EQ(d.module, "pub");
    EXPECT_EQ(d.protocol, 32);
    EXPECT_TRUE(d.read_only);
    EXPECT_EQ(d.args, (std::vector<std::string>{"--server", "--sender", "-vlogDtpre.iLsfxCIvu", ".", "pub/"}));
    bool logged = false;
    for (const auto& l : s.m.take_log())
        logged = logged || l.text == "rsync on pub/ from localhost (127.0.0.1)";
    EXPECT_TRUE(logged);
}

// Verifies the refused-option path: setup bytes, then the refusal as MSG_ERROR, then an
// abortive close after upstream's 420 ms, with nothing more for a pulling client.
TEST(Handshake, RefusedOptionEndsLikeUpstream)
{
    Session s;
    s.send("@RSYNCD: 32.0 md5\nnocompress\n");
    const std::string args = bytes("--server\0--sender\0-ze.LsfxCIvu\0.\0nocompress/x\0\0");
    const std::string out = s.send(args);
    ASSERT_EQ(s.m.step(), Step::Close);
    const std::string text = "rsync: The server is configured to refuse --compress (-z)\n";
    ASSERT_GE(out.size(), text.size() + 4);
    EXPECT_EQ(out.substr(out.size() - text.size() - 4),
              protocol::encode_frame(protocol::MsgCode::Error, text));
    EXPECT_EQ(s.m.close_action().wait_before.count(), 420);
    EXPECT_TRUE(s.m.close_action().late_output.empty());
    EXPECT_TRUE(s.m.close_action().abandon_input);
}

// Verifies that a push to a read-only module is refused after setup with upstream's lines.
TEST(Handshake, PushToReadOnlyModule)
{
    Session s;
    s.send("@RSYNCD: 31.0 md5\nupload\n");
    const std::string args = bytes("--server\0-logDtpre.iLsfxCIvu\0.\0upload/\0\0");
    const std::string out = s.send(args);
    ASSERT_EQ(s.m.step(), Step::Close);
    EXPECT_NE(out.find("ERROR: module is read only\n"), std::string::npos);
    EXPECT_NE(out.find("rsync error: syntax or usage error (code 1) at main.c(1185) [Receiver=3.5.0]\n"),
              std::string::npos);
    EXPECT_TRUE(s.m.close_action().abandon_input);
}

// Verifies the bounds on peer lines: a NUL or an over-long line closes silently.
TEST(Handshake, HostileLines)
{
    Session nul;
    EXPECT_EQ(nul.send(bytes("@RSYNCD: 32.0 md5\0\n")), "");
    EXPECT_EQ(nul.m.step(), Step::Close);
    Session longline;
    EXPECT_EQ(longline.send(std::string(2000, 'x')), "");
    EXPECT_EQ(longline.m.step(), Step::Close);
    Session early;
    EXPECT_EQ(early.send("@RSYNCD: 32.0 md5\n#early_input=99999\n"), "@ERROR: invalid early_input length\n");
}

// Verifies that early input is read as raw bytes (newlines included) before the module line.
TEST(Handshake, EarlyInput)
{
    Session s;
    EXPECT_EQ(s.send("@RSYNCD: 32.0 md5\n#early_input=5\na\nb\n\npub\n"), "@RSYNCD: OK\n");
}

// Verifies that the handshake deadline is re-armed once the module is known, using the
// module's timeout when it is shorter.
TEST(Handshake, DeadlinePhases)
{
    Session s(std::string("[m]\n path = /srv/m\n timeout = 7\n"));
    EXPECT_EQ(s.m.deadline_seconds(), 60);
    const unsigned before = s.m.deadline_serial();
    s.send("@RSYNCD: 32.0 md5\nm\n");
    EXPECT_GT(s.m.deadline_serial(), before);
    EXPECT_EQ(s.m.deadline_seconds(), 7);
}

} // namespace
} // namespace ocr::daemon
