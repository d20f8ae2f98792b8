// SPDX-License-Identifier: MIT
// Sends a pending TCP acknowledgement at once instead of after the delayed-ACK timer.
#pragma once

namespace ocr {

/// @brief ACKs what @p fd has received so far if that ACK is still pending.
///
/// rsync peers write many small pieces (a length byte, then the string; an index, then its
/// header) and leave Nagle's rule on, so their second piece waits until the first is
/// acknowledged. When we have nothing to send back, our kernel holds that ACK for its
/// delayed-ACK time (40 ms on Linux) and both sides sit idle. Call this before blocking
/// for input.
/// @return false when @p fd is not a TCP socket (a socketpair, a pipe): there is nothing
///         to acknowledge there, and the caller need not ask again.
bool acknowledge_received(int fd) noexcept;

} // namespace ocr
