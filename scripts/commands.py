"""Running a command from a benchmark: its wall time and its own CPU time (steadier on a shared machine)."""

import os
import subprocess
import time


def timed(command, quiet=False):
    """(wall seconds, CPU seconds) of running `command` to its end; `quiet` drops its output.

    A command that fails ends the benchmark with one line naming it.
    """
    output = subprocess.DEVNULL if quiet else None
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=output, stderr=output)
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"{' '.join(map(str, command))} failed (wait status {status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime
