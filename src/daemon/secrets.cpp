// SPDX-License-Identifier: MIT
// Implementation of the secrets-file checks and password lookup.
#include "daemon/secrets.hpp"

#include <algorithm>

namespace ocr::daemon {
namespace {

// fgets() into upstream's 1024-byte line buffer returns at most this many bytes.
constexpr std::size_t kLineChunk = 1023;

/// One name we are still looking for in the file; cleared after its first mismatch.
struct Wanted {
    std::string_view name;
    bool active = false;
};

/// The line text upstream compares: the chunk cut at a NUL (C string), then its first
/// token of bytes other than CR and LF (strtok semantics: leading CR/LF skipped).
std::string_view line_text(std::string_view chunk)
{
    if (const auto nul = chunk.find('\0'); nul != std::string_view::npos)
        chunk = chunk.substr(0, nul);
    const auto begin = chunk.find_first_not_of("\r\n");
    if (begin == std::string_view::npos)
        return {};
    chunk.remove_prefix(begin);
    return chunk.substr(0, chunk.find_first_of("\r\n"));
}

} // namespace

std::string_view secret_status_text(SecretStatus status) noexcept
{
    switch (status) {
    case SecretStatus::Ok:
        return "";
    case SecretStatus::NoSecretsFile:
        return "no secrets file";
    case SecretStatus::IgnoringSecretsFile:
        return "ignoring secrets file";
    case SecretStatus::InvalidUsername:
        return "invalid username";
    case SecretStatus::SecretNotFound:
        return "secret not found";
    case SecretStatus::PasswordMismatch:
        return "password mismatch";
    }
    return "";
}

std::optional<std::string> secrets_mode_problem(const SecretsFile& file, bool strict_modes,
                                                bool daemon_is_root)
{
    if (!strict_modes)
        return std::nullopt;
    // Only the "other" read/write bits count; group access is the admin's choice.
    // (Upstream: authenticate.c:check_secret.)
    if ((file.mode & 06) != 0)
        return std::string(
            "secrets file must not be other-accessible (see strict modes option)");
    if (daemon_is_root && file.uid != 0)
        return std::string(
            "secrets file must be owned by root when running as root (see strict modes)");
    return std::nullopt;
}

SecretCheckResult check_secret(const SecretsFile* file, std::string_view path,
                               bool strict_modes, bool daemon_is_root, std::string_view user,
                               const std::optional<std::string>& group,
                               const PasswordMatcher& matches)
{
    SecretCheckResult result;
    if (path.empty() || file == nullptr) {
        result.status = SecretStatus::NoSecretsFile;
        return result;
    }
    if (auto problem = secrets_mode_problem(*file, strict_modes, daemon_is_root)) {
        result.log_lines.push_back(std::move(*problem));
        result.status = SecretStatus::IgnoringSecretsFile;
        return result;
    }
    // Otherwise a user called "#..." could pick a password out of a comment line.
    if (!user.empty() && user.front() == '#') {
        result.status = SecretStatus::InvalidUsername;
        return result;
    }

    Wanted want_user{user, true};
    Wanted want_group{group ? std::string_view(*group) : std::string_view(), group.has_value()};
    result.status = SecretStatus::SecretNotFound;

    const std::string_view contents = file->contents;
    std::size_t pos = 0;
    while ((want_user.active || want_group.active) && pos < contents.size()) {
        const std::size_t limit = std::min(contents.size(), pos + kLineChunk);
        const std::size_t newline = contents.find('\n', pos);
        const std::size_t end = (newline != std::string_view::npos && newline < limit)
                                    ? newline + 1
                                    : limit;
        std::string_view text = line_text(contents.substr(pos, end - pos));
        pos = end;
        if (text.empty())
            continue;

        Wanted* wanted = &want_user;
        if (text.front() == '@') {
            wanted = &want_group;
            text.remove_prefix(1);
        }
        const std::string_view name = wanted->name;
        if (!wanted->active || text.size() <= name.size() ||
            text.substr(0, name.size()) != name || text[name.size()] != ':')
            continue;
        if (matches(text.substr(name.size() + 1))) {
            result.status = SecretStatus::Ok;
            return result;
        }
        result.status = SecretStatus::PasswordMismatch;
        wanted->active = false;
    }
    return result;
}

} // namespace ocr::daemon
