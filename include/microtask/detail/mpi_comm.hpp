// microtask — detail/mpi_comm.hpp
// MPI's C API as mt::mpi (microtask/mpi.hpp) uses it: <mpi.h> without the deprecated C++
// bindings, a failed MPI call as an exception, and a duplicated communicator that is
// freed however the call ends.
#pragma once

// Open MPI's and MPICH's deprecated C++ bindings are not needed (and warn): C API only.
#ifndef OMPI_SKIP_MPICXX
/// Tells Open MPI's <mpi.h> to leave out its deprecated C++ bindings (only the C API is used).
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
/// Tells MPICH's <mpi.h> to leave out its deprecated C++ bindings.
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace microtask::detail {

/// Throws std::runtime_error naming `call` and MPI's text for `code` unless it is
/// MPI_SUCCESS (reached only with an error handler other than the default, which aborts).
inline void check_mpi(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string("microtask::mpi: ") + call +
                             " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

/// Frees a duplicated communicator when the call ends, however it ends.
class owned_comm {
public:
    explicit owned_comm(MPI_Comm parent) { check_mpi(MPI_Comm_dup(parent, &m_comm), "MPI_Comm_dup"); }
    owned_comm(const owned_comm&) = delete;
    owned_comm& operator=(const owned_comm&) = delete;
    ~owned_comm() { MPI_Comm_free(&m_comm); }
    [[nodiscard]] MPI_Comm get() const noexcept { return m_comm; }

private:
    MPI_Comm m_comm = MPI_COMM_NULL;
};

}  // namespace microtask::detail
