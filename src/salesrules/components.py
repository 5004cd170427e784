"""Base classes for the named, configurable components that plugins register."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .words import say_each, sayer

if TYPE_CHECKING:
    from .allocation.batch import AllocationBatch
    from .checks.context import CheckContext
    from .goals.batches import FunnelBatch, Rate, SplitBatch
    from .load.dataset import DatasetBuilder, InputFile
    from .model import Finding, Funnel


@attrs.define
class NoParams:
    """This component takes no parameters."""


class Component:
    """A named strategy selected in ``rules.toml``.

    Subclasses set ``name`` (unique within their kind) and, if they take
    parameters, ``Params``: an attrs class whose fields are structured from the
    component's TOML table, unknown keys refused. The class docstring is the
    component's help text.

    What a manager reads (a finding's message, an assignment's reason, a rate's
    trace) is said through :meth:`say`, from the component's ``words``: message
    key -> ``{"en": template, "zh": template}``, so that it follows
    ``output.language``. A ``"name"`` entry is the component's name as shown.
    """

    kind: ClassVar[str] = "component"
    name: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams
    #: Message key -> its template per language (``en`` required, ``zh`` optional).
    words: ClassVar[dict[str, dict[str, str]]] = {}

    def __init__(self, params: Any = None) -> None:
        self.params = params if params is not None else self.Params()

    def validate(self, funnel: Funnel) -> list[tuple[str, str]]:
        """Check params against the configured funnel; return ``(key, message)`` pairs."""
        return []

    @classmethod
    def say(cls, key: str, /, **fields: Any) -> str:
        """The message ``key`` in the run's language (``output.language``), fields filled in.

        The template comes from the component's ``words`` (else the kernel's own catalogue);
        English when it has none in that language. Besides Python's format specs, a template
        may write ``{x:stage}`` (a stage or step ``a→b`` by its label in Chinese),
        ``{p:chance}`` (a probability in words), ``{x:amount}`` (two decimals, thousands
        separated) and ``{x:skill}``::

            words = {"slow": {"en": "{n:,} {stage} in {days} days",
                              "zh": "{days} 天仅 {n:,} 个{stage:stage}"}}
            self.say("slow", n=12, stage="dials", days=3)
        """
        return sayer(key, cls.words)(**fields)

    @classmethod
    def sayer(cls, key: str) -> Callable[..., str]:
        """The message ``key`` as a function of its fields, in the run's language: for a
        message said once per lead, looked up once per batch
        (``why = self.sayer("why")``, then ``why(n=3)`` for each lead)."""
        return sayer(key, cls.words)

    @classmethod
    def say_each(cls, key: str, /, **columns: Collection[Any]) -> list[str]:
        """The message ``key`` once per row, each field a column of the same length: for a
        policy that decides leads as columns (``self.say_each("why", n=counts, rep=ids)``)."""
        return say_each(key, cls.words, **columns)

    @classmethod
    def shown_name(cls) -> str:
        """The name a manager reads: the ``"name"`` entry of ``words``, else ``name``."""
        return cls.say("name") if "name" in cls.words else cls.name

    @classmethod
    def summary(cls) -> str:
        """The docstring's first paragraph, on one line."""
        paragraph = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0]
        return " ".join(line.strip() for line in paragraph.splitlines())


class Source(Component):
    """Reads one export file into the dataset. Called once per file."""

    kind = "source"

    def read(self, file: InputFile, into: DatasetBuilder) -> None:
        raise NotImplementedError


class Policy(Component):
    """Shares one routing rule's leads among its eligible reps. Called once per rule."""

    kind = "policy"

    def allocate(self, batch: AllocationBatch) -> None:
        """Call ``batch.assign(lead, rep, why)`` or ``batch.skip(lead, why)`` for each lead
        (or ``batch.assign_rows(rows, reps, whys)`` for many leads at once)."""
        raise NotImplementedError


class TimeSplit(Component):
    """Weights a period's target over its months. Called once per team."""

    kind = "split"

    def month_weights(self, batch: SplitBatch) -> list[float]:
        """Return one non-negative weight per month of ``batch.months``."""
        raise NotImplementedError


class FunnelModel(Component):
    """Estimates the rates that push a result target back down the funnel. Called once per team."""

    kind = "funnel"

    def rates(self, batch: FunnelBatch) -> dict[str, dict[str, Rate]]:
        """Return, per rep id, the :class:`Rate` into each stage below the first, by stage name."""
        raise NotImplementedError


class Check(Component):
    """Looks at the run's progress and raises findings. Called once per run."""

    kind = "check"

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        raise NotImplementedError


KINDS: dict[str, type[Component]] = {
    "source": Source,
    "policy": Policy,
    "split": TimeSplit,
    "funnel": FunnelModel,
    "check": Check,
}
