// SPDX-License-Identifier: MIT
// FileSource: file reads for the config loader, recorded into a FileBundle for other processes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ocr::daemon {

/// @brief A file as read: its bytes and what fstat() said about the opened descriptor.
struct FileData {
    std::string contents;      ///< the bytes (empty for a directory)
    mode_t mode = 0;           ///< full st_mode (type and permission bits)
    uid_t uid = 0;             ///< st_uid
    bool is_directory = false; ///< the path named a directory (contents then empty)

    bool operator==(const FileData&) const = default;
};

/// @brief Why a file or directory could not be read: the errno of the failing call.
struct FileError {
    int errno_value = 0;

    bool operator==(const FileError&) const = default;
};

/// @brief Result of FileSource::read().
using ReadResult = std::variant<FileData, FileError>;
/// @brief Result of FileSource::list_dir(): entry names (no "." or ".."), sorted.
using ListResult = std::variant<std::vector<std::string>, FileError>;

/// @brief Where the config loader gets file contents from.
///
/// Implementations must be deterministic within one load: asking twice for the same path
/// gives the same answer (the recording implementations cache the first answer).
class FileSource {
public:
    virtual ~FileSource() = default;
    /// @brief Reads a whole file.
    /// @param path the path as written in the config (or on the command line).
    /// @return the data, or the errno of the failure.
    virtual ReadResult read(const std::string& path) = 0;
    /// @brief Lists a directory.
    /// @param path directory path.
    /// @return the entry names sorted by byte value, or the errno of the failure.
    virtual ListResult list_dir(const std::string& path) = 0;
    /// @brief Whether @p path names a directory (following symlinks, as stat() does).
    virtual bool is_dir(const std::string& path) = 0;
};

/// @brief Bounds on what a FileBundle may hold; deserialize() rejects anything beyond.
inline constexpr std::size_t kMaxBundleFileSize = 16u << 20;        ///< one file's contents
inline constexpr std::size_t kMaxBundleEntries = 65536;             ///< records of each kind
inline constexpr std::size_t kMaxBundlePathLength = 4096;           ///< one path (PATH_MAX)
inline constexpr std::size_t kMaxBundleDirEntries = 65536;          ///< names in one listing
inline constexpr std::size_t kMaxBundleSerializedSize = 256u << 20; ///< whole encoding
/// @brief Budget of a FileRecorder: file contents, paths and names together. Kept well
///        below kMaxBundleSerializedSize to leave room for the per-record overhead.
inline constexpr std::size_t kMaxBundleRecordedBytes = 128u << 20;

/// @brief Everything a FileSource answered during a load: path -> result, for reads,
///        directory listings and is_dir() checks separately.
///
/// The serialized form crosses a process boundary (privileged side -> front-end or
/// worker), so deserialize() checks every length and count against the bounds above.
class FileBundle {
public:
    /// @brief Records a read() result (replacing an earlier one for the same path).
    void record_read(const std::string& path, const ReadResult& result);
    /// @brief Records a list_dir() result.
    void record_list(const std::string& path, const ListResult& result);
    /// @brief Records an is_dir() answer.
    void record_is_dir(const std::string& path, bool is_dir);

    /// @brief The recorded read() result for @p path, or null if none.
    [[nodiscard]] const ReadResult* find_read(const std::string& path) const;
    /// @brief The recorded list_dir() result for @p path, or null if none.
    [[nodiscard]] const ListResult* find_list(const std::string& path) const;
    /// @brief The recorded is_dir() answer for @p path, or nullopt if none.
    [[nodiscard]] std::optional<bool> find_is_dir(const std::string& path) const;

    /// @brief All recorded reads, by path.
    [[nodiscard]] const std::map<std::string, ReadResult>& reads() const noexcept { return reads_; }

    /// @brief Encodes the bundle (binary, deterministic: sorted by path).
    /// @return the encoding.
    /// @throw std::length_error if a record exceeds the bundle bounds, and
    ///        std::invalid_argument for an empty path, a path with a NUL byte, or a listed
    ///        name that is empty, "." or "..", or holds '/' or NUL (either way it could not
    ///        be decoded again).
    [[nodiscard]] std::string serialize() const;

    /// @brief Decodes serialize()'s output.
    /// @param bytes untrusted input.
    /// @return the bundle, or nullopt if the input is malformed, truncated, has trailing
    ///         bytes, repeats a path, or exceeds a bound.
    [[nodiscard]] static std::optional<FileBundle> deserialize(std::string_view bytes);

    bool operator==(const FileBundle&) const = default;

private:
    std::map<std::string, ReadResult> reads_;
    std::map<std::string, ListResult> lists_;
    std::map<std::string, bool> is_dirs_;
};

/// @brief Records FileSource answers into a FileBundle, caching them, and keeps the bundle
///        within the bounds above so that it can always be serialized.
///
/// An answer that would break a bound is replaced, deterministically, so that replaying
/// the bundle through another FileRecorder makes the same replacements: a path that is
/// empty, holds a NUL or is longer than kMaxBundlePathLength is answered without asking
/// (ENOENT / ENAMETOOLONG, not a directory) and not recorded; once kMaxBundleEntries
/// answers of a kind are recorded, new paths get ENFILE (not recorded); a file above
/// kMaxBundleFileSize, or one that would take the recorded bytes past
/// kMaxBundleRecordedBytes, becomes EFBIG; a listing with more than kMaxBundleDirEntries
/// names becomes E2BIG and one with an unusable name ("", ".", "..", '/' or NUL) EINVAL.
class FileRecorder {
public:
    /// @brief The recorded answer for @p path, else @p fetch's (bounded) answer, recorded.
    ReadResult read(const std::string& path, const std::function<ReadResult()>& fetch);
    /// @brief Same for directory listings.
    ListResult list_dir(const std::string& path, const std::function<ListResult()>& fetch);
    /// @brief Same for is_dir().
    bool is_dir(const std::string& path, const std::function<bool()>& fetch);

    /// @brief Everything recorded so far.
    [[nodiscard]] const FileBundle& bundle() const noexcept { return bundle_; }

private:
    [[nodiscard]] bool fits(std::size_t cost) const noexcept
    {
        return cost <= kMaxBundleRecordedBytes - recorded_bytes_;
    }

    FileBundle bundle_;
    std::size_t reads_ = 0;
    std::size_t lists_ = 0;
    std::size_t is_dirs_ = 0;
    std::size_t recorded_bytes_ = 0;
};

/// @brief Reads real files.
///
/// A symlink as the final path component is followed only when it is owned by root or by
/// our effective uid; any other is refused (ELOOP), so a planted link cannot redirect the
/// read (Upstream: syscall.c:open_no_attacker_symlinks, used for the config, secrets and
/// motd files). FIFOs, sockets and block devices are refused (EINVAL) because reading them
/// could block or never end; files larger than the size bound fail with EFBIG.
/// Every answer is recorded (see FileRecorder); a repeated request for a path returns the
/// recorded answer, so one load sees one consistent view of the filesystem.
class DiskFileSource final : public FileSource {
public:
    /// @param max_file_size largest file read() accepts (at most kMaxBundleFileSize is
    ///        ever recorded).
    /// @param trusted_uid the owner (besides root) whose symlinks are followed; nullopt:
    ///        our effective uid.
    explicit DiskFileSource(std::size_t max_file_size = kMaxBundleFileSize,
                            std::optional<uid_t> trusted_uid = std::nullopt);

    ReadResult read(const std::string& path) override;
    ListResult list_dir(const std::string& path) override;
    bool is_dir(const std::string& path) override;

    /// @brief Everything answered so far.
    [[nodiscard]] const FileBundle& bundle() const noexcept { return recorder_.bundle(); }

private:
    std::size_t max_file_size_;
    uid_t trusted_uid_;
    FileRecorder recorder_;
};

/// @brief Replays a FileBundle: recorded answers only; a path that was never recorded
///        reads as ENOENT and is not a directory.
class BundleFileSource final : public FileSource {
public:
    explicit BundleFileSource(FileBundle bundle) : bundle_(std::move(bundle)) {}

    ReadResult read(const std::string& path) override;
    ListResult list_dir(const std::string& path) override;
    bool is_dir(const std::string& path) override;

private:
    FileBundle bundle_;
};

/// @brief Wraps another FileSource and records (and caches) every answer it gives, within
///        the bundle bounds (see FileRecorder), so a load can keep exactly what it read.
class RecordingFileSource final : public FileSource {
public:
    /// @param inner the source to ask; must outlive this object.
    explicit RecordingFileSource(FileSource& inner) : inner_(inner) {}

    ReadResult read(const std::string& path) override;
    ListResult list_dir(const std::string& path) override;
    bool is_dir(const std::string& path) override;

    /// @brief Everything answered so far.
    [[nodiscard]] const FileBundle& bundle() const noexcept { return recorder_.bundle(); }

private:
    FileSource& inner_;
    FileRecorder recorder_;
};

} // namespace ocr::daemon
