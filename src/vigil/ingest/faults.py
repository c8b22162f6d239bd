"""Fault injection for the crash tests: the points of a scan between two of its commits.

With ``VIGIL_FAULT_PAUSE=<seconds>`` in the environment, ``checkpoint(name)`` writes
``vigil-checkpoint <name>`` to stderr and sleeps that long (``0``: announces without pausing), so that a
test can SIGKILL the process at each point between two commits, or anywhere around one
(``tests/test_scan_kill.py``). Unset, as it is outside those tests, a checkpoint costs one environment
lookup and does nothing.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "VIGIL_FAULT_PAUSE"
MARK = "vigil-checkpoint"


def checkpoint(name: str) -> None:
    """A point where the process may die: announce it and pause, when fault injection is on."""
    pause = os.environ.get(PAUSE_ENV)
    if not pause:
        return
    sys.stderr.write(f"{MARK} {name}\n")
    sys.stderr.flush()
    time.sleep(float(pause))
