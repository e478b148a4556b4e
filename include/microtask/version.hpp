// microtask — version.hpp
/// @file
/// The one home of the version number: CMake's project version, the generated single
/// header and the package version files read it from here. Which number a change
/// increments is decided in CHANGELOG.md, section Versioning.
#pragma once

/// Major version.
#define MICROTASK_VERSION_MAJOR 0
/// Minor version.
#define MICROTASK_VERSION_MINOR 1
/// Patch version.
#define MICROTASK_VERSION_PATCH 0

namespace microtask {
/// The library version as MAJOR * 10000 + MINOR * 100 + PATCH (100 for 0.1.0), for
/// `static_assert(mt::version >= 100)`.
inline constexpr int version =
    MICROTASK_VERSION_MAJOR * 10000 + MICROTASK_VERSION_MINOR * 100 + MICROTASK_VERSION_PATCH;
}  // namespace microtask
