"""The process's native libraries, set up for a command-line run before they are first imported.

Polars allocates with jemalloc, which by default keeps an arena per thread and hands
freed pages back to the system only after a delay (polars sets
``dirty_decay_ms:500,muzzy_decay_ms:1000``). A run frees large frames stage after stage,
on polars' threads and on the main one, and each arena kept the pages freed in it: on
a 200,000-lead export that added some 80 MiB to the run's peak (about 470 MiB; 385 MiB
with a single arena whose purged pages go straight back, at no cost in CPU).

NumPy's OpenBLAS starts a thread per core when numpy is imported, and those threads
spin while they wait for work. salesrules never multiplies matrices, so they only burn
CPU: about 0.07 s at import alone, and more over a run. One thread is asked for.

A value of the user's own (``_RJEM_MALLOC_CONF``, ``OPENBLAS_NUM_THREADS``) is left as
it is; polars adds the jemalloc options to its own.
"""

from __future__ import annotations

import os
import sys

#: jemalloc options polars adds to its own defaults.
JEMALLOC = "narenas:1,muzzy_decay_ms:0"

if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC)
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
