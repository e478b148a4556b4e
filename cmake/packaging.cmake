# Packaging: the build-tree export, and with MICROTASK_INSTALL the install rules for the
# headers, the CMake package (microtaskConfig.cmake, its version file and the exported
# target microtask::microtask) and the pkg-config file microtask.pc. Header-only, so
# everything goes under the architecture-independent data directory.
include(CMakePackageConfigHelpers)

set(microtask_cmake_dir "${CMAKE_INSTALL_DATADIR}/cmake/microtask")
set(microtask_pkgconfig_dir "${CMAKE_INSTALL_DATADIR}/pkgconfig")

# The same config file serves the build tree and the install tree: it only loads the
# targets file that sits next to it.
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/microtaskConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/microtaskConfig.cmake"
  INSTALL_DESTINATION "${microtask_cmake_dir}")
# SameMajorVersion from 1.0 on. Below 1.0 semantic versioning lets a minor release break
# the API (CHANGELOG.md), and CMake's SameMajorVersion would call every 0.x compatible
# with every other, so a request for 0.1 would accept 0.2: there, SameMinorVersion.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(microtask_version_compatibility SameMinorVersion)
else()
  set(microtask_version_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/microtaskConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY ${microtask_version_compatibility}
  ARCH_INDEPENDENT)

# find_package(microtask CONFIG) with microtask_DIR set to this build directory uses the
# headers in the source tree, nothing installed.
export(TARGETS microtask NAMESPACE microtask:: FILE "${PROJECT_BINARY_DIR}/microtaskTargets.cmake")

if(NOT MICROTASK_INSTALL)
  return()
endif()

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/microtask"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp")
install(TARGETS microtask EXPORT microtaskTargets)
install(EXPORT microtaskTargets
  NAMESPACE microtask::
  DESTINATION "${microtask_cmake_dir}")
install(FILES
  "${PROJECT_BINARY_DIR}/microtaskConfig.cmake"
  "${PROJECT_BINARY_DIR}/microtaskConfigVersion.cmake"
  DESTINATION "${microtask_cmake_dir}")

# The .pc file finds the prefix from its own location (${pcfiledir}), so an install made
# with `cmake --install --prefix` elsewhere than CMAKE_INSTALL_PREFIX still works.
if(IS_ABSOLUTE "${microtask_pkgconfig_dir}")
  set(microtask_pc_prefix "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH microtask_pc_up "/${microtask_pkgconfig_dir}" "/")
  string(REGEX REPLACE "/$" "" microtask_pc_up "${microtask_pc_up}")
  set(microtask_pc_prefix "\${pcfiledir}/${microtask_pc_up}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(microtask_pc_includedir "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(microtask_pc_includedir "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/microtask.pc.in" "${PROJECT_BINARY_DIR}/microtask.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/microtask.pc" DESTINATION "${microtask_pkgconfig_dir}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
