"""Writing big outputs on a second core: a forked child process per job.

A run's outputs (the CSVs, the workbook, the report) do not depend on each
other, and each is pure Python formatting, so threads would not help. Where
the platform can fork and the machine has more than one core, a big job runs
in a child process that inherits the finished run (nothing is copied or
pickled on the way in); only its small return value, or its exception, comes
back through a pipe. Elsewhere, or for small jobs, it runs in place.

A job must only write its own files and return something small and
picklable. It must not use polars (whose thread pool does not survive a
fork) or print.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: A job smaller than this many rows (or cells) runs in place: a fork costs a
#: few milliseconds, which only pays off for big outputs. Tests lower it.
MIN_ROWS = 40_000


def can_fork() -> bool:
    """Whether jobs may run in a child: the platform forks and there is a second core."""
    if not hasattr(os, "fork") or sys.platform == "darwin":  # macOS forks unsafely
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores > 1


class Job(Generic[T]):
    """Writes one slow output in a second process on a big run, else in place; :meth:`wait` gives its result.

    ``size`` is the job's rows (or cells): below :data:`MIN_ROWS` it runs in
    place, as it does when ``enabled`` is false (``output.parallel``) or no
    process can be forked. Always wait for a job, or return it from
    ``write_outputs`` so that the kernel does: a child still writing when the
    outputs are moved into place would be a bug.
    """

    def __init__(self, fn: Callable[[], T], size: int = MIN_ROWS, enabled: bool = True) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._pid = 0
        pid = -1
        if enabled and size >= MIN_ROWS and can_fork():
            sys.stdout.flush()
            sys.stderr.flush()
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no process to spare (a container's limit): write it here
                os.close(read_fd)
                os.close(write_fd)
        if pid < 0:
            try:
                self._value = fn()
            except BaseException as exc:  # re-raised by wait(), as from a child
                self._error = exc
            return
        if pid == 0:  # the child: run, send the outcome, leave without cleanup
            os.close(read_fd)
            code = 0
            try:
                payload = _outcome(fn)
                with os.fdopen(write_fd, "wb") as w:
                    w.write(payload)
            except BaseException:  # pragma: no cover - only if the pipe itself fails
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._read_fd = pid, read_fd

    def wait(self) -> T:
        """The job's return value; its exception is raised here, as if it had run in place."""
        if self._pid:
            with os.fdopen(self._read_fd, "rb") as r:
                payload = r.read()
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
            if not payload:
                raise RuntimeError(f"an output writer process ended without a result "
                                   f"(exit status {os.waitstatus_to_exitcode(status)})")
            ok, value = pickle.loads(payload)
            if ok:
                self._value = value
            else:
                self._error = value
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._value


def _outcome(fn: Callable[[], Any]) -> bytes:
    try:
        return pickle.dumps((True, fn()))
    except BaseException as exc:
        try:
            data = pickle.dumps((False, exc))
            pickle.loads(data)  # some exceptions pickle but cannot be rebuilt
            return data
        except Exception:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            return pickle.dumps((False, RuntimeError(text)))


def settle(waits: Iterable[Callable[[], object]]) -> None:
    """Wait for jobs whose outcome no longer matters (the run is failing anyway), ignoring their errors.

    No child may still be writing into a staging folder that is about to be removed.
    """
    for wait in waits:
        try:
            wait()
        except BaseException:
            pass
