// SPDX-License-Identifier: MIT
// Confined filesystem changes for a push: parent resolved with openat2, leaf acted on with *at().
#include "transfer/module_writer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ocr::transfer {
namespace {

// receiver.c: TMPNAME_SUFFIX ".XXXXXX" and its length; MAXPATHLEN is 4096 on Linux.
constexpr std::string_view kTmpSuffix = ".XXXXXX";
constexpr int kMaxPathLen = 4096;
constexpr int kNameMax = 255;
// do_mkstemp_atfd (syscall.c) gives up after 100 names that exist.
constexpr int kTempTries = 100;
// Deeper trees than this are refused rather than risk running out of descriptors (one is held
// open per level).
constexpr int kMaxRemoveDepth = 256;
constexpr unsigned kResolveFlags = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// Leading slashes dropped; fails on NUL and on any ".." component so that names never climb,
// even where the kernel's RESOLVE_BENEATH would have allowed it.
bool normalize(std::string_view rel, std::string& out, Errno& err)
{
    while (!rel.empty() && rel.front() == '/')
        rel.remove_prefix(1);
    if (rel.find('\0') != std::string_view::npos) {
        err = EINVAL;
        return false;
    }
    std::size_t pos = 0;
    while (pos <= rel.size()) {
        std::size_t end = rel.find('/', pos);
        if (end == std::string_view::npos)
            end = rel.size();
        if (rel.substr(pos, end - pos) == "..") {
            err = ELOOP;
            return false;
        }
        pos = end + 1;
    }
    out.assign(rel);
    return true;
}

bool is_root_path(const std::string& path)
{
    return path.empty() || path == ".";
}

bool bad_leaf(std::string_view leaf)
{
    return leaf.empty() || leaf == "." || leaf == "..";
}

// openat2 beneath dirfd with no symlink resolution at all; EXDEV (an escape attempt) becomes
// ELOOP, the errno upstream 3.5.0's confined opens report.
int resolve_beneath(int dirfd, const std::string& path, int flags)
{
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = kResolveFlags;
    const char* p = is_root_path(path) ? "." : path.c_str();
    // EAGAIN: the kernel saw a concurrent rename and refused to vouch for the walk; retrying is
    // what openat2(2) recommends, bounded so that a rename storm cannot spin us forever.
    for (int tries = 0;; ++tries) {
        const long fd = ::syscall(SYS_openat2, dirfd, p, &how, sizeof how);
        if (fd >= 0)
            return static_cast<int>(fd);
        if ((errno == EINTR || errno == EAGAIN) && tries < 64)
            continue;
        if (errno == EXDEV)
            errno = ELOOP;
        return -1;
    }
}

Errno errno_or(Errno fallback)
{
    return errno != 0 ? errno : fallback;
}

bool write_all(int fd, const char* data, std::size_t len)
{
    while (len > 0) {
        const ssize_t n = ::write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

void fill_random(std::string& name, std::size_t at)
{
    static constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::array<unsigned char, 6> bytes{};
    if (::getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) != static_cast<ssize_t>(bytes.size())) {
        // Uniqueness, not secrecy, is what matters here (O_EXCL guards the creation).
        static std::atomic<std::uint64_t> counter{0};
        std::uint64_t v = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                          (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL) ^ static_cast<std::uint64_t>(::getpid());
        for (auto& b : bytes) {
            b = static_cast<unsigned char>(v);
            v = (v >> 8) | (v << 56);
            v *= 0xff51afd7ed558ccdULL;
        }
    }
    for (std::size_t i = 0; i < bytes.size(); ++i)
        name[at + i] = letters[bytes[i] % letters.size()];
}

// Opens an existing regular file or directory (as lstat'ed into `kind`) without following a
// symlink and without blocking on a FIFO; the type is re-checked on the fd so that an entry
// swapped after the lstat is refused.
int open_leaf_nofollow(int parent, const std::string& leaf, mode_t kind, Errno& err, int extra_flags = 0)
{
    const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (S_ISDIR(kind) ? O_DIRECTORY : 0) |
                      extra_flags;
    UniqueFd fd(::openat(parent, leaf.c_str(), flags));
    if (!fd) {
        err = errno;
        return -1;
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) {
        err = errno;
        return -1;
    }
    if ((st.st_mode & S_IFMT) != (kind & S_IFMT)) {
        err = EAGAIN;
        return -1;
    }
    return fd.release();
}

// Sibling order of upstream's sorted file list (flist.c:f_name_cmp for protocol >= 29): all
// non-directories before all directories, names compared as unsigned bytes with a directory's
// name carrying a trailing '/'.
struct DirEntry {
    std::string name;
    struct stat st;
};

bool flist_less(const DirEntry& a, const DirEntry& b)
{
    const bool ad = S_ISDIR(a.st.st_mode);
    const bool bd = S_ISDIR(b.st.st_mode);
    if (ad != bd)
        return bd;
    std::string an = a.name;
    std::string bn = b.name;
    if (ad) {
        an += '/';
        bn += '/';
    }
    return std::lexicographical_compare(an.begin(), an.end(), bn.begin(), bn.end(),
                                        [](char x, char y) { return static_cast<unsigned char>(x) < static_cast<unsigned char>(y); });
}

Errno list_entries(int dir_fd, std::vector<DirEntry>& out)
{
    const int dup = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return errno;
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
        const Errno e = errno;
        ::close(dup);
        return e;
    }
    ::rewinddir(d);
    Errno result = 0;
    for (;;) {
        errno = 0;
        const dirent* de = ::readdir(d);
        if (de == nullptr) {
            result = errno;
            break;
        }
        const char* n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
            continue;
        DirEntry e{n, {}};
        if (::fstatat(dir_fd, n, &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue;
            result = errno;
            break;
        }
        out.push_back(std::move(e));
    }
    ::closedir(d);
    return result;
}

// delete.c:delete_dir_contents gives a directory we own but cannot write to u+w (only when not
// root: root needs no write bit) so that its entries can be removed.
void make_dir_writable(int dir_fd, const struct stat& st)
{
    if (::geteuid() != 0 && !(st.st_mode & S_IWUSR) && st.st_uid == ::geteuid())
        (void)::fchmod(dir_fd, (st.st_mode & 07777) | S_IWUSR);
}

std::string join(const std::string& dir, const std::string& name)
{
    return dir.empty() ? name : dir + "/" + name;
}

bool notify(const ModuleWriter::DeletedFn& fn, const std::string& rel, bool is_dir)
{
    return !fn || fn(rel, is_dir);
}

} // namespace

ModuleWriter::ModuleWriter(int root_fd) : root_(root_fd) {}

UniqueFd ModuleWriter::open_parent(std::string_view rel, std::string& leaf, Errno& err) const
{
    std::string path;
    if (!normalize(rel, path, err))
        return {};
    const auto slash = path.rfind('/');
    std::string parent;
    if (slash == std::string::npos) {
        leaf = path;
    } else {
        leaf = path.substr(slash + 1);
        parent = path.substr(0, slash);
    }
    if (bad_leaf(leaf)) {
        err = EINVAL;
        return {};
    }
    UniqueFd fd(resolve_beneath(root_, parent, O_PATH | O_DIRECTORY));
    if (!fd)
        err = errno;
    return fd;
}

UniqueFd ModuleWriter::open_dir(std::string_view rel, Errno& err) const
{
    err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return {};
    UniqueFd fd(resolve_beneath(root_, path, O_RDONLY | O_DIRECTORY));
    if (!fd && errno == EACCES)
        fd.reset(resolve_beneath(root_, path, O_PATH | O_DIRECTORY));
    if (!fd)
        err = errno;
    return fd;
}

Errno ModuleWriter::lstat(std::string_view rel, struct stat& st) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    if (is_root_path(path))
        return ::fstat(root_, &st) == 0 ? 0 : errno;
    std::string leaf;
    UniqueFd parent = open_parent(path, leaf, err);
    if (!parent)
        return err;
    return ::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

Errno ModuleWriter::stat_beneath(std::string_view rel, struct stat& st) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    open_how how{};
    how.flags = static_cast<std::uint64_t>(O_PATH | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const char* p = is_root_path(path) ? "." : path.c_str();
    for (int tries = 0;; ++tries) {
        const long fd = ::syscall(SYS_openat2, root_, p, &how, sizeof how);
        if (fd >= 0) {
            UniqueFd held(static_cast<int>(fd));
            return ::fstat(held.get(), &st) == 0 ? 0 : errno;
        }
        if ((errno == EINTR || errno == EAGAIN) && tries < 64)
            continue;
        return errno == EXDEV ? ELOOP : errno;
    }
}

UniqueFd ModuleWriter::open_read(std::string_view rel, Errno& err) const
{
    err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return {};
    struct stat st{};
    if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        err = errno;
        return {};
    }
    if (S_ISLNK(st.st_mode)) {
        err = ELOOP;
        return {};
    }
    if (!S_ISREG(st.st_mode)) {
        err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return {};
    }
    UniqueFd fd(open_leaf_nofollow(parent.get(), leaf, S_IFREG, err, open_noatime_ ? O_NOATIME : 0));
    if (fd && ::fcntl(fd.get(), F_SETFL, open_noatime_ ? O_NOATIME : 0) != 0) {
        err = errno;
        return {};
    }
    return fd;
}

std::optional<std::string> ModuleWriter::temp_name_template(std::string_view final_rel, std::string_view tmp_dir)
{
    while (!final_rel.empty() && final_rel.front() == '/')
        final_rel.remove_prefix(1);
    const bool in_tmp = !tmp_dir.empty();
    const auto slash = final_rel.rfind('/');
    std::string_view base = slash == std::string_view::npos ? final_rel : final_rel.substr(slash + 1);
    // receiver.c:get_tmpname: `length` counts the directory part written before the name (the
    // temp dir plus '/', or the final name's own directory with its '/') and, without a temp
    // dir, the leading dot, which replaces one leading dot of the name rather than adding to it.
    int length = 0;
    if (in_tmp)
        length = static_cast<int>(tmp_dir.size()) + 1;
    else if (slash != std::string_view::npos)
        length = static_cast<int>(slash) + 1;
    // buf[0] stands for the character just before the name: the added dot, or the temp dir's '/'
    // (dropped at the end); upstream's trimming below never goes past it.
    std::string buf(1, in_tmp ? '/' : '.');
    if (!in_tmp) {
        if (!base.empty() && base.front() == '.')
            base.remove_prefix(1);
        ++length;
    }
    // The size of the room for the name including its NUL; NAME_MAX loses one more for the dot.
    const int suffix_len = static_cast<int>(kTmpSuffix.size());
    const int maxname = std::min(kMaxPathLen - length - suffix_len, kNameMax - 1 - suffix_len);
    if (maxname < 0)
        return std::nullopt;
    std::size_t suf = 0;
    if (maxname > 0) {
        const std::size_t added = std::min(base.size(), static_cast<std::size_t>(maxname - 1));
        buf.append(base.substr(0, added));
        suf = buf.size();
        // A cut inside a multi-byte character: drop the whole high-bit run before the cut.
        if (added < base.size() && (static_cast<unsigned char>(base[added]) & 0x80)) {
            while (suf > 0 && (static_cast<unsigned char>(buf[suf - 1]) & 0x80))
                --suf;
        }
        // No "..": one trailing dot of the name gives way to the suffix's dot.
        if (suf > 0 && buf[suf - 1] == '.')
            --suf;
    } else {
        suf = 0; // the suffix's dot takes the place of the leading dot
    }
    buf.resize(suf);
    buf.append(kTmpSuffix);
    if (in_tmp) {
        if (buf.front() != '/')
            return std::nullopt; // upstream would have overwritten the temp dir's '/'
        buf.erase(0, 1);
    }
    return buf;
}

std::optional<TempFile> ModuleWriter::create_temp(std::string_view final_rel, std::string_view tmp_dir,
                                                  Errno& err) const
{
    return create_temp(final_rel, tmp_dir, err, S_IRUSR | S_IWUSR);
}

std::optional<TempFile> ModuleWriter::create_temp(std::string_view final_rel, std::string_view tmp_dir, Errno& err,
                                                  mode_t perms, std::string* tried) const
{
    err = 0;
    std::string leaf;
    TempFile t;
    t.dir = open_parent(final_rel, leaf, err);
    if (!t.dir)
        return std::nullopt;
    if (!tmp_dir.empty()) {
        std::string tpath;
        if (!normalize(tmp_dir, tpath, err))
            return std::nullopt;
        t.dir.reset(resolve_beneath(root_, tpath, O_PATH | O_DIRECTORY));
        if (!t.dir) {
            err = errno;
            return std::nullopt;
        }
    }
    std::string norm_final;
    (void)normalize(final_rel, norm_final, err);
    auto name = temp_name_template(norm_final, tmp_dir);
    if (!name) {
        err = ENAMETOOLONG;
        return std::nullopt;
    }
    // receiver.c:open_tmpfile and syscall.c:do_mkstemp_atfd: owner write always, nothing beyond
    // the owner's bits until the real owner and mode are set.
    const mode_t mode = (perms | S_IWUSR) & 0700;
    const std::size_t rnd_at = name->size() - 6;
    for (int tries = 0; tries < kTempTries; ++tries) {
        fill_random(*name, rnd_at);
        if (tried != nullptr)
            *tried = *name;
        t.fd.reset(::openat(t.dir.get(), name->c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
        if (t.fd)
            break;
        if (errno != EEXIST) {
            err = errno;
            return std::nullopt;
        }
    }
    if (!t.fd) {
        err = EEXIST;
        return std::nullopt;
    }
    // The umask may have taken bits away; upstream's mkstemp wrapper puts them back.
    if (::fchmod(t.fd.get(), mode) != 0) {
        err = errno;
        (void)::unlinkat(t.dir.get(), name->c_str(), 0);
        return std::nullopt;
    }
    t.name = std::move(*name);
    return t;
}

Errno ModuleWriter::rename_into_place(TempFile& temp, std::string_view final_rel) const
{
    if (temp.name.empty() || !temp.dir)
        return EINVAL;
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(final_rel, leaf, err);
    if (!parent)
        return err;
    if (::renameat(temp.dir.get(), temp.name.c_str(), parent.get(), leaf.c_str()) != 0)
        return errno;
    temp.name.clear();
    return 0;
}

Errno ModuleWriter::rename_into_place(TempFile& temp, std::string_view final_rel, bool& copied) const
{
    copied = false;
    const Errno err = rename_into_place(temp, final_rel);
    if (err != EXDEV)
        return err;
    const Errno cerr = copy_into_place(temp, final_rel);
    copied = cerr == 0;
    return cerr;
}

Errno ModuleWriter::copy_into_place(TempFile& temp, std::string_view final_rel) const
{
    if (temp.name.empty() || !temp.dir || !temp.fd)
        return EINVAL;
    struct stat src{};
    if (::fstat(temp.fd.get(), &src) != 0)
        return errno;
    Errno err = 0;
    auto copy = create_temp(final_rel, {}, err);
    if (!copy)
        return err;
    std::string leaf;
    {
        std::string norm;
        (void)normalize(final_rel, norm, err);
        const auto slash = norm.rfind('/');
        leaf = slash == std::string::npos ? norm : norm.substr(slash + 1);
    }
    std::vector<char> buf(256 * 1024);
    off_t off = 0;
    for (;;) {
        const ssize_t n = ::pread(temp.fd.get(), buf.data(), buf.size(), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && !write_all(copy->fd.get(), buf.data(), static_cast<std::size_t>(n)))) {
            err = errno_or(EIO);
            discard(*copy);
            return err;
        }
        if (n == 0)
            break;
        off += n;
    }
    // What the caller already put on the temp file travels with the data. Ownership first:
    // chown drops set-id bits, which the chmod then restores. Not being allowed to give the file
    // away (not root) leaves it ours, as copy_file would.
    if (src.st_uid != ::geteuid() || src.st_gid != ::getegid())
        if (::fchown(copy->fd.get(), src.st_uid, src.st_gid) != 0) {
            // Not allowed to give it away: the copy stays ours.
        }
    if (::fchmod(copy->fd.get(), src.st_mode & 07777) != 0) {
        err = errno;
        discard(*copy);
        return err;
    }
    std::array<char, 256> xval{};
    const ssize_t xlen = ::fgetxattr(temp.fd.get(), fake_super_xattr_name, xval.data(), xval.size());
    if (xlen >= 0 && ::fsetxattr(copy->fd.get(), fake_super_xattr_name, xval.data(), static_cast<std::size_t>(xlen), 0) != 0) {
        err = errno;
        discard(*copy);
        return err;
    }
    const struct timespec times[2] = {src.st_atim, src.st_mtim};
    if (::futimens(copy->fd.get(), times) != 0) {
        err = errno;
        discard(*copy);
        return err;
    }
    if (::renameat(copy->dir.get(), copy->name.c_str(), copy->dir.get(), leaf.c_str()) != 0) {
        err = errno;
        discard(*copy);
        return err;
    }
    // util1.c:robust_rename removes the source after a successful copy.
    (void)::unlinkat(temp.dir.get(), temp.name.c_str(), 0);
    copy->name.clear();
    temp = std::move(*copy);
    return 0;
}

void ModuleWriter::discard(TempFile& temp) const noexcept
{
    if (!temp.name.empty() && temp.dir)
        (void)::unlinkat(temp.dir.get(), temp.name.c_str(), 0);
    temp.name.clear();
    temp.fd.reset();
}

UniqueFd ModuleWriter::open_inplace(std::string_view rel, Errno& err) const
{
    err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return {};
    struct stat st{};
    if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
            err = ELOOP;
            return {};
        }
        if (!S_ISREG(st.st_mode)) {
            err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
            return {};
        }
    } else if (errno != ENOENT) {
        err = errno;
        return {};
    }
    // O_NONBLOCK: a FIFO raced in after the check fails (ENXIO) instead of hanging the worker.
    UniqueFd fd(::openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                         S_IRUSR | S_IWUSR));
    if (!fd) {
        err = errno;
        return {};
    }
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        err = errno_or(EINVAL);
        return {};
    }
    if (::fcntl(fd.get(), F_SETFL, O_WRONLY) != 0) {
        err = errno;
        return {};
    }
    return fd;
}

Errno ModuleWriter::mkdir(std::string_view rel, mode_t mode) const
{
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    return ::mkdirat(parent.get(), leaf.c_str(), mode) == 0 ? 0 : errno;
}

Errno ModuleWriter::symlink(std::string_view target, std::string_view rel) const
{
    if (target.empty() || target.find('\0') != std::string_view::npos)
        return EINVAL;
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    const std::string t(target);
    return ::symlinkat(t.c_str(), parent.get(), leaf.c_str()) == 0 ? 0 : errno;
}

Errno ModuleWriter::mknod(std::string_view rel, mode_t mode, dev_t dev) const
{
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    // mknodat makes FIFOs and sockets as well on Linux (syscall.c:do_mknod tries it first).
    return ::mknodat(parent.get(), leaf.c_str(), mode, dev) == 0 ? 0 : errno;
}

namespace {

// The regular file that stands for a symlink or a special file under "fake super": created
// with owner-only access (syscall.c:do_mknod_at / do_symlink_at with am_root < 0), never over
// an existing name or through a symlink.
Errno create_stand_in(int parent, const std::string& leaf, std::string_view content)
{
    UniqueFd fd(::openat(parent, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                         S_IRUSR | S_IWUSR));
    if (!fd)
        return errno;
    if (!content.empty() && !write_all(fd.get(), content.data(), content.size())) {
        const Errno e = errno_or(EIO);
        (void)::unlinkat(parent, leaf.c_str(), 0);
        return e;
    }
    return 0;
}

} // namespace

Errno ModuleWriter::fake_symlink(std::string_view target, std::string_view rel) const
{
    if (target.empty() || target.find('\0') != std::string_view::npos)
        return EINVAL;
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    return create_stand_in(parent.get(), leaf, target);
}

Errno ModuleWriter::fake_mknod(std::string_view rel) const
{
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    return create_stand_in(parent.get(), leaf, {});
}

std::optional<std::string> ModuleWriter::read_fake_symlink(std::string_view rel) const
{
    Errno err = 0;
    UniqueFd fd = open_read(rel, err);
    if (!fd)
        return std::nullopt;
    // do_readlink_atfd reads once into a MAXPATHLEN-1 buffer.
    std::string buf(kMaxPathLen - 1, '\0');
    ssize_t n = 0;
    do
        n = ::read(fd.get(), buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

Errno ModuleWriter::link(std::string_view existing_rel, std::string_view new_rel) const
{
    Errno err = 0;
    std::string old_leaf;
    std::string new_leaf;
    UniqueFd old_parent = open_parent(existing_rel, old_leaf, err);
    if (!old_parent)
        return err;
    UniqueFd new_parent = open_parent(new_rel, new_leaf, err);
    if (!new_parent)
        return err;
    // flags 0: a symlink is linked itself, never its target.
    return ::linkat(old_parent.get(), old_leaf.c_str(), new_parent.get(), new_leaf.c_str(), 0) == 0 ? 0 : errno;
}

Errno ModuleWriter::unlink(std::string_view rel) const
{
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    return ::unlinkat(parent.get(), leaf.c_str(), 0) == 0 ? 0 : errno;
}

Errno ModuleWriter::rmdir(std::string_view rel) const
{
    Errno err = 0;
    std::string leaf;
    UniqueFd parent = open_parent(rel, leaf, err);
    if (!parent)
        return err;
    return ::unlinkat(parent.get(), leaf.c_str(), AT_REMOVEDIR) == 0 ? 0 : errno;
}

Errno ModuleWriter::rename(std::string_view from_rel, std::string_view to_rel) const
{
    Errno err = 0;
    std::string from_leaf;
    std::string to_leaf;
    UniqueFd from_parent = open_parent(from_rel, from_leaf, err);
    if (!from_parent)
        return err;
    UniqueFd to_parent = open_parent(to_rel, to_leaf, err);
    if (!to_parent)
        return err;
    return ::renameat(from_parent.get(), from_leaf.c_str(), to_parent.get(), to_leaf.c_str()) == 0 ? 0 : errno;
}

int ModuleWriter::make_parent_dirs(std::string_view rel, mode_t mode) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return -err;
    // util1.c:make_path skips leading "./" and, with MKP_DROP_NAME, does nothing for a name
    // without a directory part.
    while (path.size() >= 2 && path[0] == '.' && path[1] == '/')
        path.erase(0, 2);
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0)
        return 0;
    const std::string dirs = path.substr(0, slash);

    // One component at a time with O_NOFOLLOW: each step stays in the directory the previous
    // one opened, so neither a symlink nor a concurrent swap can take the walk elsewhere.
    UniqueFd cur(::openat(root_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur)
        return -errno;
    int created = 0;
    std::size_t pos = 0;
    while (pos <= dirs.size()) {
        std::size_t end = dirs.find('/', pos);
        if (end == std::string::npos)
            end = dirs.size();
        const std::string comp = dirs.substr(pos, end - pos);
        pos = end + 1;
        if (comp.empty() || comp == ".")
            continue;
        constexpr int kFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        UniqueFd next(::openat(cur.get(), comp.c_str(), kFlags));
        if (!next && errno == ENOENT) {
            if (::mkdirat(cur.get(), comp.c_str(), mode) == 0)
                ++created;
            else if (errno != EEXIST)
                return -errno;
            next.reset(::openat(cur.get(), comp.c_str(), kFlags));
        }
        if (!next)
            return -errno;
        cur = std::move(next);
    }
    return created;
}

Errno ModuleWriter::remove(std::string_view rel, bool recurse, const DeletedFn& on_deleted) const
{
    return remove(rel, recurse, on_deleted, KeepFn{});
}

Errno ModuleWriter::remove(std::string_view rel, bool recurse, const DeletedFn& on_deleted, const KeepFn& keep) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    std::string leaf;
    UniqueFd parent = open_parent(path, leaf, err);
    if (!parent)
        return err;
    struct stat st{};
    if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno;
    if (!S_ISDIR(st.st_mode)) {
        if (::unlinkat(parent.get(), leaf.c_str(), 0) != 0)
            return errno;
        return notify(on_deleted, path, false) ? 0 : ECANCELED;
    }
    if (recurse) {
        UniqueFd dir(::openat(parent.get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir) {
            // Swapped for a symlink (or anything else) since the lstat: remove that entry only.
            if (errno == ELOOP || errno == ENOTDIR) {
                if (::unlinkat(parent.get(), leaf.c_str(), 0) != 0)
                    return errno;
                return notify(on_deleted, path, false) ? 0 : ECANCELED;
            }
            return errno;
        }
        make_dir_writable(dir.get(), st);
        const Errno cerr = remove_children(dir.get(), path, 1, on_deleted, keep);
        if (cerr != 0)
            return cerr;
    }
    if (::unlinkat(parent.get(), leaf.c_str(), AT_REMOVEDIR) != 0)
        return errno;
    return notify(on_deleted, path, true) ? 0 : ECANCELED;
}

Errno ModuleWriter::remove_children(int dir_fd, const std::string& dir_rel, int depth, const DeletedFn& on_deleted,
                                    const KeepFn& keep) const
{
    if (depth > kMaxRemoveDepth)
        return ELOOP;
    std::vector<DirEntry> entries;
    if (const Errno e = list_entries(dir_fd, entries); e != 0)
        return e;
    std::sort(entries.begin(), entries.end(), flist_less);

    Errno first_err = 0;
    bool left_some = false;
    auto failed = [&](Errno e) {
        if (first_err == 0)
            first_err = e;
    };
    // delete.c:delete_dir_contents walks its sorted list from the end.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        const std::string child_rel = join(dir_rel, it->name);
        const bool is_dir = S_ISDIR(it->st.st_mode);
        if (keep && keep(child_rel, is_dir)) {
            left_some = true;
            continue;
        }
        if (is_dir) {
            UniqueFd child(::openat(dir_fd, it->name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (child) {
                make_dir_writable(child.get(), it->st);
                const Errno e = remove_children(child.get(), child_rel, depth + 1, on_deleted, keep);
                if (e == ECANCELED)
                    return e;
                if (e != 0) {
                    failed(e == ENOTEMPTY ? 0 : e);
                    left_some = true;
                    continue;
                }
                child.reset();
                if (::unlinkat(dir_fd, it->name.c_str(), AT_REMOVEDIR) == 0) {
                    if (!notify(on_deleted, child_rel, true))
                        return ECANCELED;
                } else if (errno != ENOENT) {
                    failed(errno == ENOTEMPTY ? 0 : errno);
                    left_some = true;
                }
                continue;
            }
            if (errno != ELOOP && errno != ENOTDIR) {
                failed(errno);
                left_some = true;
                continue;
            }
            // It stopped being a directory after the listing: unlink whatever is there now.
        }
        if (::unlinkat(dir_fd, it->name.c_str(), 0) == 0) {
            if (!notify(on_deleted, child_rel, false))
                return ECANCELED;
        } else if (errno != ENOENT) {
            failed(errno);
            left_some = true;
        }
    }
    if (first_err != 0)
        return first_err;
    return left_some ? ENOTEMPTY : 0;
}

// chmod must never change anything outside the module, yet Linux 6.1 has no fchmodat that
// refuses a symlink leaf (fchmodat2 arrived in 6.6, and glibc's AT_SYMLINK_NOFOLLOW emulation
// needs /proc, which a chrooted worker lacks). So the leaf is opened O_NOFOLLOW and the fd is
// changed: that cannot reach past a symlink. Only entries that cannot be opened that way fall
// back to lstat-then-fchmodat: device nodes (opening one runs its driver), sockets (ENXIO) and
// files we may not read. There, a symlink swapped in between the two calls would be followed.
// That window is harmless in practice: the parent is a fixed handle inside the module, so only
// the one leaf can change, and only a local process with write access to that module directory
// could change it (the client's requests are applied one at a time by this very writer); the
// worker's confinement (chroot or Landlock beneath the module) still keeps a followed link inside.
Errno ModuleWriter::chmod(std::string_view rel, mode_t mode) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    if (is_root_path(path)) {
        UniqueFd fd(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd)
            return errno;
        return ::fchmod(fd.get(), mode) == 0 ? 0 : errno;
    }
    std::string leaf;
    UniqueFd parent = open_parent(path, leaf, err);
    if (!parent)
        return err;
    struct stat st{};
    if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno;
    if (S_ISLNK(st.st_mode))
        return 0;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        Errno oerr = 0;
        UniqueFd fd(open_leaf_nofollow(parent.get(), leaf, st.st_mode, oerr));
        if (fd)
            return ::fchmod(fd.get(), mode) == 0 ? 0 : errno;
        if (oerr == ELOOP)
            return ELOOP; // became a symlink since the lstat: leave it alone
        if (oerr != EACCES && oerr != EPERM && oerr != ENXIO)
            return oerr;
        // Re-check right before the path-based call to keep the window as small as it can be.
        if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return errno;
        if (S_ISLNK(st.st_mode))
            return ELOOP;
    }
    return ::fchmodat(parent.get(), leaf.c_str(), mode, 0) == 0 ? 0 : errno;
}

Errno ModuleWriter::chown(std::string_view rel, uid_t uid, gid_t gid) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    if (is_root_path(path))
        return ::fchownat(root_, "", uid, gid, AT_EMPTY_PATH) == 0 ? 0 : errno;
    std::string leaf;
    UniqueFd parent = open_parent(path, leaf, err);
    if (!parent)
        return err;
    return ::fchownat(parent.get(), leaf.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

Errno ModuleWriter::set_times(std::string_view rel, struct timespec mtime, std::optional<struct timespec> atime) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    if (is_root_path(path)) {
        UniqueFd fd(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd)
            return errno;
        return set_times(fd.get(), mtime, atime);
    }
    std::string leaf;
    UniqueFd parent = open_parent(path, leaf, err);
    if (!parent)
        return err;
    struct timespec ts[2];
    ts[0] = atime ? *atime : timespec{0, UTIME_OMIT};
    ts[1] = mtime;
    return ::utimensat(parent.get(), leaf.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

Errno ModuleWriter::fchmod(int fd, mode_t mode)
{
    return ::fchmod(fd, mode) == 0 ? 0 : errno;
}

Errno ModuleWriter::fchown(int fd, uid_t uid, gid_t gid)
{
    return ::fchown(fd, uid, gid) == 0 ? 0 : errno;
}

Errno ModuleWriter::set_times(int fd, struct timespec mtime, std::optional<struct timespec> atime)
{
    struct timespec ts[2];
    ts[0] = atime ? *atime : timespec{0, UTIME_OMIT};
    ts[1] = mtime;
    return ::futimens(fd, ts) == 0 ? 0 : errno;
}

std::optional<std::string> ModuleWriter::read_link(std::string_view rel) const
{
    const auto slash = rel.rfind('/');
    Errno err = 0;
    UniqueFd dir = open_dir(slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash), err);
    if (!dir)
        return std::nullopt;
    const std::string leaf(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    std::string buf(4096, '\0');
    const ssize_t n = ::readlinkat(dir.get(), leaf.c_str(), buf.data(), buf.size() - 1);
    if (n <= 0)
        return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

std::string ModuleWriter::fake_super_value(mode_t mode, dev_t rdev, uid_t uid, gid_t gid)
{
    return format_stat_xattr(StatXattr{static_cast<std::uint32_t>(mode & (S_IFMT | 07777)), major(rdev), minor(rdev),
                                       static_cast<std::uint32_t>(uid), static_cast<std::uint32_t>(gid)});
}

bool ModuleWriter::parse_fake_super_value(std::string_view value, struct stat& st)
{
    if (value.size() > kStatXattrMaxLen)
        return false;
    const auto rec = parse_stat_xattr(value);
    if (!rec)
        return false;
    overlay_stat_xattr(st, *rec);
    return true;
}

namespace {

// Opens the entry lstat'ed into `st` (the module root, a regular file or a directory) for an
// xattr call: O_NOFOLLOW, non-blocking, and checked to be the very inode lstat saw.
UniqueFd open_xattr_target(int root, const std::string& path, const struct stat& st, Errno& err)
{
    if (is_root_path(path)) {
        UniqueFd fd(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd)
            err = errno;
        return fd;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        err = EPERM; // what the kernel says to a user xattr on anything else
        return {};
    }
    const auto slash = path.rfind('/');
    const std::string parent_path = slash == std::string::npos ? std::string() : path.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd parent(resolve_beneath(root, parent_path, O_PATH | O_DIRECTORY));
    if (!parent) {
        err = errno;
        return {};
    }
    UniqueFd fd(open_leaf_nofollow(parent.get(), leaf, st.st_mode, err));
    if (!fd)
        return fd;
    struct stat now{};
    if (::fstat(fd.get(), &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        err = EAGAIN; // replaced since the lstat
        return {};
    }
    return fd;
}

// Upstream x_lstat/x_fstat: the record counts only on regular files and directories.
void lay_over(int fd, struct stat& st, StatXattrLookup& found)
{
    found = {};
    if (!stat_xattr_applies(st.st_mode) || S_ISLNK(st.st_mode))
        return;
    found = read_stat_xattr(fd);
    if (found.result == StatXattrLookup::Result::Found)
        overlay_stat_xattr(st, found.record);
}

} // namespace

Errno ModuleWriter::lstat_fake_super(std::string_view rel, struct stat& st, StatXattrLookup& found) const
{
    found = {};
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    if (const Errno e = lstat(path, st); e != 0)
        return e;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return 0;
    Errno oerr = 0;
    UniqueFd fd = open_xattr_target(root_, path, st, oerr);
    if (!fd) {
        // Upstream's lgetxattr needs read permission too: EACCES is the same answer. A
        // swap since the lstat is reported like any other failure to read the record.
        found.result = StatXattrLookup::Result::Failed;
        found.err = oerr;
        return 0;
    }
    lay_over(fd.get(), st, found);
    return 0;
}

Errno ModuleWriter::fstat_fake_super(int fd, struct stat& st, StatXattrLookup& found)
{
    found = {};
    if (::fstat(fd, &st) != 0)
        return errno;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        lay_over(fd, st, found);
    return 0;
}

ModuleWriter::StatXattrStore ModuleWriter::store_fake_super(std::string_view rel, int fd_in, mode_t new_mode,
                                                            dev_t rdev, uid_t uid, gid_t gid) const
{
    // Upstream: xattrs.c:set_stat_xattr.
    StatXattrStore out;
    std::string path;
    if (!normalize(rel, path, out.err)) {
        out.step = StatXattrStore::Step::Restat;
        return out;
    }
    struct stat real{};
    UniqueFd own;
    int fd = fd_in;
    if (fd < 0) {
        if (const Errno e = lstat(path, real); e != 0) {
            out.err = e;
            out.step = StatXattrStore::Step::Restat;
            return out;
        }
        if (S_ISLNK(real.st_mode))
            return out;
        if (S_ISREG(real.st_mode) || S_ISDIR(real.st_mode) || is_root_path(path)) {
            Errno oerr = 0;
            own = open_xattr_target(root_, path, real, oerr);
            if (!own && oerr == EACCES) {
                // Ours but unreadable: the chmod below (which always gives the owner read
                // access) comes first, then the entry can be opened.
                const mode_t usable = (real.st_mode & S_IFMT) | (new_mode & 0777) | (S_ISDIR(real.st_mode) ? 0700 : 0600);
                if (chmod(path, usable & 07777) == 0 && lstat(path, real) == 0)
                    own = open_xattr_target(root_, path, real, oerr);
            }
            if (!own) {
                out.err = oerr;
                out.step = StatXattrStore::Step::Restat;
                return out;
            }
            fd = own.get();
        }
    } else if (::fstat(fd, &real) != 0) {
        out.err = errno;
        out.step = StatXattrStore::Step::Restat;
        return out;
    }

    std::optional<StatXattr> current;
    if (fd >= 0 && stat_xattr_applies(real.st_mode)) {
        StatXattrLookup found = read_stat_xattr(fd);
        if (found.result == StatXattrLookup::Result::Corrupt) {
            out.corrupt = true;
            out.raw = std::move(found.raw);
            return out;
        }
        if (found.result == StatXattrLookup::Result::Found)
            current = found.record;
    }
    const StatXattrPlan plan = plan_stat_xattr(real, current, new_mode, rdev, uid, gid);
    if (plan.chmod_to) {
        // Upstream ignores a failure here; the record still says what the mode should be.
        if (fd >= 0) {
            if (::fchmod(fd, *plan.chmod_to & 07777) != 0) {
            }
        } else if (chmod(path, *plan.chmod_to & 07777) != 0) {
        }
    }
    if (plan.action == StatXattrPlan::Action::Keep)
        return out;
    if (fd < 0) {
        // A real device, FIFO or socket in the module: the kernel takes no user xattr there.
        out.err = EPERM;
        out.step = plan.action == StatXattrPlan::Action::Write ? StatXattrStore::Step::Write
                                                               : StatXattrStore::Step::Remove;
        return out;
    }
    if (plan.action == StatXattrPlan::Action::Remove) {
        if (::fremovexattr(fd, kStatXattrName) != 0) {
            out.err = errno;
            out.step = StatXattrStore::Step::Remove;
        }
        return out;
    }
    if (::fsetxattr(fd, kStatXattrName, plan.value.data(), plan.value.size(), 0) != 0) {
        out.err = errno;
        out.step = StatXattrStore::Step::Write;
    }
    return out;
}

Errno ModuleWriter::set_fake_super_stat(std::string_view rel, mode_t mode, dev_t rdev, uid_t uid, gid_t gid) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    struct stat st{};
    if (const Errno e = lstat(path, st); e != 0)
        return e;
    if (S_ISLNK(st.st_mode))
        return 0;
    UniqueFd fd = open_xattr_target(root_, path, st, err);
    if (!fd)
        return err;
    const std::string value = fake_super_value(mode, rdev, uid, gid);
    return ::fsetxattr(fd.get(), fake_super_xattr_name, value.data(), value.size(), 0) == 0 ? 0 : errno;
}

Errno ModuleWriter::remove_fake_super_stat(std::string_view rel) const
{
    Errno err = 0;
    std::string path;
    if (!normalize(rel, path, err))
        return err;
    struct stat st{};
    if (const Errno e = lstat(path, st); e != 0)
        return e;
    UniqueFd fd = open_xattr_target(root_, path, st, err);
    if (!fd)
        return err == EPERM ? ENODATA : err;
    return ::fremovexattr(fd.get(), fake_super_xattr_name) == 0 ? 0 : errno;
}

Errno ModuleWriter::get_fake_super_stat(std::string_view rel, struct stat& st) const
{
    StatXattrLookup found;
    if (const Errno e = lstat_fake_super(rel, st, found); e != 0)
        return e;
    switch (found.result) {
    case StatXattrLookup::Result::Found:
        return 0;
    case StatXattrLookup::Result::Corrupt:
        return EINVAL;
    case StatXattrLookup::Result::Failed:
        return found.err;
    case StatXattrLookup::Result::None:
        break;
    }
    return ENODATA; // symlinks, devices, specials: never overlaid
}

} // namespace ocr::transfer
