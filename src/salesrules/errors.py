"""The error types the kernel raises for bad input, and how they are collected."""

from __future__ import annotations

import attrs


@attrs.frozen
class Problem:
    """One thing wrong with the input: where it is and what is wrong.

    ``where`` is a ``rules.toml`` key path (``allocation.rules[2].params.share``)
    or a file location (``leads.csv:14: column 'value'``).
    """

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UserError(Exception):
    """Bad input or config. The CLI prints every problem and exits with status 2."""

    def __init__(self, problems: list[Problem] | Problem | str, title: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        self.title = title
        super().__init__(self.render())

    def __reduce__(self):  # rebuilt whole when it comes back from an output writer process
        return type(self), (self.problems, self.title)

    def render(self) -> str:
        lines = [self.title] if self.title else []
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)


class ConfigError(UserError):
    """``rules.toml`` is wrong: every problem names its key path."""


class DataError(UserError):
    """An input file is wrong: every problem names the file, line and column."""


class PluginError(Exception):
    """A plugin's code raised during a run. Names the plugin and the component."""

    def __init__(self, plugin: str, component: str, cause: BaseException) -> None:
        self.plugin = plugin
        self.component = component
        self.cause = cause
        super().__init__(
            f"plugin {plugin!r} failed in {component}: {type(cause).__name__}: {cause}"
        )

    def __reduce__(self):
        return type(self), (self.plugin, self.component, self.cause)


class Problems:
    """Collects problems up to a limit, so that all of them are reported at once."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self.items: list[Problem] = []
        self.dropped = 0

    def add(self, where: str, message: str) -> None:
        if len(self.items) < self.limit:
            self.items.append(Problem(where, message))
        else:
            self.dropped += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items) + self.dropped

    def full(self) -> bool:
        return len(self.items) >= self.limit

    def all(self) -> list[Problem]:
        out = list(self.items)
        if self.dropped:
            out.append(Problem("", f"... and {self.dropped} more problem(s) not shown"))
        return out

    def raise_if_any(self, cls: type[UserError], title: str = "") -> None:
        if self.items:
            raise cls(self.all(), title)
