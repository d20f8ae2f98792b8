// SPDX-License-Identifier: MIT
#include "worker/filter_files.hpp"

#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ocr::worker {

transfer::FilterFileRead read_whole_fd(int fd, std::size_t max_bytes)
{
    struct stat st{};
    if (::fstat(fd, &st) != 0)
        return {std::nullopt, errno};
    // Upstream opens a directory without complaint and reads no rules from it.
    if (S_ISDIR(st.st_mode))
        return {std::string(), 0};
    std::string data;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return {std::nullopt, errno};
        }
        if (n == 0)
            break;
        if (data.size() + static_cast<std::size_t>(n) > max_bytes)
            return {std::nullopt, EFBIG};
        data.append(buf, static_cast<std::size_t>(n));
    }
    return {std::move(data), 0};
}

transfer::FilterFileRead WorkerFilterFiles::read_module_file(std::string_view path, std::size_t max_bytes)
{
    if (!fs_)
        return {std::nullopt, ENOENT};
    // Follow a final symlink as upstream's fopen() does; openat2 keeps it beneath the root.
    UniqueFd fd = fs_->open_read(path, true);
    if (!fd)
        return {std::nullopt, errno};
    return read_whole_fd(fd.get(), max_bytes);
}

transfer::FilterFileRead WorkerFilterFiles::read_operator_file(std::string_view path, std::size_t max_bytes)
{
    if (auto it = operator_files_.find(path); it != operator_files_.end()) {
        if (it->second.content && it->second.content->size() > max_bytes)
            return {std::nullopt, EFBIG};
        return it->second;
    }
    if (fs_)
        return {std::nullopt, ENOENT}; // confined: nothing new can be read
    const std::string name(path);
    UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    transfer::FilterFileRead read = fd ? read_whole_fd(fd.get(), max_bytes) : transfer::FilterFileRead{std::nullopt, errno};
    operator_files_.emplace(name, read);
    return read;
}

} // namespace ocr::worker
