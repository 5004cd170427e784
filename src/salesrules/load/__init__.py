"""Load: read the export's files through the configured data sources."""

from __future__ import annotations

from pathlib import Path

from ..components import Source
from ..config import RulesConfig, Use
from ..errors import DataError, Problems
from ..plugins import Registry
from ..resolve import Bound, resolve
from .dataset import CallStats, Dataset, DatasetBuilder, InputFile, InputRecord, file_record

__all__ = ["CallStats", "Dataset", "DatasetBuilder", "InputFile", "InputRecord", "load_dataset",
           "resolve_sources"]


def resolve_sources(cfg: RulesConfig, registry: Registry,
                    problems: Problems) -> list[tuple[str, Bound]]:
    out = []
    for name, table in cfg.data.tables.items():
        use = Use(table.source or name, table.params)
        bound = resolve(registry, "source", use, ["data", name],
                        problems, name_key="source")
        if bound is not None:
            out.append((name, bound))
    return out


def data_dir(cfg: RulesConfig, override: Path | None) -> Path:
    if override is not None:
        return override
    return (cfg.base_dir / cfg.data.dir).resolve()


def load_dataset(cfg: RulesConfig, sources: list[tuple[str, Bound]], folder: Path,
                 on_file=None) -> Dataset:
    """Read every configured file. Raises :class:`DataError` with every bad cell found."""
    problems = Problems(cfg.data.max_errors)
    builder = DatasetBuilder(cfg.funnel_model, problems)
    files: list[tuple[str, Bound, InputFile]] = []
    for name, bound in sources:
        table = cfg.data.tables[name]
        path = folder / table.file
        display = table.file if not Path(table.file).is_absolute() else str(path)
        if not path.is_file():
            problems.add(f"data.{name}.file", f"no such file: {path}")
            continue
        files.append((name, bound, InputFile(
            name, path, display, table.columns, table.encoding or cfg.data.encoding,
            table.sheet, bound.component.params, problems, table.delimiter)))
    inputs: list[InputRecord] = []
    for name, bound, file in files:
        if on_file is not None:
            on_file(name, file.path)
        source = bound.component
        assert isinstance(source, Source)  # resolved as a source
        bound.call(source.read, file, builder)
        file.finish()
        inputs.append(file_record(name, file, bound.name, folder))
    if not problems:
        builder.run_after()
    builder.check_leads()  # a lead id read twice, across files too
    if not builder.reps and not problems:
        problems.add("data", "no reps were loaded: add a [data.reps] file")
    problems.raise_if_any(DataError, "the export has problems:")
    return builder.build(inputs)
