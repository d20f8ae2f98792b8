// SPDX-License-Identifier: MIT
// One directory of the module listed for the --fuzzy basis search.
#include "transfer/fuzzy_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace ocr::transfer {

std::vector<FuzzyCandidate> scan_fuzzy_dir(const ModuleWriter& writer, const std::string& dir_rel,
                                           const std::function<bool(std::string_view, bool)>& hidden)
{
    std::vector<FuzzyCandidate> out;
    Errno err = 0;
    UniqueFd fd = writer.open_dir(dir_rel, err);
    if (!fd)
        return out;
    // fdopendir owns the descriptor it is given: hand it a duplicate.
    const int dup = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return out;
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
        ::close(dup);
        return out;
    }
    while (const dirent* de = ::readdir(d)) {
        const char* n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
            continue;
        struct stat st{};
        if (::fstatat(fd.get(), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; // gone since readdir
        if (hidden && hidden(n, S_ISDIR(st.st_mode)))
            continue;
        out.push_back(FuzzyCandidate{n, st.st_mode, static_cast<std::int64_t>(st.st_size),
                                     static_cast<std::int64_t>(st.st_mtim.tv_sec), false});
    }
    ::closedir(d);
    // Only the order among regular files matters to the search (ties go to the later
    // one), and for names in one directory that is plain byte order.
    std::sort(out.begin(), out.end(), [](const FuzzyCandidate& a, const FuzzyCandidate& b) {
        return a.name < b.name;
    });
    return out;
}

} // namespace ocr::transfer
