"""The ``rules.toml`` schema: one attrs class per table, each key documented by its ``#:`` comment.

``docs/config.md`` is generated from these classes and comments (``python -m salesrules.docs``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import attrs

from ..model import Funnel, Stage

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@attrs.define
class DataFile:
    """One input file and how to read it."""

    #: The file, relative to ``data.dir`` (CSV or XLSX).
    file: str
    #: The source component that reads it; defaults to the table's own key.
    source: str = ""
    #: Our field name -> the header in the file, e.g. ``name = "姓名"``.
    columns: dict[str, str] = attrs.Factory(dict)
    #: ``auto``, ``utf-8``, ``utf-8-sig`` or ``gb18030``; defaults to ``data.encoding``.
    encoding: str = ""
    #: Worksheet to read from an XLSX file; defaults to the first.
    sheet: str = ""
    #: A CSV file's delimiter: ``,``, ``;``, ``tab`` or ``|``; empty: sniffed from the
    #: header line (whichever of comma, semicolon and tab it has most of).
    delimiter: str = ""
    #: The source component's own params (``salesrules plugins`` lists them).
    params: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class DataConfig:
    """``[data]``: where the export is and how to read each file."""

    #: Folder of the export, relative to rules.toml.
    dir: str = "."
    #: ``auto`` (UTF-8, UTF-8 with BOM or GB18030), ``utf-8``, ``utf-8-sig`` or ``gb18030``.
    encoding: str = "auto"
    #: Stop collecting bad cells after this many and report them all.
    max_errors: int = 50
    #: ``[data.NAME]``: the input files by table name (``reps``, ``leads``, ``activity``...).
    tables: dict[str, DataFile] = attrs.Factory(dict)


def _default_stages() -> list[Stage]:
    return [
        Stage("dials", "外呼", "count"),
        Stage("connects", "接通", "count", 0.35),
        Stage("conversations", "深入沟通", "count", 0.30),
        Stage("intents", "意向客户", "count", 0.25),
        Stage("pipeline", "储备金额", "amount", 12000.0),
        Stage("revenue", "业绩", "amount", 0.33),
    ]


@attrs.define
class FunnelConfig:
    """``[funnel]``: the stages, from the first touch down to the result."""

    #: ``[[funnel.stages]]``, first touch first: ``name``, ``label``, ``unit``
    #: (``count`` or ``amount``), ``default_rate`` and ``kind`` (``process`` or ``result``).
    stages: list[Stage] = attrs.Factory(_default_stages)


@attrs.define
class Use:
    """A component chosen in config: its name and its raw params."""

    #: The component's name, as ``salesrules plugins`` lists it.
    name: str
    #: The component's params (``salesrules plugins`` lists them).
    params: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class CalendarConfig:
    """``[goals.calendar]``: which days are working days."""

    #: Working weekdays, from ``Mon Tue Wed Thu Fri Sat Sun``.
    weekdays: list[str] = attrs.Factory(lambda: list(WEEKDAYS[:5]))
    #: Public holidays (and make-up workdays) of this country from the ``holidays``
    #: library, e.g. ``CN``; empty for none.
    country: str = ""
    #: A subdivision (province, state) of ``country``, if its holidays differ.
    subdiv: str = ""
    #: Extra days off (YYYY-MM-DD), on top of ``country``'s holidays.
    holidays: list[dt.date] = attrs.Factory(list)
    #: Make-up working days (调休) that fall on a weekend.
    workdays: list[dt.date] = attrs.Factory(list)


@attrs.define
class TierConfig:
    """One rung of the goal ladder: a name and a multiple of the level target."""

    #: The tier's name, as the reps file's ``tier`` column gives it.
    name: str
    #: Multiple of the level target (greater than 0).
    multiplier: float = attrs.field(validator=attrs.validators.gt(0))


def _default_tiers() -> list[TierConfig]:
    return [TierConfig("中间力量", 1.0), TierConfig("高绩效", 1.3), TierConfig("标杆", 1.6)]


@attrs.define
class GoalsConfig:
    """``[goals]``: the level targets and the strategies that decompose them."""

    #: The goal period: ``quarter`` or ``month``.
    period: Literal["quarter", "month"] = "quarter"
    #: The time split spreading a period target over its days: a name, or
    #: ``{ strategy = "NAME", params = {...} }``.
    split: Use = attrs.Factory(lambda: Use("even"))
    #: The funnel model turning result targets into stage targets: a name, or
    #: ``{ strategy = "NAME", params = {...} }``.
    funnel: Use = attrs.Factory(lambda: Use("personal"))
    #: Level -> stage -> target for one ``period``.
    levels: dict[str, dict[str, float]] = attrs.Factory(dict)
    #: ``[goals.calendar]``: which days are working days.
    calendar: CalendarConfig = attrs.Factory(CalendarConfig)
    #: Leave days: ``prorate`` lowers the rep's period target in proportion to the
    #: working days they lose; ``keep`` spreads the whole target over the days left.
    leave: Literal["prorate", "keep"] = "prorate"
    #: How a team target from the goals file is shared by its reps: ``even``, or
    #: in proportion to their ``level`` targets; either way times their tier
    #: and the share of the period they work.
    cascade: Literal["even", "level"] = "level"
    #: The tier ladder, lowest first; a rep's ``tier`` column picks their rung.
    tiers: list[TierConfig] = attrs.Factory(_default_tiers)
    #: If set (e.g. 0.8), each first-stage target's trace also gives the amount
    #: needed to reach the result target with this probability.
    confidence: float | None = None
    #: The month (1-12) the fiscal year starts in; quarters start in it and every
    #: third month after it (e.g. 4: April-June is the first quarter).
    fiscal_year_start: int = attrs.field(
        default=1, validator=[attrs.validators.ge(1), attrs.validators.le(12)])
    #: A new rep's ramp: the share of the level target asked in their first,
    #: second... month from the ``hired`` date, e.g. ``[0.5]`` for half in the
    #: first month; full targets after the listed months.
    ramp: list[float] = attrs.field(factory=list, validator=attrs.validators.deep_iterable(
        [attrs.validators.gt(0), attrs.validators.le(1)]))
    #: Activity (process count) targets are capped at this quantile of the
    #: team's reps' daily activity per stage (0.9: what the team's top tenth
    #: does); what the cap leaves of the result gap becomes a conversion target.
    #: Empty or 0 to leave targets uncapped.
    feasible_quantile: float | None = attrs.field(
        default=0.9, validator=attrs.validators.optional(  # type: ignore[arg-type]  # attrs' stubs
            [attrs.validators.ge(0.0), attrs.validators.le(1.0)]))


@attrs.define
class RuleConfig:
    """One routing rule: which leads, which reps, which policy."""

    #: A label for the rule, named in assignment reasons and messages.
    name: str = ""
    #: Condition on lead fields in the safe expression language; empty matches all.
    when: str = ""
    #: Teams whose reps may take the matched leads; empty means every team.
    teams: list[str] = attrs.Factory(list)
    #: Rep IDs who may take the matched leads; empty means every rep of ``teams``.
    reps: list[str] = attrs.Factory(list)
    #: The allocation policy that chooses a rep for each lead.
    policy: str = "balanced"
    #: The policy's params (``salesrules plugins`` lists them).
    params: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class RecycleConfig:
    """``[allocation.recycle]``: give back leads nobody followed up within an SLA."""

    #: Days after assignment without follow-up before a lead goes back to the pool.
    after_days: int = attrs.field(default=7, validator=attrs.validators.ge(1))
    #: Lead column holding the last follow-up (empty means none).
    follow_up_field: str = "last_contact"
    #: Lead column holding when the current owner got the lead; history is used when empty.
    assigned_field: str = "assigned_at"


def _region(code: str) -> None:
    """Refuse a phone region ``phonenumbers`` does not know, naming some it does.

    The default, ``CN``, is known without importing ``phonenumbers`` (about 12 ms), which
    a run then imports only if it reads a number in a form other than a plain mobile.
    """
    if code == "CN":
        return
    import phonenumbers

    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'phone_region' must be a region code phonenumbers knows "
                         f"(CN, HK, US, GB, ...): {code!r}")


@attrs.define
class AllocationConfig:
    """``[allocation]``: routing rules, first match wins."""

    #: Allocate leads at all.
    enabled: bool = True
    #: Teams that find their own customers and take no leads.
    self_sourced_teams: list[str] = attrs.Factory(list)
    #: ``[[allocation.rules]]``: the routing rules; a lead goes to the first that matches.
    rules: list[RuleConfig] = attrs.Factory(list)
    #: A rep's load counts the leads earlier runs gave them within this many days.
    window_days: int = attrs.field(default=30, validator=attrs.validators.ge(1))
    #: Lead columns whose normalised value marks duplicates: a phone column (its name has
    #: ``phone``, ``mobile``, 电话 or 手机) compares as the number ``phonenumbers`` reads,
    #: else by its digits; any other column trimmed, in lower case (emails).
    dedupe_on: list[str] = attrs.Factory(lambda: ["phone", "email"])
    #: The region (ISO 3166 code) a phone number without a country code is dialled
    #: from, so that ``138 0013 8000``, ``+86 138-0013-8000`` and ``(0086)13800138000``
    #: are one number with ``CN``.
    phone_region: str = attrs.field(default="CN", validator=lambda _i, _a, v: _region(v))
    #: The lead column naming the lead's account (company). A new lead of an account
    #: that an eligible rep already owns goes to that rep, within their cap, before the
    #: rules run. Default: the leads' ``account`` or ``company`` column if they have
    #: one; ``""`` turns account affinity off.
    account_field: str | None = None
    #: ``[allocation.recycle]``: take back leads without follow-up; off when absent.
    recycle: RecycleConfig | None = None


@attrs.define
class HistoryConfig:
    """``[history]``: the run-history database."""

    #: Record each run's assignments, so that loads count earlier runs.
    enabled: bool = True
    #: SQLite file, relative to rules.toml.
    path: str = "salesrules-history.sqlite"


@attrs.define
class CrmImportConfig:
    """``[output.crm_import]``: the assignments as a file the CRM imports (``crm_import.csv``)."""

    #: ``salesforce`` (``Id``, ``OwnerId``: Data Loader's update of the leads' owner),
    #: ``hubspot`` (``Record ID``, ``Deal owner``: the owner's email; the owner column
    #: follows ``hubspot_object``) or ``generic`` (``lead_id``, ``owner``).
    format: Literal["salesforce", "hubspot", "generic"] = "generic"
    #: With ``format = "hubspot"``: the object the leads are in HubSpot, which names
    #: the owner column as HubSpot's importer matches it (``Deal owner``,
    #: ``Contact owner``, ...): ``deal`` for leads from a HubSpot deals export.
    hubspot_object: Literal["deal", "contact", "company", "ticket"] = "deal"
    #: The reps file's column holding each rep's CRM user: a Salesforce user Id, a
    #: HubSpot owner email. Reps without one are named in a warning and their leads
    #: left out of the file.
    user_field: str = "crm_user"


@attrs.define
class OutputConfig:
    """``[output]``: where and how results are written."""

    #: Folder the outputs are written to, relative to rules.toml.
    dir: str = "out"
    #: Day-grain rows in targets.csv: for the as-of ``week`` (default: today's and
    #: this week's targets), the as-of ``month``, or the whole ``period``. The
    #: quarter, month and week rows always cover the whole period.
    day_targets: Literal["week", "month", "period"] = "week"
    #: Write ``report.html``: one self-contained page with charts, offline.
    report: bool = True
    #: Write ``workbook.xlsx``: one sheet per output, with native charts.
    workbook: bool = True
    #: Language of what a manager reads: findings, assignment reasons, the targets' trace,
    #: the terminal summary, the report and the workbook (``en`` or ``zh``). CSV columns and
    #: ``cause`` values stay English.
    language: Literal["en", "zh"] = "en"
    #: Run folders kept under ``out/runs/``, the current one included (at least 1).
    #: Each run writes a new folder and makes it current in one step; older ones
    #: beyond this many are removed. ``out/<file>`` always shows the current run.
    keep_runs: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    #: ``[output.crm_import]``: write ``crm_import.csv`` for the CRM; off when absent.
    crm_import: CrmImportConfig | None = None
    #: Deprecated and ignored: outputs are written in one process. Still accepted
    #: so that older rules.toml files load; loading warns when it is set.
    parallel: bool = True


def _run_year(day: dt.date | None) -> None:
    """A run's as-of date lies in the years a run can be for (``validate`` refuses what
    ``run`` would)."""
    from ..goals.calendar import YEARS  # the calendar's years; imported late (goals use config)

    if day is not None and not YEARS[0] <= day.year <= YEARS[1]:
        raise ValueError(f"as_of = {day} is outside the years {YEARS[0]} to {YEARS[1]} that runs "
                         "can be for")


@attrs.define
class RunConfig:
    """``[run]``: defaults for ``salesrules run`` options."""

    #: The as-of date (YYYY-MM-DD) when ``--as-of`` is not given; default today.
    as_of: dt.date | None = attrs.field(default=None, validator=lambda _, __, v: _run_year(v))
    #: Seed given to allocation policies for any random choice, so reruns give the same result.
    seed: int = 0


@attrs.define
class PluginsConfig:
    """``[plugins]``: local plugin modules, and strictness."""

    #: Paths of plugin modules, relative to rules.toml, for quick experiments.
    #: They run as code: rules.toml is trusted like a program (docs/security.md).
    modules: list[str] = attrs.Factory(list)
    #: Allow ``modules`` outside the rules file's folder (and its subfolders).
    #: Off, such a module is refused: a copied rules.toml cannot reach out to
    #: run code elsewhere on the machine without saying so here.
    allow_outside: bool = False
    #: Fail on any plugin that cannot be loaded (also ``--strict``).
    strict: bool = False
    #: Plugins to switch off by name (as ``salesrules plugins`` lists them), e.g.
    #: ``["salesrules.report"]`` to replace the built-in report with your own.
    disable: list[str] = attrs.Factory(list)


@attrs.define
class RulesConfig:
    """The whole of ``rules.toml``."""

    #: ``[data]``: where the export is and how to read each file.
    data: DataConfig = attrs.Factory(DataConfig)
    #: ``[funnel]``: the funnel's stages.
    funnel: FunnelConfig = attrs.Factory(FunnelConfig)
    #: ``[goals]``: level targets and how they are decomposed.
    goals: GoalsConfig = attrs.Factory(GoalsConfig)
    #: ``[allocation]``: how new leads are routed to reps.
    allocation: AllocationConfig = attrs.Factory(AllocationConfig)
    #: ``[checks.NAME]``: the checks to run, each with its params as keys of its
    #: table; ``enabled = false`` switches one off. Default: ``behind-pace``.
    checks: dict[str, Use] = attrs.Factory(lambda: {"behind-pace": Use("behind-pace")})
    #: ``[output]``: where and how results are written.
    output: OutputConfig = attrs.Factory(OutputConfig)
    #: ``[history]``: the run-history database.
    history: HistoryConfig = attrs.Factory(HistoryConfig)
    #: ``[run]``: defaults for ``salesrules run`` options.
    run: RunConfig = attrs.Factory(RunConfig)
    #: ``[plugins]``: local plugin modules, and strictness.
    plugins: PluginsConfig = attrs.Factory(PluginsConfig)

    # Set by loading, not keys of rules.toml (see RUNTIME_FIELDS).
    #: Folder relative paths are resolved against (that of rules.toml).
    base_dir: Path = attrs.field(default=Path("."), eq=False)
    #: Where the config came from.
    source: str = attrs.field(default="", eq=False)
    #: A digest of the config's bytes.
    digest: str = attrs.field(default="", eq=False)
    #: Warnings found while loading (deprecated keys), for the run to show.
    warnings: list[str] = attrs.field(factory=list, eq=False)

    @property
    def funnel_model(self) -> Funnel:
        return Funnel(tuple(self.funnel.stages))


#: Fields of :class:`RulesConfig` that loading sets; rules.toml cannot.
RUNTIME_FIELDS = ("base_dir", "source", "digest", "warnings")
