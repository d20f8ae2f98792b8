// SPDX-License-Identifier: MIT
// Tests of the secrets-file strict-modes checks and the user/@group password lookup.
#include "daemon/secrets.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace ocr::daemon {
namespace {

/// Records every password it is asked about and accepts exactly one.
struct Recorder {
    Recorder() = default;
    explicit Recorder(std::string accepted) : accept(std::move(accepted)) {}
    std::string accept;
    std::vector<std::string> seen;
    PasswordMatcher matcher()
    {
        return [this](std::string_view pw) {
            seen.emplace_back(pw);
            return pw == accept;
        };
    }
};

SecretsFile file_with(std::string contents, mode_t mode = 0100600, uid_t uid = 0)
{
    return SecretsFile{std::move(contents), mode, uid};
}

SecretCheckResult run(const SecretsFile& f, std::string_view user,
                      std::optional<std::string> group, Recorder& rec)
{
    return check_secret(&f, "/etc/rsyncd.secrets", true, false, user, group, rec.matcher());
}

// Verifies upstream's reason texts.
TEST(Secrets, StatusTexts)
{
    EXPECT_EQ(secret_status_text(SecretStatus::Ok), "");
    EXPECT_EQ(secret_status_text(SecretStatus::NoSecretsFile), "no secrets file");
    EXPECT_EQ(secret_status_text(SecretStatus::IgnoringSecretsFile), "ignoring secrets file");
    EXPECT_EQ(secret_status_text(SecretStatus::InvalidUsername), "invalid username");
    EXPECT_EQ(secret_status_text(SecretStatus::SecretNotFound), "secret not found");
    EXPECT_EQ(secret_status_text(SecretStatus::PasswordMismatch), "password mismatch");
}

// Verifies strict modes: other read or write bits refuse, other execute and group bits do
// not, root ownership is required only when the daemon runs as root, and all of it is off
// with strict modes off.
TEST(Secrets, StrictModes)
{
    const std::string other =
        "secrets file must not be other-accessible (see strict modes option)";
    const std::string owner =
        "secrets file must be owned by root when running as root (see strict modes)";
    EXPECT_FALSE(secrets_mode_problem(file_with("", 0100600), true, true));
    EXPECT_FALSE(secrets_mode_problem(file_with("", 0100670), true, true));
    EXPECT_FALSE(secrets_mode_problem(file_with("", 0100601), true, true));
    EXPECT_EQ(secrets_mode_problem(file_with("", 0100604), true, true), other);
    EXPECT_EQ(secrets_mode_problem(file_with("", 0100602), true, false), other);
    EXPECT_EQ(secrets_mode_problem(file_with("", 0100606, 1000), true, true), other);
    EXPECT_EQ(secrets_mode_problem(file_with("", 0100600, 1000), true, true), owner);
    EXPECT_FALSE(secrets_mode_problem(file_with("", 0100600, 1000), true, false));
    EXPECT_FALSE(secrets_mode_problem(file_with("", 0100666, 1000), false, true));
}

// Verifies the refusal paths before any line is read: no path, no file, strict modes,
// and a user name starting with '#'.
TEST(Secrets, RefusalsBeforeLookup)
{
    Recorder rec;
    const SecretsFile f = file_with("#x:pw\n");
    EXPECT_EQ(check_secret(&f, "", true, false, "u", std::nullopt, rec.matcher()).status,
              SecretStatus::NoSecretsFile);
    EXPECT_EQ(check_secret(nullptr, "/x", true, false, "u", std::nullopt, rec.matcher()).status,
              SecretStatus::NoSecretsFile);
    const SecretsFile open = file_with("u:pw\n", 0100644);
    const SecretCheckResult r =
        check_secret(&open, "/x", true, false, "u", std::nullopt, rec.matcher());
    EXPECT_EQ(r.status, SecretStatus::IgnoringSecretsFile);
    ASSERT_EQ(r.log_lines.size(), 1u);
    EXPECT_EQ(run(f, "#x", std::nullopt, rec).status, SecretStatus::InvalidUsername);
    EXPECT_TRUE(rec.seen.empty());
}

// Verifies that a name matches only when followed by ':' and that comments, blank and
// CR/LF-only lines are skipped; CR ends a line's text.
TEST(Secrets, ExactNameMatchAndLineEndings)
{
    Recorder rec("pw with spaces");
    const SecretsFile f = file_with(
        "# comment\n\r\n\nalicex:no1\nalic:no2\n  alice:no3\nalice:pw with spaces\r\n");
    const SecretCheckResult r = run(f, "alice", std::nullopt, rec);
    EXPECT_EQ(r.status, SecretStatus::Ok);
    EXPECT_EQ(rec.seen, std::vector<std::string>{"pw with spaces"});
}

// Verifies that after a mismatch the same user's later lines are not tried, and that the
// result is "password mismatch"; a missing user is "secret not found".
TEST(Secrets, FirstLinePerNameOnly)
{
    Recorder rec("second");
    const SecretsFile f = file_with("bob:first\nbob:second\n");
    EXPECT_EQ(run(f, "bob", std::nullopt, rec).status, SecretStatus::PasswordMismatch);
    EXPECT_EQ(rec.seen, std::vector<std::string>{"first"});
    rec.seen.clear();
    EXPECT_EQ(run(f, "carol", std::nullopt, rec).status, SecretStatus::SecretNotFound);
    EXPECT_TRUE(rec.seen.empty());
}

// Verifies group lines: consulted only for the group that matched a rule, in file order
// with user lines, and a mismatch on one name does not stop the other.
TEST(Secrets, GroupLines)
{
    const SecretsFile f =
        file_with("@staff:staffpw\nfrank:frankpw\n@staff:later\n@wheel:wheelpw\n");
    Recorder rec("wheelpw");
    EXPECT_EQ(run(f, "frank", std::string("wheel"), rec).status, SecretStatus::Ok);
    EXPECT_EQ(rec.seen, (std::vector<std::string>{"frankpw", "wheelpw"}));

    rec = Recorder("wheelpw");
    EXPECT_EQ(run(f, "frank", std::nullopt, rec).status, SecretStatus::PasswordMismatch);
    EXPECT_EQ(rec.seen, std::vector<std::string>{"frankpw"});

    rec = Recorder("frankpw");
    EXPECT_EQ(run(f, "frank", std::string("staff"), rec).status, SecretStatus::Ok);
    EXPECT_EQ(rec.seen, (std::vector<std::string>{"staffpw", "frankpw"}));

    // A user named like a group never reads "@" lines as its own.
    rec = Recorder("staffpw");
    EXPECT_EQ(run(f, "staff", std::nullopt, rec).status, SecretStatus::SecretNotFound);
}

// Verifies C-string and fgets() effects: a NUL ends the line's text, an empty password is
// possible, and a line longer than 1023 bytes continues as a new line.
TEST(Secrets, FgetsChunkingAndNul)
{
    Recorder rec("pw");
    SecretsFile f = file_with(std::string("u:pw\0ignored\n", 13));
    EXPECT_EQ(run(f, "u", std::nullopt, rec).status, SecretStatus::Ok);

    rec = Recorder("");
    f = file_with("u:\n");
    EXPECT_EQ(run(f, "u", std::nullopt, rec).status, SecretStatus::Ok);

    // 1023 bytes of junk, then the rest of the same physical line is read as a new line.
    rec = Recorder("tail");
    f = file_with(std::string(1023, 'j') + "u:tail\n");
    EXPECT_EQ(run(f, "u", std::nullopt, rec).status, SecretStatus::Ok);
    // One byte fewer of junk and the name is no longer at a line start.
    rec = Recorder("tail");
    f = file_with(std::string(1022, 'j') + "u:tail\n");
    EXPECT_EQ(run(f, "u", std::nullopt, rec).status, SecretStatus::SecretNotFound);
    // A long password is cut where the 1023-byte chunk ends.
    rec = Recorder(std::string(1021, 'p'));
    f = file_with("u:" + std::string(1500, 'p') + "\n");
    EXPECT_EQ(run(f, "u", std::nullopt, rec).status, SecretStatus::Ok);
}

// Verifies lookups in the shared test secrets file, including its CRLF lines.
TEST(Secrets, SharedTestFile)
{
    std::ifstream in(std::string(OCR_TEST_DATA_DIR) + "/auth/secrets.txt", std::ios::binary);
    ASSERT_TRUE(in);
    const SecretsFile f = file_with(std::string(std::istreambuf_iterator<char>(in), {}));
    Recorder rec("hunter2");
    EXPECT_EQ(run(f, "erin", std::nullopt, rec).status, SecretStatus::Ok);
    EXPECT_EQ(rec.seen, std::vector<std::string>{"hunter2"});
    rec = Recorder("p\xc3\xa4ssw\xc3\xb6rd");
    EXPECT_EQ(run(f, "dave", std::nullopt, rec).status, SecretStatus::Ok);
    rec = Recorder("rsync-backup-2024");
    EXPECT_EQ(run(f, "nobody", std::string("ops"), rec).status, SecretStatus::Ok);
}

} // namespace
} // namespace ocr::daemon
