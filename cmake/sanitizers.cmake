# The sanitizer flags, in one place: the tests and examples built with MICROTASK_SANITIZER
# (CMakeLists.txt, through microtask_dev_flags) and the libFuzzer target
# (fuzz/CMakeLists.txt) take theirs from here. scripts/test and scripts/stress choose a
# sanitizer only through MICROTASK_SANITIZER (scripts/variant-args).
#
# microtask_sanitizer_flags(<sanitizer> <compile-out> <link-out> [<optimization>]) sets
# <compile-out> and <link-out> to the compile and link flags of `thread` (ThreadSanitizer)
# or `address` (AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer; the first
# report ends the program), with -g for readable reports. The optimization level is
# <optimization> when given, else -O1 for `thread` (its checks slow -O0 code down
# too much for the time-boxed stress tests) and -O0 for `address`: an -O1 build of the
# tests under ASan+UBSan took twice the compile time of -O0 (90 s against 47 s for
# map_reduce_test.cpp), more than the tests run, and -O0 leaves no undefined behaviour
# folded away before UBSan sees it.
function(microtask_sanitizer_flags sanitizer compile_out link_out)
  if(ARGC GREATER 3)
    set(optimization ${ARGV3})
  elseif(sanitizer STREQUAL "thread")
    set(optimization -O1)
  else()
    set(optimization -O0)
  endif()
  if(sanitizer STREQUAL "thread")
    set(compile -fsanitize=thread -g ${optimization})
    set(link -fsanitize=thread)
  elseif(sanitizer STREQUAL "address")
    set(compile -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g ${optimization})
    set(link -fsanitize=address,undefined)
  else()
    message(FATAL_ERROR "MICROTASK_SANITIZER must be thread, address or empty (got '${sanitizer}')")
  endif()
  set(${compile_out} ${compile} PARENT_SCOPE)
  set(${link_out} ${link} PARENT_SCOPE)
endfunction()
