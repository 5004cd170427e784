"""Polars' memory allocator for a command-line run: set up before polars is first imported.

Polars allocates with jemalloc, which by default keeps an arena per thread and hands
freed pages back to the system only after a delay (polars sets
``dirty_decay_ms:500,muzzy_decay_ms:1000``). A run frees large frames stage after stage,
on polars' threads and on the main one, and each arena kept the pages freed in it: on
a 200,000-lead export that added some 80 MiB to the run's peak (about 470 MiB; 385 MiB
with a single arena whose purged pages go straight back, at no cost in CPU).
A ``_RJEM_MALLOC_CONF`` of the user's own is left as it is (polars adds it to its own).
"""

from __future__ import annotations

import os
import sys

#: jemalloc options polars adds to its own defaults.
JEMALLOC = "narenas:1,muzzy_decay_ms:0"

if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC)
