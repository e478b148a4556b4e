// Catch2 v2 (Debian 12) or v3 (where packaged): the tests use only what both provide.
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
