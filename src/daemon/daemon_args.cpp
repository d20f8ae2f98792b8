// SPDX-License-Identifier: MIT
// Reading and preparing the daemon argument list (upstream io.c:read_args and helpers).
#include "daemon/daemon_args.hpp"

#include <algorithm>

namespace ocr::daemon {

DaemonArgReader::DaemonArgReader(bool nul_terminated, std::size_t max_args,
                                 std::size_t max_arg_len, std::size_t preceding_args)
    : nul_terminated_(nul_terminated), max_args_(max_args), max_arg_len_(max_arg_len),
      preceding_args_(preceding_args)
{
}

std::size_t DaemonArgReader::feed(std::string_view input)
{
    std::size_t used = 0;
    while (used < input.size() && !done_ && !failed_) {
        const char ch = input[used++];
        const bool ends = nul_terminated_ ? ch == '\0' : (ch == '\n' || ch == '\r');
        if (!ends) {
            // Upstream: io.c:read_line keeps reading to the terminator but stores no more
            // than its buffer holds.
            if (current_.size() < max_arg_len_)
                current_.push_back(ch);
            continue;
        }
        end_argument();
    }
    return used;
}

void DaemonArgReader::finish_at_eof()
{
    // Upstream io.c:read_line stops at end of input as at a terminator and hands back the
    // bytes it has; the next read_line finds nothing more, which ends read_args's list.
    if (done_ || failed_)
        return;
    end_argument();
    if (!failed_)
        done_ = true;
}

void DaemonArgReader::end_argument()
{
    if (current_.empty()) {
        done_ = true;
        return;
    }
    // Upstream: io.c:read_args checks the bound after reading a non-empty line and before
    // storing it.
    if (max_args_ == 0 || preceding_args_ + args_.size() >= max_args_ - 1) {
        failed_ = true;
        current_.clear();
        return;
    }
    args_.push_back(std::move(current_));
    current_.clear();
}

std::optional<std::string> DaemonArgReader::error() const
{
    if (!failed_)
        return std::nullopt;
    return std::string(kTooManyArgsText);
}

std::vector<std::string> DaemonArgReader::take()
{
    std::vector<std::string> out;
    out.swap(args_);
    return out;
}

std::string unbackslash_arg(std::string_view arg)
{
    std::string out;
    out.reserve(arg.size());
    for (std::size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] == '\\' && i + 1 < arg.size())
            ++i;
        out.push_back(arg[i]);
    }
    return out;
}

namespace {

// A ".." component starts at name[i]: "..", followed by '/' or the end.
bool dot_dot_component(std::string_view name, std::size_t i)
{
    return i + 1 < name.size() && name[i] == '.' && name[i + 1] == '.'
        && (i + 2 == name.size() || name[i + 2] == '/');
}

} // namespace

std::optional<std::string> clean_fname(std::string_view name, unsigned flags)
{
    // Upstream: util1.c:clean_fname. Written against indices: `t` is the output length,
    // `limit` the first output position that a ".." may not back over.
    std::string out;
    out.reserve(name.size() + 1);
    std::size_t f = 0;
    std::size_t limit = 0;
    const bool anchored = !name.empty() && name[0] == '/';
    const bool keep_dots = (flags & kCfnKeepDotDirs) != 0;

    if (anchored) {
        out.push_back('/');
        f = 1;
    } else if (keep_dots && name.size() >= 2 && name[0] == '.' && name[1] == '/') {
        out.append("./");
        f = 2;
    } else if ((flags & kCfnRefuseDotDotDirs) && dot_dot_component(name, 0)) {
        return std::nullopt;
    }

    while (f < name.size()) {
        if (name[f] == '/') {
            ++f;
            continue;
        }
        if (name[f] == '.') {
            const bool at_end = f + 1 == name.size();
            if (!at_end && name[f + 1] == '/' && !keep_dots) {
                f += 2;
                continue;
            }
            if (at_end && (flags & kCfnDropTrailingDotDir))
                break;
            if ((flags & (kCfnCollapseDotDotDirs | kCfnRefuseDotDotDirs))
                && dot_dot_component(name, f)) {
                if (flags & kCfnRefuseDotDotDirs)
                    return std::nullopt;
                const std::size_t t = out.size();
                if (anchored && t == 1) {
                    // "/.." is "/".
                    f += 2;
                    continue;
                }
                // Walk back over the previous component (t - 1 is its trailing slash).
                // Upstream keeps this as a pointer that may sit one before the buffer.
                long s = static_cast<long>(t) - 1;
                while (s > static_cast<long>(limit) && out[static_cast<std::size_t>(s - 1)] != '/')
                    --s;
                if (s != static_cast<long>(t) - 1
                    && (s <= 0 || out[static_cast<std::size_t>(s - 1)] == '/')) {
                    out.resize(s <= 0 ? 0 : static_cast<std::size_t>(s));
                    f += 2;
                    continue;
                }
                // Nothing to back over: keep this ".." and never back over it later.
                limit = t + 2;
            }
        }
        // Copy one component, including the slash that ends it.
        while (f < name.size()) {
            const char c = name[f++];
            out.push_back(c);
            if (c == '/')
                break;
        }
    }

    const std::size_t min_len = anchored ? 1 : 0;
    if (out.size() > min_len && out.back() == '/' && !(flags & kCfnKeepTrailingSlash))
        out.pop_back();
    if (out.empty())
        out = ".";
    return out;
}

std::optional<std::string> sanitize_path(std::string_view path, std::string_view rootdir,
                                         int depth, bool keep_dot_dirs, bool relative_paths,
                                         std::optional<std::size_t> max_len)
{
    // Upstream: util1.c:sanitize_path (the dest != p form).
    const bool drop_dot_dirs = !relative_paths || !keep_dot_dirs;
    std::string out;
    const std::size_t plen = path.size();
    std::size_t rlen = 0;
    if (!path.empty() && path[0] == '/') {
        rlen = rootdir.size();
        depth = 0;
        path.remove_prefix(1);
    }
    if (max_len && rlen + plen + 1 >= *max_len)
        return std::nullopt;
    if (rlen) {
        out.append(rootdir);
        // A root of "/" needs no separator of its own.
        if (rlen > 1)
            out.push_back('/');
    }

    std::size_t p = 0;
    if (drop_dot_dirs) {
        while (p + 1 < path.size() && path[p] == '.' && path[p + 1] == '/')
            p += 2;
    }

    std::size_t start = out.size();
    while (p < path.size()) {
        if (path[p] == '/') {
            ++p;
            continue;
        }
        const bool next_end_or_slash = p + 1 >= path.size() || path[p + 1] == '/';
        if (drop_dot_dirs && path[p] == '.' && next_end_or_slash) {
            ++p;
            continue;
        }
        if (dot_dot_component(path, p)) {
            if (depth <= 0 || out.size() != start) {
                p += 2;
                if (out.size() != start) {
                    // Back up over the previous component and its slash.
                    std::size_t s = out.size() - 1;
                    while (s > start && out[s - 1] != '/')
                        --s;
                    out.resize(s);
                }
                continue;
            }
            // Keep this leading "..": it is one of the `depth` allowed ones.
            --depth;
            start = out.size() + 3;
        }
        while (p < path.size()) {
            const char c = path[p++];
            out.push_back(c);
            if (c == '/')
                break;
        }
    }
    if (out.empty())
        out = ".";
    return out;
}

bool has_glob_chars(std::string_view path) noexcept
{
    return path.find_first_of("*?[") != std::string_view::npos;
}

namespace {

// The string part of upstream util1.c:glob_expand for one piece.
std::string clean_glob_piece(std::string_view piece, bool sanitize_paths, bool relative_paths)
{
    if (sanitize_paths) {
        auto s = sanitize_path(piece, "", 0, true, relative_paths);
        return s ? *s : std::string(".");
    }
    auto s = clean_fname(piece, kCfnKeepDotDirs | kCfnKeepTrailingSlash | kCfnCollapseDotDotDirs);
    return s ? *s : std::string(".");
}

} // namespace

std::vector<std::string> module_path_patterns(std::string_view module, std::string_view arg,
                                              bool secluded_batch, bool sanitize_paths,
                                              bool relative_paths)
{
    std::vector<std::string> out;
    if (arg.empty())
        return out;
    // Upstream compares the raw module name only, so "modx/y" loses "mod" too.
    if (arg.substr(0, module.size()) == module)
        arg.remove_prefix(module.size());

    if (secluded_batch) {
        out.push_back(clean_glob_piece(arg, sanitize_paths, relative_paths));
        return out;
    }

    // Old clients (and --old-args) join several paths as "mod/a mod/b"; 3.2.4+ clients
    // escape a literal " mod/" as "[ ]mod/", which the later glob turns back into a space.
    std::string separator = " ";
    separator.append(module);
    separator.push_back('/');
    std::size_t pos = 0;
    while (pos < arg.size()) {
        const std::size_t hit = arg.find(separator, pos);
        const std::size_t end = hit == std::string_view::npos ? arg.size() : hit;
        out.push_back(clean_glob_piece(arg.substr(pos, end - pos), sanitize_paths, relative_paths));
        if (hit == std::string_view::npos)
            break;
        pos = hit + separator.size();
    }
    return out;
}

ProcessedArgs process_daemon_args(const std::vector<std::string>& raw, const DaemonArgContext& ctx)
{
    ProcessedArgs result;
    if (!ctx.secluded_batch)
        result.argv.emplace_back("rsyncd");

    std::string request;
    bool have_request = false;
    for (const std::string& raw_line : raw) {
        if (raw_line.empty())
            break; // the terminator; a reader never returns one
        // Upstream handles each argument as a C string: a NUL byte (possible below protocol
        // 30) ends it early, and may leave it empty.
        const std::string line = raw_line.substr(0, raw_line.find('\0'));
        if (ctx.max_args == 0 || result.argv.size() >= ctx.max_args - 1) {
            result.ok = false;
            result.error = std::string(kTooManyArgsText);
            return result;
        }
        if (result.dot_pos) {
            // Upstream: io.c:read_args stops growing the request once it reaches 1024 bytes.
            if (request.size() < 1024) {
                if (!request.empty())
                    request.push_back(' ');
                request.append(line);
                have_request = true;
            }
            auto patterns = module_path_patterns(ctx.module, line, ctx.secluded_batch,
                                                 ctx.sanitize_paths, ctx.relative_paths);
            for (auto& p : patterns)
                result.argv.push_back(std::move(p));
        } else {
            // The client escaped option arguments with safe_arg(); no shell undoes that for
            // a daemon (3.4.4+). The "." test comes after unescaping, as upstream's does.
            result.argv.push_back(ctx.secluded_batch ? line : unbackslash_arg(line));
            if (result.argv.back() == ".")
                result.dot_pos = result.argv.size();
        }
    }
    if (have_request)
        result.request = std::move(request);
    return result;
}

PreExecArgs pre_exec_args(const std::optional<std::string>& request,
                          const std::vector<std::string>* first_batch,
                          const std::vector<std::string>& argv)
{
    PreExecArgs out;
    out.request = request ? *request : std::string("(NONE)");
    if (out.request.size() > kMaxDaemonArgLen)
        out.request.resize(kMaxDaemonArgLen);

    // Upstream writes NUL-separated values and the hook's reader stops at the first empty
    // one, so an empty value ends the list.
    bool ended = false;
    auto add = [&](const std::string& v) {
        if (ended)
            return;
        if (v.empty()) {
            ended = true;
            return;
        }
        out.args.push_back(v.substr(0, kMaxDaemonArgLen));
    };
    std::size_t skip = 0;
    if (first_batch) {
        for (const auto& v : *first_batch)
            add(v);
        skip = 1; // the second batch's own argv[0]
    }
    for (std::size_t i = skip; i < argv.size(); ++i)
        add(argv[i]);
    return out;
}

} // namespace ocr::daemon
