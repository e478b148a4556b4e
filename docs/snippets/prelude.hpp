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
