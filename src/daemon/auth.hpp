// SPDX-License-Identifier: MIT
// Daemon authentication: auth digest negotiation, challenge, response and the reply check.
#pragma once

#include "daemon/auth_rules.hpp"
#include "daemon/secrets.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocr::daemon {

/// @brief The digest a daemon-auth exchange uses. Md4Old is MD4 seeded with four zero
///        bytes, the implicit choice of a client below protocol 30 that sent no list.
enum class AuthDigest { Sha512, Sha256, Sha1, Md5, Md4, Md4Old };

/// @brief Upstream's line buffer for the client's "<user> <response>" reply
///        (BIGPATHBUFLEN, rsync.h): a reply longer than kAuthReplyMaxChars characters
///        (CRs not counted) is rejected as an invalid challenge response. A line reader
///        feeding check_auth_reply() may stop reading after kAuthReplyBufferSize bytes.
inline constexpr std::size_t kAuthReplyBufferSize = 4096 + 1024;
inline constexpr std::size_t kAuthReplyMaxChars = kAuthReplyBufferSize - 2;

/// @brief Whether a module with this "auth users" value requires authentication; upstream
///        lets everyone in anonymously when the value is empty, without negotiating a digest
///        or sending a challenge (Upstream: authenticate.c:auth_server).
[[nodiscard]] constexpr bool auth_required(std::string_view auth_users) noexcept
{
    return !auth_users.empty();
}

/// @brief Our daemon-auth digest list for the greeting, strongest first:
///        "sha512 sha256 sha1 md5 md4" ("md4" only if MD4 is available in this process).
[[nodiscard]] std::string auth_digest_list();

/// @brief rsync's name of @p digest: "sha512", "sha256", "sha1", "md5", "md4" (also for
///        Md4Old).
[[nodiscard]] std::string_view auth_digest_name(AuthDigest digest) noexcept;

/// @brief Length of the digest in bytes (64, 32, 20, 16, 16, 16).
[[nodiscard]] std::size_t auth_digest_length(AuthDigest digest) noexcept;

/// @brief Result of negotiate_auth_digest(): a digest, or the "@ERROR: ..." line to send
///        (without "\n") before closing with exit code 4 (RERR_UNSUPPORTED).
struct DigestNegotiation {
    std::optional<AuthDigest> digest;
    std::string error_line;
};

/// @brief Picks the daemon-auth digest as 3.5.0's daemon does.
///
/// From the client's greeting list (space separated, names case-insensitive, at most 255
/// bytes considered) the daemon takes the name that comes first in *its own* list, not
/// the client's first. Without a list, the client implies "md5" at protocol >= 30 and
/// old-style MD4 below. (Upstream: compat.c:negotiate_daemon_auth,
/// compat.c:parse_negotiate_str, clientserver.c:exchange_protocols.)
/// @param client_list the text after the version in the client's greeting, if any.
/// @param protocol the negotiated protocol version.
/// @return the digest, or the error line listing our digests.
[[nodiscard]] DigestNegotiation negotiate_auth_digest(const std::optional<std::string>& client_list,
                                                      int protocol);

/// @brief Strength rank of a digest name for the "auth digest" floor: 0 = sha512 ...
///        4 = md4 (case-insensitive), -1 if not a daemon-auth digest name.
///        (Upstream: checksum.c:auth_digest_rank.)
[[nodiscard]] int auth_digest_rank(std::string_view name) noexcept;

/// @brief Applies the module's "auth digest" floor to the negotiated digest.
/// @param module_name module name for the log line.
/// @param host client host name for the log line.
/// @param addr client address for the log line.
/// @param auth_digest the module's "auth digest" value (empty: no floor).
/// @param negotiated the digest negotiate_auth_digest() chose.
/// @return nullopt if acceptable; otherwise the log line to write, after which the daemon
///         sends "@ERROR: auth failed on module <name>" (no challenge is sent).
///         (Upstream: authenticate.c:auth_server.)
[[nodiscard]] std::optional<std::string> check_auth_digest_floor(std::string_view module_name,
                                                                 std::string_view host,
                                                                 std::string_view addr,
                                                                 std::string_view auth_digest,
                                                                 AuthDigest negotiated);

/// @brief Makes a fresh challenge: base64 (no padding) of the digest over 32 bytes from
///        getrandom(2), the client address, the time and our pid. Its length is 86, 43,
///        27 or 22 characters for sha512, sha256, sha1 and md5/md4.
///        (Upstream: authenticate.c:gen_challenge.)
/// @param digest the negotiated digest.
/// @param client_addr the client's address text (only its first 16 bytes are mixed in).
/// @return the challenge; wipe it with wipe_secret() once the reply has been checked.
/// @throw std::system_error if the kernel random source fails; protocol::DigestError if
///        the digest cannot be computed.
[[nodiscard]] std::string make_auth_challenge(AuthDigest digest, std::string_view client_addr);

/// @brief The response a client sends for @p password and @p challenge:
///        base64-nopad(H(password || challenge)); for Md4Old H is MD4 over four zero bytes
///        followed by password and challenge. (Upstream: authenticate.c:generate_hash,
///        checksum.c:sum_init.)
/// @throw protocol::DigestError if the digest cannot be computed.
[[nodiscard]] std::string auth_response(AuthDigest digest, std::string_view password,
                                        std::string_view challenge);

/// @brief Everything check_auth_reply() needs to know about the module and the client.
struct AuthCheckInput {
    std::string module_name;
    std::string auth_users;        ///< the module's "auth users" value
    std::string secrets_file_path; ///< the module's "secrets file" value (may be empty)
    const SecretsFile* secrets = nullptr; ///< null: the file could not be opened
    int secrets_errno = 0; ///< why it could not be opened (upstream does not log it)
    bool strict_modes = true;
    bool daemon_is_root = false; ///< the daemon's real uid is 0
    std::string host;            ///< client host name (or "UNDETERMINED") for logs
    std::string addr;            ///< client address for logs
};

/// @brief Result of check_auth_reply().
struct AuthResult {
    bool ok = false;
    std::string user; ///< the name the client sent (empty if the reply had no space)
    char access = 0;  ///< 'r' (:ro), 'w' (:rw) or 0; overrides the module's "read only"
    std::vector<std::string> log_lines; ///< the daemon-log lines upstream writes, in order
};

/// @brief Checks the client's reply to the challenge, as upstream's daemon does after
///        sending it: split "<user> <response>" at the first space, walk the "auth users"
///        rules, then look the password up in the secrets file and compare the expected
///        response in constant time. (Upstream: authenticate.c:auth_server, check_secret.)
///
/// Only for modules where auth_required() holds. On failure the caller logs log_lines and
/// sends "@ERROR: auth failed on module <name>".
/// On success it applies @c access to "read only" and exports RSYNC_USER_NAME = user.
/// @param in module settings and client identity.
/// @param digest the negotiated digest.
/// @param challenge the challenge that was sent.
/// @param reply_line the client's line without its LF (peer bytes: anything after an LF
///        is ignored, CRs are dropped, a NUL or more than kAuthReplyMaxChars characters
///        make it invalid, as upstream's line reader does). Pass "" if the connection
///        ended before a line arrived.
/// @param groups source of the user's groups for "@group" rules.
/// @return the verdict and log lines.
/// @throw protocol::DigestError only if the digest cannot be computed.
[[nodiscard]] AuthResult check_auth_reply(const AuthCheckInput& in, AuthDigest digest,
                                          std::string_view challenge,
                                          std::string_view reply_line, GroupLookup& groups);

/// @brief Overwrites the bytes of @p secret (OPENSSL_cleanse) and clears it.
void wipe_secret(std::string& secret) noexcept;

} // namespace ocr::daemon
