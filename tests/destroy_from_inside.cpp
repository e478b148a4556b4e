// A pool destroyed by one of its own tasks cannot join the thread it runs on. The
// destructor must end the program with a message that says so (ctest checks the
// message), not hang and not die with a bare system_error.
#include <microtask/thread_pool.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace mt = microtask;

int main() {
    auto* pool = new mt::thread_pool{2};
    (void)pool->submit([pool] { delete pool; });
    std::this_thread::sleep_for(std::chrono::seconds(30));
    std::puts("the pool's destructor returned from inside the pool; expected an abort");
    return 0;
}
