// integrate: composite Simpson's rule for the integral of sin(x)^2 * exp(-x/4) over
// [0, 20], whose exact value is known in closed form, with --size intervals.
//
// Simpson's rule is a weighted sum of n + 1 samples of the function, so it maps straight
// onto mt::map_reduce over the sample indices with mt::sum<double>. A floating-point sum
// depends on the order of the additions, yet microtask promises the same bits for every
// thread count: the leaves and the tree that combines them depend only on n and the
// policy. The example checks that promise bit for bit against the same map_reduce on a
// one-thread pool, under the default adaptive policy and under mt::grain. Different
// policies, and the serial left-to-right loop, add in different orders, so those agree
// only to within a rounding-error bound, stated below.
//
//   integrate [--size INTERVALS] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <future>
#include <limits>
#include <vector>

namespace mt = microtask;

namespace {

constexpr double lower = 0.0;
constexpr double upper = 20.0;
constexpr double decay = 0.25;  // exp(-decay * x)

double f(double x) {
    const double s = std::sin(x);
    return s * s * std::exp(-decay * x);
}

// With sin^2 x = (1 - cos 2x) / 2 and the antiderivative of exp(-ax) cos 2x,
// exp(-ax) (2 sin 2x - a cos 2x) / (a^2 + 4):
//   I = (1 - e^{-aL}) / (2a) - (a + e^{-aL} (2 sin 2L - a cos 2L)) / (2 (a^2 + 4)).
double exact_integral() {
    const double a = decay;
    const double length = upper - lower;
    const double tail = std::exp(-a * length);
    return (1.0 - tail) / (2.0 * a) -
           (a + tail * (2.0 * std::sin(2.0 * length) - a * std::cos(2.0 * length))) / (2.0 * (a * a + 4.0));
}

// Simpson's error bound (b - a) h^4 max|f''''| / 180. f = e^{-ax}/2 - Re(e^{(-a+2i)x})/2,
// so |f''''| <= (a^4 + (a^2 + 4)^2) / 2 on x >= 0.
double truncation_bound(double h) {
    const double a = decay;
    const double m4 = (a * a * a * a + (a * a + 4.0) * (a * a + 4.0)) / 2.0;
    return (upper - lower) * h * h * h * h * m4 / 180.0;
}

std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

}  // namespace

int main(int argc, char** argv) {
    const example::options opts = example::parse(
        argc, argv, "Simpson's rule for the integral of sin(x)^2 exp(-x/4) over [0, 20] with --size intervals",
        60'000'000, 200'000);
    mt::thread_pool pool = example::make_pool(opts);
    mt::thread_pool one{1};
    const long n = opts.size + (opts.size % 2);  // Simpson's rule needs an even count
    const double h = (upper - lower) / static_cast<double>(n);

    // Sample i with its Simpson weight 1, 4, 2, 4, ..., 2, 4, 1. x is computed from i, not
    // accumulated, so every thread evaluates exactly the same points.
    auto term = [n, h](long i) {
        const double weight = (i == 0 || i == n) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
        return weight * f(lower + static_cast<double>(i) * h);
    };
    const auto samples = mt::iota(0L, n + 1);
    const mt::grain grain{1L << 14};

    double serial_sum = 0;
    const double serial_s = example::seconds([&] {
        for (long i = 0; i <= n; ++i) serial_sum += term(i);
    });

    // std::async: four futures per pool thread over contiguous runs of samples.
    double async_sum = 0;
    const double async_s = example::seconds([&] {
        const long count = n + 1;
        const long tasks = std::min<long>(count, 4 * static_cast<long>(pool.size()));
        std::vector<std::future<double>> futures;
        for (long t = 0; t < tasks; ++t) {
            const long lo = count * t / tasks;
            const long hi = count * (t + 1) / tasks;
            futures.push_back(std::async(std::launch::async, [&term, lo, hi] {
                double s = 0;
                for (long i = lo; i < hi; ++i) s += term(i);
                return s;
            }));
        }
        for (auto& fut : futures) async_sum += fut.get();
    });

    double adaptive_sum = 0;
    const double micro_s =
        example::seconds([&] { adaptive_sum = mt::map_reduce(pool, samples, term, mt::sum<double>{}); });
    const double grain_sum = mt::map_reduce(pool, samples, term, mt::sum<double>{}, grain);
    // The same calls on a one-thread pool: a different schedule, the same bits promised.
    const double adaptive_one = mt::map_reduce(one, samples, term, mt::sum<double>{});
    const double grain_one = mt::map_reduce(one, samples, term, mt::sum<double>{}, grain);

    const double exact = exact_integral();
    auto integral = [h](double sum) { return h / 3.0 * sum; };
    const double result = integral(adaptive_sum);

    // All terms are >= 0, so any order of summing n + 1 of them is within about
    // n * eps * sum of the exact sum: two orders differ by at most twice that.
    const double eps = std::numeric_limits<double>::epsilon();
    const double order_tolerance = 2.0 * static_cast<double>(n + 1) * eps * serial_sum;
    const double exact_tolerance = truncation_bound(h) + 2.0 * static_cast<double>(n + 1) * eps * std::abs(exact);

    std::printf("Simpson's rule: integral of sin(x)^2 exp(-x/4) over [0, 20], %ld intervals, threads: %zu\n", n,
                pool.size());
    std::printf("  %-23s %.17g\n", "exact value", exact);
    std::printf("  %-23s %.17g  (%a)  error %+.2e\n", "microtask, adaptive", result, result, result - exact);
    char grain_label[32];
    std::snprintf(grain_label, sizeof grain_label, "microtask, grain(%zu)", grain.size);
    std::printf("  %-23s %.17g  (%a)  error %+.2e\n", grain_label, integral(grain_sum), integral(grain_sum),
                integral(grain_sum) - exact);
    std::printf("  %-23s %.17g  (%a)  error %+.2e\n", "serial, left to right", integral(serial_sum),
                integral(serial_sum), integral(serial_sum) - exact);
    std::printf("  %-23s %.17g  error %+.2e\n", "std::async chunks", integral(async_sum), integral(async_sum) - exact);
    std::printf("  bitwise equal to the same map_reduce on a 1-thread pool: adaptive %s, grain %s\n",
                bits(adaptive_sum) == bits(adaptive_one) ? "yes" : "NO",
                bits(grain_sum) == bits(grain_one) ? "yes" : "NO");
    std::printf(
        "  allowed: |microtask - serial| <= %.2e (rounding), |microtask - exact| <= %.2e "
        "(Simpson bound + rounding)\n\n",
        integral(order_tolerance), exact_tolerance);

    const bool deterministic = bits(adaptive_sum) == bits(adaptive_one) && bits(grain_sum) == bits(grain_one);
    const bool near_serial = std::abs(adaptive_sum - serial_sum) <= order_tolerance &&
                             std::abs(grain_sum - serial_sum) <= order_tolerance &&
                             std::abs(async_sum - serial_sum) <= order_tolerance;
    const bool near_exact = std::abs(result - exact) <= exact_tolerance;
    return example::finish("integrate", deterministic && near_serial && near_exact, serial_s, async_s, micro_s);
}
