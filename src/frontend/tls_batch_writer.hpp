// SPDX-License-Identifier: MIT
// Encrypts bulk data into batches of TLS records that go out with one write each.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

namespace ocr::frontend {

/// @brief While alive, diverts an established TLS connection's records into memory.
///
/// Asio's ssl::stream hands OpenSSL a 17 KiB BIO pair, so every 16 KiB record costs a
/// send(), an operation completion and a copy out of the pair: a 1 GiB pull made 65 536
/// of each. Here the records SSL_write makes are appended to a string instead and the
/// caller sends many at once. Whatever else OpenSSL writes meanwhile (an alert, or a
/// KeyUpdate answer produced by the read side) lands in the same batch, in order.
///
/// The caller must send every batch it takes, and take what is pending before the
/// destructor puts Asio's BIO back: bytes still inside are written nowhere. Single-threaded
/// use only, like the SSL object itself.
class TlsBatchWriter {
public:
    explicit TlsBatchWriter(SSL* ssl);
    ~TlsBatchWriter();
    TlsBatchWriter(const TlsBatchWriter&) = delete;
    TlsBatchWriter& operator=(const TlsBatchWriter&) = delete;

    /// @brief Encrypts all of @p plain into records; false when OpenSSL refuses (the
    /// connection is then broken).
    bool encrypt(std::string_view plain);

    /// @brief Swaps the records made so far into @p out (cleared first). Passing the same
    /// string back each time reuses its capacity, so a steady stream allocates nothing.
    void take(std::string& out);

    /// @brief Whether records are waiting to be taken.
    [[nodiscard]] bool pending() const { return !batch_.empty(); }

private:
    SSL* ssl_;
    BIO* original_; ///< Asio's side of its BIO pair, held by one extra reference
    std::string batch_;
};

} // namespace ocr::frontend
