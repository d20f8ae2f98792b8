// SPDX-License-Identifier: MIT
// A write-only BIO that appends to a string, swapped in for Asio's BIO pair and back.
#include "frontend/tls_batch_writer.hpp"

#include <climits>
#include <new>
#include <stdexcept>

namespace ocr::frontend {
namespace {

int append_to_batch(BIO* bio, const char* data, std::size_t len, std::size_t* written)
{
    static_cast<std::string*>(BIO_get_data(bio))->append(data, len);
    *written = len;
    return 1;
}

long batch_ctrl(BIO* bio, int cmd, long, void*)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; // the caller sends the batch
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
        return static_cast<long>(static_cast<std::string*>(BIO_get_data(bio))->size());
    default:
        return 0; // nothing else applies to a memory sink (no kTLS, no datagrams)
    }
}

const BIO_METHOD* batch_method()
{
    // Made once and never freed: the method table lives as long as the process.
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ocrsyncd TLS batch");
        if (m == nullptr || BIO_meth_set_write_ex(m, append_to_batch) != 1 || BIO_meth_set_ctrl(m, batch_ctrl) != 1)
            throw std::bad_alloc();
        return m;
    }();
    return method;
}

} // namespace

TlsBatchWriter::TlsBatchWriter(SSL* ssl) : ssl_(ssl), original_(SSL_get_wbio(ssl))
{
    // SSL_set0_wbio drops the SSL's reference to the old write BIO; Asio uses one BIO for
    // both directions, so hold one for the read side and for the way back.
    if (original_ == nullptr || BIO_up_ref(original_) != 1)
        throw std::runtime_error("TLS connection without a write BIO");
    BIO* sink = BIO_new(batch_method());
    if (sink == nullptr) {
        BIO_free(original_);
        throw std::bad_alloc();
    }
    BIO_set_data(sink, &batch_);
    BIO_set_init(sink, 1);
    SSL_set0_wbio(ssl_, sink);
}

TlsBatchWriter::~TlsBatchWriter()
{
    // Gives our reference back to the SSL as its write BIO; the sink is freed.
    SSL_set0_wbio(ssl_, original_);
}

bool TlsBatchWriter::encrypt(std::string_view plain)
{
    // Asio turns on SSL_MODE_ENABLE_PARTIAL_WRITE, so SSL_write may stop after one record.
    while (!plain.empty()) {
        const int chunk = plain.size() > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(plain.size());
        const int n = SSL_write(ssl_, plain.data(), chunk);
        if (n <= 0)
            return false;
        plain.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void TlsBatchWriter::take(std::string& out)
{
    out.clear();
    out.swap(batch_);
}

} // namespace ocr::frontend
