// SPDX-License-Identifier: MIT
// The rsyncd.conf lexer: one file's text to module headers, parameters and directives.
#pragma once

#include <string>
#include <string_view>

namespace ocr::daemon {

/// @brief Receives what parse_config_text() finds, in file order.
class ConfigSyntaxHandler {
public:
    virtual ~ConfigSyntaxHandler() = default;

    /// @brief A "[name]" header. The name has its white space runs collapsed to one space
    ///        and is trimmed; it is never empty.
    /// @param name the module name (or "global").
    /// @param line line of the '['.
    /// @return false to stop parsing (a fatal problem was recorded).
    virtual bool on_section(const std::string& name, int line) = 0;

    /// @brief A "name = value" line. The name has its white space runs collapsed and is
    ///        trimmed; the value is trimmed, continuation lines joined, CRs dropped.
    /// @return false to stop parsing.
    virtual bool on_parameter(const std::string& name, const std::string& value, int line) = 0;

    /// @brief A line starting with '&': the directive name runs to the first space, tab or
    ///        '='; an '=' after it is optional ("&include /x", "&include = /x").
    /// @return false to stop parsing.
    virtual bool on_directive(const std::string& name, const std::string& value, int line) = 0;

    /// @brief A syntax problem.
    /// @param line where it is.
    /// @param message one line.
    /// @param fatal whether parsing stops here (upstream stops at these too).
    virtual void on_problem(int line, const std::string& message, bool fatal) = 0;
};

/// @brief Parses one config file's text. (Upstream: params.c:Parse and its helpers.)
///
/// Rules: a line whose first non-blank character is '#' or ';' is a comment; '[' starts a
/// module header (anything after the ']' on that line is ignored); a stray leading '\' is
/// skipped; '&' starts a directive; anything else is a parameter. A line ending in '\'
/// (ignoring trailing white space) continues on the next line, in headers, names and
/// values alike. Leading white space of a continuation line is kept in a value.
///
/// Fatal (parsing stops): a NUL byte anywhere, an empty header "[]", a header with no ']'
/// on its line, end of file inside a header, "= value" with no name.
/// Not fatal (the line is skipped): a line with no '=', end of file inside a name.
/// Reported but the value is kept: a continuation at the very end of the file.
/// @param text the file's bytes.
/// @param handler receives the items.
/// @return false if parsing stopped early (fatal problem, or the handler said stop).
bool parse_config_text(std::string_view text, ConfigSyntaxHandler& handler);

} // namespace ocr::daemon
