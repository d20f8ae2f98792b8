// SPDX-License-Identifier: MIT
// Process entry point: hands the command line to the app layer.
#include "app/entry.hpp"

int main(int argc, char** argv)
{
    return ocr::app::run(argc, argv);
}
