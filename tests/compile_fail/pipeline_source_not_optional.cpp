// Misuse: a pipeline source that returns a plain value instead of a std::optional.
// expect: pipeline_source
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(1);
    int next = 0;
    microtask::pipeline(pool, 4, [&] { return next++; }, [](int x) { return x; }, [](int&&) {});
}
