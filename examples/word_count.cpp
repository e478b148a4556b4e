// Word count over a sharded text corpus: the total number of words (mt::sum) and how often
// each word occurs (a custom map-merge reducer), checked against a sequential count.
//
//   word_count [--size BYTES] [--seed N] [--threads N] [--quick] [FILE...]
//
// With files, all of them are read and counted (--size is then ignored); without, a
// reproducible corpus of --size bytes is generated in memory. A word is a maximal run of
// non-whitespace bytes, case and punctuation kept (on ASCII text, what `wc -w` counts).
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mt = microtask;

namespace {

using word_counts = std::unordered_map<std::string, std::size_t>;

constexpr const char* what =
    "counts the words of FILE... (or of a generated corpus of --size bytes, default 100000000) in parallel shards";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Calls fn(word) for every word of `text`, in order.
template <class Fn>
void for_each_word(std::string_view text, Fn&& fn) {
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) fn(text.substr(start, i - start));
    }
}

std::size_t count_words(std::string_view text) {
    std::size_t n = 0;
    for_each_word(text, [&n](std::string_view) { ++n; });
    return n;
}

word_counts count_each_word(std::string_view text) {
    word_counts counts;
    std::string key;  // reused, so that looking up a known word allocates nothing
    for_each_word(text, [&](std::string_view word) {
        key.assign(word);
        ++counts[key];
    });
    return counts;
}

// Adds the right map's counts into the left one. Integer addition per key is exact, so
// every grouping of the shards gives an equal map (operator==): exactly associative. Only
// the hash table's iteration order may depend on the grouping, and nothing here relies on
// it (the top words are sorted with a total order).
word_counts merge_counts(word_counts left, word_counts right) {
    if (left.empty()) return right;  // e.g. the identity on the left: nothing to copy
    for (auto& [word, n] : right) left[word] += n;
    return left;
}

// The decomposer: cuts the text into shards of about `shard_bytes`, each ending just
// before a whitespace byte, so that no word is cut in two. Depends only on the text.
struct corpus_job {
    std::string_view text;
    std::size_t shard_bytes;
};

std::vector<std::string_view> cut_at_whitespace(const corpus_job& job) {
    std::vector<std::string_view> shards;
    std::size_t start = 0;
    while (start < job.text.size()) {
        std::size_t end = std::min(job.text.size(), start + job.shard_bytes);
        while (end < job.text.size() && !is_space(job.text[end])) ++end;
        shards.push_back(job.text.substr(start, end - start));
        start = end;
    }
    return shards;
}

// ---- The generated corpus ------------------------------------------------------------

// A fixed vocabulary drawn with Zipf-like frequencies (weight 1/rank), as in real text.
constexpr const char* vocabulary[] = {
    "the",    "of",     "and",     "to",      "a",       "in",        "is",      "that",       "for",    "it",
    "as",     "was",    "with",    "be",      "by",      "on",        "not",     "he",         "this",   "are",
    "or",     "his",    "from",    "at",      "which",   "but",       "have",    "an",         "had",    "they",
    "you",    "were",   "their",   "one",     "all",     "we",        "can",     "her",        "has",    "there",
    "been",   "if",     "more",    "when",    "will",    "would",     "who",     "so",         "no",     "time",
    "people", "year",   "way",     "day",     "man",     "thing",     "woman",   "life",       "child",  "world",
    "school", "state",  "family",  "student", "group",   "country",   "problem", "hand",       "part",   "place",
    "case",   "week",   "company", "system",  "program", "question",  "work",    "government", "number", "night",
    "point",  "home",   "water",   "room",    "mother",  "area",      "money",   "story",      "fact",   "month",
    "lot",    "right",  "study",   "book",    "eye",     "job",       "word",    "business",   "issue",  "side",
    "kind",   "head",   "house",   "service", "friend",  "father",    "power",   "hour",       "game",   "line",
    "end",    "member", "law",     "car",     "city",    "community", "name",    "president",  "team",   "minute",
};
constexpr std::size_t vocabulary_size = std::size(vocabulary);

struct zipf_table {
    std::uint64_t cumulative[vocabulary_size];  // integer weights: identical on every platform
    zipf_table() {
        std::uint64_t total = 0;
        for (std::size_t r = 0; r < vocabulary_size; ++r) cumulative[r] = total += (std::uint64_t{1} << 24) / (r + 1);
    }
    const char* draw(std::uint64_t& rng) const {
        // A uniform number below the total weight (< 2^27), by multiplication, not a division.
        const std::uint64_t x = ((example::splitmix64(rng) >> 32) * cumulative[vocabulary_size - 1]) >> 32;
        return vocabulary[std::upper_bound(std::begin(cumulative), std::end(cumulative), x) - std::begin(cumulative)];
    }
};

// Block b of the corpus is generated by its own generator, seeded from (seed, b): the
// text depends on --seed and --size only, never on the thread count. Each block is
// filled to exactly its length and ends in whitespace, so blocks never join words.
void generate_block(char* out, std::size_t length, std::uint64_t seed, std::size_t block, const zipf_table& zipf) {
    std::uint64_t rng = seed * 0x9E3779B97F4A7C15ull + block;
    example::splitmix64(rng);
    std::size_t pos = 0;
    for (int in_line = 1;; ++in_line) {
        const char* word = zipf.draw(rng);
        const std::size_t n = std::strlen(word);
        if (pos + n + 1 > length) break;
        std::memcpy(out + pos, word, n);
        out[pos + n] = in_line % 12 == 0 ? '\n' : ' ';
        pos += n + 1;
    }
    std::memset(out + pos, ' ', length - pos);
}

std::string generate_corpus(mt::thread_pool& pool, std::size_t size, std::uint64_t seed) {
    constexpr std::size_t block_bytes = 1 << 16;
    const zipf_table zipf;
    std::string text(size, ' ');
    const std::size_t blocks = (size + block_bytes - 1) / block_bytes;
    mt::for_each(pool, mt::iota(std::size_t{0}, blocks), [&](std::size_t b) {
        const std::size_t begin = b * block_bytes;
        generate_block(text.data() + begin, std::min(block_bytes, size - begin), seed, b, zipf);
    });
    return text;
}

// ---- Command line --------------------------------------------------------------------

// Takes the file paths out of argv: every argument that is neither an option (starts
// with '-') nor the value of --size/--threads/--seed. The rest goes to example::parse.
std::vector<char*> split_files(int argc, char** argv, std::vector<std::string>& files) {
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--size" || arg == "--threads" || arg == "--seed") {
            rest.push_back(argv[i]);
            if (i + 1 < argc) rest.push_back(argv[++i]);
        } else if (arg.starts_with("-")) {
            rest.push_back(argv[i]);
        } else {
            files.emplace_back(arg);
        }
    }
    return rest;
}

std::string read_files(const std::vector<std::string>& files) {
    std::string text;
    for (const std::string& path : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "word_count: cannot read '%s': %s\n", path.c_str(), std::strerror(errno));
            std::exit(2);
        }
        try {
            text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        } catch (const std::ios_base::failure& e) {  // e.g. a directory
            std::fprintf(stderr, "word_count: cannot read '%s': %s\n", path.c_str(), e.what());
            std::exit(2);
        }
        text.push_back('\n');  // a word never continues into the next file
    }
    return text;
}

int run(int argc, char** argv) {
    std::vector<std::string> files;
    std::vector<char*> rest = split_files(argc, argv, files);
    const example::options opts =
        example::parse(static_cast<int>(rest.size()), rest.data(), what, 100'000'000, 200'000);
    mt::thread_pool pool = example::make_pool(opts);

    std::string text;
    const double setup_s = example::seconds([&] {
        text =
            files.empty() ? generate_corpus(pool, static_cast<std::size_t>(opts.size), opts.seed) : read_files(files);
    });
    if (files.empty()) {
        std::printf("corpus: %zu bytes generated from a %zu-word vocabulary (seed %lu) in %.3f s\n", text.size(),
                    vocabulary_size, opts.seed, setup_s);
    } else {
        std::printf("corpus: %zu file(s), %zu bytes, read in %.3f s\n", files.size(), text.size(), setup_s);
    }

    // Serial: one pass over the whole text per answer. This is also the reference.
    std::size_t serial_total = 0;
    word_counts serial_counts;
    const double serial_s = example::seconds([&] {
        serial_total = count_words(text);
        serial_counts = count_each_word(text);
    });

    // std::async: 4 futures per worker, each counting one whitespace-aligned piece.
    std::size_t async_total = 0;
    word_counts async_counts;
    const double async_s = example::seconds([&] {
        const std::size_t pieces = std::max<std::size_t>(2, pool.size() * 4);
        const auto parts = cut_at_whitespace({text, text.size() / pieces + 1});
        std::vector<std::future<std::pair<std::size_t, word_counts>>> futures;
        for (std::string_view part : parts) {
            futures.push_back(std::async(std::launch::async, [part] {
                return std::pair{count_words(part), count_each_word(part)};
            }));
        }
        for (auto& f : futures) {
            auto [n, counts] = f.get();
            async_total += n;
            async_counts = merge_counts(std::move(async_counts), std::move(counts));
        }
    });

    // microtask: decompose into 64 KiB shards with a user decomposer, then one pass per
    // answer. The counts are built in place: mt::fold gives each run of shards a thread
    // takes one map to count into, and mt::count_keys merges those maps at the end. The
    // shard boundaries, and so the result, do not depend on --threads.
    std::size_t total = 0;
    word_counts counts;
    std::size_t shard_count = 0;
    const double microtask_s = example::seconds([&] {
        const std::vector<std::string_view> shards = mt::decompose(corpus_job{text, 1 << 16}, cut_at_whitespace);
        shard_count = shards.size();
        total = mt::map_reduce(pool, shards, count_words, mt::sum<std::size_t>{});
        counts = mt::fold(pool, shards, mt::count_keys<word_counts>{}, [](word_counts& acc, auto some_shards) {
            std::string key;  // reused, so that counting a known word allocates nothing
            for (std::string_view shard : some_shards) {
                for_each_word(shard, [&](std::string_view word) {
                    key.assign(word);
                    ++acc[key];
                });
            }
        });
    });

    std::size_t counted = 0;
    for (const auto& entry : counts) counted += entry.second;
    const bool ok = total == serial_total && counts == serial_counts && async_total == serial_total &&
                    async_counts == serial_counts && counted == total;

    // The ten most frequent words; ties broken alphabetically so the list is stable.
    std::vector<std::pair<std::string, std::size_t>> top(counts.begin(), counts.end());
    const auto by_frequency = [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    const std::size_t shown = std::min<std::size_t>(10, top.size());
    std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(shown), top.end(), by_frequency);

    // The calling thread works too while it waits, so the pool's workers + 1 threads count.
    std::printf("%zu words, %zu distinct, in %zu shards on %zu pool workers + the caller; most frequent:\n", total,
                counts.size(), shard_count, pool.size());
    for (std::size_t i = 0; i < shown; ++i) {
        std::printf("  %2zu. %-12s %12zu  %5.2f%%\n", i + 1, top[i].first.c_str(), top[i].second,
                    100.0 * static_cast<double>(top[i].second) / static_cast<double>(total));
    }
    return example::finish("word_count", ok, serial_s, async_s, microtask_s);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // e.g. std::bad_alloc for an impossible --size
        std::fprintf(stderr, "word_count: %s\n", e.what());
        return 1;
    }
}
