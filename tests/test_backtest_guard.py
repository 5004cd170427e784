"""``salesrules backtest --out``: the run's guard, checked before the replay, and files
replaced whole (written beside their name, then renamed over it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from backtest_export import make_history
from conftest import invoke

from salesrules.backtest.output import FILES


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("guard")
    make_history(folder, reps=8, quarters=1, leads=10)
    return folder


def _backtest(rules: Path, *more: str):
    return invoke("backtest", "--rules", str(rules), "--from", "2026-07-01", "--to",
                  "2026-07-15", *more)


def test_out_may_not_be_the_data_folder_given_by_data(export, tmp_path):
    data = shutil.copytree(export, tmp_path / "data")
    rules = tmp_path / "rules" / "rules.toml"
    rules.parent.mkdir()
    shutil.copy(export / "rules.toml", rules)  # data.dir names a folder that is not there
    before = sorted(p.name for p in data.iterdir())
    res = _backtest(rules, "--data", str(data), "--out", str(data), "--force")
    assert res.exit_code == 2, res.output
    assert "folder of the input" in res.output
    assert "replaying" not in res.output  # refused before the replay
    assert sorted(p.name for p in data.iterdir()) == before


def test_a_folder_of_other_files_needs_force(export, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    res = _backtest(export / "rules.toml", "--out", str(out), "-q")
    assert res.exit_code == 2 and "notes.txt" in res.output and "--force" in res.output
    assert not (out / FILES[0]).exists()
    res = _backtest(export / "rules.toml", "--out", str(out), "-q", "--force")
    assert res.exit_code == 0, res.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_files_are_replaced_by_rename_not_rewritten_in_place(export, tmp_path):
    out = tmp_path / "out"
    assert _backtest(export / "rules.toml", "--out", str(out), "-q").exit_code == 0
    first = {name: (out / name).stat().st_ino for name in FILES}
    kept = {name: (out / name).read_bytes() for name in FILES}
    (out / ".partial-backtest.csv").write_text("left by a killed backtest", encoding="utf-8")
    assert _backtest(export / "rules.toml", "--out", str(out), "-q").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    for name in FILES:  # a reader holding the old file still reads it whole
        assert (out / name).stat().st_ino != first[name]
        assert (out / name).read_bytes() == kept[name]
