// SPDX-License-Identifier: MIT
// %VAR% expansion with upstream's pass-through rules and its shell-hook quoting.
#include "daemon/var_expand.hpp"

namespace ocr::daemon {
namespace {

constexpr bool is_upper(char c) noexcept
{
    return c >= 'A' && c <= 'Z';
}

enum class Quote { None, Single, Double };

/// Tracks the shell quoting context of the literal (template) characters of a hook
/// command, so a substituted value can be quoted for the place it lands in.
class QuoteTracker {
public:
    void feed(char c) noexcept
    {
        if (quote_ == Quote::Single) {
            // Inside '...' nothing is special, not even a backslash.
            if (c == '\'')
                quote_ = Quote::None;
        } else if (escaped_) {
            escaped_ = false;
        } else if (c == '\\') {
            escaped_ = true;
        } else if (quote_ == Quote::Double) {
            // A ' inside "..." is literal; taking it as an opening quote would desync us.
            if (c == '"')
                quote_ = Quote::None;
        } else if (c == '\'') {
            quote_ = Quote::Single;
        } else if (c == '"') {
            quote_ = Quote::Double;
        }
    }

    [[nodiscard]] Quote quote() const noexcept { return quote_; }

private:
    Quote quote_ = Quote::None;
    bool escaped_ = false;
};

// Anything that a (possibly second) shell could interpret, so that a substituted value
// can only ever be data. (Upstream: loadparm.c:shell_unsafe_value.)
bool shell_unsafe(std::string_view v) noexcept
{
    constexpr std::string_view kUnsafe = "'\"`$\\;&|<>()*?[]# !~{}";
    for (char c : v) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || kUnsafe.find(c) != std::string_view::npos)
            return true;
    }
    return false;
}

// A value inside "..." is both backslash-escaped and wrapped in '...': the wrap is what
// still protects it if the hook hands the word to a second shell.
// (Upstream: loadparm.c:expand_vars_shell_escape.)
std::string shell_quote(std::string_view v, Quote q)
{
    std::string out;
    if (q != Quote::Single)
        out.push_back('\'');
    for (char c : v) {
        if (q == Quote::Double && (c == '\\' || c == '"' || c == '`' || c == '$')) {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\'') {
            out.append("'\\''");
        } else {
            out.push_back(c);
        }
    }
    if (q != Quote::Single)
        out.push_back('\'');
    return out;
}

std::variant<std::string, UnsafeShellValue> expand(std::string_view value, const VarLookup& lookup,
                                                   std::size_t max_growth, bool for_shell)
{
    if (value.find('%') == std::string_view::npos)
        return std::string(value);

    const std::size_t limit = value.size() + max_growth;
    std::string out;
    QuoteTracker quotes;
    std::size_t i = 0;
    while (i < value.size()) {
        if (value[i] == '%' && i + 1 < value.size() && is_upper(value[i + 1])) {
            std::size_t close = value.find('%', i + 1);
            if (close != std::string_view::npos) {
                std::string_view name = value.substr(i + 1, close - i - 1);
                if (std::optional<std::string> val = lookup ? lookup(name) : std::nullopt) {
                    std::string text;
                    if (for_shell && name.substr(0, 6) == "RSYNC_") {
                        // Fail closed: the hook may be an access check, so running it
                        // without the value is no option either.
                        if (shell_unsafe(*val))
                            return UnsafeShellValue{std::string(name)};
                        text = shell_quote(*val, quotes.quote());
                    } else {
                        text = std::move(*val);
                    }
                    if (text.size() > limit - out.size())
                        throw VarExpansionTooLong("value too long after %VAR% expansion");
                    out += text;
                    i = close + 1;
                    continue;
                }
            }
        }
        if (for_shell)
            quotes.feed(value[i]);
        if (out.size() >= limit)
            throw VarExpansionTooLong("value too long after %VAR% expansion");
        out.push_back(value[i]);
        ++i;
    }
    return out;
}

} // namespace

std::string expand_vars(std::string_view value, const VarLookup& lookup, std::size_t max_growth)
{
    return std::get<std::string>(expand(value, lookup, max_growth, false));
}

std::variant<std::string, UnsafeShellValue>
expand_vars_for_shell(std::string_view value, const VarLookup& lookup, std::size_t max_growth)
{
    return expand(value, lookup, max_growth, true);
}

bool has_var_reference(std::string_view value) noexcept
{
    for (std::size_t i = 0; i + 1 < value.size(); ++i) {
        if (value[i] == '%' && is_upper(value[i + 1])
            && value.find('%', i + 1) != std::string_view::npos)
            return true;
    }
    return false;
}

} // namespace ocr::daemon
