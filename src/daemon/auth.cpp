// SPDX-License-Identifier: MIT
// Implementation of daemon-auth negotiation, challenge/response and the reply check.
#include "daemon/auth.hpp"

#include "common/strings.hpp"
#include "protocol/base64.hpp"
#include "protocol/digest.hpp"

#include <openssl/crypto.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <span>
#include <system_error>

namespace ocr::daemon {
namespace {

using protocol::Digest;
using protocol::DigestAlgorithm;

// The auth digests in upstream's table order, which is also the preference order of a
// 3.5.0 daemon and the rank order of the "auth digest" floor (Upstream:
// checksum.c:valid_auth_checksums_items).
constexpr std::array<AuthDigest, 5> kTableOrder = {AuthDigest::Sha512, AuthDigest::Sha256,
                                                   AuthDigest::Sha1, AuthDigest::Md5,
                                                   AuthDigest::Md4};

// Upstream copies the client's list into a 256-byte buffer (MAX_NSTR_STRLEN).
constexpr std::size_t kMaxNegotiationChars = 255;

DigestAlgorithm algorithm_of(AuthDigest digest) noexcept
{
    switch (digest) {
    case AuthDigest::Sha512:
        return DigestAlgorithm::Sha512;
    case AuthDigest::Sha256:
        return DigestAlgorithm::Sha256;
    case AuthDigest::Sha1:
        return DigestAlgorithm::Sha1;
    case AuthDigest::Md5:
        return DigestAlgorithm::Md5;
    case AuthDigest::Md4:
    case AuthDigest::Md4Old:
        break;
    }
    return DigestAlgorithm::Md4;
}

bool offered(AuthDigest digest) noexcept
{
    return protocol::digest_available(algorithm_of(digest));
}

/// Starts a digest the way upstream's sum_init() does for auth: MD4_OLD is fed a zero
/// 32-bit seed before anything else (Upstream: checksum.c:sum_init).
Digest start_digest(AuthDigest digest)
{
    Digest d(algorithm_of(digest));
    if (digest == AuthDigest::Md4Old) {
        static constexpr std::array<std::uint8_t, 4> kZeroSeed{};
        d.update(std::span<const std::uint8_t>(kZeroSeed));
    }
    return d;
}

void fill_random(std::span<std::uint8_t> out)
{
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = getrandom(out.data() + got, out.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::system_error(errno, std::system_category(), "getrandom");
        }
        got += static_cast<std::size_t>(n);
    }
}

void put_le32(std::uint8_t* p, std::uint32_t v) noexcept
{
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v >> 16);
    p[3] = static_cast<std::uint8_t>(v >> 24);
}

/// strcmp() equality without a data-dependent early exit. The expected response's length
/// follows from the digest alone, so comparing lengths first leaks nothing secret.
bool same_response(std::string_view got, std::string_view expected) noexcept
{
    return got.size() == expected.size() &&
           CRYPTO_memcmp(got.data(), expected.data(), expected.size()) == 0;
}

std::string failure_prefix(const AuthCheckInput& in)
{
    return "auth failed on module " + in.module_name + " from " + in.host + " (" + in.addr +
           ")";
}

/// Applies upstream's line-reader rules to the peer's reply (Upstream: io.c:read_line_old):
/// the line ends at LF, CRs vanish, a NUL or an overlong line is a read failure.
std::optional<std::string> clean_reply_line(std::string_view raw)
{
    if (const auto lf = raw.find('\n'); lf != std::string_view::npos)
        raw = raw.substr(0, lf);
    if (raw.find('\0') != std::string_view::npos)
        return std::nullopt;
    std::string line;
    line.reserve(std::min(raw.size(), kAuthReplyMaxChars));
    for (char c : raw) {
        if (c == '\r')
            continue;
        if (line.size() == kAuthReplyMaxChars) {
            wipe_secret(line);
            return std::nullopt;
        }
        line.push_back(c);
    }
    return line;
}

} // namespace

std::string auth_digest_list()
{
    std::string list;
    for (AuthDigest d : kTableOrder) {
        if (!offered(d))
            continue;
        if (!list.empty())
            list.push_back(' ');
        list.append(auth_digest_name(d));
    }
    return list;
}

std::string_view auth_digest_name(AuthDigest digest) noexcept
{
    switch (digest) {
    case AuthDigest::Sha512:
        return "sha512";
    case AuthDigest::Sha256:
        return "sha256";
    case AuthDigest::Sha1:
        return "sha1";
    case AuthDigest::Md5:
        return "md5";
    case AuthDigest::Md4:
    case AuthDigest::Md4Old:
        return "md4";
    }
    return "";
}

std::size_t auth_digest_length(AuthDigest digest) noexcept
{
    return protocol::digest_length(algorithm_of(digest));
}

DigestNegotiation negotiate_auth_digest(const std::optional<std::string>& client_list,
                                        int protocol)
{
    // Without a list the client implies one name; "md4" then means the old seeded form.
    const bool implied = !client_list.has_value();
    std::string_view list;
    if (implied)
        list = protocol >= 30 ? "md5" : "md4";
    else
        list = *client_list;
    if (const auto nul = list.find('\0'); nul != std::string_view::npos)
        list = list.substr(0, nul);
    if (list.size() > kMaxNegotiationChars)
        list = list.substr(0, kMaxNegotiationChars);

    // 3.5.0's daemon ranks the client's names by its own order (the client's order does
    // not matter) and stops early at its favourite (Upstream: compat.c:parse_negotiate_str;
    // only ' ' separates names there, so a tab stays inside a name and matches nothing).
    std::optional<std::size_t> best;
    std::size_t pos = 0;
    while (pos < list.size()) {
        pos = list.find_first_not_of(' ', pos);
        if (pos == std::string_view::npos)
            break;
        std::size_t end = list.find(' ', pos);
        if (end == std::string_view::npos)
            end = list.size();
        const std::string_view name = list.substr(pos, end - pos);
        pos = end;
        for (std::size_t rank = 0; rank < kTableOrder.size(); ++rank) {
            if (offered(kTableOrder[rank]) &&
                ocr::iequals(name, auth_digest_name(kTableOrder[rank]))) {
                if (!best || rank < *best)
                    best = rank;
                break;
            }
        }
        if (best == std::size_t{0})
            break;
    }

    DigestNegotiation result;
    if (!best) {
        result.error_line =
            "@ERROR: your client does not support one of our daemon-auth checksums: " +
            auth_digest_list();
        return result;
    }
    AuthDigest chosen = kTableOrder[*best];
    if (implied && chosen == AuthDigest::Md4)
        chosen = AuthDigest::Md4Old;
    result.digest = chosen;
    return result;
}

int auth_digest_rank(std::string_view name) noexcept
{
    // The floor ranks against the full table, whatever this process can compute.
    for (std::size_t rank = 0; rank < kTableOrder.size(); ++rank) {
        if (ocr::iequals(name, auth_digest_name(kTableOrder[rank])))
            return static_cast<int>(rank);
    }
    return -1;
}

std::optional<std::string> check_auth_digest_floor(std::string_view module_name,
                                                   std::string_view host,
                                                   std::string_view addr,
                                                   std::string_view auth_digest,
                                                   AuthDigest negotiated)
{
    if (auth_digest.empty())
        return std::nullopt;
    const std::string where = "auth failed on module " + std::string(module_name) + " from " +
                              std::string(host) + " (" + std::string(addr) + "): ";
    const int floor_rank = auth_digest_rank(auth_digest);
    // An unknown floor name refuses everyone: failing closed is the documented intent.
    if (floor_rank < 0)
        return where + "the configured 'auth digest = " + std::string(auth_digest) +
               "' is not a supported digest on this build";
    const std::string_view got = auth_digest_name(negotiated);
    const int got_rank = auth_digest_rank(got);
    if (got_rank < 0 || got_rank > floor_rank)
        return where + "negotiated auth digest " + std::string(got) +
               " is weaker than the required 'auth digest = " + std::string(auth_digest) +
               "'";
    return std::nullopt;
}

std::string make_auth_challenge(AuthDigest digest, std::string_view client_addr)
{
    // Upstream's layout of the non-random part: the address in 16 zero-padded bytes, then
    // seconds, microseconds and pid as little-endian 32-bit values, 4 zero bytes at the end
    // (Upstream: authenticate.c:gen_challenge). The 32 kernel-random bytes in front are
    // what makes the challenge unpredictable; the rest only mixes in.
    std::array<std::uint8_t, 32> random_bytes{};
    std::array<std::uint8_t, 32> input{};
    const std::size_t addr_len = std::min<std::size_t>(client_addr.size(), 16);
    std::copy_n(client_addr.begin(), addr_len, input.begin());
    timeval tv{};
    gettimeofday(&tv, nullptr);
    put_le32(input.data() + 16, static_cast<std::uint32_t>(tv.tv_sec));
    put_le32(input.data() + 20, static_cast<std::uint32_t>(tv.tv_usec));
    put_le32(input.data() + 24, static_cast<std::uint32_t>(getpid()));

    std::array<std::uint8_t, protocol::kMaxDigestLength> sum{};
    std::size_t len = 0;
    try {
        fill_random(random_bytes);
        Digest d = start_digest(digest);
        d.update(std::span<const std::uint8_t>(random_bytes));
        d.update(std::span<const std::uint8_t>(input));
        len = d.finish(std::span<std::uint8_t>(sum));
    } catch (...) {
        OPENSSL_cleanse(random_bytes.data(), random_bytes.size());
        throw;
    }
    std::string challenge =
        protocol::base64_encode(std::span<const std::uint8_t>(sum.data(), len));
    OPENSSL_cleanse(random_bytes.data(), random_bytes.size());
    OPENSSL_cleanse(sum.data(), sum.size());
    return challenge;
}

std::string auth_response(AuthDigest digest, std::string_view password,
                          std::string_view challenge)
{
    std::array<std::uint8_t, protocol::kMaxDigestLength> sum{};
    Digest d = start_digest(digest);
    d.update(password);
    d.update(challenge);
    const std::size_t len = d.finish(std::span<std::uint8_t>(sum));
    std::string out = protocol::base64_encode(std::span<const std::uint8_t>(sum.data(), len));
    OPENSSL_cleanse(sum.data(), sum.size());
    return out;
}

AuthResult check_auth_reply(const AuthCheckInput& in, AuthDigest digest,
                            std::string_view challenge, std::string_view reply_line,
                            GroupLookup& groups)
{
    AuthResult result;
    std::optional<std::string> line = clean_reply_line(reply_line);
    const std::size_t space = line ? line->find(' ') : std::string::npos;
    if (space == std::string::npos) {
        if (line)
            wipe_secret(*line);
        result.log_lines.push_back(failure_prefix(in) + ": invalid challenge response");
        return result;
    }
    const std::string_view user = std::string_view(*line).substr(0, space);
    const std::string_view response = std::string_view(*line).substr(space + 1);
    result.user = std::string(user);

    const AuthRuleMatch rule = match_auth_rules(in.auth_users, user, groups);
    std::string_view error;
    if (!rule.matched) {
        error = "no matching rule";
    } else if (rule.option == 'd') {
        error = "denied by rule";
    } else {
        const PasswordMatcher matches = [&](std::string_view password) {
            std::string expected = auth_response(digest, password, challenge);
            const bool same = same_response(response, expected);
            wipe_secret(expected);
            return same;
        };
        SecretCheckResult secret = check_secret(in.secrets, in.secrets_file_path,
                                                in.strict_modes, in.daemon_is_root, user,
                                                rule.group, matches);
        for (std::string& l : secret.log_lines)
            result.log_lines.push_back(std::move(l));
        error = secret_status_text(secret.status);
    }
    wipe_secret(*line);

    if (!error.empty()) {
        result.log_lines.push_back(failure_prefix(in) + " for " + result.user + ": " +
                                   std::string(error));
        return result;
    }
    result.ok = true;
    result.access = (rule.option == 'r' || rule.option == 'w') ? rule.option : 0;
    return result;
}

void wipe_secret(std::string& secret) noexcept
{
    if (!secret.empty())
        OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

} // namespace ocr::daemon
