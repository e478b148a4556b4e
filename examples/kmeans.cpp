// Machine learning: k-means clustering (Lloyd's algorithm) of seeded 2-D points drawn
// around K hidden centres, for a fixed number of iterations.
//
// Each iteration's assignment step is one mt::map_reduce over the points: every point is
// mapped to its nearest centroid, and a custom reducer gathers per-cluster sums
// (sum_x, sum_y, count, plus the squared distances for the inertia). The update step then
// moves each centroid to the mean of its points.
//
// The sums are floating point, so their value depends on how they are grouped. map_reduce
// groups them by a fixed tree that depends only on the number of points, never on the
// threads, so the clustering is bit for bit the same for every --threads: checked against
// a run on a 1-thread pool. A plain sequential loop adds in another order, so it is
// checked for closeness (relative 1e-9) instead.
//
//   kmeans [--size N] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <future>
#include <limits>
#include <memory>
#include <random>
#include <vector>

namespace mt = microtask;

namespace {

constexpr int k_clusters = 8;
constexpr int k_iterations = 10;

struct point {
    double x = 0, y = 0;
};
using centroids = std::array<point, k_clusters>;

// Per-cluster accumulators for one assignment step.
struct cluster_sums {
    std::array<double, k_clusters> sum_x{};
    std::array<double, k_clusters> sum_y{};
    std::array<long, k_clusters> count{};
    double inertia = 0;  // sum of squared distances of the points to their centroid

    cluster_sums& operator+=(const cluster_sums& other) {
        for (int k = 0; k < k_clusters; ++k) {
            sum_x[k] += other.sum_x[k];
            sum_y[k] += other.sum_y[k];
            count[k] += other.count[k];
        }
        inertia += other.inertia;
        return *this;
    }
};

// What the map step produces for one point.
struct assignment {
    int cluster = 0;
    point p;
    double distance2 = 0;
};

double distance2(const point& a, const point& b) {
    const double dx = a.x - b.x, dy = a.y - b.y;
    return dx * dx + dy * dy;
}

assignment nearest(const point& p, const centroids& c) {
    // Selects rather than an if, so the compiler can make it branch-free: which centroid is
    // nearest to a random point is unpredictable, and mispredicted branches would cost more
    // than the arithmetic (and differently in each version's loop).
    int best = 0;
    double best_d2 = std::numeric_limits<double>::infinity();
    for (int k = 0; k < k_clusters; ++k) {
        const double d2 = distance2(p, c[k]);
        const bool closer = d2 < best_d2;  // ties: the lower cluster index
        best = closer ? k : best;
        best_d2 = closer ? d2 : best_d2;
    }
    return {best, p, best_d2};
}

void add(cluster_sums& s, const assignment& a) {
    s.sum_x[a.cluster] += a.p.x;
    s.sum_y[a.cluster] += a.p.y;
    s.count[a.cluster] += 1;
    s.inertia += a.distance2;
}

// The custom reducer. Its value is a cluster_sums on the heap: map_reduce moves the
// accumulator into and out of `accumulate` once per point, and moving a pointer is free
// where copying 200 bytes per point would cost more than the distance computations.
// identity: all zeros; combine: elementwise sums. Floating-point addition is associative
// only up to rounding, so there is no exactly_associative promise: map_reduce then always
// combines over its fixed tree, which is what makes the rounding reproducible.
// `accumulate` folds one point's assignment straight into the accumulator.
struct cluster_sums_reducer {
    using value_type = std::unique_ptr<cluster_sums>;
    value_type identity() const { return std::make_unique<cluster_sums>(); }
    value_type combine(value_type a, value_type b) const {
        *a += *b;
        return a;
    }
    value_type accumulate(value_type acc, const assignment& a) const {
        add(*acc, a);
        return acc;
    }
};
static_assert(mt::reducer_for<cluster_sums_reducer, assignment>);

// The update step: each centroid moves to the mean of its points (an empty cluster stays).
void update(centroids& c, const cluster_sums& s) {
    for (int k = 0; k < k_clusters; ++k) {
        if (s.count[k] > 0) c[k] = {s.sum_x[k] / double(s.count[k]), s.sum_y[k] / double(s.count[k])};
    }
}

struct clustering {
    centroids c{};
    cluster_sums last;  // the last iteration's assignment step
};

// Lloyd's iterations from `start`, with a pluggable assignment step.
template <class AssignStep>
clustering lloyd(const centroids& start, AssignStep assign_step) {
    clustering result{start, {}};
    for (int it = 0; it < k_iterations; ++it) {
        result.last = assign_step(result.c);
        update(result.c, result.last);
    }
    return result;
}

clustering kmeans_microtask(mt::thread_pool& pool, const std::vector<point>& points, const centroids& start) {
    return lloyd(start, [&](const centroids& c) {
        return *mt::map_reduce(
            pool, points, [&c](const point& p) { return nearest(p, c); }, cluster_sums_reducer{});
    });
}

clustering kmeans_serial(const std::vector<point>& points, const centroids& start) {
    return lloyd(start, [&](const centroids& c) {
        cluster_sums s;
        for (const point& p : points) add(s, nearest(p, c));
        return s;
    });
}

clustering kmeans_async(const std::vector<point>& points, const centroids& start, std::size_t futures) {
    return lloyd(start, [&](const centroids& c) {
        const std::size_t n = points.size();
        const std::size_t parts = std::max<std::size_t>(1, std::min(futures, n));
        std::vector<std::future<cluster_sums>> sums;
        for (std::size_t i = 0; i < parts; ++i) {
            sums.push_back(std::async(std::launch::async, [&, lo = i * n / parts, hi = (i + 1) * n / parts] {
                cluster_sums s;
                for (std::size_t j = lo; j < hi; ++j) add(s, nearest(points[j], c));
                return s;
            }));
        }
        cluster_sums total;
        for (auto& f : sums) total += f.get();
        return total;
    });
}

// Starting centroids by farthest-first traversal: the first point, then repeatedly the
// point farthest from all centroids chosen so far. Each pick is a map_reduce with an
// "argmax" reducer; the earlier point wins ties, which makes it exactly associative.
centroids farthest_first(mt::thread_pool& pool, const std::vector<point>& points) {
    struct candidate {
        double d2;
        std::size_t index;
    };
    const auto farther = mt::make_reducer(
        candidate{-1.0, 0}, [](candidate a, candidate b) { return b.d2 > a.d2 ? b : a; }, mt::exactly_associative);
    centroids c{};
    c[0] = points[0];
    for (int k = 1; k < k_clusters; ++k) {
        const candidate far = mt::map_reduce(
            pool, mt::iota(std::size_t{0}, points.size()),
            [&](std::size_t i) {
                double d2 = std::numeric_limits<double>::infinity();
                for (int j = 0; j < k; ++j) d2 = std::min(d2, distance2(points[i], c[j]));
                return candidate{d2, i};
            },
            farther);
        c[k] = points[far.index];
    }
    return c;
}

// The data: K hidden centres from the seed, and points drawn around them in blocks of a
// fixed size, each block with its own generator seeded by (seed, block index), so the
// points are the same whichever thread generates which block.
struct data_set {
    centroids centres;
    std::vector<point> points;
};

data_set make_data(mt::thread_pool& pool, std::size_t n, unsigned long seed) {
    data_set data;
    std::mt19937_64 centre_generator(seed);
    std::uniform_real_distribution<double> coordinate(-100.0, 100.0);
    // Centres at least 45 apart (7.5 standard deviations), so the clusters are distinct.
    for (int k = 0; k < k_clusters; ++k) {
        point c;
        bool apart = false;
        while (!apart) {
            c = {coordinate(centre_generator), coordinate(centre_generator)};
            apart = true;
            for (int j = 0; j < k; ++j) apart = apart && distance2(c, data.centres[j]) >= 45.0 * 45.0;
        }
        data.centres[k] = c;
    }

    data.points.resize(n);
    constexpr std::size_t block = 4096;
    const std::size_t blocks = (n + block - 1) / block;
    mt::for_each(pool, mt::iota(std::size_t{0}, blocks), [&](std::size_t b) {
        // seed_seq takes 32-bit words: the seed in two halves, then the block index.
        std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(std::uint64_t{seed} >> 32),
                          static_cast<std::uint32_t>(b)};
        std::mt19937_64 generator(seq);
        std::uniform_int_distribution<int> which(0, k_clusters - 1);
        std::normal_distribution<double> spread(0.0, 6.0);
        for (std::size_t i = b * block; i < std::min(n, (b + 1) * block); ++i) {
            const point& c = data.centres[static_cast<std::size_t>(which(generator))];
            const double dx = spread(generator);
            const double dy = spread(generator);
            data.points[i] = {c.x + dx, c.y + dy};
        }
    });
    return data;
}

bool bitwise_equal(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

bool bitwise_equal(const clustering& a, const clustering& b) {
    bool same = bitwise_equal(a.last.inertia, b.last.inertia);
    for (int k = 0; k < k_clusters; ++k) {
        same = same && bitwise_equal(a.c[k].x, b.c[k].x) && bitwise_equal(a.c[k].y, b.c[k].y) &&
               a.last.count[k] == b.last.count[k];
    }
    return same;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }

bool close(const clustering& a, const clustering& b) {
    bool same = close(a.last.inertia, b.last.inertia);
    for (int k = 0; k < k_clusters; ++k) {
        same = same && close(a.c[k].x, b.c[k].x) && close(a.c[k].y, b.c[k].y) && a.last.count[k] == b.last.count[k];
    }
    return same;
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts = example::parse(
        argc, argv,
        "k-means (K = 8, 10 iterations) of N seeded 2-D points, map_reduce with a custom reducer; --size is N",
        3'000'000, 1'000);
    mt::thread_pool pool = example::make_pool(opts);
    const auto n = static_cast<std::size_t>(opts.size);
    const data_set data = make_data(pool, n, opts.seed);

    const centroids start = farthest_first(pool, data.points);

    clustering serial, by_async, by_microtask;
    const double serial_s = example::seconds([&] { serial = kmeans_serial(data.points, start); });
    const double async_s = example::seconds([&] { by_async = kmeans_async(data.points, start, 4 * pool.size()); });
    const double microtask_s = example::seconds([&] { by_microtask = kmeans_microtask(pool, data.points, start); });

    // Determinism: the same clustering, bit for bit, on a single worker.
    mt::thread_pool one{1};
    const clustering on_one = kmeans_microtask(one, data.points, start);
    const bool deterministic = bitwise_equal(by_microtask, on_one);
    const bool matches_serial = close(by_microtask, serial);
    const bool async_ok = close(by_async, serial);

    std::printf("k-means of %zu points around %d hidden centres (seed %lu), %d iterations, %zu workers:\n", n,
                k_clusters, opts.seed, k_iterations, pool.size());
    for (int k = 0; k < k_clusters; ++k) {
        // The hidden centre this centroid found (the nearest one).
        const point& c = by_microtask.c[k];
        const point& h = data.centres[static_cast<std::size_t>(nearest(c, data.centres).cluster)];
        std::printf("  centroid %d  (%8.3f, %8.3f)  %8ld points   nearest hidden centre (%8.3f, %8.3f)\n", k, c.x, c.y,
                    by_microtask.last.count[k], h.x, h.y);
    }
    std::printf("  inertia of iteration %d: %.6e (RMS distance to centroid %.4f)\n", k_iterations,
                by_microtask.last.inertia, n > 0 ? std::sqrt(by_microtask.last.inertia / double(n)) : 0.0);
    std::printf("  bitwise identical to a 1-thread pool: %s; within 1e-9 of the sequential loop: %s (std::async: %s)\n",
                deterministic ? "yes" : "NO", matches_serial ? "yes" : "NO", async_ok ? "yes" : "NO");

    return example::finish("kmeans", deterministic && matches_serial && async_ok, serial_s, async_s, microtask_s);
}
