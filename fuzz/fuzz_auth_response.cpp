// SPDX-License-Identifier: MIT
// Fuzz target: a client's auth reply line and a module's "auth users" value against a fixed
// secrets file, plus the greeting digest-list negotiation.
#include "daemon/auth.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using ocr::daemon::AuthDigest;

constexpr AuthDigest kDigests[] = {AuthDigest::Sha512, AuthDigest::Sha256, AuthDigest::Sha1,
                                   AuthDigest::Md5,    AuthDigest::Md4,    AuthDigest::Md4Old};

// The passwords are those of the seed corpus replies (computed for kChallenge).
const ocr::daemon::SecretsFile kSecrets{
    "# fuzz secrets\nalice:pw1\nbob:pw2\nbob:pw3\n@staff:staffpw\n@wheel:\n\r\ncarol:x\r\n",
    0100600, 0};
constexpr std::string_view kChallenge = "FuzzChallengeFuzzChall";

/// Gives every user whose name starts with 'g' a few groups, so "@group" rules are reached.
class FakeGroups final : public ocr::daemon::GroupLookup {
public:
    std::optional<std::vector<std::string>> groups_of_user(std::string_view user) override
    {
        if (user.empty() || user.front() != 'g')
            return std::nullopt;
        return std::vector<std::string>{"users", "staff", std::string(user)};
    }
};

[[noreturn]] void fail()
{
    __builtin_trap();
}

} // namespace

// Input layout: byte 0 = flags (digest, strict modes, root, file present), bytes 1-2 =
// little-endian length of the "auth users" value, that value, then the reply line. The
// same auth-users bytes are also fed to the digest negotiation as a client list.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 3)
        return 0;
    const std::uint8_t flags = data[0];
    std::size_t users_len = static_cast<std::size_t>(data[1]) | (static_cast<std::size_t>(data[2]) << 8);
    const std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
    users_len = std::min(users_len, rest.size());

    ocr::daemon::AuthCheckInput in;
    in.module_name = "mod";
    in.auth_users = std::string(rest.substr(0, users_len));
    in.secrets_file_path = "/etc/rsyncd.secrets";
    in.secrets = (flags & 0x20) != 0 ? nullptr : &kSecrets;
    in.strict_modes = (flags & 0x08) != 0;
    in.daemon_is_root = (flags & 0x10) != 0;
    in.host = "fuzz.example";
    in.addr = "192.0.2.1";
    const AuthDigest digest = kDigests[(flags & 0x07) % 6];
    const std::string_view reply = rest.substr(users_len);

    FakeGroups groups;
    const ocr::daemon::AuthResult r =
        ocr::daemon::check_auth_reply(in, digest, kChallenge, reply, groups);
    if (r.ok) {
        if (!r.log_lines.empty() || (r.access != 0 && r.access != 'r' && r.access != 'w'))
            fail();
    } else {
        if (r.log_lines.empty() || r.log_lines.back().rfind("auth failed on module mod", 0) != 0)
            fail();
    }
    if (r.user.size() > ocr::daemon::kAuthReplyMaxChars)
        fail();

    const auto n = ocr::daemon::negotiate_auth_digest(in.auth_users, 32);
    if (n.digest.has_value() == !n.error_line.empty())
        fail();
    static_cast<void>(ocr::daemon::check_auth_digest_floor("mod", "h", "a", in.auth_users,
                                                            n.digest.value_or(AuthDigest::Md5)));
    return 0;
}
