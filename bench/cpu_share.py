"""Where a round's CPU went: the model's own threads against everything else on the machine.

A model's compute is its two (``--threads``) busiest threads, llama.cpp's OpenMP team: the
engine thread and its helper in the inference worker, the decode threads of llama-server. The
rest of the machine's busy time (from /proc/stat: the web, Redis, the worker's job threads, the
benchmark's own clients, anything else running) is time those threads could not have: on a
machine with as many cores as model threads, each CPU-second of it is taken from the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    busy_s: float  # every core's non-idle time
    threads: dict[str, float]  # "pid/tid" -> CPU seconds


def snapshot() -> Snapshot:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    jiffies = [int(f) for f in fields]
    busy = sum(jiffies) - jiffies[3] - jiffies[4]  # idle, iowait
    threads: dict[str, float] = {}
    for task in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        try:
            stat = task.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        threads[f"{task.parent.parent.parent.name}/{task.parent.name}"] = (
            int(stat[11]) + int(stat[12])
        ) * TICK_S
    return Snapshot(busy * TICK_S, threads)


def thread_deltas(before: Snapshot, after: Snapshot) -> list[tuple[float, str]]:
    """Each thread's CPU seconds between the two snapshots, busiest first, with its key."""
    spent = ((s - before.threads.get(key, 0.0), key) for key, s in after.threads.items())
    return sorted(spent, reverse=True)


def outside_model(before: Snapshot, after: Snapshot, model_threads: int) -> float:
    """CPU seconds of everything but the ``model_threads`` busiest threads."""
    model = sum(delta for delta, _ in thread_deltas(before, after)[:model_threads])
    return max(0.0, after.busy_s - before.busy_s - model)


def process_name(pid: str) -> str:
    """A short name for a process: its program and what it runs (``python -m bench.x``)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        comm = Path(f"/proc/{pid}/comm").read_text().strip()  # a kernel thread has no argv
    except OSError:
        return "exited"
    words = [Path(w.decode(errors="replace")).name for w in argv[:4] if w]
    return " ".join(words)[:48] or f"[{comm}]"


def outside_by_process(before: Snapshot, after: Snapshot, model_threads: int) -> dict[str, float]:
    """``outside_model``'s CPU seconds by process; "kernel, other" is the machine's busy time
    that no thread alive at the end was charged with (softirqs such as loopback networking, and
    threads that ended during the round)."""
    deltas = thread_deltas(before, after)
    names: dict[str, str] = {}  # by pid: each process's name is read once
    spent: dict[str, float] = {}
    for delta, key in deltas[model_threads:]:
        if delta > 0:
            pid = key.split("/")[0]
            if pid not in names:
                names[pid] = process_name(pid)
            spent[names[pid]] = spent.get(names[pid], 0.0) + delta
    charged = sum(delta for delta, _ in deltas)
    spent["kernel, other"] = max(0.0, after.busy_s - before.busy_s - charged)
    return spent
