// microtask — version.hpp
/// @file
/// The one home of the version number; CMake reads it from here.
#pragma once

/// Major version: incremented for a breaking change once the version is 1.0.0 or later.
#define MICROTASK_VERSION_MAJOR 0
/// Minor version: incremented for new features (and, before 1.0.0, breaking changes).
#define MICROTASK_VERSION_MINOR 1
/// Patch version: incremented for fixes that change no documented behaviour.
#define MICROTASK_VERSION_PATCH 0

namespace microtask {
/// The library version as MAJOR * 10000 + MINOR * 100 + PATCH.
inline constexpr int version =
    MICROTASK_VERSION_MAJOR * 10000 + MICROTASK_VERSION_MINOR * 100 + MICROTASK_VERSION_PATCH;
}  // namespace microtask
