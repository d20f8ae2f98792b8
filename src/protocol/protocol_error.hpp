// SPDX-License-Identifier: MIT
// The exception the transfer engine throws when the peer breaks the protocol.
#pragma once

#include "protocol/exit_code.hpp"

#include <stdexcept>
#include <string>

namespace ocr::protocol {

/// @brief A violation of the rsync protocol (or an I/O failure on the peer stream).
///
/// Thrown inside the synchronous engine and turned into upstream's error text and
/// exit code at the session boundary. what() is the message for the log/peer,
/// without a trailing newline.
class ProtocolError : public std::runtime_error {
public:
    ProtocolError(ExitCode code, const std::string& message)
        : std::runtime_error(message), code_(code)
    {
    }
    /// @param site where upstream exits for the same reason (for "at FILE(LINE)").
    ProtocolError(ExitCode code, const std::string& message, UpstreamSite site)
        : std::runtime_error(message), code_(code), site_(site)
    {
    }
    [[nodiscard]] ExitCode code() const noexcept { return code_; }
    /// @brief Upstream's exit site; file is null when the thrower did not name one.
    [[nodiscard]] UpstreamSite site() const noexcept { return site_; }
    /// @brief Which of a push's two threads threw it, in upstream's who_am_i words
    ///        ("generator", "receiver"); null when the session was not split yet.
    [[nodiscard]] const char* thread_role() const noexcept { return thread_role_; }
    /// @brief Records the thread that threw (first caller wins).
    void tag_thread_role(const char* role) noexcept
    {
        if (!thread_role_)
            thread_role_ = role;
    }

private:
    ExitCode code_;
    UpstreamSite site_{};
    const char* thread_role_ = nullptr;
};

} // namespace ocr::protocol
