// SPDX-License-Identifier: MIT
// Module-relative path arithmetic for merge-file names and filter directories.
#include "transfer/filter_path.hpp"

#include <vector>

namespace ocr::transfer {
namespace {

/// Applies the components of @p path to @p parts ("." skipped, ".." pops, clamped at root).
void apply_components(std::vector<std::string_view>& parts, std::string_view path)
{
    std::size_t i = 0;
    while (i < path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos)
            j = path.size();
        const std::string_view comp = path.substr(i, j - i);
        if (comp == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else if (!comp.empty() && comp != ".") {
            parts.push_back(comp);
        }
        i = j + 1;
    }
}

} // namespace

std::string resolve_module_path(std::string_view base_dir, std::string_view path)
{
    std::vector<std::string_view> parts;
    if (path.empty() || path.front() != '/')
        apply_components(parts, base_dir);
    apply_components(parts, path);
    std::string out;
    for (const std::string_view p : parts) {
        if (!out.empty())
            out += '/';
        out += p;
    }
    return out;
}

std::string join_module_path(std::string_view dir, std::string_view name)
{
    std::string out(dir);
    if (!out.empty() && !name.empty())
        out += '/';
    out += name;
    return out;
}

std::string_view path_basename(std::string_view path) noexcept
{
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

} // namespace ocr::transfer
