// SPDX-License-Identifier: MIT
// Test support: a fresh directory under /tmp for one test, removed with its fixture.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace ocr::test {

/// @brief Makes /tmp/PREFIX-XXXXXX on construction and removes the whole tree on
///        destruction, even where a test took its own write permission away.
class TempDir {
public:
    /// @throw std::system_error when the directory cannot be made (gtest reports it).
    explicit TempDir(const std::string& prefix)
    {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
        path_ = tmpl;
    }
    ~TempDir()
    {
        namespace fs = std::filesystem;
        std::error_code ignored;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

} // namespace ocr::test
