# microtask::mpi: microtask plus MPI, for programs that include <microtask/mpi.hpp>.
# Defined only where find_package(MPI COMPONENTS CXX) succeeds; nothing else needs MPI.
# The installed package defines the same target in microtaskConfig.cmake, looking for MPI
# on the consumer's machine (see cmake/microtaskConfig.cmake.in).
find_package(MPI QUIET COMPONENTS CXX)
if(MPI_CXX_FOUND)
  add_library(microtask_mpi INTERFACE)
  add_library(microtask::mpi ALIAS microtask_mpi)
  target_link_libraries(microtask_mpi INTERFACE microtask MPI::MPI_CXX)
endif()
