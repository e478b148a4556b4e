# Shared by the CMake consumer projects: the consumer program, built strictly, linked
# only through the target microtask::microtask.
set(microtask_consumer_main "${CMAKE_CURRENT_LIST_DIR}/main.cpp")

function(microtask_add_consumer name)
  add_executable(${name} "${microtask_consumer_main}")
  target_link_libraries(${name} PRIVATE microtask::microtask)
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()

# microtask pulled in as a subproject must create none of its own tests, examples or
# benchmarks; and its headers must reach us as system headers (the warning guard).
function(microtask_check_subproject)
  foreach(target IN ITEMS map_reduce_test microtask_header_self_containment examples demo microtask_bench)
    if(TARGET ${target})
      message(FATAL_ERROR "microtask as a subproject created its target '${target}'")
    endif()
  endforeach()
  foreach(option IN ITEMS MICROTASK_BUILD_TESTS MICROTASK_BUILD_EXAMPLES MICROTASK_BUILD_BENCHMARKS)
    if(${option})
      message(FATAL_ERROR "microtask as a subproject turned ${option} on")
    endif()
  endforeach()
  get_target_property(system_dirs microtask INTERFACE_SYSTEM_INCLUDE_DIRECTORIES)
  if(NOT system_dirs)
    message(FATAL_ERROR "microtask as a subproject does not mark its include directory SYSTEM")
  endif()
endfunction()
