"""How one serving process shares its interpreter between the public pulls, answered in the
event loop from memory (app/api/public.py), and the heavy reads (the audit, statistics,
exports) that run in worker threads.

Python runs one thread at a time. A thread that wants the interpreter back (the event loop,
after each socket read or write) waits until the running one is asked to let go, every
`sys.getswitchinterval()` seconds, 5 ms by default: a pull makes several such waits, so a
single audit thread in the background made pulls wait tens of milliseconds each. The
switch interval is therefore 1 ms (`tune_interpreter`, called at start-up by app/main.py),
and heavy requests take turns (app/admission.py). docs/benchmarks.md, "Soak", has the
figures.
"""

import sys

SWITCH_INTERVAL = 0.001
"""Seconds a thread may run before it is asked to hand the interpreter over."""


def tune_interpreter() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL)
