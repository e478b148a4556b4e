// Workloads "filter_1_in_3", "filter_1_in_8", "histogram" and "word_freq": the result
// collector's everyday jobs, where the accumulator is a container that must be built in
// place (an ordered vector, 256 bins, a hash map), not an arithmetic value.
//
//   filter_1_in_K  the values of 10^7 random ints divisible by K, in input order
//   histogram      256-bin histogram of 2*10^8 random bytes
//   word_freq      how often each of 10^7 words (Zipf-like, 10^5 distinct) occurs, in
//                  a std::unordered_map<std::string, std::size_t>
//
// The microtask peers are written as the guide teaches: "microtask" is the per-element
// idiom (map_reduce with std::optional + concat, reduce with mt::histogram, map_reduce
// with mt::count_keys), "microtask_fold" the leaf-body form (mt::fold). Every timed
// iteration's result is checked cheaply (size, bins, sampled elements), and the last one
// in full.
#include "bench_common.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

// ---- Inputs, made once -------------------------------------------------------------------

constexpr int64_t k_filter_size = 10'000'000;
constexpr int64_t k_histogram_size = 200'000'000;
constexpr int64_t k_word_count = 10'000'000;
constexpr std::size_t k_vocabulary = 100'000;

const std::vector<int>& random_ints() {
    static const std::vector<int> values = [] {
        std::vector<int> v(static_cast<std::size_t>(k_filter_size));
        std::mt19937 rng(20261202);
        for (int& x : v) x = static_cast<int>(rng() >> 1);
        return v;
    }();
    return values;
}

const std::vector<unsigned char>& random_bytes() {
    static const std::vector<unsigned char> bytes = [] {
        std::vector<unsigned char> b(static_cast<std::size_t>(k_histogram_size));
        std::mt19937_64 rng(7);
        for (std::size_t i = 0; i < b.size(); i += 8) {
            std::uint64_t word = rng();
            for (std::size_t k = 0; k < 8 && i + k < b.size(); ++k)
                b[i + k] = static_cast<unsigned char>(word >> (8 * k));
        }
        return b;
    }();
    return bytes;
}

// Words point into one vocabulary; word r is drawn with weight ~1/(r+1) (as in text).
struct corpus {
    std::vector<std::string> vocabulary;
    std::vector<std::string_view> words;
};
const corpus& words() {
    static const corpus c = [] {
        corpus out;
        for (std::size_t r = 0; r < k_vocabulary; ++r)
            out.vocabulary.push_back("w" + std::to_string(r * 7919 % 1000003));
        std::mt19937_64 rng(11);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        out.words.resize(static_cast<std::size_t>(k_word_count));
        for (auto& w : out.words) {
            // Inverse transform of a density ~1/x over [1, V]: rank = V^u - 1.
            const auto rank = static_cast<std::size_t>(std::pow(double(k_vocabulary), unit(rng))) - 1;
            w = out.vocabulary[rank < k_vocabulary ? rank : k_vocabulary - 1];
        }
        return out;
    }();
    return c;
}

// ---- Filter -------------------------------------------------------------------------------

using int_vector = std::vector<int>;

template <int K>
bool keep(int x) {
    return x % K == 0;
}

template <int K>
void append_kept(int_vector& out, const int* first, const int* last) {
    for (; first != last; ++first)
        if (keep<K>(*first)) out.push_back(*first);
}

template <int K>
const int_vector& expected_filter() {
    static const int_vector want = [] {
        int_vector out;
        append_kept<K>(out, random_ints().data(), random_ints().data() + random_ints().size());
        return out;
    }();
    return want;
}

// Size plus 64 sampled positions per iteration (cheap next to the filter), all of it at
// the end.
bool same_vector_cheap(const int_vector& got, const int_vector& want) {
    if (got.size() != want.size()) return false;
    for (std::size_t k = 0; k < 64 && !want.empty(); ++k) {
        const std::size_t i = k * (want.size() - 1) / 63;
        if (got[i] != want[i]) return false;
    }
    return true;
}

template <int K, class Compute>
void run_filter(benchmark::State& state, Compute compute) {
    const int_vector& want = expected_filter<K>();
    int_vector got;
    for (auto _ : state) {
        got = compute(random_ints());
        benchmark::DoNotOptimize(got.data());
        if (!same_vector_cheap(got, want)) {
            state.SkipWithError("filter: result differs from the serial loop's");
            return;
        }
    }
    if (got != want) state.SkipWithError("filter: last result differs from the serial loop's");
    bench::finish(state, k_filter_size, got.size());
}

template <int K>
void filter_serial(benchmark::State& state) {
    run_filter<K>(state, [](const std::vector<int>& values) {
        int_vector out;
        append_kept<K>(out, values.data(), values.data() + values.size());
        return out;
    });
}

// The documented idiom: std::optional per element, concat appends in place.
template <int K>
void filter_microtask(benchmark::State& state) {
    run_filter<K>(state, [](const std::vector<int>& values) {
        return mt::map_reduce(
            bench::pool(), values, [](int x) { return keep<K>(x) ? std::optional<int>(x) : std::nullopt; },
            mt::concat<int_vector>{});
    });
}

// The leaf-body form: one loop per part, appending to the part's vector.
template <int K>
void filter_microtask_fold(benchmark::State& state) {
    run_filter<K>(state, [](const std::vector<int>& values) {
        return mt::fold(bench::pool(), values, mt::concat<int_vector>{}, [](int_vector& out, auto part) {
            for (int x : part)
                if (keep<K>(x)) out.push_back(x);
        });
    });
}

#if MICROTASK_BENCH_HAVE_TBB
// oneTBB's imperative body: appends its subrange to its own vector; join appends the
// right neighbour's (a blocked_range's join always receives the right-hand body).
template <int K>
struct tbb_filter_body {
    const int* values;
    int_vector out;
    explicit tbb_filter_body(const int* v) : values(v) {}
    tbb_filter_body(tbb_filter_body& other, tbb::split) : values(other.values) {}
    void operator()(const tbb::blocked_range<std::size_t>& r) {
        append_kept<K>(out, values + r.begin(), values + r.end());
    }
    void join(tbb_filter_body& right) { out.insert(out.end(), right.out.begin(), right.out.end()); }
};

template <int K>
void filter_tbb_body(benchmark::State& state) {
    bench::limit_peers();
    run_filter<K>(state, [](const std::vector<int>& values) {
        tbb_filter_body<K> body(values.data());
        tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, values.size()), body);
        return std::move(body.out);
    });
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
// One vector per thread over its schedule(static) block, concatenated by thread number.
template <int K>
void filter_omp(benchmark::State& state) {
    bench::limit_peers();
    run_filter<K>(state, [](const std::vector<int>& values) {
        std::vector<int_vector> per_thread(static_cast<std::size_t>(omp_get_max_threads()));
        const auto n = static_cast<int64_t>(values.size());
#pragma omp parallel
        {
            int_vector& mine = per_thread[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static) nowait
            for (int64_t i = 0; i < n; ++i)
                if (keep<K>(values[static_cast<std::size_t>(i)])) mine.push_back(values[static_cast<std::size_t>(i)]);
        }
        std::size_t total = 0;
        for (const auto& v : per_thread) total += v.size();
        int_vector out;
        out.reserve(total);
        for (const auto& v : per_thread) out.insert(out.end(), v.begin(), v.end());
        return out;
    });
}
#endif

// ---- Histogram ----------------------------------------------------------------------------

using bins = std::array<std::size_t, 256>;

void count_bytes(bins& h, const unsigned char* first, const unsigned char* last) {
    for (; first != last; ++first) ++h[*first];
}

const bins& expected_histogram() {
    static const bins want = [] {
        bins h{};
        count_bytes(h, random_bytes().data(), random_bytes().data() + random_bytes().size());
        return h;
    }();
    return want;
}

template <class Compute>
void run_histogram(benchmark::State& state, Compute compute) {
    const bins& want = expected_histogram();
    bins got{};
    for (auto _ : state) {
        got = compute(random_bytes());
        benchmark::DoNotOptimize(got.data());
        if (got != want) {  // 256 compares: nothing next to 2*10^8 bytes
            state.SkipWithError("histogram: bins differ from the serial loop's");
            return;
        }
    }
    bench::finish(state, k_histogram_size, got);
}

void histogram_serial(benchmark::State& state) {
    // The same counting loop as oneTBB's body (a local array written in the loop body
    // directly compiles to a slower loop at -O3 here, which would flatter every peer).
    run_histogram(state, [](const std::vector<unsigned char>& bytes) {
        bins h{};
        count_bytes(h, bytes.data(), bytes.data() + bytes.size());
        return h;
    });
}

// The documented idiom: each byte is its own bin index.
void histogram_microtask(benchmark::State& state) {
    run_histogram(state, [](const std::vector<unsigned char>& bytes) {
        return mt::reduce(bench::pool(), bytes, mt::histogram<256>{});
    });
}

void histogram_microtask_fold(benchmark::State& state) {
    run_histogram(state, [](const std::vector<unsigned char>& bytes) {
        return mt::fold(bench::pool(), bytes, mt::histogram<256>{}, [](bins& h, auto part) {
            for (unsigned char b : part) ++h[b];
        });
    });
}

#if MICROTASK_BENCH_HAVE_TBB
struct tbb_histogram_body {
    const unsigned char* bytes;
    bins h{};
    explicit tbb_histogram_body(const unsigned char* b) : bytes(b) {}
    tbb_histogram_body(tbb_histogram_body& other, tbb::split) : bytes(other.bytes) {}
    void operator()(const tbb::blocked_range<std::size_t>& r) { count_bytes(h, bytes + r.begin(), bytes + r.end()); }
    void join(const tbb_histogram_body& right) {
        for (std::size_t i = 0; i < h.size(); ++i) h[i] += right.h[i];
    }
};

void histogram_tbb_body(benchmark::State& state) {
    bench::limit_peers();
    run_histogram(state, [](const std::vector<unsigned char>& bytes) {
        tbb_histogram_body body(bytes.data());
        tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, bytes.size()), body);
        return body.h;
    });
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
void histogram_omp(benchmark::State& state) {
    bench::limit_peers();
    run_histogram(state, [](const std::vector<unsigned char>& bytes) {
        std::size_t h[256] = {};
        const auto n = static_cast<int64_t>(bytes.size());
        const unsigned char* data = bytes.data();
#pragma omp parallel for schedule(static) reduction(+ : h[ : 256])
        for (int64_t i = 0; i < n; ++i) ++h[data[i]];
        bins out{};
        for (std::size_t i = 0; i < 256; ++i) out[i] = h[i];
        return out;
    });
}
#endif

// ---- Word frequencies ---------------------------------------------------------------------

using word_counts = std::unordered_map<std::string, std::size_t>;

void count_words(word_counts& counts, const std::string_view* first, const std::string_view* last) {
    for (; first != last; ++first) ++counts[std::string(*first)];
}

const word_counts& expected_counts() {
    static const word_counts want = [] {
        word_counts c;
        count_words(c, words().words.data(), words().words.data() + words().words.size());
        return c;
    }();
    return want;
}

// Per iteration: the number of distinct words and the total count (one pass over the
// ~10^5 entries, under 1% of the time); the last result in full.
template <class Compute>
void run_word_freq(benchmark::State& state, Compute compute) {
    const word_counts& want = expected_counts();
    word_counts got;
    for (auto _ : state) {
        got = compute(words().words);
        std::size_t total = 0;
        for (const auto& entry : got) total += entry.second;
        if (got.size() != want.size() || total != static_cast<std::size_t>(k_word_count)) {
            state.SkipWithError("word_freq: counts differ from the serial loop's");
            return;
        }
    }
    if (got != want) state.SkipWithError("word_freq: last counts differ from the serial loop's");
    bench::finish(state, k_word_count, got.size());
}

void word_freq_serial(benchmark::State& state) {
    run_word_freq(state, [](const std::vector<std::string_view>& w) {
        word_counts c;
        count_words(c, w.data(), w.data() + w.size());
        return c;
    });
}

// The documented idiom: map each word to itself, count_keys counts it in place.
void word_freq_microtask(benchmark::State& state) {
    run_word_freq(state, [](const std::vector<std::string_view>& w) {
        return mt::map_reduce(
            bench::pool(), w, [](std::string_view word) { return word; }, mt::count_keys<word_counts>{});
    });
}

void word_freq_microtask_fold(benchmark::State& state) {
    run_word_freq(state, [](const std::vector<std::string_view>& w) {
        return mt::fold(bench::pool(), w, mt::count_keys<word_counts>{}, [](word_counts& c, auto part) {
            for (std::string_view word : part) ++c[std::string(word)];
        });
    });
}

#if MICROTASK_BENCH_HAVE_TBB
struct tbb_word_body {
    const std::string_view* words;
    word_counts counts;
    explicit tbb_word_body(const std::string_view* w) : words(w) {}
    tbb_word_body(tbb_word_body& other, tbb::split) : words(other.words) {}
    void operator()(const tbb::blocked_range<std::size_t>& r) {
        count_words(counts, words + r.begin(), words + r.end());
    }
    void join(tbb_word_body& right) {
        for (auto& [word, n] : right.counts) counts[word] += n;
    }
};

void word_freq_tbb_body(benchmark::State& state) {
    bench::limit_peers();
    run_word_freq(state, [](const std::vector<std::string_view>& w) {
        tbb_word_body body(w.data());
        tbb::parallel_reduce(tbb::blocked_range<std::size_t>(0, w.size()), body);
        return std::move(body.counts);
    });
}
#endif

// ---- Registration -------------------------------------------------------------------------

void add(const char* workload, const char* peer, void (*fn)(benchmark::State&), int64_t size) {
    bench::register_peer(workload, peer, fn, {size}, benchmark::kMillisecond);
}

template <int K>
void add_filter(const char* workload) {
    add(workload, "serial", filter_serial<K>, k_filter_size);
#if MICROTASK_BENCH_HAVE_TBB
    add(workload, "tbb_body", filter_tbb_body<K>, k_filter_size);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    add(workload, "omp", filter_omp<K>, k_filter_size);
#endif
    add(workload, "microtask", filter_microtask<K>, k_filter_size);
    add(workload, "microtask_fold", filter_microtask_fold<K>, k_filter_size);
}

[[maybe_unused]] const bool registered = [] {
    add_filter<3>("filter_1_in_3");
    add_filter<8>("filter_1_in_8");
    add("histogram", "serial", histogram_serial, k_histogram_size);
#if MICROTASK_BENCH_HAVE_TBB
    add("histogram", "tbb_body", histogram_tbb_body, k_histogram_size);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    add("histogram", "omp", histogram_omp, k_histogram_size);
#endif
    add("histogram", "microtask", histogram_microtask, k_histogram_size);
    add("histogram", "microtask_fold", histogram_microtask_fold, k_histogram_size);
    add("word_freq", "serial", word_freq_serial, k_word_count);
#if MICROTASK_BENCH_HAVE_TBB
    add("word_freq", "tbb_body", word_freq_tbb_body, k_word_count);
#endif
    add("word_freq", "microtask", word_freq_microtask, k_word_count);
    add("word_freq", "microtask_fold", word_freq_microtask_fold, k_word_count);
    return true;
}();

}  // namespace
