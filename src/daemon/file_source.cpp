// SPDX-License-Identifier: MIT
// Disk, recording and replaying FileSources, and the bounded FileBundle encoding.
#include "daemon/file_source.hpp"

#include "common/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ocr::daemon {

// ---------------------------------------------------------------------------------------
// FileBundle

void FileBundle::record_read(const std::string& path, const ReadResult& result)
{
    reads_.insert_or_assign(path, result);
}

void FileBundle::record_list(const std::string& path, const ListResult& result)
{
    lists_.insert_or_assign(path, result);
}

void FileBundle::record_is_dir(const std::string& path, bool is_dir)
{
    is_dirs_.insert_or_assign(path, is_dir);
}

const ReadResult* FileBundle::find_read(const std::string& path) const
{
    auto it = reads_.find(path);
    return it == reads_.end() ? nullptr : &it->second;
}

const ListResult* FileBundle::find_list(const std::string& path) const
{
    auto it = lists_.find(path);
    return it == lists_.end() ? nullptr : &it->second;
}

std::optional<bool> FileBundle::find_is_dir(const std::string& path) const
{
    auto it = is_dirs_.find(path);
    if (it == is_dirs_.end())
        return std::nullopt;
    return it->second;
}

namespace {

// Layout: magic, then three sections (reads, listings, is_dir answers), each a u32 count
// followed by records sorted by path. Integers are little-endian u32/i32; strings are a
// u32 length and the bytes. Sorted, unique paths make the encoding canonical, so two equal
// bundles always encode to the same bytes.
constexpr std::string_view kMagic{"OCRFB\x01", 6};
constexpr std::uint8_t kTagData = 0;
constexpr std::uint8_t kTagError = 1;

void put_u32(std::string& out, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

void put_bytes(std::string& out, std::string_view s, std::size_t limit)
{
    if (s.size() > limit)
        throw std::length_error("file bundle: field exceeds its bound");
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

void put_count(std::string& out, std::size_t n, std::size_t limit)
{
    if (n > limit)
        throw std::length_error("file bundle: too many records");
    put_u32(out, static_cast<std::uint32_t>(n));
}

/// Reads from an untrusted buffer; every accessor fails (returns false) rather than
/// reading past the end.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    bool u8(std::uint8_t& v)
    {
        if (in_.empty())
            return false;
        v = static_cast<std::uint8_t>(in_.front());
        in_.remove_prefix(1);
        return true;
    }

    bool u32(std::uint32_t& v)
    {
        if (in_.size() < 4)
            return false;
        v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(
                     static_cast<unsigned char>(in_[static_cast<std::size_t>(i)]))
                 << (8 * i);
        in_.remove_prefix(4);
        return true;
    }

    bool bytes(std::string& out, std::size_t limit)
    {
        std::uint32_t n = 0;
        if (!u32(n) || n > limit || n > in_.size())
            return false;
        out.assign(in_.substr(0, n));
        in_.remove_prefix(n);
        return true;
    }

    bool count(std::size_t& n, std::size_t limit)
    {
        std::uint32_t v = 0;
        if (!u32(v) || v > limit)
            return false;
        n = v;
        return true;
    }

    bool literal(std::string_view s)
    {
        if (in_.substr(0, s.size()) != s)
            return false;
        in_.remove_prefix(s.size());
        return true;
    }

    [[nodiscard]] bool done() const noexcept { return in_.empty(); }

private:
    std::string_view in_;
};

bool valid_path(const std::string& p)
{
    return !p.empty() && p.find('\0') == std::string::npos;
}

bool valid_entry_name(const std::string& n)
{
    return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos
           && n.find('\0') == std::string::npos;
}

void put_path(std::string& out, const std::string& path)
{
    if (!valid_path(path))
        throw std::invalid_argument("file bundle: invalid path");
    put_bytes(out, path, kMaxBundlePathLength);
}

// Reads the path of the next record and insists on strictly increasing order: that
// rejects duplicates and keeps the encoding canonical.
bool next_path(Reader& r, std::string& path, const std::string* previous)
{
    if (!r.bytes(path, kMaxBundlePathLength) || !valid_path(path))
        return false;
    return previous == nullptr || *previous < path;
}

} // namespace

std::string FileBundle::serialize() const
{
    std::string out(kMagic);

    put_count(out, reads_.size(), kMaxBundleEntries);
    for (const auto& [path, result] : reads_) {
        put_path(out, path);
        if (const auto* data = std::get_if<FileData>(&result)) {
            out.push_back(static_cast<char>(kTagData));
            put_u32(out, static_cast<std::uint32_t>(data->mode));
            put_u32(out, static_cast<std::uint32_t>(data->uid));
            out.push_back(data->is_directory ? '\1' : '\0');
            put_bytes(out, data->contents, kMaxBundleFileSize);
        } else {
            out.push_back(static_cast<char>(kTagError));
            put_u32(out, static_cast<std::uint32_t>(std::get<FileError>(result).errno_value));
        }
    }

    put_count(out, lists_.size(), kMaxBundleEntries);
    for (const auto& [path, result] : lists_) {
        put_path(out, path);
        if (const auto* names = std::get_if<std::vector<std::string>>(&result)) {
            out.push_back(static_cast<char>(kTagData));
            put_count(out, names->size(), kMaxBundleDirEntries);
            for (const auto& name : *names) {
                if (!valid_entry_name(name))
                    throw std::invalid_argument("file bundle: invalid directory entry name");
                put_bytes(out, name, kMaxBundlePathLength);
            }
        } else {
            out.push_back(static_cast<char>(kTagError));
            put_u32(out, static_cast<std::uint32_t>(std::get<FileError>(result).errno_value));
        }
    }

    put_count(out, is_dirs_.size(), kMaxBundleEntries);
    for (const auto& [path, value] : is_dirs_) {
        put_path(out, path);
        out.push_back(value ? '\1' : '\0');
    }

    if (out.size() > kMaxBundleSerializedSize)
        throw std::length_error("file bundle: encoding exceeds its bound");
    return out;
}

std::optional<FileBundle> FileBundle::deserialize(std::string_view bytes)
{
    if (bytes.size() > kMaxBundleSerializedSize)
        return std::nullopt;
    Reader r(bytes);
    if (!r.literal(kMagic))
        return std::nullopt;

    FileBundle b;
    std::size_t n = 0;
    std::string path;
    std::string previous;
    std::uint8_t tag = 0;
    std::uint32_t v32 = 0;

    if (!r.count(n, kMaxBundleEntries))
        return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) {
        if (!next_path(r, path, i ? &previous : nullptr) || !r.u8(tag))
            return std::nullopt;
        if (tag == kTagData) {
            FileData d;
            std::uint32_t mode = 0;
            std::uint32_t uid = 0;
            std::uint8_t is_dir = 0;
            if (!r.u32(mode) || !r.u32(uid) || !r.u8(is_dir) || is_dir > 1
                || !r.bytes(d.contents, kMaxBundleFileSize))
                return std::nullopt;
            d.mode = static_cast<mode_t>(mode);
            d.uid = static_cast<uid_t>(uid);
            d.is_directory = is_dir != 0;
            b.reads_.emplace(path, std::move(d));
        } else if (tag == kTagError) {
            if (!r.u32(v32))
                return std::nullopt;
            b.reads_.emplace(path, FileError{static_cast<int>(v32)});
        } else {
            return std::nullopt;
        }
        previous = path;
    }

    if (!r.count(n, kMaxBundleEntries))
        return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) {
        if (!next_path(r, path, i ? &previous : nullptr) || !r.u8(tag))
            return std::nullopt;
        if (tag == kTagData) {
            std::size_t count = 0;
            if (!r.count(count, kMaxBundleDirEntries))
                return std::nullopt;
            std::vector<std::string> names;
            for (std::size_t j = 0; j < count; ++j) {
                std::string name;
                if (!r.bytes(name, kMaxBundlePathLength) || !valid_entry_name(name))
                    return std::nullopt;
                names.push_back(std::move(name));
            }
            b.lists_.emplace(path, std::move(names));
        } else if (tag == kTagError) {
            if (!r.u32(v32))
                return std::nullopt;
            b.lists_.emplace(path, FileError{static_cast<int>(v32)});
        } else {
            return std::nullopt;
        }
        previous = path;
    }

    if (!r.count(n, kMaxBundleEntries))
        return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) {
        if (!next_path(r, path, i ? &previous : nullptr) || !r.u8(tag) || tag > 1)
            return std::nullopt;
        b.is_dirs_.emplace(path, tag != 0);
        previous = path;
    }

    if (!r.done())
        return std::nullopt;
    return b;
}

// ---------------------------------------------------------------------------------------
// FileRecorder

namespace {

// Rough cost of one record in the encoding besides its path and payload.
constexpr std::size_t kRecordOverhead = 16;

// Why a path cannot be recorded (and so is not even looked up), or 0.
int unusable_path(const std::string& path) noexcept
{
    if (path.empty() || path.find('\0') != std::string::npos)
        return ENOENT;
    if (path.size() > kMaxBundlePathLength)
        return ENAMETOOLONG;
    return 0;
}

} // namespace

ReadResult FileRecorder::read(const std::string& path, const std::function<ReadResult()>& fetch)
{
    if (const auto* r = bundle_.find_read(path))
        return *r;
    if (int e = unusable_path(path))
        return FileError{e};
    const std::size_t base = kRecordOverhead + path.size();
    if (reads_ >= kMaxBundleEntries)
        return FileError{ENFILE};
    if (!fits(base))
        return FileError{EFBIG};
    ReadResult r = fetch();
    std::size_t cost = base;
    if (const auto* data = std::get_if<FileData>(&r)) {
        if (data->contents.size() > kMaxBundleFileSize || !fits(base + data->contents.size()))
            r = FileError{EFBIG};
        else
            cost += data->contents.size();
    }
    recorded_bytes_ += cost;
    ++reads_;
    bundle_.record_read(path, r);
    return r;
}

ListResult FileRecorder::list_dir(const std::string& path, const std::function<ListResult()>& fetch)
{
    if (const auto* r = bundle_.find_list(path))
        return *r;
    if (int e = unusable_path(path))
        return FileError{e};
    const std::size_t base = kRecordOverhead + path.size();
    if (lists_ >= kMaxBundleEntries)
        return FileError{ENFILE};
    if (!fits(base))
        return FileError{E2BIG};
    ListResult r = fetch();
    std::size_t cost = base;
    if (const auto* names = std::get_if<std::vector<std::string>>(&r)) {
        std::size_t bytes = 0;
        bool usable = true;
        for (const auto& n : *names) {
            usable = usable && valid_entry_name(n) && n.size() <= kMaxBundlePathLength;
            bytes += n.size() + 4;
        }
        if (!usable)
            r = FileError{EINVAL};
        else if (names->size() > kMaxBundleDirEntries || !fits(base + bytes))
            r = FileError{E2BIG};
        else
            cost += bytes;
    }
    recorded_bytes_ += cost;
    ++lists_;
    bundle_.record_list(path, r);
    return r;
}

bool FileRecorder::is_dir(const std::string& path, const std::function<bool()>& fetch)
{
    if (auto r = bundle_.find_is_dir(path))
        return *r;
    const std::size_t cost = kRecordOverhead + path.size();
    if (unusable_path(path) != 0 || is_dirs_ >= kMaxBundleEntries || !fits(cost))
        return false;
    bool result = fetch();
    recorded_bytes_ += cost;
    ++is_dirs_;
    bundle_.record_is_dir(path, result);
    return result;
}

// ---------------------------------------------------------------------------------------
// DiskFileSource

namespace {

ReadResult read_from_disk(const std::string& path, std::size_t max_size, uid_t trusted_uid)
{
    // Follow a final-component symlink only when root or we own it: anyone else's link
    // could point the daemon at a file the link's owner may not read.
    // (Upstream: syscall.c:open_no_attacker_symlinks.)
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
        if (lst.st_uid != 0 && lst.st_uid != trusted_uid)
            flags |= O_NOFOLLOW;
    } else {
        flags |= O_NOFOLLOW;
    }

    UniqueFd fd(::open(path.c_str(), flags));
    if (!fd)
        return FileError{errno};

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return FileError{errno};

    FileData data;
    data.mode = st.st_mode;
    data.uid = st.st_uid;
    if (S_ISDIR(st.st_mode)) {
        data.is_directory = true;
        return data;
    }
    // O_NONBLOCK only kept open() from hanging on a FIFO; such files are refused here.
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        return FileError{EINVAL};
    if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > max_size)
        return FileError{EFBIG};
    if (S_ISCHR(st.st_mode)) {
        int fl = ::fcntl(fd.get(), F_GETFL);
        if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
            return FileError{errno};
    }

    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FileError{errno};
        }
        if (n == 0)
            break;
        // The file may grow after fstat(), and character devices have no size.
        if (data.contents.size() + static_cast<std::size_t>(n) > max_size)
            return FileError{EFBIG};
        data.contents.append(buf, static_cast<std::size_t>(n));
    }
    return data;
}

ListResult list_from_disk(const std::string& path)
{
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr)
        return FileError{errno};
    std::vector<std::string> names;
    int err = 0;
    for (;;) {
        errno = 0;
        const dirent* e = ::readdir(d);
        if (e == nullptr) {
            err = errno;
            break;
        }
        std::string name(e->d_name);
        if (name == "." || name == "..")
            continue;
        if (names.size() >= kMaxBundleDirEntries) {
            err = E2BIG;
            break;
        }
        names.push_back(std::move(name));
    }
    ::closedir(d);
    if (err != 0)
        return FileError{err};
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

DiskFileSource::DiskFileSource(std::size_t max_file_size, std::optional<uid_t> trusted_uid) :
    max_file_size_(max_file_size), trusted_uid_(trusted_uid.value_or(::geteuid()))
{
}

ReadResult DiskFileSource::read(const std::string& path)
{
    return recorder_.read(path, [&] { return read_from_disk(path, max_file_size_, trusted_uid_); });
}

ListResult DiskFileSource::list_dir(const std::string& path)
{
    return recorder_.list_dir(path, [&] { return list_from_disk(path); });
}

bool DiskFileSource::is_dir(const std::string& path)
{
    return recorder_.is_dir(path, [&] {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    });
}

// ---------------------------------------------------------------------------------------
// BundleFileSource

ReadResult BundleFileSource::read(const std::string& path)
{
    if (const auto* r = bundle_.find_read(path))
        return *r;
    return FileError{ENOENT};
}

ListResult BundleFileSource::list_dir(const std::string& path)
{
    if (const auto* r = bundle_.find_list(path))
        return *r;
    return FileError{ENOENT};
}

bool BundleFileSource::is_dir(const std::string& path)
{
    return bundle_.find_is_dir(path).value_or(false);
}

// ---------------------------------------------------------------------------------------
// RecordingFileSource

ReadResult RecordingFileSource::read(const std::string& path)
{
    return recorder_.read(path, [&] { return inner_.read(path); });
}

ListResult RecordingFileSource::list_dir(const std::string& path)
{
    return recorder_.list_dir(path, [&] { return inner_.list_dir(path); });
}

bool RecordingFileSource::is_dir(const std::string& path)
{
    return recorder_.is_dir(path, [&] { return inner_.is_dir(path); });
}

} // namespace ocr::daemon
