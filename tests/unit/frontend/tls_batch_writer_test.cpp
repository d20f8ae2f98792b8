// SPDX-License-Identifier: MIT
// Unit tests for TlsBatchWriter: records diverted into batches, read by a real TLS client,
// and Asio's BIO pair put back afterwards.
#include "frontend/tls_batch_writer.hpp"

#include "support/test_certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>
#include <random>
#include <string>

namespace ocr::frontend {
namespace {

struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// Moves everything pending in @p from (a memory or pair BIO) into @p to.
void shuttle(BIO* from, BIO* to)
{
    char buf[4096];
    for (;;) {
        const int n = BIO_read(from, buf, sizeof buf);
        if (n <= 0)
            return;
        ASSERT_EQ(BIO_write(to, buf, n), n);
    }
}

// A server SSL wired as Asio's ssl::stream wires it (one end of a 17 KiB BIO pair for
// both directions) and a client SSL on two memory BIOs, handshaken with each other.
class TlsPairTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        test::TestKey key = test::new_test_key();
        test::TestCert cert = test::self_signed(key.get(), -60, 3600);
        server_ctx_.reset(SSL_CTX_new(TLS_server_method()));
        ASSERT_EQ(SSL_CTX_use_certificate(server_ctx_.get(), cert.get()), 1);
        ASSERT_EQ(SSL_CTX_use_PrivateKey(server_ctx_.get(), key.get()), 1);
        client_ctx_.reset(SSL_CTX_new(TLS_client_method()));

        server_.reset(SSL_new(server_ctx_.get()));
        BIO* inner = nullptr;
        ASSERT_EQ(BIO_new_bio_pair(&inner, 0, &outer_, 0), 1);
        SSL_set_bio(server_.get(), inner, inner);
        SSL_set_mode(server_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_set_accept_state(server_.get());

        client_.reset(SSL_new(client_ctx_.get()));
        to_client_ = BIO_new(BIO_s_mem());
        from_client_ = BIO_new(BIO_s_mem());
        SSL_set_bio(client_.get(), to_client_, from_client_);
        SSL_set_connect_state(client_.get());

        for (int round = 0; round < 10 && !(SSL_is_init_finished(server_.get()) && SSL_is_init_finished(client_.get()));
             ++round) {
            SSL_do_handshake(client_.get());
            shuttle(from_client_, outer_);
            SSL_do_handshake(server_.get());
            shuttle(outer_, to_client_);
        }
        ASSERT_TRUE(SSL_is_init_finished(server_.get()));
        ASSERT_TRUE(SSL_is_init_finished(client_.get()));
    }

    void TearDown() override { BIO_free(outer_); }

    // Everything the client can decrypt from what reached it so far.
    std::string client_reads()
    {
        std::string got;
        char buf[16384];
        for (;;) {
            const int n = SSL_read(client_.get(), buf, sizeof buf);
            if (n <= 0)
                return got;
            got.append(buf, static_cast<std::size_t>(n));
        }
    }

    void to_client(const std::string& bytes)
    {
        ASSERT_EQ(BIO_write(to_client_, bytes.data(), static_cast<int>(bytes.size())), static_cast<int>(bytes.size()));
    }

    CtxPtr server_ctx_;
    CtxPtr client_ctx_;
    SslPtr server_;
    SslPtr client_;
    BIO* outer_ = nullptr;      ///< Asio's side of the pair: what it would send
    BIO* to_client_ = nullptr;  ///< owned by client_
    BIO* from_client_ = nullptr;
};

std::string random_bytes(std::size_t n)
{
    std::mt19937 gen(42);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen());
    return s;
}

// Verifies that 300 KiB become one batch of many records (none through the BIO pair)
// that a real client decrypts back to the input.
TEST_F(TlsPairTest, BatchCarriesManyRecordsTheClientDecrypts)
{
    const std::string plain = random_bytes(300 * 1024);
    std::string batch;
    {
        TlsBatchWriter writer(server_.get());
        ASSERT_TRUE(writer.encrypt(plain));
        EXPECT_TRUE(writer.pending());
        writer.take(batch);
        EXPECT_FALSE(writer.pending());
    }
    EXPECT_EQ(BIO_ctrl_pending(outer_), 0u) << "records leaked into Asio's BIO pair";
    // 19 records of at most 16 KiB, each with a header and an AEAD tag.
    EXPECT_GT(batch.size(), plain.size() + 19 * 16);
    to_client(batch);
    EXPECT_EQ(client_reads(), plain);
}

// Verifies that taking reuses the caller's string and that batches keep their order.
TEST_F(TlsPairTest, SuccessiveBatchesArriveInOrder)
{
    const std::string plain = random_bytes(100 * 1024);
    std::string batch;
    std::string all;
    {
        TlsBatchWriter writer(server_.get());
        for (std::size_t off = 0; off < plain.size(); off += 7000) {
            ASSERT_TRUE(writer.encrypt(std::string_view(plain).substr(off, 7000)));
            writer.take(batch);
            all += batch;
        }
    }
    to_client(all);
    EXPECT_EQ(client_reads(), plain);
}

// Verifies that the destructor puts the BIO pair back: later records (and close_notify)
// go through Asio's side again, after the batched ones.
TEST_F(TlsPairTest, BioPairIsBackAfterwards)
{
    std::string batch;
    {
        TlsBatchWriter writer(server_.get());
        ASSERT_TRUE(writer.encrypt("first "));
        writer.take(batch);
    }
    ASSERT_EQ(SSL_write(server_.get(), "second", 6), 6);
    EXPECT_GT(BIO_ctrl_pending(outer_), 0u);
    to_client(batch);
    shuttle(outer_, to_client_);
    EXPECT_EQ(client_reads(), "first second");

    SSL_shutdown(server_.get());
    shuttle(outer_, to_client_);
    char c;
    EXPECT_EQ(SSL_read(client_.get(), &c, 1), 0);
    EXPECT_EQ(SSL_get_error(client_.get(), 0), SSL_ERROR_ZERO_RETURN);
}

// Verifies that what the read side makes while batching (here the answer to a client's
// KeyUpdate that asks for one back) rides in the next batch, and the client follows it.
TEST_F(TlsPairTest, ReadSideOutputRidesInTheBatch)
{
    ASSERT_EQ(SSL_key_update(client_.get(), SSL_KEY_UPDATE_REQUESTED), 1);
    ASSERT_EQ(SSL_write(client_.get(), "ping", 4), 4);
    std::string batch;
    {
        TlsBatchWriter writer(server_.get());
        shuttle(from_client_, outer_);
        char buf[16];
        ASSERT_EQ(SSL_read(server_.get(), buf, sizeof buf), 4);
        EXPECT_EQ(std::string(buf, 4), "ping");
        ASSERT_TRUE(writer.encrypt("pong"));
        writer.take(batch);
    }
    EXPECT_EQ(BIO_ctrl_pending(outer_), 0u);
    // One application record of 4 bytes is 4 + 5 + 1 + 16 = 26 bytes; the KeyUpdate record
    // comes on top of it.
    EXPECT_GT(batch.size(), 26u);
    to_client(batch);
    EXPECT_EQ(client_reads(), "pong");
    // After the update both sides still talk: the server's new keys are the client's.
    {
        TlsBatchWriter writer(server_.get());
        ASSERT_TRUE(writer.encrypt("again"));
        writer.take(batch);
    }
    to_client(batch);
    EXPECT_EQ(client_reads(), "again");
}

} // namespace
} // namespace ocr::frontend
