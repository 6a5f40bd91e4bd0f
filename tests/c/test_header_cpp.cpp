// test_header_cpp.cpp: sketchbox.h compiles as C++17 and its functions link and run
// from C++ (extern "C", enums usable as int32_t, SkBytes by value). Built by run.sh:
//   g++ -std=c++17 -Wall -Wextra -pedantic -Werror -I<include dir> test_header_cpp.cpp
//       -L<lib dir> -lsketchbox -Wl,-rpath,<lib dir> -o test_header_cpp
#include "sketchbox.h"

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
    SkHll *h = nullptr;
    if (sk_hll_new(12, SK_HLL_8, &h) != SK_OK) {
        std::fprintf(stderr, "sk_hll_new: %s\n", sk_last_error());
        return 1;
    }
    std::vector<std::int64_t> items(1000);
    for (std::size_t i = 0; i < items.size(); i++) items[i] = static_cast<std::int64_t>(i);
    int rc = 0;
    double est = 0.0;
    SkBytes img{nullptr, 0};
    if (sk_hll_update_i64(h, items.data(), items.size(), nullptr, nullptr) != SK_OK ||
        sk_hll_update_one_bytes(h, reinterpret_cast<const std::uint8_t *>("x"), 1) != SK_OK ||
        sk_hll_estimate(h, &est) != SK_OK || sk_hll_serialize(h, true, &img) != SK_OK) {
        std::fprintf(stderr, "sketchbox call failed: %s\n", sk_last_error());
        rc = 1;
    } else if (est < 990.0 || est > 1012.0 || img.len == 0) {
        std::fprintf(stderr, "unexpected estimate %f or image of %zu bytes\n", est, img.len);
        rc = 1;
    } else {
        std::printf("C++17: sketchbox %s, estimate %.3f, compact image %zu bytes\n",
                    sk_version(), est, img.len);
    }
    sk_bytes_free(img);
    sk_hll_free(h);
    return rc;
}
