// SPDX-License-Identifier: MIT
// Character-level rsyncd.conf lexer following upstream params.c's grammar.
#include "daemon/config_parser.hpp"

#include "common/strings.hpp"

#include <algorithm>

namespace ocr::daemon {
namespace {

constexpr int kEof = -1;

// The C locale's isspace(), which upstream uses throughout params.c.
constexpr bool is_space(int c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Index of a trailing '\' that continues the line (white space after it is ignored), or
// npos when the buffer does not end in one. (Upstream: params.c:Continuation.)
std::size_t continuation_at(const std::string& buf) noexcept
{
    std::size_t pos = buf.size();
    while (pos > 0 && is_space(static_cast<unsigned char>(buf[pos - 1])))
        --pos;
    if (pos > 0 && buf[pos - 1] == '\\')
        return pos - 1;
    return std::string::npos;
}

std::string shown(std::string_view s)
{
    constexpr std::size_t kMaxShown = 80;
    std::string out = printable(s.substr(0, kMaxShown));
    if (s.size() > kMaxShown)
        out += "...";
    return out;
}

class Lexer {
public:
    Lexer(std::string_view text, ConfigSyntaxHandler& handler) : text_(text), h_(handler) {}

    bool run()
    {
        int c = skip_blanks();
        while (c != kEof) {
            switch (c) {
            case '\n':
                c = skip_blanks();
                break;
            case '#':
            case ';':
                c = skip_rest_of_line();
                break;
            case '[':
                if (!section())
                    return false;
                c = skip_blanks();
                break;
            case '\\':
                // A stray backslash at the start of a line is dropped, and the line goes
                // on as if it had not been there. (Upstream: params.c:Parse.)
                c = skip_blanks();
                break;
            default:
                if (!parameter(c))
                    return false;
                c = skip_blanks();
                break;
            }
        }
        return true;
    }

private:
    int get() noexcept
    {
        if (pos_ >= text_.size())
            return kEof;
        char ch = text_[pos_++];
        if (ch == '\n')
            ++line_;
        return static_cast<unsigned char>(ch);
    }

    // White space other than a newline. (Upstream: params.c:EatWhitespace.)
    int skip_blanks() noexcept
    {
        int c = get();
        while (c != '\n' && is_space(c))
            c = get();
        return c;
    }

    // Up to and including the newline. (Upstream: params.c:EatComment.)
    int skip_rest_of_line() noexcept
    {
        int c = get();
        while (c != '\n' && c != kEof)
            c = get();
        return c;
    }

    bool fatal(int line, const std::string& message)
    {
        h_.on_problem(line, message, true);
        return false;
    }

    // After the '['. (Upstream: params.c:Section.)
    bool section()
    {
        const int start = line_;
        std::string buf;
        std::size_t end = 0; // buf[0, end) is the name without a trailing space
        int c = skip_blanks();
        while (c != kEof) {
            if (c == ']') {
                buf.resize(end);
                if (buf.empty())
                    return fatal(start, "empty module name \"[]\"");
                if (!h_.on_section(buf, start))
                    return false;
                skip_rest_of_line();
                return true;
            }
            if (c == '\n') {
                std::size_t k = continuation_at(buf);
                if (k == std::string::npos) {
                    buf.resize(end);
                    return fatal(start, "module header \"[" + shown(buf)
                                            + "\" has no closing ']' on its line");
                }
                buf.resize(k);
                end = (k > 0 && buf[k - 1] == ' ') ? k - 1 : k;
                c = get();
            } else if (is_space(c)) {
                buf.resize(end);
                buf.push_back(' ');
                c = skip_blanks();
            } else {
                buf.push_back(static_cast<char>(c));
                end = buf.size();
                c = get();
            }
        }
        buf.resize(end);
        return fatal(start, "end of file inside module header \"[" + shown(buf) + "\"");
    }

    // From the first character of the name. (Upstream: params.c:Parameter.)
    bool parameter(int c)
    {
        const int start = line_;
        const bool directive = c == '&';
        std::string name;
        std::size_t end = 0;

        for (;;) {
            if (c == '=') {
                name.resize(end);
                if (name.empty())
                    return fatal(start, "missing parameter name before '='");
                c = skip_blanks();
                break;
            }
            if (c == '\n') {
                std::size_t k = continuation_at(name);
                if (k == std::string::npos) {
                    name.resize(end);
                    h_.on_problem(start,
                                  "line has no '=' (expected \"name = value\"): \"" + shown(name)
                                      + "\"",
                                  false);
                    return true;
                }
                name.resize(k);
                end = (k > 0 && name[k - 1] == ' ') ? k - 1 : k;
                c = get();
                continue;
            }
            if (c == kEof) {
                name.resize(end);
                h_.on_problem(start, "end of file inside parameter name \"" + shown(name) + "\"",
                              false);
                return true;
            }
            if (directive && (c == ' ' || c == '\t')) {
                // A directive's name ends at the first space or tab; an '=' may follow.
                name.resize(end);
                c = skip_blanks();
                if (c == '=')
                    c = skip_blanks();
                break;
            }
            if (is_space(c)) {
                name.resize(end);
                name.push_back(' ');
                c = skip_blanks();
            } else {
                name.push_back(static_cast<char>(c));
                end = name.size();
                c = get();
            }
        }

        std::string value;
        std::size_t vend = 0; // value[0, vend) without trailing white space
        bool continued_at_eof = false;
        while (c != kEof) {
            if (c == '\r') {
                // Dropped anywhere in a value, as upstream's older line reader did.
                c = get();
                continue;
            }
            if (c == '\n') {
                std::size_t k = continuation_at(value);
                if (k == std::string::npos)
                    break;
                // White space before the '\' stays part of the value.
                value.resize(k);
                vend = k;
                c = get();
                if (c == kEof)
                    continued_at_eof = true;
                continue;
            }
            value.push_back(static_cast<char>(c));
            if (!is_space(c))
                vend = value.size();
            c = get();
        }
        if (c == kEof && continuation_at(value) != std::string::npos)
            continued_at_eof = true;
        value.resize(vend);
        if (continued_at_eof)
            h_.on_problem(start, "line continuation '\\' at end of file", false);

        if (directive)
            return h_.on_directive(name, value, start);
        return h_.on_parameter(name, value, start);
    }

    std::string_view text_;
    ConfigSyntaxHandler& h_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

} // namespace

bool parse_config_text(std::string_view text, ConfigSyntaxHandler& handler)
{
    // Upstream's reader takes a NUL byte for the end of the file and silently ignores the
    // rest; a config with a NUL in it is corrupt, so say so instead.
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        auto newlines =
            std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
        int line = 1 + static_cast<int>(newlines);
        handler.on_problem(line, "NUL byte in config file", true);
        return false;
    }
    return Lexer(text, handler).run();
}

} // namespace ocr::daemon
