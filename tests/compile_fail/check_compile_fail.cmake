# Compiles one test case with -fsyntax-only and checks the outcome. Run as
#   cmake -DCOMPILER=... -DINCLUDE_DIR=... -DSOURCE=case.cpp -P check_compile_fail.cmake
# The case's expectation is its line "// expect: <concept> [about <text>]":
#   - "compiles": the compiler must accept it (the control case);
#   - a concept name: the compiler must reject it, and one line of the diagnostic must
#     say that this concept was not satisfied (g++: "satisfaction of 'concept<...",
#     clang: "does not satisfy 'concept'" or "because 'concept<...>' evaluated to
#     false"), and contain <text> if given, which ties the failure to the argument the
#     case misuses rather than to another overload's candidate.
cmake_minimum_required(VERSION 3.21)

foreach(var COMPILER INCLUDE_DIR SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: -D${var}=... is required")
  endif()
endforeach()

file(STRINGS "${SOURCE}" expect_line REGEX "^// expect: " LIMIT_COUNT 1)
if(NOT expect_line MATCHES "^// expect: ([A-Za-z_]+)( about (.+))?$")
  message(FATAL_ERROR "${SOURCE}: no '// expect: <concept> [about <text>]' line")
endif()
set(expected "${CMAKE_MATCH_1}")
set(subject "${CMAKE_MATCH_3}")

# Plain ASCII quotes and no colours, whatever the caller's locale and terminal.
set(ENV{LC_ALL} C)
execute_process(
  COMMAND "${COMPILER}" -std=c++20 -fsyntax-only -fdiagnostics-color=never "-I${INCLUDE_DIR}" "${SOURCE}"
  RESULT_VARIABLE status
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(expected STREQUAL "compiles")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${SOURCE} must compile, but the compiler said:\n${output}")
  endif()
  return()
endif()

if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected (expected concept: ${expected})")
endif()

set(named "(satisfaction of|does not satisfy|because) ['\"]((std|microtask)::)?${expected}[<'\"]")
string(REGEX REPLACE "[][.*+?^$()|\\]" "\\\\\\0" subject_pattern "${subject}")
if(subject STREQUAL "")
  set(pattern "${named}")
else()
  set(pattern "${named}[^\n]*${subject_pattern}|${subject_pattern}[^\n]*${named}")
endif()
if(NOT output MATCHES "${pattern}")
  set(subject_note "")
  if(NOT subject STREQUAL "")
    set(subject_note " on a line that mentions '${subject}'")
  endif()
  message(FATAL_ERROR "${SOURCE} was rejected, but no diagnostic line says that '${expected}' "
                      "is not satisfied${subject_note}. The compiler said:\n${output}")
endif()
message(STATUS "rejected as expected: ${expected} not satisfied")
