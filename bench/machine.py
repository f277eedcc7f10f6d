"""What machine a benchmark ran on, printed at the top of every benchmark's output: figures from
different machines do not compare, so each one says where it came from."""

import os
from pathlib import Path


def cpu_model():
    """The CPU model and count as /proc/cpuinfo names them, e.g. 'AMD EPYC x 2'."""
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0] if names else 'unknown CPU'} x {os.cpu_count()}"


def memory():
    """Total memory, e.g. '24 GiB'."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown memory"


def describe():
    """One line naming the machine."""
    return f"machine: {cpu_model()}, {memory()}"
