// SPDX-License-Identifier: MIT
#include "app/logging.hpp"

#include "common/strings.hpp"

#include <fcntl.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <mutex>

namespace ocr::app {
namespace {

// Appends formatted lines to a descriptor opened with O_APPEND: one write() per line so
// the daemon's processes (front-end, workers) can share the file without tearing lines.
class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit FdSink(int fd) : fd_(fd) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        const char* p = formatted.data();
        std::size_t left = formatted.size();
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    void flush_() override {}

private:
    int fd_;
};

} // namespace

void init_logging(const LogTarget& target)
{
    spdlog::sink_ptr sink;
    std::string pattern;
    switch (target.kind) {
    case LogTarget::Kind::File:
        sink = std::make_shared<FdSink>(target.fd);
        pattern = "%Y/%m/%d %H:%M:%S [%P] %v";
        break;
    case LogTarget::Kind::Syslog:
        sink = std::make_shared<spdlog::sinks::syslog_sink_mt>(target.syslog_tag, LOG_PID | LOG_NDELAY,
                                                               target.syslog_facility, false);
        pattern = "%v";
        break;
    case LogTarget::Kind::Stderr:
        sink = std::make_shared<FdSink>(STDERR_FILENO);
        pattern = "%Y/%m/%d %H:%M:%S [%P] %v";
        break;
    }
    auto logger = std::make_shared<spdlog::logger>("ocrsyncd", sink);
    logger->set_pattern(pattern, spdlog::pattern_time_type::local);
    logger->set_level(target.verbosity > 0 ? spdlog::level::debug : spdlog::level::info);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

int open_log_file(const std::string& path)
{
    // Upstream log.c:logfile_open uses mode 0666 filtered by the umask (022 for a daemon).
    return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
}

std::string encode_log_target(const LogTarget& t)
{
    const char* kind = t.kind == LogTarget::Kind::File ? "file" : t.kind == LogTarget::Kind::Syslog ? "syslog" : "stderr";
    return std::string(kind) + ":" + std::to_string(t.syslog_facility) + ":" + std::to_string(t.verbosity) + ":" +
           t.syslog_tag;
}

LogTarget decode_log_target(const std::string& text, int file_fd)
{
    LogTarget t;
    auto parts = split(text, ':');
    if (parts.size() < 4)
        return t;
    if (parts[0] == "file" && file_fd >= 0) {
        t.kind = LogTarget::Kind::File;
        t.fd = file_fd;
    } else if (parts[0] == "syslog") {
        t.kind = LogTarget::Kind::Syslog;
    }
    t.syslog_facility = static_cast<int>(atoi_like(parts[1]));
    t.verbosity = static_cast<int>(atoi_like(parts[2]));
    // The tag may itself contain ':'.
    t.syslog_tag = text.substr(parts[0].size() + parts[1].size() + parts[2].size() + 3);
    return t;
}

} // namespace ocr::app
