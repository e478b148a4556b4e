// microtask — microtask.hpp
/// @file
/// The umbrella header: decompose a job, distribute it over a work-stealing pool, reduce
/// the partial results. Users write `namespace mt = microtask;`.
/// Each header also compiles on its own, so including only the ones used is fine. The
/// whole library is also one generated file, `single_include/microtask.hpp` (see
/// docs/getting-started.md).
#pragma once

#include "cancellation.hpp"
#include "concepts.hpp"
#include "counting.hpp"
#include "deadline.hpp"
#include "decompose.hpp"
#include "distribute.hpp"
#include "find.hpp"
#include "fold.hpp"
#include "for_each.hpp"
#include "future.hpp"
#include "isolate.hpp"
#include "join.hpp"
#include "map_reduce.hpp"
#include "partition.hpp"
#include "per_worker.hpp"
#include "pipeline.hpp"
#include "progress.hpp"
#include "range.hpp"
#include "reduce.hpp"
#include "reducers.hpp"
#include "scan.hpp"
#include "sort.hpp"
#include "stats.hpp"
#include "task_group.hpp"
#include "thread_pool.hpp"
#include "tiles.hpp"
#include "trace.hpp"
#include "version.hpp"
#include "worker_hooks.hpp"

/// @namespace microtask
/// Every public name of the library. The headers are listed under Files; names in
/// `microtask::detail` are implementation and may change in any release. Users write
/// `namespace mt = microtask;`.
