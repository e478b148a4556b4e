#!/usr/bin/env python3
"""Checks a trace written by MICROTASK_TRACE against what the program's statistics counted
(tests/trace_probe.cpp): the file is Chrome trace-event JSON; every span is a complete event
with ts, dur, pid and tid; the "task" spans on worker lanes are exactly the tasks the
workers' stats counted; every labelled span is there. Usage: check_trace.py TRACE OUTPUT"""
import json
import re
import sys

trace_path, output_path = sys.argv[1], sys.argv[2]
output = open(output_path).read()
match = re.search(r"tasks (\d+) labelled (\d+)", output)
if not match:
    sys.exit(f"check_trace: no 'tasks N labelled M' line in {output_path!r}: {output!r}")
counted_tasks, labelled = int(match.group(1)), int(match.group(2))

events = json.load(open(trace_path))["traceEvents"]
lanes = {e["tid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
spans = [e for e in events if e.get("ph") == "X"]
problems = []
for e in spans:
    for key in ("name", "ts", "dur", "pid", "tid"):
        if key not in e:
            problems.append(f"span without {key!r}: {e}")
    if e.get("dur", 0) < 0:
        problems.append(f"negative duration: {e}")
    if e.get("tid") not in lanes:
        problems.append(f"span on a lane with no thread_name: {e}")
worker_tasks = sum(1 for e in spans if e["name"] == "task" and " worker " in lanes.get(e["tid"], ""))
labelled_spans = sum(1 for e in spans if e["name"] == "labelled subtask")
if worker_tasks != counted_tasks:
    problems.append(f"{worker_tasks} task spans on worker lanes, but the statistics counted {counted_tasks} tasks")
if counted_tasks == 0:
    problems.append("the statistics counted no task: the check would prove nothing")
if labelled_spans != labelled:
    problems.append(f"{labelled_spans} labelled spans, expected {labelled}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"check_trace: {len(spans)} spans on {len(lanes)} lanes; {worker_tasks} worker task spans = the stats' count; "
      f"{labelled_spans} labelled spans")
