// microtask — detail/cpu_count.hpp
// How many CPUs this process may really use: the scheduler affinity mask (taskset, a
// container's cpuset) and the cgroup CPU quota (docker --cpus), not only the machine's
// hardware threads. A pool with more workers than that only makes them take turns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace microtask::detail {

/// CPUs in the calling thread's affinity mask, or 0 where the platform cannot say.
inline std::size_t cpus_in_affinity_mask() noexcept {
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::size_t>(CPU_COUNT(&set));
#endif
    return 0;
}

/// The cgroup CPU quota rounded up to whole CPUs (cgroup v2's cpu.max, else v1's
/// cfs_quota_us / cfs_period_us), or 0 when there is none or it cannot be read.
inline std::size_t cpus_in_cgroup_quota() noexcept {
    try {
        const auto whole_cpus = [](double quota, double period) -> std::size_t {
            if (quota <= 0 || period <= 0) return 0;
            const double cpus = quota / period;
            return static_cast<std::size_t>(cpus) + (cpus > static_cast<double>(static_cast<std::size_t>(cpus)));
        };
        std::ifstream v2("/sys/fs/cgroup/cpu.max");
        std::string quota;
        double period = 0;
        if (v2 >> quota >> period) return quota == "max" ? 0 : whole_cpus(std::stod(quota), period);
        std::ifstream v1_quota("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
        std::ifstream v1_period("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
        double q = 0;
        if (v1_quota >> q && v1_period >> period) return whole_cpus(q, period);
    } catch (...) {
        // An unreadable or malformed file: no quota known.
    }
    return 0;
}

/// The number of workers a default-sized pool gets: the smallest of the hardware
/// threads, the affinity mask and the cgroup quota that are known, at least 1.
inline std::size_t usable_cpus() noexcept {
    std::size_t count = std::thread::hardware_concurrency();
    for (const std::size_t limit : {cpus_in_affinity_mask(), cpus_in_cgroup_quota()}) {
        if (limit != 0) count = count == 0 ? limit : std::min(count, limit);
    }
    return std::max<std::size_t>(count, 1);
}

}  // namespace microtask::detail
