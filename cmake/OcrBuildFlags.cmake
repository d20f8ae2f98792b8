# SPDX-License-Identifier: MIT
# Warning and hardening flags shared by every ocrsyncd target. Each target links
# ocr_build_flags PRIVATE so third-party headers never see our -Werror.
add_library(ocr_build_flags INTERFACE)

target_compile_options(ocr_build_flags INTERFACE
  -Wall -Wextra -Werror
  # Catch the classic mistakes of code that parses peer bytes. (-Wnull-dereference is
  # left out: GCC 12 at -O2 reports it inside libstdc++ and Boost, never in our code.)
  -Wshadow -Wnon-virtual-dtor -Wformat=2 -Wimplicit-fallthrough -Wcast-qual
)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 warns about std::string internals in -O2 inlining (a known false
  # positive, GCC bug 105329); keep the rest of -Werror.
  target_compile_options(ocr_build_flags INTERFACE -Wno-restrict -Wno-maybe-uninitialized)
endif()

# Hardening that costs nothing at run time.
target_compile_definitions(ocr_build_flags INTERFACE $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
target_compile_options(ocr_build_flags INTERFACE -fstack-protector-strong -fstack-clash-protection)
target_link_options(ocr_build_flags INTERFACE -Wl,-z,relro,-z,now)

if(OCR_SANITIZE)
  target_compile_options(ocr_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(ocr_build_flags INTERFACE -fsanitize=address,undefined)
  target_compile_definitions(ocr_build_flags INTERFACE OCR_SANITIZER_BUILD=1)
endif()

if(OCR_FUZZ)
  # Instrument every library for coverage; the fuzz targets add the driver.
  target_compile_options(ocr_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(ocr_build_flags INTERFACE -fsanitize=address,undefined)
endif()

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()
