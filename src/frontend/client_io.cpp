// SPDX-License-Identifier: MIT
// The plain/TLS switch of the handshake driver, and the orderly end of a TLS connection.
#include "frontend/client_io.hpp"

#include "common/tcp_ack.hpp"

namespace ocr::frontend {
namespace {

void close_on_expiry(asio::steady_timer& timer, tcp::socket& socket)
{
    timer.async_wait([&socket](const boost::system::error_code& ec) {
        if (ec)
            return;
        boost::system::error_code ignored;
        socket.close(ignored);
    });
}

} // namespace

asio::awaitable<std::size_t> ClientIo::read_some(asio::mutable_buffer buf, boost::system::error_code& ec)
{
    // The client sends its greeting, module name and arguments in many tiny writes.
    if (socket.is_open())
        acknowledge_received(socket.native_handle());
    if (tls)
        co_return co_await tls->async_read_some(buf, asio::redirect_error(asio::use_awaitable, ec));
    co_return co_await socket.async_read_some(buf, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> ClientIo::write(asio::const_buffer buf, boost::system::error_code& ec)
{
    if (tls)
        co_await asio::async_write(*tls, buf, asio::redirect_error(asio::use_awaitable, ec));
    else
        co_await asio::async_write(socket, buf, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> ClientIo::finish(std::chrono::milliseconds limit)
{
    boost::system::error_code ec;
    if (tls && socket.is_open()) {
        // async_shutdown sends our close_notify and then waits for the client's; a client
        // that never answers is cut off by the timer.
        asio::steady_timer timer(socket.get_executor());
        timer.expires_after(limit);
        close_on_expiry(timer, socket);
        co_await tls->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
        timer.cancel();
    }
    socket.close(ec);
}

} // namespace ocr::frontend
