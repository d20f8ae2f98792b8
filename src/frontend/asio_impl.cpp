// SPDX-License-Identifier: MIT
// Compiles Boost.Asio once (BOOST_ASIO_SEPARATE_COMPILATION) instead of in every file.
#include <utility>

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
