# The sanitizer flags, in one place: the tests and examples built with MICROTASK_SANITIZER
# (CMakeLists.txt, through microtask_dev_flags) and the libFuzzer target
# (fuzz/CMakeLists.txt) take theirs from here. scripts/test and scripts/stress choose a
# sanitizer only through MICROTASK_SANITIZER (scripts/variant-args).
#
# microtask_sanitizer_flags(<sanitizer> <compile-out> <link-out>) sets <compile-out> and
# <link-out> to the compile and link flags of `thread` (ThreadSanitizer) or `address`
# (AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer; the first report ends
# the program). The compile flags include -g -O1: readable reports at a usable speed.
function(microtask_sanitizer_flags sanitizer compile_out link_out)
  if(sanitizer STREQUAL "thread")
    set(compile -fsanitize=thread -g -O1)
    set(link -fsanitize=thread)
  elseif(sanitizer STREQUAL "address")
    set(compile -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g -O1)
    set(link -fsanitize=address,undefined)
  else()
    message(FATAL_ERROR "MICROTASK_SANITIZER must be thread, address or empty (got '${sanitizer}')")
  endif()
  set(${compile_out} ${compile} PARENT_SCOPE)
  set(${link_out} ${link} PARENT_SCOPE)
endfunction()
