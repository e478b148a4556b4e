// The program every packaging consumer builds (tests/install, subdir, fetchcontent,
// pkgconfig): two lines of real use, checked against the known answer.
#include <microtask/microtask.hpp>

#include <cstdio>

int main() {
    microtask::thread_pool pool{2};
    const long sum = microtask::map_reduce(
        pool, microtask::iota(0L, 1000L), [](long i) { return i * i; }, microtask::sum<long>{});
    std::printf("microtask %d.%d.%d: sum of squares below 1000 = %ld\n", MICROTASK_VERSION_MAJOR,
                MICROTASK_VERSION_MINOR, MICROTASK_VERSION_PATCH, sum);
    return sum == 332833500L ? 0 : 1;
}
