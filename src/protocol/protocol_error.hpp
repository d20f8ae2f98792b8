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
    [[nodiscard]] ExitCode code() const noexcept { return code_; }

private:
    ExitCode code_;
};

} // namespace ocr::protocol
