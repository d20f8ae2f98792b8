// SPDX-License-Identifier: MIT
// The list is grouped by the job that needs each call; a call that is not here kills the
// worker. It was drawn from strace of workers running the whole integration suite
// (pulls, pushes with -aHAX, fake super, backups, deletions, compression), then widened
// to the neighbours glibc picks between (open/openat, stat/newfstatat/statx, ...), since
// which one libc uses changes between releases.
#include "worker/syscall_filter.hpp"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <memory>

namespace ocr::worker {
namespace {

// Calls allowed whatever their arguments. Names the native architecture lacks (the
// legacy open/stat family on arm64, for one) are skipped when the filter is built.
constexpr const char* kAllowed[] = {
    // Memory: malloc, thread stacks, file windows.
    "brk", "munmap", "mremap", "madvise",
    // Threads (a push runs its receiver in a second thread) and their synchronisation.
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "sched_yield",
    "sched_getaffinity", "membarrier", "exit", "exit_group", "restart_syscall",
    // Signals: SIGPIPE ignored, blocked masks, abort().
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
    // Time: log stamps, --bwlimit and the I/O timeout, upstream's exit delay.
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    // Who we are (log lines, RSYNC_PID, am_root decisions).
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
    "getresgid",
    // The client's stream and the files opened in the module.
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek", "close",
    "dup", "dup2", "dup3", "fcntl", "poll", "ppoll", "select", "pselect6", "fadvise64", "fsync",
    "fdatasync", "ftruncate", "fallocate", "sendfile", "copy_file_range",
    // The socket we were handed (reads ahead, SO_LINGER, TCP_QUICKACK, the peer's name).
    "recvfrom", "sendto", "recvmsg", "sendmsg", "shutdown", "getsockopt", "setsockopt", "getpeername",
    "getsockname",
    // Walking, reading and writing the module tree.
    "open", "openat", "openat2", "creat", "stat", "lstat", "fstat", "newfstatat", "statx", "statfs",
    "fstatfs", "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "chdir",
    "fchdir", "getcwd", "umask", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename",
    "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat", "chmod",
    "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat", "utime", "utimes", "utimensat",
    "futimesat", "truncate",
    // Extended attributes: -X, -A (ACLs live in xattrs) and "fake super" records.
    "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
    "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
    // Random bytes (the checksum seed, temp-file names) and libc's small probes.
    "getrandom", "uname", "sysinfo",
#ifdef OCR_SANITIZER_BUILD
    // LeakSanitizer stops the world at exit: a tracer task ptrace()s every thread.
    "ptrace", "wait4", "prctl", "getdents", "pipe2", "sched_getparam", "sched_getscheduler",
#endif
};

struct FilterDeleter {
    void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

// Adds rules to a filter and keeps the first failure.
class Rules {
public:
    explicit Rules(scmp_filter_ctx ctx) : ctx_(ctx) {}

    // A name this architecture does not have is no error: nothing can call it.
    void add(std::uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args = {})
    {
        if (rc_ != 0)
            return;
        const int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
            return;
        const int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(args.size()),
                                              args.size() == 0 ? nullptr : args.begin());
        // libseccomp answers a rule for a call that exists only as a pseudo number here
        // with an error: it cannot be made on this architecture.
        if (rc != 0 && nr >= 0) {
            rc_ = rc;
            failed_ = name;
        }
    }

    [[nodiscard]] std::optional<std::string> error() const
    {
        if (rc_ == 0)
            return std::nullopt;
        return std::string("seccomp: rule for ") + failed_ + ": " + std::strerror(-rc_);
    }

private:
    scmp_filter_ctx ctx_;
    int rc_ = 0;
    const char* failed_ = "";
};

void add_conditional_rules(Rules& rules, const SyscallFilterOptions& options)
{
    const auto self = static_cast<scmp_datum_t>(::getpid());
#ifdef OCR_SANITIZER_BUILD
    // LeakSanitizer's tracer task is not a thread but shares our memory (CLONE_VM, in
    // compiler-rt's sanitizer_stoptheworld_linux_libcdep.cpp); fork() stays refused. The
    // tracer signals the threads it stops.
    rules.add(SCMP_ACT_ALLOW, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, CLONE_VM)});
    rules.add(SCMP_ACT_ALLOW, "kill");
#else
    // Threads, never new processes: clone() must carry CLONE_THREAD.
    rules.add(SCMP_ACT_ALLOW, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)});
    // Signals only to ourselves: raise() and abort().
    rules.add(SCMP_ACT_ALLOW, "kill", {SCMP_A0(SCMP_CMP_EQ, self)});
#endif
    rules.add(SCMP_ACT_ALLOW, "tgkill", {SCMP_A0(SCMP_CMP_EQ, self)});
    // glibc tries clone3 first and uses clone only when the kernel says it has none;
    // clone3's flags sit in memory where a filter cannot check them.
    rules.add(SCMP_ACT_ERRNO(ENOSYS), "clone3");
    // Reading our own limits is fine; changing any, or another process's, is not.
    rules.add(SCMP_ACT_ALLOW, "prlimit64", {SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0)});
    rules.add(SCMP_ACT_ALLOW, "getrlimit");
    // No new executable memory. A refusal is an error, not a kill: whoever asks can cope
    // with a "no".
    rules.add(SCMP_ACT_ALLOW, "mprotect", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
    rules.add(SCMP_ACT_ERRNO(EACCES), "mprotect", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)});
    // mmap() may map executable code (the loader bringing in an NSS module) but never
    // memory that is writable and executable at once: that would undo the rule above.
    constexpr scmp_datum_t kWriteExec = PROT_WRITE | PROT_EXEC;
    rules.add(SCMP_ACT_ALLOW, "mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
    rules.add(SCMP_ACT_ALLOW, "mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, kWriteExec, PROT_EXEC)});
    rules.add(SCMP_ACT_ERRNO(EACCES), "mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, kWriteExec, kWriteExec)});
    // isatty() asks the terminal layer; no descriptor a worker holds is a terminal.
    rules.add(SCMP_ACT_ERRNO(ENOTTY), "ioctl");
    // New sockets: syslog() reconnecting, the name service asking its daemon. Each copes
    // with a refusal, and a worker has no business on the network. connect() on the
    // sockets a worker already holds fails (they are connected), so allowing it for the
    // name service's local socket opens nothing else.
    if (options.name_service_sockets) {
        rules.add(SCMP_ACT_ALLOW, "socket", {SCMP_A0(SCMP_CMP_EQ, AF_UNIX)});
        rules.add(SCMP_ACT_ERRNO(EACCES), "socket", {SCMP_A0(SCMP_CMP_NE, AF_UNIX)});
        rules.add(SCMP_ACT_ALLOW, "connect");
    } else {
        rules.add(SCMP_ACT_ERRNO(EACCES), "socket");
    }
}

} // namespace

std::optional<std::string> install_syscall_filter(const SyscallFilterOptions& options)
{
    Filter filter(seccomp_init(SCMP_ACT_KILL_PROCESS));
    if (!filter)
        return std::string("seccomp: cannot create a filter");
    // libseccomp kills a call made through another architecture's table (x32, ia32) by
    // default; the native one is all a worker uses.
    Rules rules(filter.get());
    for (const char* name : kAllowed)
        rules.add(SCMP_ACT_ALLOW, name);
    add_conditional_rules(rules, options);
    if (auto why = rules.error())
        return why;
    if (const int rc = seccomp_load(filter.get()); rc != 0)
        return std::string("seccomp: loading the filter: ") + std::strerror(-rc);
    return std::nullopt;
}

} // namespace ocr::worker
