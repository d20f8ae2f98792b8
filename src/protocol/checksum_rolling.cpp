// SPDX-License-Identifier: MIT
// The weak checksum over whole blocks: a portable reference and SSE2/AVX2 forms that give
// the same sums (everything is arithmetic modulo 2^32, so lane overflow cannot change them).
#include "protocol/checksum_rolling.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OCR_ROLLING_X86 1
#endif

namespace ocr::protocol {
namespace {

// Folding n bytes y_0..y_{n-1} into (s1, s2) one at a time is the same as
//   s2 += n * s1 + sum((n - j) * y_j);   s1 += sum(y_j)
// so over T consecutive n-byte steps from (0, 0), with A_t the byte sum of step t and W_t
// its weighted sum, s1 = sum_t A_t and s2 = n * sum_t sum_{u<t} A_u + sum_t W_t. The
// vector loops keep per-lane partial sums of A, of the running prefix of A, and of W.

RollingSum finish_tail(RollingSum r, const std::uint8_t* p, std::size_t n) noexcept
{
    for (std::size_t i = 0; i < n; ++i)
        r.push_back(p[i]);
    return r;
}

#ifdef OCR_ROLLING_X86

std::uint32_t hsum_epi32(__m128i v) noexcept
{
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(v));
}

RollingSum rolling_sse2(std::span<const std::uint8_t> data) noexcept
{
    constexpr std::size_t kStep = 16;
    const std::uint8_t* p = data.data();
    const std::size_t steps = data.size() / kStep;
    const __m128i ones = _mm_set1_epi16(1);
    // Weight of byte j of a step is (16 - j).
    const __m128i w_lo = _mm_setr_epi16(16, 15, 14, 13, 12, 11, 10, 9);
    const __m128i w_hi = _mm_setr_epi16(8, 7, 6, 5, 4, 3, 2, 1);
    __m128i acc_a = _mm_setzero_si128();
    __m128i acc_prefix = _mm_setzero_si128();
    __m128i acc_w = _mm_setzero_si128();
    for (std::size_t t = 0; t < steps; ++t) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + t * kStep));
        // Duplicating each byte into both halves of a 16-bit lane and shifting right
        // arithmetically sign-extends it.
        const __m128i lo = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
        const __m128i hi = _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
        acc_prefix = _mm_add_epi32(acc_prefix, acc_a);
        acc_a = _mm_add_epi32(acc_a, _mm_add_epi32(_mm_madd_epi16(lo, ones), _mm_madd_epi16(hi, ones)));
        acc_w = _mm_add_epi32(acc_w, _mm_add_epi32(_mm_madd_epi16(lo, w_lo), _mm_madd_epi16(hi, w_hi)));
    }
    RollingSum r;
    r.s2 = static_cast<std::uint32_t>(kStep) * hsum_epi32(acc_prefix) + hsum_epi32(acc_w);
    r.s1 = hsum_epi32(acc_a);
    return finish_tail(r, p + steps * kStep, data.size() - steps * kStep);
}

__attribute__((target("avx2"))) std::uint32_t hsum256_epi32(__m256i v) noexcept
{
    const __m128i folded = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    __m128i x = _mm_add_epi32(folded, _mm_shuffle_epi32(folded, _MM_SHUFFLE(1, 0, 3, 2)));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(x));
}

__attribute__((target("avx2"))) RollingSum rolling_avx2(std::span<const std::uint8_t> data) noexcept
{
    constexpr std::size_t kStep = 32;
    const std::uint8_t* p = data.data();
    const std::size_t steps = data.size() / kStep;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i w_lo = _mm256_setr_epi16(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17);
    const __m256i w_hi = _mm256_setr_epi16(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    __m256i acc_a = _mm256_setzero_si256();
    __m256i acc_prefix = _mm256_setzero_si256();
    __m256i acc_w = _mm256_setzero_si256();
    for (std::size_t t = 0; t < steps; ++t) {
        const std::uint8_t* q = p + t * kStep;
        const __m256i lo = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
        const __m256i hi = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16)));
        acc_prefix = _mm256_add_epi32(acc_prefix, acc_a);
        acc_a = _mm256_add_epi32(acc_a, _mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones)));
        acc_w = _mm256_add_epi32(acc_w, _mm256_add_epi32(_mm256_madd_epi16(lo, w_lo), _mm256_madd_epi16(hi, w_hi)));
    }
    RollingSum r;
    r.s2 = static_cast<std::uint32_t>(kStep) * hsum256_epi32(acc_prefix) + hsum256_epi32(acc_w);
    r.s1 = hsum256_epi32(acc_a);
    return finish_tail(r, p + steps * kStep, data.size() - steps * kStep);
}

bool have_avx2() noexcept
{
    static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
    return avx2;
}

#endif

} // namespace

RollingSum rolling_sums_reference(std::span<const std::uint8_t> data) noexcept
{
    return finish_tail(RollingSum{}, data.data(), data.size());
}

RollingSum rolling_sums(std::span<const std::uint8_t> data) noexcept
{
    // Short windows (the tail of a file) are not worth the set-up.
    if (data.size() < 64)
        return rolling_sums_reference(data);
#ifdef OCR_ROLLING_X86
    if (have_avx2())
        return rolling_avx2(data);
    return rolling_sse2(data);
#else
    return rolling_sums_reference(data);
#endif
}

} // namespace ocr::protocol
