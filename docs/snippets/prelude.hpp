// What every snippet in README.md and docs/*.md may use without declaring it
// (scripts/check-snippets compiles each snippet after this header).
#include <microtask/microtask.hpp>

#include <bits/stdc++.h>
#include <pthread.h>
#include <sched.h>

namespace mt = microtask;

// Names the fragments use as their inputs.
inline mt::thread_pool& pool = mt::default_pool();
inline std::vector<int> data;
inline std::vector<int> values;
inline std::vector<double> numbers;
inline std::vector<long> partials;
inline std::vector<unsigned char> bytes;
inline std::vector<std::string_view> words;
inline long n = 1000;
inline const auto f = [](int x) { return long{x}; };
inline long fib(int k) { return k < 2 ? k : fib(k - 1) + fib(k - 2); }
inline void work() {}
inline void more() {}

// The guide's algorithm sections (sort, tiles, per_worker, pipeline).
struct record {
    int key = 0;
    std::string name;
};
inline std::vector<record> records;
inline std::vector<int> load() { return std::vector<int>(1000, 1); }
inline int height = 64, width = 64, samples = 1000;
inline std::vector<float> image(64 * 64);
inline float shade(int x, int y) { return static_cast<float>(x + y); }
inline const auto grid = mt::tiles(mt::iota(0, 64), mt::iota(0, 64), 8, 8);
inline std::string to_upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
