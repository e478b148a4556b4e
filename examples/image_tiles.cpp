// Tiled image filtering: a 5x5 Gaussian blur of a procedurally generated RGB image, cut
// into tiles that are blurred in parallel, then a 256-bin luminance histogram of the
// result with map_reduce and a custom array-sum reducer. Both are checked exactly against
// a straightforward sequential blur and histogram; the blurred image is written as PPM.
//
//   image_tiles [--size PIXELS] [--seed N] [--threads N] [--quick] [--output FILE.ppm]
//
// --size is the width and the height. The image is written to --output, by default
// blurred.ppm in the current directory (with --quick, only when --output is given).
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <future>
#include <string>
#include <string_view>
#include <vector>

namespace mt = microtask;

namespace {

constexpr const char* what =
    "blurs a generated --size x --size RGB image (default 4096) tile by tile and "
    "histograms it; [--output FILE.ppm] (default blurred.ppm)";

using histogram = std::array<std::uint64_t, 256>;

// An interleaved 8-bit RGB image.
struct image {
    long width = 0, height = 0;
    std::vector<std::uint8_t> rgb;
    image(long w, long h) : width(w), height(h), rgb(static_cast<std::size_t>(w * h * 3)) {}
    std::uint8_t* row(long y) { return rgb.data() + y * width * 3; }
    const std::uint8_t* row(long y) const { return rgb.data() + y * width * 3; }
};

// ---- The generated input -------------------------------------------------------------

struct disc {
    long cx, cy, r;
    std::uint8_t color[3];
};

// A diagonal colour gradient with coloured discs and per-pixel noise. Every pixel is a
// pure function of (seed, x, y), so the image never depends on which thread drew a row.
struct scene {
    std::uint8_t from[3], to[3];
    std::vector<disc> discs;
    std::uint64_t seed;

    scene(long size, std::uint64_t s) : seed(s) {
        std::uint64_t rng = s;
        for (int c = 0; c < 3; ++c) from[c] = static_cast<std::uint8_t>(example::splitmix64(rng));
        for (int c = 0; c < 3; ++c) to[c] = static_cast<std::uint8_t>(example::splitmix64(rng));
        for (int i = 0; i < 12; ++i) {
            const long cx = static_cast<long>(example::splitmix64(rng) % static_cast<std::uint64_t>(size));
            const long cy = static_cast<long>(example::splitmix64(rng) % static_cast<std::uint64_t>(size));
            const long r =
                size / 32 + static_cast<long>(example::splitmix64(rng) % static_cast<std::uint64_t>(size / 6 + 1));
            disc d{cx, cy, r, {}};
            for (auto& c : d.color) c = static_cast<std::uint8_t>(example::splitmix64(rng));
            discs.push_back(d);
        }
    }

    void draw_row(image& img, long y) const {
        std::uint8_t* out = img.row(y);
        const long span = std::max(1L, 2 * (img.width - 1));
        for (long x = 0; x < img.width; ++x) {
            const long t = std::min(x + y, span);  // position along the diagonal, 0..span
            int px[3];
            for (int c = 0; c < 3; ++c) px[c] = static_cast<int>((from[c] * (span - t) + to[c] * t) / span);
            for (const disc& d : discs) {
                if ((x - d.cx) * (x - d.cx) + (y - d.cy) * (y - d.cy) < d.r * d.r) {
                    for (int c = 0; c < 3; ++c) px[c] = (px[c] + d.color[c]) / 2;  // translucent
                }
            }
            std::uint64_t h = seed ^ (static_cast<std::uint64_t>(y) << 32 | static_cast<std::uint64_t>(x));
            const std::uint64_t noise = example::splitmix64(h);
            for (int c = 0; c < 3; ++c) {
                const int v = px[c] + static_cast<int>((noise >> (8 * c)) & 63) - 32;
                out[x * 3 + c] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
            }
        }
    }
};

// ---- The blur ------------------------------------------------------------------------

// 5x5 Gaussian = [1 4 6 4 1]/16 horizontally, then vertically, edges clamped. Sums are
// kept unnormalised as integers and rounded once at the end, so any way of cutting the
// image (tiles, whole rows) gives exactly the same pixels.
constexpr int taps[5] = {1, 4, 6, 4, 1};

// The horizontal pass over columns [x0, x1) of one input row; out has (x1 - x0) * 3 sums.
void horizontal(const std::uint8_t* in, long width, long x0, long x1, std::uint16_t* out) {
    const auto at_edge = [&](long x) {
        for (int c = 0; c < 3; ++c) {
            int s = 0;
            for (int k = 0; k < 5; ++k) s += taps[k] * in[std::clamp(x + k - 2, 0L, width - 1) * 3 + c];
            out[(x - x0) * 3 + c] = static_cast<std::uint16_t>(s);
        }
    };
    // Columns 2..width-3 need no clamping: a flat loop over channel values there, which
    // the compiler vectorises.
    const long lo = std::clamp(2L, x0, x1), hi = std::clamp(width - 2, lo, x1);
    for (long x = x0; x < lo; ++x) at_edge(x);
    const std::uint8_t* p = in + lo * 3;
    std::uint16_t* q = out + (lo - x0) * 3;
    for (long i = 0; i < (hi - lo) * 3; ++i) {
        q[i] = static_cast<std::uint16_t>(p[i - 6] + 4 * p[i - 3] + 6 * p[i] + 4 * p[i + 3] + p[i + 6]);
    }
    for (long x = hi; x < x1; ++x) at_edge(x);
}

// The vertical pass: five horizontally filtered rows -> one output row of n values.
void vertical(const std::uint16_t* const rows[5], long n, std::uint8_t* out) {
    for (long i = 0; i < n; ++i) {
        unsigned s = 0;
        for (int k = 0; k < 5; ++k) s += static_cast<unsigned>(taps[k]) * rows[k][i];
        out[i] = static_cast<std::uint8_t>((s + 128) >> 8);
    }
}

struct tile {
    long x0, y0, x1, y1;
};

struct tiling_job {
    long width, height, tile_size;
};

// The decomposer: tiles in row-major order; those on the right and bottom edges may be
// smaller. Depends on the image size only, never on the thread count.
std::vector<tile> cut_into_tiles(const tiling_job& job) {
    std::vector<tile> tiles;
    for (long y = 0; y < job.height; y += job.tile_size)
        for (long x = 0; x < job.width; x += job.tile_size)
            tiles.push_back({x, y, std::min(job.width, x + job.tile_size), std::min(job.height, y + job.tile_size)});
    return tiles;
}

// Blurs one tile: reads its input with a 2-pixel halo (clamped at the image edges) and
// writes only its own output pixels, so tiles can run concurrently without locks.
void blur_tile(const image& in, image& out, const tile& t) {
    const long w = t.x1 - t.x0;
    std::vector<std::uint16_t> sums(static_cast<std::size_t>((t.y1 - t.y0 + 4) * w * 3));
    for (long j = 0; j < t.y1 - t.y0 + 4; ++j) {  // row j holds input row y0 - 2 + j
        horizontal(in.row(std::clamp(t.y0 - 2 + j, 0L, in.height - 1)), in.width, t.x0, t.x1, &sums[j * w * 3]);
    }
    for (long y = t.y0; y < t.y1; ++y) {
        const std::uint16_t* rows[5];
        for (int k = 0; k < 5; ++k) rows[k] = &sums[(y - t.y0 + k) * w * 3];
        vertical(rows, w * 3, out.row(y) + t.x0 * 3);
    }
}

// The plain sequential blur, row by row over the whole image, keeping the last five
// horizontally filtered rows in a ring. Independent of the tiling: the reference.
void blur_serial(const image& in, image& out) {
    const long n = in.width * 3;
    std::vector<std::uint16_t> ring(static_cast<std::size_t>(5 * n));
    long filtered = 0;  // input rows [0, filtered) have been filtered, row r into slot r % 5
    for (long y = 0; y < in.height; ++y) {
        for (; filtered <= std::min(y + 2, in.height - 1); ++filtered) {
            horizontal(in.row(filtered), in.width, 0, in.width, &ring[(filtered % 5) * n]);
        }
        const std::uint16_t* rows[5];
        for (int k = 0; k < 5; ++k) rows[k] = &ring[(std::clamp(y + k - 2, 0L, in.height - 1) % 5) * n];
        vertical(rows, n, out.row(y));
    }
}

// ---- The histogram -------------------------------------------------------------------

// Rec. 601 luma in integers: (77 R + 150 G + 29 B) / 256, rounded; always 0..255.
int luma(const std::uint8_t* px) { return (77 * px[0] + 150 * px[1] + 29 * px[2] + 128) >> 8; }

histogram row_histogram(const image& img, long y) {
    histogram h{};
    const std::uint8_t* px = img.row(y);
    for (long x = 0; x < img.width; ++x) ++h[static_cast<std::size_t>(luma(px + x * 3))];
    return h;
}

histogram add(histogram a, const histogram& b) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    return a;
}

// ---- Output --------------------------------------------------------------------------

// Takes "--output PATH" out of argv; the rest goes to example::parse.
std::vector<char*> take_output(int argc, char** argv, std::string& output) {
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) != "--output") {
            rest.push_back(argv[i]);
        } else if (i + 1 < argc) {
            output = argv[++i];
        } else {
            example::usage(argv[0], what, "--output needs a file name");
        }
    }
    return rest;
}

bool write_ppm(std::FILE* file, const image& img) {
    std::fprintf(file, "P6\n%ld %ld\n255\n", img.width, img.height);
    const bool written = std::fwrite(img.rgb.data(), 1, img.rgb.size(), file) == img.rgb.size();
    return std::fclose(file) == 0 && written;
}

int run(int argc, char** argv) {
    std::string output;
    std::vector<char*> rest = take_output(argc, argv, output);
    const example::options opts = example::parse(static_cast<int>(rest.size()), rest.data(), what, 4096, 64);
    if (output.empty() && !opts.quick) output = "blurred.ppm";
    // Opened now, so that an unwritable path fails before the work rather than after it.
    std::FILE* file = output.empty() ? nullptr : std::fopen(output.c_str(), "wb");
    if (!output.empty() && file == nullptr) {
        std::fprintf(stderr, "image_tiles: cannot write '%s': %s\n", output.c_str(), std::strerror(errno));
        return 2;
    }
    mt::thread_pool pool = example::make_pool(opts);
    const long size = opts.size;
    // 128x128 tiles: large enough that each one streams its rows well and the halo costs
    // only ~3%; smaller ones on tiny images, so that even --quick has several tiles.
    const long tile_size = std::clamp(size / 4, 1L, 128L);

    image input(size, size);
    const scene picture(size, opts.seed);
    mt::for_each(pool, mt::iota(0L, size), [&](long y) { picture.draw_row(input, y); });

    // Serial: the whole-image blur and a plain histogram loop. This is also the reference.
    image expected(size, size);
    histogram expected_hist{};
    const double serial_s = example::seconds([&] {
        blur_serial(input, expected);
        for (long y = 0; y < size; ++y) expected_hist = add(expected_hist, row_histogram(expected, y));
    });

    // std::async: 4 futures per worker, each blurring a contiguous run of the same tiles,
    // then each histogramming a band of rows.
    const std::vector<tile> tiles = cut_into_tiles({size, size, tile_size});
    const long futures_wanted = static_cast<long>(std::max<std::size_t>(2, pool.size() * 4));
    image blurred(size, size);
    histogram async_hist{};
    bool async_ok = false;
    const double async_s = example::seconds([&] {
        const long n = static_cast<long>(tiles.size());
        const long groups = std::min(futures_wanted, n);
        std::vector<std::future<void>> blurs;
        for (long g = 0; g < groups; ++g) {
            blurs.push_back(std::async(std::launch::async, [&, lo = g * n / groups, hi = (g + 1) * n / groups] {
                for (long i = lo; i < hi; ++i) blur_tile(input, blurred, tiles[static_cast<std::size_t>(i)]);
            }));
        }
        for (auto& f : blurs) f.get();
        const long bands = std::min(futures_wanted, size);
        std::vector<std::future<histogram>> hists;
        for (long b = 0; b < bands; ++b) {
            hists.push_back(std::async(std::launch::async, [&, lo = b * size / bands, hi = (b + 1) * size / bands] {
                histogram h{};
                for (long y = lo; y < hi; ++y) h = add(h, row_histogram(blurred, y));
                return h;
            }));
        }
        for (auto& f : hists) async_hist = add(async_hist, f.get());
    });
    async_ok = blurred.rgb == expected.rgb && async_hist == expected_hist;

    // microtask: decompose into tiles with a user decomposer, distribute one subtask per
    // tile, then map every pixel to its luminance bin and count the bins with
    // mt::histogram: each run of pixels a thread takes is counted into one array, in place.
    std::fill(blurred.rgb.begin(), blurred.rgb.end(), std::uint8_t{0});
    histogram hist{};
    const double microtask_s = example::seconds([&] {
        const std::vector<tile> parts = mt::decompose(tiling_job{size, size, tile_size}, cut_into_tiles);
        mt::distribute(pool, parts, [&](const tile& t) { blur_tile(input, blurred, t); });
        hist = mt::map_reduce(
            pool, mt::iota(std::size_t{0}, blurred.rgb.size() / 3),
            [&](std::size_t pixel) { return luma(&blurred.rgb[pixel * 3]); }, mt::histogram<256, std::uint64_t>{});
    });
    const bool ok = async_ok && blurred.rgb == expected.rgb && hist == expected_hist;

    // Summary statistics of the luminance histogram.
    const std::uint64_t pixels = static_cast<std::uint64_t>(size * size);
    std::uint64_t weighted = 0, seen = 0;
    int median = -1, darkest = -1, brightest = 0, mode = 0;
    for (int v = 0; v < 256; ++v) {
        const std::uint64_t n = hist[static_cast<std::size_t>(v)];
        weighted += n * static_cast<std::uint64_t>(v);
        if (n > 0 && darkest < 0) darkest = v;
        if (n > 0) brightest = v;
        if (n > hist[static_cast<std::size_t>(mode)]) mode = v;
        seen += n;
        if (median < 0 && 2 * seen >= pixels) median = v;
    }
    std::printf(
        "blurred a %ldx%ld RGB image (seed %lu) with a 5x5 Gaussian: %zu tiles of %ldx%ld, %zu pool workers "
        "+ the caller\n",
        size, size, opts.seed, tiles.size(), tile_size, tile_size, pool.size());
    std::printf("luminance of %llu pixels: mean %.2f, median %d, range %d..%d, most common %d (%llu pixels)\n",
                static_cast<unsigned long long>(seen), static_cast<double>(weighted) / static_cast<double>(pixels),
                median, darkest, brightest, mode,
                static_cast<unsigned long long>(hist[static_cast<std::size_t>(mode)]));
    if (file != nullptr) {
        if (!write_ppm(file, blurred)) {
            std::fprintf(stderr, "image_tiles: writing '%s' failed\n", output.c_str());
            return 1;
        }
        std::printf("wrote %s\n", output.c_str());
    }
    return example::finish("image_tiles", ok, serial_s, async_s, microtask_s);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // e.g. std::bad_alloc for an impossible --size
        std::fprintf(stderr, "image_tiles: %s\n", e.what());
        return 1;
    }
}
