// SPDX-License-Identifier: MIT
// The TLS <-> socketpair relay that keeps the TLS key and state out of workers.
#include "frontend/tls_relay.hpp"

#include "common/tcp_ack.hpp"
#include "frontend/tls_batch_writer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ocr::frontend {
namespace {

// Large reads keep the per-byte cost down on bulk transfers: towards the client, 256 KiB
// of plain text go out as one batch of 16 records; from the client, several records are
// handed over per write to the worker.
constexpr std::size_t kRelayChunk = 256 * 1024;
// How long the client gets to answer our close_notify.
constexpr std::chrono::seconds kCloseNotifyWait{5};

struct RelayState {
    explicit RelayState(const asio::any_io_executor& ex) : upstream_done(ex) {}
    asio::steady_timer upstream_done; ///< cancelled when the client -> worker direction ends
    bool upstream_finished = false;
    bool failed = false;
};

asio::awaitable<void> client_to_worker(TlsStream& tls, asio::local::stream_protocol::socket& local, RelayState& st)
{
    std::vector<char> buf(kRelayChunk);
    boost::system::error_code ec;
    for (;;) {
        // What the worker does with the last bytes may be to wait for more: ACK them now
        // so that a client's small writes are not held back (see acknowledge_received).
        acknowledge_received(tls.next_layer().native_handle());
        const std::size_t n = co_await tls.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (n > 0) {
            boost::system::error_code wec;
            co_await asio::async_write(local, asio::buffer(buf.data(), n), asio::redirect_error(asio::use_awaitable, wec));
            if (wec)
                break; // the worker is gone: nothing more to deliver
        }
        if (ec) {
            // EOF and close_notify are the client's normal end; a cancellation means the
            // worker side finished first. Anything else breaks the session.
            if (ec != asio::error::eof && ec != asio::error::operation_aborted)
                st.failed = true;
            break;
        }
    }
    boost::system::error_code ignored;
    local.shutdown(asio::socket_base::shutdown_send, ignored);
}

void mark_upstream_done(RelayState& st)
{
    st.upstream_finished = true;
    st.upstream_done.cancel();
}

} // namespace

asio::awaitable<void> relay_tls(TlsStream& tls, asio::local::stream_protocol::socket& local)
{
    RelayState st(local.get_executor());
    st.upstream_done.expires_at(asio::steady_timer::time_point::max());
    asio::co_spawn(local.get_executor(), client_to_worker(tls, local, st),
                   [&st](const std::exception_ptr&) { mark_upstream_done(st); });

    std::vector<char> buf(kRelayChunk);
    std::string records; // the batch in flight; its capacity is reused for every batch
    boost::system::error_code ec;
    bool worker_ended = false;
    {
        TlsBatchWriter writer(tls.native_handle());
        for (;;) {
            const std::size_t n = co_await local.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
            if (n > 0 && !writer.encrypt(std::string_view(buf.data(), n))) {
                st.failed = true;
                break;
            }
            // Also sends what the read side made meanwhile (an alert, a KeyUpdate answer).
            if (writer.pending()) {
                writer.take(records);
                boost::system::error_code wec;
                co_await asio::async_write(tls.next_layer(), asio::buffer(records), asio::redirect_error(asio::use_awaitable, wec));
                if (wec)
                    break;
            }
            if (ec) {
                worker_ended = ec == asio::error::eof;
                break;
            }
        }
    } // Asio's BIO is back in place for close_notify

    // Stop the other direction (its pending TLS read) and wait for it: the TLS stream
    // allows one read at a time, and the shutdown below reads.
    boost::system::error_code ignored;
    if (!worker_ended || st.failed)
        tls.next_layer().close(ignored);
    else
        tls.next_layer().cancel(ignored);
    if (!st.upstream_finished)
        co_await st.upstream_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));

    ClientIo io{tls.next_layer(), &tls};
    co_await io.finish(kCloseNotifyWait);
    local.close(ignored);
}

} // namespace ocr::frontend
