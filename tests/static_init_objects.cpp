// static_init_test, second translation unit: static objects that use default_pool()
// in their constructors (dynamic initialisation, before main) and destructors (static
// destruction, after main returns). See static_init_main.cpp.
#include "static_init_checks.hpp"

#include <cstdio>

namespace {

// Constructed before anything has used the default pool; uses it only when destroyed.
// Objects are destroyed in the reverse order of their construction, so this one is
// destroyed after any default pool that is a function-local static constructed later
// (by early_user below, or by main): it must still find a working pool.
struct late_user {
    ~late_user() {
        static_init::use_default_pool("a static destructor (default_pool first used after this object was built)");
        static_init::use_default_pool_from_threads("threads started by a static destructor", 4);
        // Every use has returned: each task submitted has run, or it is lost. (main's
        // fire-and-forget task is not counted: it may still run during exit.)
        const unsigned long long submitted = static_init::g_submitted.load();
        const unsigned long long ran = static_init::g_ran.load();
        const unsigned long long lost = submitted > ran ? submitted - ran : 0;
        std::printf("RELIABILITY: static_init tasks=%llu faults=0 bad_inputs=0 lost=%llu seconds=0.0 seed=0\n", ran,
                    lost);
        if (ran != submitted) static_init::fail("the last static destructor", "tasks submitted and tasks run differ");
        std::printf("static_init: every static user of default_pool() succeeded\n");
        std::fflush(stdout);
    }
};
late_user g_late_user;

// Builds the default pool during dynamic initialisation, from many threads at once.
struct early_user {
    early_user() { static_init::use_default_pool_from_threads("threads started by a static constructor", 8); }
    ~early_user() { static_init::use_default_pool("the destructor of a static that built the pool"); }
};
early_user g_early_user;

}  // namespace
