// SPDX-License-Identifier: MIT
// The worker's system call filter, loaded in a forked child per test: what a transfer
// does still works, what an intruder would try next does not.
#include "worker/syscall_filter.hpp"

#include "support/temp_dir.hpp"
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace ocr::worker {
namespace {

// The child's wait status; a child still running after 30 s is killed (SIGKILL). A task
// the filter kills that is not in the child's thread group (LeakSanitizer's tracer) leaves
// the child waiting for it for ever.
int wait_bounded(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 3000; ++i) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        ::usleep(10000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return status;
}

// Runs @p body in a child that has loaded the filter; returns its wait status. Exit codes
// below 100 are the body's own; 100 means the filter did not load.
int run_filtered(const std::function<int()>& body, const SyscallFilterOptions& options = {})
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (install_syscall_filter(options))
            ::_exit(100);
        // _exit, not exit: no atexit work (LeakSanitizer's) runs under the filter here.
        ::_exit(body());
    }
    return wait_bounded(pid);
}

bool exited_with(int status, int code)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

bool killed_by_filter(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

class SyscallFilter : public ::testing::Test {
protected:
    test::TempDir tmp_{"ocr-seccomp"};
    const std::string dir_ = tmp_.path();
};

TEST_F(SyscallFilter, StatusShowsFilterMode)
{
    const int status = run_filtered([] {
        std::ifstream in("/proc/self/status");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("Seccomp:", 0) == 0)
                return line.find('2') != std::string::npos ? 0 : 1;
        return 2;
    });
    EXPECT_TRUE(exited_with(status, 0)) << status;
}

TEST_F(SyscallFilter, TransferFileWorkStillWorks)
{
    const std::string dir = dir_;
    const int status = run_filtered([&dir] {
        const int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || ::mkdirat(root, "sub", 0755) != 0)
            return 1;
        const int fd = ::openat(root, "sub/.f.tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ::write(fd, "data", 4) != 4 || ::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
            return 2;
        // Extended attributes may be unsupported on the test's file system; refused by
        // the filter they would kill the child instead of failing.
        if (::fsetxattr(fd, "user.rsync.test", "x", 1, 0) != 0 && errno != ENOTSUP && errno != EPERM)
            return 3;
        ::close(fd);
        if (::renameat(root, "sub/.f.tmp", root, "sub/f") != 0 || ::linkat(root, "sub/f", root, "sub/g", 0) != 0)
            return 4;
        if (::symlinkat("f", root, "sub/l") != 0)
            return 5;
        const timespec times[2] = {{1, 0}, {2, 0}};
        if (::utimensat(root, "sub/l", times, AT_SYMLINK_NOFOLLOW) != 0)
            return 6;
        struct stat st{};
        if (::fstatat(root, "sub/g", &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_nlink != 2)
            return 7;
        char buf[8];
        const int in = ::openat(root, "sub/g", O_RDONLY | O_CLOEXEC);
        if (in < 0 || ::pread(in, buf, sizeof buf, 0) != 4)
            return 8;
        ::close(in);
        if (::unlinkat(root, "sub/g", 0) != 0)
            return 9;
        return 0;
    });
    EXPECT_TRUE(exited_with(status, 0)) << status;
}

TEST_F(SyscallFilter, ThreadsStillStart)
{
    // A push runs its receiver in a second thread: glibc must fall back from clone3.
    const int status = run_filtered([] {
        int value = 0;
        std::thread t([&value] { value = 7; });
        t.join();
        return value == 7 ? 0 : 1;
    });
    EXPECT_TRUE(exited_with(status, 0)) << status;
}

// A listening local socket in the test's directory, standing in for nscd or sssd.
int listen_local(const std::string& path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0)
        return -1;
    return fd;
}

// 0 when a local socket could be opened and connected to @p path, 1 when socket() said
// EACCES, 2 otherwise.
int connect_local(const std::string& path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno == EACCES ? 1 : 2;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : 2;
}

TEST_F(SyscallFilter, NewSocketsAreRefused)
{
    const std::string path = dir_ + "/ns.sock";
    const int listener = listen_local(path);
    ASSERT_GE(listener, 0);
    const int status = run_filtered([&path] {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 || errno != EACCES)
            return 1;
        return connect_local(path) == 1 ? 0 : 2;
    });
    EXPECT_TRUE(exited_with(status, 0)) << status;
    ::close(listener);
}

TEST_F(SyscallFilter, NameServiceGetsLocalSocketsOnly)
{
    const std::string path = dir_ + "/ns.sock";
    const int listener = listen_local(path);
    ASSERT_GE(listener, 0);
    SyscallFilterOptions options;
    options.name_service_sockets = true;
    const int status = run_filtered([&path] {
        if (connect_local(path) != 0)
            return 1;
        const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
        return fd < 0 && errno == EACCES ? 0 : 2;
    }, options);
    EXPECT_TRUE(exited_with(status, 0)) << status;
    ::close(listener);
}

TEST_F(SyscallFilter, WritableExecutableMappingsAreRefused)
{
    const int status = run_filtered([] {
        void* rwx = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (rwx != MAP_FAILED || errno != EACCES)
            return 1;
        // Code the loader maps (read and execute, not writable) is still fine.
        void* rx = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return rx != MAP_FAILED ? 0 : 2;
    });
    EXPECT_TRUE(exited_with(status, 0)) << status;
}

TEST_F(SyscallFilter, ExecutableMemoryIsRefused)
{
    const int status = run_filtered([] {
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED)
            return 1;
        return ::mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0 && errno == EACCES ? 0 : 2;
    });
    EXPECT_TRUE(exited_with(status, 0)) << status;
}

TEST_F(SyscallFilter, ExecKillsTheWorker)
{
    const int status = run_filtered([] {
        char* const argv[] = {const_cast<char*>("true"), nullptr};
        ::execv("/bin/true", argv);
        return 1;
    });
    EXPECT_TRUE(killed_by_filter(status)) << status;
}

TEST_F(SyscallFilter, ForkKillsTheWorker)
{
    const int status = run_filtered([] {
        const pid_t child = ::fork();
        if (child == 0)
            ::_exit(0);
        return 1;
    });
    EXPECT_TRUE(killed_by_filter(status)) << status;
}

TEST_F(SyscallFilter, PrivilegeChangesKillTheWorker)
{
    const int status = run_filtered([] {
        return ::setuid(::getuid()) == 0 ? 1 : 2;
    });
    EXPECT_TRUE(killed_by_filter(status)) << status;
}

#ifndef OCR_SANITIZER_BUILD
// Sanitizer builds let LeakSanitizer's tracer signal other tasks.
TEST_F(SyscallFilter, SignalsToOthersKillTheWorker)
{
    const pid_t parent = ::getpid();
    const int status = run_filtered([parent] {
        (void)::kill(parent, 0);
        return 1;
    });
    EXPECT_TRUE(killed_by_filter(status)) << status;
}
#endif

TEST_F(SyscallFilter, NormalExitStillWorks)
{
    // exit() runs the atexit work: stdio flushing, and in sanitizer builds LeakSanitizer's
    // stop-the-world check, whose tracer must get past the filter (else it exits 1).
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (install_syscall_filter())
            ::_exit(100);
        std::exit(0);
    }
    const int status = wait_bounded(pid);
    EXPECT_TRUE(exited_with(status, 0)) << status;
}

TEST_F(SyscallFilter, AbortStillDeliversItsSignal)
{
    const int status = run_filtered([] {
        std::abort();
        return 1;
    });
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) << status;
}

} // namespace
} // namespace ocr::worker
