// SPDX-License-Identifier: MIT
// Watching the client's bytes, after a refusal, for its answer to our MSG_ERROR_EXIT.
#pragma once

#include <cstdint>
#include <string_view>

namespace ocr::protocol {

/// @brief Sans-I/O scanner of what a client sends after protocol setup when the server is
///        ending the session: its unmultiplexed name lists, then multiplexed frames. It
///        reports when a MSG_ERROR_EXIT frame arrives, which is when upstream's server stops
///        waiting (io.c:read_a_msg during noop_io_until_death).
///
/// Payloads are skipped, never stored, so memory stays constant whatever the client sends.
class ExitHandshakeWatcher {
public:
    /// @param raw_vstrings how many name lists the client sends before multiplexing.
    explicit ExitHandshakeWatcher(int raw_vstrings) noexcept : vstrings_left_(raw_vstrings) {}

    /// @brief Consumes @p bytes; returns true once MSG_ERROR_EXIT has been seen.
    bool feed(std::string_view bytes) noexcept;
    /// @brief The client sent something that is not a multiplexed stream.
    [[nodiscard]] bool broken() const noexcept { return broken_; }
    [[nodiscard]] bool done() const noexcept { return done_; }

private:
    int vstrings_left_;
    std::uint8_t header_[4]{};
    int header_have_ = 0;
    int vlen_bytes_ = 0;         ///< bytes of the current vstring's length seen (0..2)
    std::uint32_t skip_ = 0;     ///< payload bytes still to skip
    bool done_ = false;
    bool broken_ = false;
};

} // namespace ocr::protocol
