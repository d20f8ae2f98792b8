// SPDX-License-Identifier: MIT
// Component-by-component symlink resolution kept beneath the module root.
#include "transfer/module_symlinks.hpp"

#include <deque>
#include <vector>

namespace ocr::transfer {
namespace {

// The kernel's limit on symlinks followed in one path lookup (MAXSYMLINKS).
constexpr int kMaxLinks = 40;

void push_front_components(std::deque<std::string>& todo, std::string_view path)
{
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const auto slash = path.find('/', pos);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        if (end > pos)
            parts.emplace_back(path.substr(pos, end - pos));
        pos = end + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
}

std::string joined(const std::vector<std::string>& parts)
{
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : "/") + p;
    return out;
}

} // namespace

std::optional<std::string>
resolve_module_symlinks(std::string_view rel, std::string_view module_dir, bool absolute_inside,
                        const std::function<Errno(const std::string&, struct stat&)>& lstat_fn,
                        const std::function<std::optional<std::string>(const std::string&)>& readlink_fn)
{
    const bool chrooted = module_dir == "/";
    std::vector<std::string> done;
    std::deque<std::string> todo;
    push_front_components(todo, rel);
    int links = 0;
    while (!todo.empty()) {
        std::string comp = std::move(todo.front());
        todo.pop_front();
        if (comp == ".")
            continue;
        if (comp == "..") {
            if (!done.empty())
                done.pop_back();
            else if (!chrooted && links > 0)
                return std::nullopt; // a link leading above the module
            continue;
        }
        done.push_back(std::move(comp));
        const std::string here = joined(done);
        struct stat st{};
        if (lstat_fn(here, st) != 0)
            return std::nullopt;
        if (!S_ISLNK(st.st_mode))
            continue;
        done.pop_back();
        if (++links > kMaxLinks)
            return std::nullopt;
        const std::optional<std::string> target = readlink_fn(here);
        if (!target || target->empty())
            return std::nullopt;
        std::string_view t = *target;
        if (t.front() == '/') {
            if (!chrooted) {
                // Not chrooted: the target names the real file system; only a place inside
                // the module may be reached.
                if (!absolute_inside || t.compare(0, module_dir.size(), module_dir) != 0 ||
                    (t.size() > module_dir.size() && t[module_dir.size()] != '/'))
                    return std::nullopt;
                t.remove_prefix(module_dir.size());
            }
            done.clear();
        }
        push_front_components(todo, t);
    }
    return joined(done);
}

} // namespace ocr::transfer
