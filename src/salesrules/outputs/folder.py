"""The output folder: one folder per run under ``runs/``, made current by one atomic link switch.

Layout of ``--out`` (``out/`` by default)::

    out/
      current -> runs/000007-3f2a9c0d1e2b4a5c   the current run; switching this link is the commit
      runs/000006-.../  runs/000007-.../        complete run folders (``output.keep_runs`` kept)
      assignments.csv -> current/assignments.csv one link per file of the current run,
      run.json -> current/run.json ...           so ``out/<file>`` reads as it always did
      .salesrules.lock                           held while a run uses the folder

A run writes its files into ``runs/.partial-<name>/``, renames that to
``runs/<name>/`` once every file is on disk, records the run in the history, and
only then renames one new ``current`` link over the old one. A reader therefore
sees the previous run's complete set or the new run's, never a mix. The next run
removes whatever a killed run left (partial folders, folders that never became
current, stray links) and, if the history recorded a run whose folder did not
become current, makes that folder current first. Symlinks: Linux and macOS only.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import UserError

RUNS, CURRENT, LOCK = "runs", "current", ".salesrules.lock"
PARTIAL, TEMP_LINK = ".partial-", ".salesrules-link-"
LEGACY_STAGING = ".salesrules-staging-"  # what salesrules before 0.x left behind when killed
RESERVED = frozenset({RUNS, CURRENT, LOCK})


def crash_point(name: str) -> None:
    """Test hook: ``SALESRULES_CRASH_AT=<name>`` ends the process here as a kill would (status 137).

    ``SALESRULES_CRASH_AT=log:<file>`` appends the name of every point passed to ``<file>``
    instead, so a test can list them. Unset (always, outside tests), it does nothing.
    """
    at = os.environ.get("SALESRULES_CRASH_AT")
    if not at:
        return
    if at.startswith("log:"):
        with open(at[4:], "a", encoding="utf-8") as f:
            f.write(name + "\n")
    elif at == name:
        os._exit(137)


def seq_of(name: str | None) -> int:
    """The sequence number a run folder's name starts with (``-1`` for none)."""
    try:
        return int(name.split("-", 1)[0]) if name else -1
    except ValueError:
        return -1


def protected_reason(out: Path, rules_dir: Path, inputs: Iterable[Path]) -> str | None:
    """Why ``out`` may never be an output folder, even with ``--force``; ``None`` if it may."""
    where = out.resolve()
    named = [(Path("/"), "the root folder"), (Path.home(), "your home folder"),
             (rules_dir, "the rules file's folder")]
    named += [(p.resolve().parent, f"the folder of the input {p.name}") for p in inputs]
    for folder, what in named:
        if where == folder.resolve():
            return f"--out {out} is {what}; outputs need a folder of their own"
    return None


def foreign_entries(out: Path) -> list[str]:
    """What in ``out`` salesrules did not write (empty when ``out`` is missing or all ours)."""
    if not out.is_dir():
        return [] if not out.exists() else [out.name]
    legacy = _legacy_names(out)
    foreign = []
    for p in sorted(out.iterdir()):
        n = p.name
        ours = (n in RESERVED or n.startswith((LEGACY_STAGING, TEMP_LINK)) or n in legacy
                or (p.is_symlink() and os.readlink(p) == f"{CURRENT}/{n}"))
        if not ours:
            foreign.append(n)
    return foreign


def _legacy_names(out: Path) -> set[str]:
    """Files of an output folder written flat by an older salesrules, as its run.json lists them."""
    manifest = out / "run.json"
    if manifest.is_symlink() or not manifest.is_file():
        return set()
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        names = {o["file"] for o in data["outputs"]} | {"run.json"}
    except (ValueError, KeyError, TypeError, OSError):
        return set()
    return {n for n in names if isinstance(n, str) and "/" not in n and (out / n).is_file()}


class OutputFolder:
    """``--out`` for one run: guarded, locked, reconciled, and switched in one rename."""

    def __init__(self, out: Path, keep: int) -> None:
        self.out = out
        self.runs = out / RUNS
        self.keep = max(keep, 1)
        self._made = not out.exists()  # a first run that fails leaves no folder behind
        self._lock_fd: int | None = None

    @classmethod
    def open(cls, out: Path, keep: int, never: str | None, force: bool) -> OutputFolder:
        """Check ``out`` may be used, create it and take its lock (waiting for another run)."""
        if never:
            raise UserError(never)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is a file, not a folder")
        foreign = foreign_entries(out)
        if foreign and not force:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more"
                                              if len(foreign) > 3 else "")
            raise UserError(f"--out {out} holds files salesrules did not write ({shown}); "
                            "choose an empty or new folder, or pass --force to write beside them")
        folder = cls(out, keep)
        try:
            folder._lock()
        except OSError as exc:
            raise UserError(f"--out {out}: cannot use the folder ({exc.strerror})") from None
        return folder

    def _lock(self) -> None:
        path = self.out / LOCK
        while True:
            self.out.mkdir(parents=True, exist_ok=True)
            self.runs.mkdir(exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"salesrules: another run is using {self.out}; waiting for it to finish",
                      file=sys.stderr, flush=True)
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    self._lock_fd = fd
                    return
            except FileNotFoundError:
                pass  # the run before removed the folder it had made: lock the new one
            os.close(fd)

    def close(self) -> None:
        """Release the lock; remove the folder if this run made it and left nothing in it.

        A run folder that was placed stays even when it did not become current:
        the history may have recorded it, and the next run's :meth:`reconcile`
        either makes it current or removes it.
        """
        placed = self.runs.is_dir() and any(not p.name.startswith(PARTIAL)
                                            for p in self.runs.iterdir())
        if self._made and self.current() is None and not placed:
            shutil.rmtree(self.out, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ---------------------------------------------------------------- state

    def current(self) -> str | None:
        """The current run folder's name, or ``None``."""
        try:
            target = os.readlink(self.out / CURRENT)
        except OSError:
            return None
        return target.split("/", 1)[1] if target.startswith(RUNS + "/") else None

    def folders(self) -> list[str]:
        """Complete run folders, oldest first."""
        return sorted((p.name for p in self.runs.iterdir()
                       if p.is_dir() and not p.name.startswith(".") and seq_of(p.name) >= 0),
                      key=seq_of)

    def next_name(self, run_id: str) -> str:
        seqs = [seq_of(p.name.removeprefix(PARTIAL)) for p in self.runs.iterdir()]
        return f"{max([0, *seqs]) + 1:06d}-{run_id}"

    # ---------------------------------------------------------------- reconcile

    def reconcile(self, recorded: str | None) -> None:
        """Make the folder agree with the history, then remove what a killed run left.

        ``recorded`` is the run folder the history says is current here. If it
        is newer than the current one (a run was killed between its history
        commit and its link switch), it becomes current.
        """
        self._migrate_legacy()
        current = self.current()
        if (recorded and seq_of(recorded) > seq_of(current)
                and (self.runs / recorded / "run.json").is_file()):
            names = json.loads((self.runs / recorded / "run.json").read_text(encoding="utf-8"))
            self.switch(recorded, [o["file"] for o in names["outputs"]] + ["run.json"])
            current = recorded
        for p in self.runs.iterdir():  # partial folders, and runs that never became current
            if p.name.startswith(PARTIAL) or seq_of(p.name) > seq_of(current):
                _remove(p)
        for p in self.out.iterdir():
            if p.name.startswith((LEGACY_STAGING, TEMP_LINK)):
                _remove(p)
            elif p.is_symlink() and os.readlink(p) == f"{CURRENT}/{p.name}" and not p.exists():
                p.unlink()  # a link to a file the current run does not have
        self._prune()

    def _migrate_legacy(self) -> None:
        """Turn a flat folder from an older salesrules
        into this layout without changing what it shows."""
        names = _legacy_names(self.out)
        if not names:
            return
        if self.current() is None:
            name = f"{0:06d}-legacy"
            partial = self.runs / (PARTIAL + name)
            _remove(partial)
            partial.mkdir()
            for n in names:  # hard links: the same bytes, no copy
                os.link(self.out / n, partial / n)
            partial.rename(self.runs / name)
            self._relink(CURRENT, f"{RUNS}/{name}")
        for n in sorted(names - {"run.json"}) + ["run.json"]:
            self._relink(n, f"{CURRENT}/{n}")

    # ---------------------------------------------------------------- commit

    def partial(self, name: str) -> Path:
        """A new, empty folder to write run folder ``name`` into."""
        path = self.runs / (PARTIAL + name)
        path.mkdir()
        return path

    def discard(self, name: str) -> None:
        """Remove run folder ``name``, written in part or in full, that is not to become current."""
        _remove(self.runs / (PARTIAL + name))
        if self.current() != name:
            _remove(self.runs / name)

    def place(self, name: str) -> None:
        """Make the fully written partial folder of ``name`` a run folder (still not current)."""
        partial = self.runs / (PARTIAL + name)
        _fsync_folder(partial, files=True)
        partial.rename(self.runs / name)
        _fsync_folder(self.runs)
        crash_point("staged")

    def switch(self, name: str, files: list[str]) -> None:
        """Make run folder ``name`` current: link its new
        file names, switch ``current``, unlink the rest."""
        for f in files:
            if f in RESERVED or f.startswith("."):
                raise ValueError(f"an output file may not be named {f!r}: the output folder "
                                 "uses that name")
            link = self.out / f
            if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{f}"):
                self._relink(f, f"{CURRENT}/{f}")  # dangles until the switch: the old set lacks it
                crash_point(f"linked:{f}")
        self._relink(CURRENT, f"{RUNS}/{name}")
        _fsync_folder(self.out)
        crash_point("switched")
        for p in sorted(self.out.iterdir()):
            if p.is_symlink() and os.readlink(p) == f"{CURRENT}/{p.name}" and p.name not in files:
                p.unlink()
                crash_point(f"unlinked:{p.name}")
        self._prune()

    def _relink(self, name: str, target: str) -> None:
        """Point link ``name`` at ``target`` in one rename (replacing whatever had the name)."""
        tmp = self.out / f"{TEMP_LINK}{name}"
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        os.symlink(target, tmp)
        os.replace(tmp, self.out / name)

    def _prune(self) -> None:
        """Remove run folders older than the ``keep`` newest (the current one always stays)."""
        current = seq_of(self.current())
        old = [n for n in self.folders() if seq_of(n) <= current]
        for n in old[:-self.keep]:
            _remove(self.runs / n)
            crash_point(f"pruned:{n}")


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _fsync_folder(folder: Path, files: bool = False) -> None:
    """Flush a folder's entries (and, with ``files``, each file's bytes) to disk."""
    paths = [p for p in folder.iterdir() if p.is_file()] if files else []
    for p in [*paths, folder]:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as exc:  # some file systems cannot sync a folder
            if exc.errno not in (errno.EINVAL, errno.EBADF):
                raise
        finally:
            os.close(fd)
