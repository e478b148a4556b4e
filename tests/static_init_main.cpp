// static_init_test: default_pool() used from static initialisation and destruction in
// two translation units, whose relative order is unspecified. A plain program (Catch2
// cannot run before main or after it): it passes when the last destructor prints its
// success line, and fails on any "FAILED:" line or sanitizer report (see CMakeLists.txt).
#include "static_init_checks.hpp"

namespace {

// This translation unit's static object: uses the pool when built and when destroyed.
struct main_tu_user {
    main_tu_user() { static_init::use_default_pool("a static constructor in the main translation unit"); }
    ~main_tu_user() { static_init::use_default_pool("a static destructor in the main translation unit"); }
};
main_tu_user g_main_tu_user;

}  // namespace

int main() {
    static_init::use_default_pool("main");
    // Leave work behind for the exit path: a fire-and-forget task that is still running.
    (void)microtask::default_pool().submit([] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); });
    return 0;
}
