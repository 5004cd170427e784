"""A deterministic fuzz generator: seeded mutations of an export and its rules.toml.

:func:`mutate` applies one to three mutations, drawn by a ``random.Random``
seeded with the seed and the case number, to a copy of an export: columns
dropped, renamed or duplicated; bad cells (wrong types, NaN, inf, huge
numbers, odd and impossible dates); NUL, invalid UTF-8 and stray BOMs; every
line-end style and delimiter; unbalanced quotes; ragged rows; empty,
header-only, truncated and junk files; legacy encodings; XLSX files written,
then truncated, renamed or asked for a missing sheet; bad rules.toml values,
missing keys and damaged TOML text.
"""

from __future__ import annotations

import csv
import io
import random
import tomllib
from collections.abc import Callable
from pathlib import Path

import tomli_w

TABLES = ("reps", "leads", "activity", "leave", "calls")
#: How often each table is picked: leads, reps and activity carry most of the logic.
TABLE_WEIGHTS = (3, 3, 3, 1, 1)

NUMBERS = ("abc", "", "NaN", "nan", "inf", "-inf", "Infinity", "1e309", "1e308", "-1", "-0",
           "99999999999999999999999999", "0x10", "1,234.5", "1.2.3", "½", " 12 ", "1e-400",
           "True", "١٢", "12%", "$5", "--1", "+-2")
DATES = ("2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "1900-01-01", "0001-01-01",
         "0000-01-01",
         "31/12/2026", "12/31/2026", "2026/11/25", "2026年11月25日", "0000年1月1日", "yesterday",
         "2026-11-25T25:61", "2026-11-25 24:00", "1970-01-01 00:00", "20261125", "-1",
         "2026-11-25T10:00:00+99:00", "2026-W48", "46000", "2026-11-25 10:00:00.123456789")
TEXTS = ("\x00", "R9999", "=cmd()", "a\nb", "\u202e", "x" * 5000, "'q'", "\ufeff", " ", "🙂",
         "\\", "\t", "P1 ", "p1", "None", "null", "是", "否")
VALUES = NUMBERS + DATES + TEXTS
JUNK_BYTES = (b"\x00", b"\xff\xfe\x80", b"\xc3(", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xff\xfe",
              b"\"", b"\r", b"\x1a", b"\xe4\xb8")


# ---- the export's files --------------------------------------------------------------------

def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        return list(csv.reader(f))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def _column(rng: random.Random, rows: list[list[str]]) -> int:
    return rng.randrange(len(rows[0])) if rows and rows[0] else 0


def drop_column(rng, path, rules):
    rows = _rows(path)
    j = _column(rng, rows)
    _write_rows(path, [r[:j] + r[j + 1:] for r in rows])


def rename_column(rng, path, rules):
    rows = _rows(path)
    j = _column(rng, rows)
    name = rows[0][j] if rows and rows[0] else ""
    other = rng.choice(rows[0]) if rows and rows[0] else ""
    new = rng.choice(("", name + "_x", name.upper(), f" {name} ", other, "名字", "\ufeff" + name,
                      name + "\x00", f'"{name}'))
    if rows and rows[0]:
        rows[0][j] = new
    _write_rows(path, rows)


def duplicate_column(rng, path, rules):
    rows = _rows(path)
    j = _column(rng, rows)
    _write_rows(path, [r + [r[j]] if j < len(r) else r for r in rows])


def bad_cells(rng, path, rules):
    rows = _rows(path)
    for _ in range(rng.randint(1, 3)):
        if len(rows) > 1:
            r = rows[rng.randrange(1, len(rows))]
            if r:
                r[rng.randrange(len(r))] = rng.choice(VALUES)
    _write_rows(path, rows)


def bad_column(rng, path, rules):
    """One value in every row of a column: a whole column of the wrong type."""
    rows = _rows(path)
    j, value = _column(rng, rows), rng.choice(VALUES)
    _write_rows(path, rows[:1] + [r[:j] + [value] + r[j + 1:] for r in rows[1:]])


def duplicate_rows(rng, path, rules):
    rows = _rows(path)
    extra = [rng.choice(rows[1:]) for _ in range(rng.randint(1, 5))] if len(rows) > 1 else []
    _write_rows(path, rows + extra)


def ragged_rows(rng, path, rules):
    rows = _rows(path)
    for _ in range(rng.randint(1, 4)):
        if rows:
            r = rows[rng.randrange(len(rows))]
            if rng.random() < 0.5:
                r.append(rng.choice(VALUES))
            elif r:
                r.pop()
    _write_rows(path, rows)


def insert_bytes(rng, path, rules):
    data = path.read_bytes()
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        if rng.random() < 0.4:  # at the start of a line
            at = data.rfind(b"\n", 0, at) + 1
        data = data[:at] + rng.choice(JUNK_BYTES) + data[at:]
    path.write_bytes(data)


def line_ends(rng, path, rules):
    text = path.read_bytes().replace(b"\r\n", b"\n")
    style = rng.choice(("cr", "crlf", "mixed", "blank", "no-final", "lfcr"))
    if style == "cr":
        text = text.replace(b"\n", b"\r")
    elif style == "crlf":
        text = text.replace(b"\n", b"\r\n")
    elif style == "lfcr":
        text = text.replace(b"\n", b"\n\r")
    elif style == "mixed":
        text = b"".join(line + rng.choice((b"\n", b"\r\n", b"\r"))
                        for line in text.split(b"\n")[:-1])
    elif style == "blank":
        lines = text.split(b"\n")
        lines.insert(rng.randrange(len(lines)), b"")
        text = b"\n".join(lines) + b"\n\n\n"
    else:
        text = text.rstrip(b"\n")
    path.write_bytes(text)


def other_delimiter(rng, path, rules):
    rows = _rows(path)
    buf = io.StringIO()
    csv.writer(buf, delimiter=rng.choice(";\t|"), lineterminator=rng.choice(("\n", "\r\n"))
               ).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def unbalanced_quote(rng, path, rules):
    lines = path.read_text(encoding="utf-8-sig", errors="replace").split("\n")
    i = rng.randrange(len(lines))
    cells = lines[i].split(",")
    k = rng.randrange(len(cells))
    cells[k] = rng.choice(('"', '"' + cells[k], cells[k] + '"', '"' + cells[k] + '"x'))
    lines[i] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")


def empty_file(rng, path, rules):
    head = path.read_bytes().split(b"\n", 1)[0]
    path.write_bytes(rng.choice((b"", b"\n", b"\xef\xbb\xbf", b" \n\n", head, head + b"\n",
                                 b"\n" + head + b"\n", b",,,\n")))


def junk_file(rng, path, rules):
    data = path.read_bytes()
    choice = rng.random()
    if choice < 0.4:
        data = rng.randbytes(rng.randint(1, 4000))
    elif choice < 0.7:
        data = data + rng.randbytes(rng.randint(1, 200))
    else:
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.randbytes(rng.randint(1, 50)) + data[at:]
    path.write_bytes(data)


def truncate(rng, path, rules):
    data = path.read_bytes()
    path.write_bytes(data[:rng.randrange(len(data) + 1)])


def remove_file(rng, path, rules):
    path.unlink()


def legacy_encoding(rng, path, rules):
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    enc = rng.choice(("utf-16", "utf-16-le", "latin-1", "gb18030", "utf-32"))
    path.write_bytes(text.replace("Kai", "Kaï").replace("East", "东").encode(enc, "replace"))


def _table(rules: dict, path: Path) -> dict:
    return next(t for t in rules["data"].values()
                if isinstance(t, dict) and t.get("file") == path.name)


def to_xlsx(rng, path, rules):
    """Write the file as a workbook, then perhaps break it."""
    import openpyxl

    rows = _rows(path)
    xlsx = path.with_suffix(".xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "export"
    for r in rows:
        ws.append([_typed(rng, c) for c in r])
    wb.save(xlsx)
    path.unlink()
    table = _table(rules, path)
    table["file"] = xlsx.name
    damage = rng.choice(("none", "truncate", "sheet", "junk-zip", "csv-renamed", "legacy-xls",
                         "empty-sheet", "wrong-ext"))
    data = xlsx.read_bytes()
    if damage == "truncate":
        xlsx.write_bytes(data[:rng.randrange(len(data))])
    elif damage == "sheet":
        table["sheet"] = rng.choice(("missing", "", "Sheet1", "EXPORT"))
    elif damage == "junk-zip":
        import zipfile

        with zipfile.ZipFile(xlsx, "w") as z:
            z.writestr(rng.choice(("a.txt", "xl/workbook.xml", "[Content_Types].xml")), b"junk")
    elif damage == "csv-renamed":
        _write_rows(xlsx, rows)
    elif damage == "legacy-xls":
        legacy = xlsx.with_suffix(".xls")
        legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(600))
        xlsx.unlink()
        table["file"] = legacy.name
    elif damage == "empty-sheet":
        wb = openpyxl.Workbook()
        wb.active.title = "export"
        wb.save(xlsx)
    elif damage == "wrong-ext":
        renamed = xlsx.with_suffix(".csv")
        xlsx.rename(renamed)
        table["file"] = renamed.name


def _typed(rng: random.Random, cell: str):
    """A cell as a workbook would hold it: mostly the text, sometimes a number or a date."""
    import datetime as dt

    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if rng.random() < 0.02:
        return rng.choice((1e308, -1, 0, 3.5, dt.datetime(1900, 1, 1), dt.date(9999, 12, 31),
                           True, "", None, "#N/A"))
    try:
        return float(cell) if cell.replace(".", "", 1).isdigit() else (
            ILLEGAL_CHARACTERS_RE.sub("", cell))  # a sheet cannot hold control characters
    except ValueError:
        return cell


FILE_MUTATIONS: tuple[Callable, ...] = (
    drop_column, rename_column, duplicate_column, bad_cells, bad_cells, bad_cells, bad_column,
    duplicate_rows, ragged_rows, insert_bytes, insert_bytes, line_ends, line_ends, other_delimiter,
    unbalanced_quote, empty_file, junk_file, truncate, remove_file, legacy_encoding, to_xlsx,
    to_xlsx)


# ---- rules.toml ------------------------------------------------------------------------------

BAD_NUMBERS = (float("inf"), float("-inf"), float("nan"), -1, 0, 1e308, 2**63 - 1, -2**63,
               "lots", True, [1], {"a": 1}, 1e-320)


def _set(rules: dict, keys: tuple[str, ...], value) -> None:
    node = rules
    for k in keys[:-1]:
        node = node.setdefault(k, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node[keys[-1]] = value


RULE_EDITS: tuple[tuple[tuple[str, ...], tuple], ...] = (
    (("goals", "levels", "P1", "revenue"), BAD_NUMBERS),
    (("goals", "levels", "P2", "dials"), BAD_NUMBERS),
    (("goals", "levels", "P9"), ({"revenue": 5}, {}, {"nope": 3}, 7)),
    (("goals", "levels"), ({}, "P1", [])),
    (("goals", "calendar", "country"), ("ZZ", "CN", "US", "", "cn", 5)),
    (("goals", "calendar", "subdiv"), ("ZZ", "CA", "", "11")),
    (("goals", "calendar"), ({"country": "US", "subdiv": "ZZ"}, {"country": "CN", "subdiv": "x"},
                             {"country": "US", "subdiv": "CA"}, {"country": "DE", "subdiv": "BY"},
                             {"country": "CN", "weekdays": ["Sat"]}, {"subdiv": "CA"})),
    (("goals", "calendar", "weekdays"), ([], ["Funday"], ["Sat", "Sun"], "Mon", ["Mon"] * 9)),
    (("goals", "calendar", "holidays"), (["2026-11-25"], ["2026-02-30"], [1], "x")),
    (("goals", "period"), ("year", "month", "", 3)),
    (("goals", "split"), ("nope", {"strategy": "even", "params": {"per": "x"}}, 5)),
    (("goals", "funnel"), ("nope", {"strategy": "personal", "params": {"lookback_days": -1}})),
    (("goals", "fiscal_year_start"), (0, 13, 4, float("nan"))),
    (("goals", "ramp"), ([-1], [float("inf")], [0.5, 0.8], ["a"])),
    (("goals", "feasible_quantile"), (2, -1, float("nan"), 0, 1)),
    (("goals", "confidence"), (1.5, 0, float("inf"), 0.8)),
    (("goals", "tiers"), ([], [{"name": "x", "multiplier": 0}], [{"multiplier": 1}],
                          [{"name": "x", "multiplier": float("inf")}],
                          [{"name": "x", "multiplier": 1e300}])),
    (("allocation", "rules"), ([], [{"policy": "nope"}], [{"when": "((("}],
                               [{"when": "value > 'abc'"}], [{"teams": ["Nope"]}],
                               [{"reps": ["R9999"]}], [{"when": "region == 'East'"}],
                               [{"policy": "balanced", "params": {"by": "x"}}])),
    (("allocation", "window_days"), (0, -1, 10**9)),
    (("allocation", "dedupe_on"), ([], ["nonexistent"], "phone")),
    (("allocation", "recycle", "after_days"), (0, 10**9, float("nan"))),
    (("allocation", "self_sourced_teams"), (["East", "West", "North", "South"], ["Nope"])),
    (("data", "encoding"), ("latin-1", "utf-8", "gb18030", "")),
    (("data", "max_errors"), (0, -1, 1, 10**12)),
    (("data", "dir"), ("nope", "/", "..", "")),
    (("data", "leads", "file"), ("missing.csv", "", "reps.csv", "rules.toml", ".")),
    (("data", "reps", "columns", "id"), ("nope", "", "name")),
    (("data", "leads", "columns"), ({"value": "nope"}, {"owner": "lead_id"}, [])),
    (("data", "activity", "sheet"), ("x",)),
    (("data", "leads", "delimiter"), ("|", ";", "tab", "\t", "", "::", 5, ["|"])),
    (("data", "calls", "params"), ({"min_seconds": -1}, {"connect_by": "x"}, {"nope": 1})),
    (("run", "as_of"), ("1900-01-01", "9999-12-31", "0001-01-01", "0001-03-31", "9999-10-01",
                       "2026-02-30", "x", 5)),
    (("run", "seed"), (-1, 2**63 - 1, "x")),
    (("checks", "behind-pace", "warn_gap"), BAD_NUMBERS),
    (("checks", "zero-streak", "min_days"), (0, -1, 10**9)),
    (("checks", "nope"), ({},)),
    (("output", "day_targets"), ("period", "x")),
    (("nope",), (1,)),
)


def edit_rules(rng, rules):
    keys, values = rng.choice(RULE_EDITS)
    _set(rules, keys, rng.choice(values))
    return ".".join(keys)


def delete_rule(rng, rules):
    table = rng.choice(("data", "goals", "allocation", "checks", "output"))
    section = rules.get(table)
    if isinstance(section, dict) and section:
        key = rng.choice(sorted(section))
        del section[key]
        return f"{table}.{key}"
    return table


RULES_MUTATIONS = (edit_rules, edit_rules, edit_rules, delete_rule)


def damage_rules_text(rng: random.Random, path: Path) -> None:
    """Truncated TOML, a junk byte, CRLF or CR line ends, a BOM, or junk for a file."""
    data, at = path.read_bytes(), rng.randrange(len(path.read_bytes()) + 1)
    path.write_bytes(rng.choice((
        data[:at], data[:at] + rng.choice(JUNK_BYTES) + data[at:], data.replace(b"\n", b"\r\n"),
        data.replace(b"\n", b"\r"), b"\xef\xbb\xbf" + data, rng.randbytes(rng.randint(0, 300)))))


# ---- one case ----------------------------------------------------------------------------------

def mutate(folder: Path, seed: str, case: int) -> list[str]:
    """Apply case ``case``'s mutations to the export in ``folder``; return what was done."""
    rng = random.Random(f"{seed}:{case}")
    rules_path = folder / "rules.toml"
    rules = tomllib.loads(rules_path.read_text(encoding="utf-8"))
    done = []
    for _ in range(rng.choices((1, 2, 3), (6, 3, 1))[0]):
        if rng.random() < 0.7:
            name = rng.choices(TABLES, TABLE_WEIGHTS)[0]
            table = rules["data"].get(name)
            path = folder / table["file"] if isinstance(table, dict) else None
            if path is None or not path.is_file() or path.suffix != ".csv":
                continue
            fn = rng.choice(FILE_MUTATIONS)
            fn(rng, path, rules)
            done.append(f"{fn.__name__}({name})")
        else:
            fn = rng.choice(RULES_MUTATIONS)
            done.append(f"{fn.__name__}({fn(rng, rules)})")
    rules_path.write_text(tomli_w.dumps(rules), encoding="utf-8")
    if rng.random() < 0.05:
        damage_rules_text(rng, rules_path)
        done.append("damage_rules_text")
    return done

