// The run-time tracing API: start/stop, trace_scope, write_trace and its errors (issue 15).
#include "catch.hpp"

#include <microtask/microtask.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace mt = microtask;

namespace {
std::size_t spans_named(const std::string& path, const std::string& name) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string needle = "{\"name\": \"" + name + "\", \"ph\": \"X\"";
    std::size_t count = 0;
    for (std::size_t at = text.str().find(needle); at != std::string::npos; at = text.str().find(needle, at + 1))
        ++count;
    return count;
}
}  // namespace

TEST_CASE("tracing records spans only while it is on, and write_trace writes them", "[trace]") {
    const std::string path = "trace_test_output.json";
    mt::thread_pool pool(2);
    { const mt::trace_scope before("before start"); }
    mt::start_tracing();
    for (int i = 0; i < 10; ++i) {
        const mt::trace_scope span("while on");
    }
    mt::task_group group(pool);
    for (int i = 0; i < 100; ++i) group.run([] { const mt::trace_scope span("in a task"); });
    group.wait();
    mt::stop_tracing();
    { const mt::trace_scope after("after stop"); }
    const std::size_t written = mt::write_trace(path);
    CHECK(written >= 110);
    CHECK(spans_named(path, "while on") == 10);
    CHECK(spans_named(path, "in a task") == 100);
    CHECK(spans_named(path, "before start") == 0);
    CHECK(spans_named(path, "after stop") == 0);
    std::remove(path.c_str());
}

TEST_CASE("write_trace to a path it cannot open throws, naming the path", "[trace]") {
    CHECK_THROWS_WITH(mt::write_trace("/nonexistent-directory/trace.json"),
                      Catch::Contains("/nonexistent-directory/trace.json"));
}
