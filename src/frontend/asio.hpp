// SPDX-License-Identifier: MIT
// The one way the front-end includes Boost.Asio.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

namespace ocr::frontend {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
} // namespace ocr::frontend
