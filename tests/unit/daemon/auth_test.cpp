// SPDX-License-Identifier: MIT
// Tests of daemon auth: digest negotiation, floors, challenges, responses and reply checks.
#include "daemon/auth.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace ocr::daemon {
namespace {

// Captured from the stock rsync 3.5.0 client talking to a fake daemon
// (tests/data/auth/capture_client_responses.py): the client's reply for a password and
// challenge under the digest its greeting negotiation picked.
struct CapturedVector {
    AuthDigest digest;
    const char* password;
    const char* challenge;
    const char* response;
};

const CapturedVector kCaptured[] = {
    {AuthDigest::Sha512, "correct horse",
     "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo",
     "3SHmT6w54AvgmYjoIe+u1S0V0hoUdm8ntOWaUpnIwgi3TXHliCN8JWNP4q9EBrJfpIG9JQtdJ8lAvyF9hQNzZA"},
    {AuthDigest::Sha512, "",
     "dGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY+uCu3ZR1zTOlUcR64",
     "dzvNp1FccFAQGXkmcaYxAoVcPcaPI0rMbNopnSlNYpduVJzOvcYH6JNPmzbTNbTigjdspgZYoTYhdMl+RVvStg"},
    {AuthDigest::Sha256, "p\xc3\xa4ssw\xc3\xb6rd", "/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+xHKas1VOqg6YYZ",
     "7pXujQct11qfMVGDE2FeKbuhzpc0Do+aJXKDeFNhzF8"},
    {AuthDigest::Sha1, "x", "Yn9ZhyiA4uoRgnatmUdjAWtGSU8", "UEdjflsv/MOGotsqxZhmg6jXjFs"},
    {AuthDigest::Md5, "rsync-backup-2024", "po+799NksnRH9ucAUsdMlH", "XLyBaCzF5i+nMzB7QhnRwQ"},
    // "md4" negotiated by name (greeting list "md4"): plain MD4.
    {AuthDigest::Md4, "hunter2", "Qm9vdHN0cmFwQ2hhbGxlbm", "I+Vgk4z4RaQmor3pw+pIhg"},
    // --protocol=29 against a greeting without a list: MD4 seeded with four zero bytes.
    {AuthDigest::Md4Old, "hunter2", "Qm9vdHN0cmFwQ2hhbGxlbm", "0G8xkJM/zk4b48VtBfgYzw"},
    // --protocol=30 against a greeting without a list: implied md5.
    {AuthDigest::Md5, "hunter2", "Y7Zkuvqdt7s8Stqcbnr3yB", "JI7Wr8UGUE5bI04EiwslBA"},
};

std::optional<AuthDigest> pick(const std::optional<std::string>& list, int protocol)
{
    return negotiate_auth_digest(list, protocol).digest;
}

// Verifies that the greeting advertises every digest, strongest first, as 3.5.0 does.
TEST(AuthDigestNegotiation, GreetingList)
{
    EXPECT_EQ(auth_digest_list(), "sha512 sha256 sha1 md5 md4");
}

// Verifies that the daemon prefers its own order over the client's, whatever the protocol.
TEST(AuthDigestNegotiation, DaemonOrderWins)
{
    EXPECT_EQ(pick("sha512 sha256 sha1 md5 md4", 32), AuthDigest::Sha512);
    EXPECT_EQ(pick("md4 md5 sha1", 32), AuthDigest::Sha1);
    EXPECT_EQ(pick("md5 sha256", 31), AuthDigest::Sha256);
    EXPECT_EQ(pick("md5", 32), AuthDigest::Md5);
    EXPECT_EQ(pick("unknown md5 other", 32), AuthDigest::Md5);
    // A list sent with an old protocol is still used as a list.
    EXPECT_EQ(pick("sha1 md5", 29), AuthDigest::Sha1);
}

// Verifies that names are case-insensitive, only spaces separate them, and a named "md4"
// is the plain (unseeded) form even below protocol 30.
TEST(AuthDigestNegotiation, NameParsing)
{
    EXPECT_EQ(pick("SHA256 Md5", 32), AuthDigest::Sha256);
    EXPECT_EQ(pick("   md5   ", 32), AuthDigest::Md5);
    EXPECT_EQ(pick("md4", 32), AuthDigest::Md4);
    EXPECT_EQ(pick("md4", 29), AuthDigest::Md4);
    EXPECT_FALSE(pick("sha512\tmd5", 32));
    EXPECT_FALSE(pick("sha512,md5", 32));
    EXPECT_FALSE(pick("sha5120", 32));
}

// Verifies the implied digest when the client sent no list: md5 from protocol 30 on, the
// old seeded MD4 below.
TEST(AuthDigestNegotiation, ImpliedDigestWithoutList)
{
    EXPECT_EQ(pick(std::nullopt, 32), AuthDigest::Md5);
    EXPECT_EQ(pick(std::nullopt, 31), AuthDigest::Md5);
    EXPECT_EQ(pick(std::nullopt, 30), AuthDigest::Md5);
    EXPECT_EQ(pick(std::nullopt, 29), AuthDigest::Md4Old);
    EXPECT_EQ(pick(std::nullopt, 27), AuthDigest::Md4Old);
}

// Verifies the exact error line for a list with nothing we support, including an empty
// list (a greeting with a trailing space).
TEST(AuthDigestNegotiation, NothingSupportedGivesErrorLine)
{
    for (const char* list : {"xxh128 blake2", "", "   "}) {
        const DigestNegotiation n = negotiate_auth_digest(std::string(list), 32);
        EXPECT_FALSE(n.digest) << list;
        EXPECT_EQ(n.error_line, "@ERROR: your client does not support one of our daemon-auth "
                                "checksums: sha512 sha256 sha1 md5 md4")
            << list;
    }
    EXPECT_TRUE(negotiate_auth_digest(std::string("md5"), 32).error_line.empty());
}

// Verifies that only the first 255 bytes of the client's list are considered, as in
// upstream's fixed buffer.
TEST(AuthDigestNegotiation, ListTruncatedAt255Bytes)
{
    EXPECT_EQ(pick(std::string(251, 'x') + " md5", 32), AuthDigest::Md5);
    EXPECT_FALSE(pick(std::string(252, 'x') + " md5", 32));
    EXPECT_EQ(pick(std::string("md5") + std::string(1, '\0') + " sha512", 32), AuthDigest::Md5);
}

// Verifies that without OpenSSL's legacy provider (no MD4) "md4" is neither advertised
// nor negotiated, so an old client without a list gets the error line. Runs in a
// re-executed child so that the provider setup happens under the changed module path.
TEST(AuthDigestNegotiationDeathTest, WithoutMd4)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ::setenv("OPENSSL_MODULES", "/nonexistent-ocr-openssl-modules", 1);
    EXPECT_EXIT(
        {
            const DigestNegotiation old = negotiate_auth_digest(std::nullopt, 29);
            const bool ok =
                auth_digest_list() == "sha512 sha256 sha1 md5" && !old.digest &&
                old.error_line == "@ERROR: your client does not support one of our "
                                  "daemon-auth checksums: sha512 sha256 sha1 md5" &&
                pick("md4 md5", 32) == AuthDigest::Md5 && pick(std::nullopt, 30) == AuthDigest::Md5;
            std::_Exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
    ::unsetenv("OPENSSL_MODULES");
}

// Verifies that auth is required exactly when "auth users" is non-empty.
TEST(AuthDigestNegotiation, AuthRequired)
{
    EXPECT_FALSE(auth_required(""));
    EXPECT_TRUE(auth_required("alice"));
    EXPECT_TRUE(auth_required(" "));
}

// Verifies names and lengths of each digest, the old MD4 being called "md4" too.
TEST(AuthDigest, NamesAndLengths)
{
    EXPECT_EQ(auth_digest_name(AuthDigest::Sha512), "sha512");
    EXPECT_EQ(auth_digest_name(AuthDigest::Sha256), "sha256");
    EXPECT_EQ(auth_digest_name(AuthDigest::Sha1), "sha1");
    EXPECT_EQ(auth_digest_name(AuthDigest::Md5), "md5");
    EXPECT_EQ(auth_digest_name(AuthDigest::Md4), "md4");
    EXPECT_EQ(auth_digest_name(AuthDigest::Md4Old), "md4");
    EXPECT_EQ(auth_digest_length(AuthDigest::Sha512), 64u);
    EXPECT_EQ(auth_digest_length(AuthDigest::Sha1), 20u);
    EXPECT_EQ(auth_digest_length(AuthDigest::Md4Old), 16u);
    EXPECT_EQ(auth_digest_rank("sha512"), 0);
    EXPECT_EQ(auth_digest_rank("SHA1"), 2);
    EXPECT_EQ(auth_digest_rank("md4"), 4);
    EXPECT_EQ(auth_digest_rank("md4_old"), -1);
    EXPECT_EQ(auth_digest_rank(""), -1);
}

// Verifies the "auth digest" floor: accepted at or above the floor, both upstream log
// texts otherwise, and an unknown floor name refusing everything.
TEST(AuthDigestFloor, RankCheckAndLogTexts)
{
    EXPECT_FALSE(check_auth_digest_floor("mod", "h", "1.2.3.4", "", AuthDigest::Md4Old));
    EXPECT_FALSE(check_auth_digest_floor("mod", "h", "1.2.3.4", "sha256", AuthDigest::Sha512));
    EXPECT_FALSE(check_auth_digest_floor("mod", "h", "1.2.3.4", "sha256", AuthDigest::Sha256));
    EXPECT_FALSE(check_auth_digest_floor("mod", "h", "1.2.3.4", "md4", AuthDigest::Md4Old));
    EXPECT_FALSE(check_auth_digest_floor("mod", "h", "1.2.3.4", "MD5", AuthDigest::Md5));

    EXPECT_EQ(check_auth_digest_floor("mod", "host.example", "192.0.2.7", "sha256",
                                      AuthDigest::Sha1),
              "auth failed on module mod from host.example (192.0.2.7): negotiated auth digest "
              "sha1 is weaker than the required 'auth digest = sha256'");
    EXPECT_EQ(check_auth_digest_floor("mod", "h", "a", "SHA1", AuthDigest::Md4Old),
              "auth failed on module mod from h (a): negotiated auth digest md4 is weaker than "
              "the required 'auth digest = SHA1'");
    EXPECT_EQ(check_auth_digest_floor("mod", "h", "a", "blake3", AuthDigest::Sha512),
              "auth failed on module mod from h (a): the configured 'auth digest = blake3' is "
              "not a supported digest on this build");
}

// Verifies challenge length and alphabet per digest, and that challenges are fresh.
TEST(AuthChallenge, LengthCharsetAndFreshness)
{
    const std::map<AuthDigest, std::size_t> lengths = {
        {AuthDigest::Sha512, 86}, {AuthDigest::Sha256, 43}, {AuthDigest::Sha1, 27},
        {AuthDigest::Md5, 22},    {AuthDigest::Md4, 22},    {AuthDigest::Md4Old, 22}};
    const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (const auto& [digest, length] : lengths) {
        std::set<std::string> seen;
        for (int i = 0; i < 20; ++i) {
            const std::string c = make_auth_challenge(digest, "2001:db8::1234:5678:9abc");
            EXPECT_EQ(c.size(), length);
            EXPECT_EQ(c.find_first_not_of(alphabet), std::string::npos) << c;
            seen.insert(c);
        }
        EXPECT_EQ(seen.size(), 20u) << auth_digest_name(digest);
    }
}

// Verifies our responses against those the stock rsync client produced for every digest,
// including the seeded protocol-29 MD4.
TEST(AuthResponse, MatchesCapturedClientVectors)
{
    for (const CapturedVector& v : kCaptured)
        EXPECT_EQ(auth_response(v.digest, v.password, v.challenge), v.response)
            << auth_digest_name(v.digest) << " " << v.challenge;
    // The seeded and the plain MD4 must differ for the same input.
    EXPECT_NE(auth_response(AuthDigest::Md4, "hunter2", "Qm9vdHN0cmFwQ2hhbGxlbm"),
              auth_response(AuthDigest::Md4Old, "hunter2", "Qm9vdHN0cmFwQ2hhbGxlbm"));
}

// Verifies that wipe_secret clears the string.
TEST(AuthResponse, WipeSecretClears)
{
    std::string s = "secret";
    wipe_secret(s);
    EXPECT_TRUE(s.empty());
}

class FakeGroups final : public GroupLookup {
public:
    std::map<std::string, std::vector<std::string>> members;
    int calls = 0;
    std::optional<std::vector<std::string>> groups_of_user(std::string_view user) override
    {
        ++calls;
        const auto it = members.find(std::string(user));
        if (it == members.end())
            return std::nullopt;
        return it->second;
    }
};

class AuthReply : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/auth/secrets.txt",
                         std::ios::binary);
        ASSERT_TRUE(in) << "missing tests/data/auth/secrets.txt";
        secrets_.contents.assign(std::istreambuf_iterator<char>(in), {});
        secrets_.mode = 0100600;
        secrets_.uid = 0;
        input_.module_name = "backup";
        input_.auth_users = "alice erin bob carol:ro dave:rw mallory:deny @staff @ops:rw *";
        input_.secrets_file_path = "/etc/rsyncd.secrets";
        input_.secrets = &secrets_;
        input_.strict_modes = true;
        input_.daemon_is_root = true;
        input_.host = "client.example";
        input_.addr = "192.0.2.7";
        groups_.members["frank"] = {"users", "staff"};
        groups_.members["gina"] = {"ops"};
    }

    AuthResult check(AuthDigest d, const std::string& challenge, const std::string& reply)
    {
        return check_auth_reply(input_, d, challenge, reply, groups_);
    }

    std::string failed(const std::string& user, const std::string& why) const
    {
        return "auth failed on module backup from client.example (192.0.2.7) for " + user +
               ": " + why;
    }

    SecretsFile secrets_;
    AuthCheckInput input_;
    FakeGroups groups_;
};

// Verifies a successful login with the reply the stock client sent (sha512).
TEST_F(AuthReply, AcceptsCapturedClientReply)
{
    const CapturedVector& v = kCaptured[0];
    const AuthResult r = check(v.digest, v.challenge, std::string("alice ") + v.response);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.user, "alice");
    EXPECT_EQ(r.access, 0);
    EXPECT_TRUE(r.log_lines.empty());
}

// Verifies the protocol-29 (seeded MD4) and md5 captured replies for another user.
TEST_F(AuthReply, AcceptsOldProtocolReplies)
{
    EXPECT_TRUE(check(AuthDigest::Md4Old, "Qm9vdHN0cmFwQ2hhbGxlbm", "erin 0G8xkJM/zk4b48VtBfgYzw").ok);
    EXPECT_FALSE(check(AuthDigest::Md4, "Qm9vdHN0cmFwQ2hhbGxlbm", "erin 0G8xkJM/zk4b48VtBfgYzw").ok);
    EXPECT_TRUE(check(AuthDigest::Md5, "Y7Zkuvqdt7s8Stqcbnr3yB", "erin JI7Wr8UGUE5bI04EiwslBA").ok);
}

// Verifies the password-mismatch log line and that the response is compared whole.
TEST_F(AuthReply, WrongResponseIsPasswordMismatch)
{
    const CapturedVector& v = kCaptured[0];
    AuthResult r = check(v.digest, v.challenge, std::string("alice ") + v.response + "x");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.user, "alice");
    EXPECT_EQ(r.log_lines, std::vector<std::string>{failed("alice", "password mismatch")});
    r = check(v.digest, v.challenge, std::string("alice  ") + v.response);
    EXPECT_FALSE(r.ok);
    r = check(v.digest, "other challenge", std::string("alice ") + v.response);
    EXPECT_FALSE(r.ok);
}

// Verifies that a reply without a space, an empty reply (connection closed), a NUL or an
// overlong line are an invalid challenge response, logged without a user.
TEST_F(AuthReply, MalformedReplies)
{
    const std::string invalid =
        "auth failed on module backup from client.example (192.0.2.7): invalid challenge response";
    for (const std::string& reply :
         {std::string("alice"), std::string(""), std::string("alice\0 x", 8),
          std::string("alice ") + std::string(kAuthReplyMaxChars - 5, 'A')}) {
        const AuthResult r = check(AuthDigest::Md5, "c", reply);
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.user, "");
        EXPECT_EQ(r.log_lines, std::vector<std::string>{invalid});
    }
    // One character less is within upstream's buffer: it gets as far as the password check.
    const AuthResult r =
        check(AuthDigest::Md5, "c", "alice " + std::string(kAuthReplyMaxChars - 6, 'A'));
    EXPECT_EQ(r.log_lines, std::vector<std::string>{failed("alice", "password mismatch")});
}

// Verifies that CRs vanish and anything after an LF is ignored, as the line reader does.
TEST_F(AuthReply, CarriageReturnsAndLineEnd)
{
    const CapturedVector& v = kCaptured[4];
    EXPECT_TRUE(check(v.digest, v.challenge, std::string("car\rol ") + v.response + "\r").ok);
    EXPECT_TRUE(check(v.digest, v.challenge, std::string("carol ") + v.response + "\nrest").ok);
}

// Verifies the :ro / :rw access overrides and the :deny rule.
TEST_F(AuthReply, RuleOptions)
{
    const CapturedVector& md5 = kCaptured[4];
    AuthResult r = check(md5.digest, md5.challenge, std::string("carol ") + md5.response);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.access, 'r');

    const CapturedVector& sha256 = kCaptured[2];
    r = check(sha256.digest, sha256.challenge, std::string("dave ") + sha256.response);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.access, 'w');

    r = check(AuthDigest::Md5, "c", "mallory whatever");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.user, "mallory");
    EXPECT_EQ(r.log_lines, std::vector<std::string>{failed("mallory", "denied by rule")});
}

// Verifies "no matching rule" when no rule matches, and "secret not found" when a rule
// matches but the file has no line for the user.
TEST_F(AuthReply, NoRuleAndNoSecret)
{
    input_.auth_users = "alice";
    AuthResult r = check(AuthDigest::Md5, "c", "zed abc");
    EXPECT_EQ(r.log_lines, std::vector<std::string>{failed("zed", "no matching rule")});
    input_.auth_users = "z*";
    r = check(AuthDigest::Md5, "c", "zed abc");
    EXPECT_EQ(r.log_lines, std::vector<std::string>{failed("zed", "secret not found")});
}

// Verifies that a user matched through "@group" may use the group's password line, and
// the group's first matching name is the one looked up in the secrets file.
TEST_F(AuthReply, GroupRuleUsesGroupSecret)
{
    const CapturedVector& sha1 = kCaptured[3]; // password "x" = the @staff line
    AuthResult r = check(sha1.digest, sha1.challenge, std::string("frank ") + sha1.response);
    EXPECT_TRUE(r.ok) << (r.log_lines.empty() ? "" : r.log_lines.back());
    EXPECT_EQ(r.access, 0);

    const CapturedVector& md5 = kCaptured[4]; // password of the @ops line
    r = check(md5.digest, md5.challenge, std::string("gina ") + md5.response);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.access, 'w');

    // Matched by a user rule, so no group is known and the @staff line is not consulted.
    input_.auth_users = "frank";
    r = check(sha1.digest, sha1.challenge, std::string("frank ") + sha1.response);
    EXPECT_EQ(r.log_lines, std::vector<std::string>{failed("frank", "secret not found")});
}

// Verifies both strict-modes refusals with their two log lines, and that turning strict
// modes off accepts the same file.
TEST_F(AuthReply, StrictModes)
{
    const CapturedVector& v = kCaptured[0];
    const std::string reply = std::string("alice ") + v.response;
    secrets_.mode = 0100604;
    AuthResult r = check(v.digest, v.challenge, reply);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.log_lines,
              (std::vector<std::string>{
                  "secrets file must not be other-accessible (see strict modes option)",
                  failed("alice", "ignoring secrets file")}));

    secrets_.mode = 0100640;
    secrets_.uid = 1000;
    r = check(v.digest, v.challenge, reply);
    EXPECT_EQ(r.log_lines,
              (std::vector<std::string>{
                  "secrets file must be owned by root when running as root (see strict modes)",
                  failed("alice", "ignoring secrets file")}));

    input_.daemon_is_root = false;
    EXPECT_TRUE(check(v.digest, v.challenge, reply).ok);

    secrets_.mode = 0100666;
    input_.strict_modes = false;
    EXPECT_TRUE(check(v.digest, v.challenge, reply).ok);
}

// Verifies "no secrets file" for a missing path or an unreadable file, and "invalid
// username" for a name that could select a comment line.
TEST_F(AuthReply, SecretsFileProblemsAndCommentUser)
{
    input_.secrets = nullptr;
    input_.secrets_errno = ENOENT;
    EXPECT_EQ(check(AuthDigest::Md5, "c", "alice x").log_lines,
              std::vector<std::string>{failed("alice", "no secrets file")});
    input_.secrets = &secrets_;
    input_.secrets_file_path.clear();
    EXPECT_EQ(check(AuthDigest::Md5, "c", "alice x").log_lines,
              std::vector<std::string>{failed("alice", "no secrets file")});
    input_.secrets_file_path = "/etc/rsyncd.secrets";
    EXPECT_EQ(check(AuthDigest::Md5, "c", "#erin x").log_lines,
              std::vector<std::string>{failed("#erin", "invalid username")});
}

} // namespace
} // namespace ocr::daemon
