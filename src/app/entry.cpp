// SPDX-License-Identifier: MIT
// Temporary entry while the layers land.
#include "app/entry.hpp"

namespace ocr::app {

int run(int, char**)
{
    return 0;
}

} // namespace ocr::app
