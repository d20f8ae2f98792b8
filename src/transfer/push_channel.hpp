// SPDX-License-Identifier: MIT
// What a push's receiver thread tells its generator thread (upstream's error pipe between
// the receiver and generator processes: MSG_DONE, MSG_SUCCESS, MSG_REDO, MSG_NO_SEND, texts).
#pragma once

#include "transfer/reporter.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ocr::transfer {

/// @brief One note from the receiver to the generator, in the order the receiver wrote it.
struct PushEvent {
    enum class Kind {
        Success,   ///< a file was written (upstream MSG_SUCCESS)
        NoSend,    ///< a file was not written (MSG_NO_SEND)
        Redo,      ///< a file failed verification: request it again (MSG_REDO)
        Done,      ///< the receiver finished a phase (its NDX_DONE on the pipe)
        ListAdded, ///< a sub-list arrived; ndx: how many lists there are now
        FlistEof,  ///< the sender has no more sub-lists (NDX_FLIST_EOF)
        Message,   ///< a text for the client and the log
        Ended,     ///< the receiver thread stopped (normally or not)
    };
    Kind kind = Kind::Done;
    std::int32_t ndx = 0;
    LogCode code = LogCode::Info;
    std::string text;
};

/// @brief A thread-safe queue of PushEvents, plus the I/O error bits both threads share.
class PushChannel {
public:
    /// @brief Queues @p event and wakes the waiting generator.
    void post(PushEvent event);
    /// @brief The oldest event, waiting at most @p wait for one; nullopt when none came.
    [[nodiscard]] std::optional<PushEvent> take(std::chrono::milliseconds wait);

    /// @brief A message for the client and the daemon log, forwarded by the generator.
    void message(LogCode code, std::string text);
    /// @brief upstream rsyserr: "rsync: [receiver] TEXT: strerror (errno)\n".
    void syserr(LogCode code, int err, std::string_view text);

    /// @brief Records why the receiver thread stopped (first failure wins).
    void set_failure(std::exception_ptr e);
    [[nodiscard]] std::exception_ptr failure();

    void add_io_error(int bits) noexcept { io_error_.fetch_or(bits); }
    [[nodiscard]] int io_error() const noexcept { return io_error_.load(); }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<PushEvent> events_;
    std::atomic<int> io_error_{0};
    std::exception_ptr failure_;
};

} // namespace ocr::transfer
