// SPDX-License-Identifier: MIT
// The fatal error and the non-fatal messages the filter engine produces.
#pragma once

#include "protocol/protocol_error.hpp"

#include <string>

namespace ocr::transfer {

/// @brief A filter problem that ends the session, as upstream's exit_cleanup() after a filter
///        error does: a bad rule (exit 1, RERR_SYNTAX), an unreadable merge file named with
///        fatal errors on (exit 11, RERR_FILEIO), an over-long wire rule (exit 22).
///
/// what() is the text upstream prints before exiting, without the trailing newline; the
/// session boundary sends it (MSG_ERROR) and logs it like any other ProtocolError.
class FilterError : public protocol::ProtocolError {
public:
    using protocol::ProtocolError::ProtocolError;
};

/// @brief A message upstream prints while building or walking filters without stopping the
///        transfer ("discarding over-long filter: ...", "cannot add local filter rules ...").
struct FilterMessage {
    /// Upstream's log code: errors go to the client as MSG_ERROR and to the daemon log.
    enum class Level {
        Error, ///< rprintf(FERROR, ...)
        Info,  ///< rprintf(FINFO, ...)
    };
    Level level = Level::Error;
    /// The text, without a trailing newline.
    std::string text;
};

} // namespace ocr::transfer
