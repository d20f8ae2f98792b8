// SPDX-License-Identifier: MIT
// The receiver-to-generator queue of a push.
#include "transfer/push_channel.hpp"

#include <cstring>

namespace ocr::transfer {

void PushChannel::post(PushEvent event)
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(std::move(event));
    }
    cv_.notify_one();
}

std::optional<PushEvent> PushChannel::take(std::chrono::milliseconds wait)
{
    std::unique_lock<std::mutex> lock(mutex_);
    if (events_.empty() && wait.count() > 0)
        cv_.wait_for(lock, wait, [this] { return !events_.empty(); });
    if (events_.empty())
        return std::nullopt;
    PushEvent e = std::move(events_.front());
    events_.pop_front();
    return e;
}

void PushChannel::set_failure(std::exception_ptr e)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_)
        failure_ = std::move(e);
}

std::exception_ptr PushChannel::failure()
{
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
}

void PushChannel::message(LogCode code, std::string text)
{
    PushEvent e;
    e.kind = PushEvent::Kind::Message;
    e.code = code;
    e.text = std::move(text);
    post(std::move(e));
}

void PushChannel::syserr(LogCode code, int err, std::string_view text)
{
    std::string line = "rsync: [receiver] ";
    line += text;
    line += ": ";
    line += std::strerror(err);
    line += " (" + std::to_string(err) + ")\n";
    message(code, std::move(line));
}

} // namespace ocr::transfer
