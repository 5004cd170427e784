"""Shared fixtures: small realistic exports made by the project's own generator."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from salesrules.cli import main
from salesrules.sample import SampleSpec, generate, rules_for

ROOT = Path(__file__).resolve().parents[1]

# Child processes (the real ``salesrules`` executable, plugin test runs) keep their compiled
# bytecode in one cache for the whole suite. Where PYTHONDONTWRITEBYTECODE is set, as on this
# project's CI machines, every child would otherwise compile the ~500 modules a run imports
# again, about a second of CPU each time; the cache lives in .pytest_cache (git-ignored).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / ".pytest_cache" / "pycache"))


def make_export(folder: Path, **spec) -> Path:
    """Generate an export into ``folder`` with a matching rules.toml; return the rules path."""
    s = SampleSpec(**{"reps": 14, "days": 70, "leads": 80, "seed": 3, **spec})
    files = generate(folder, s)
    rules = folder / "rules.toml"
    rules.write_text(tomli_w.dumps(rules_for(files, s.chinese)), encoding="utf-8")
    return rules


@pytest.fixture(scope="session")
def export_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    make_export(folder)
    return folder


@pytest.fixture
def export(export_template, tmp_path) -> Path:
    """A fresh copy of a small generated export, with its rules.toml; returns the folder."""
    dest = tmp_path / "export"
    shutil.copytree(export_template, dest)
    return dest


def invoke(*args: str, cwd: Path | None = None):
    """Run the CLI in-process."""
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args), catch_exceptions=False)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def cli(*args: str, cwd: Path | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``salesrules`` executable in a subprocess."""
    exe = Path(sys.executable).with_name("salesrules")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=300)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def edit_rules(rules: Path, fn) -> None:
    import tomllib

    data = tomllib.loads(rules.read_text(encoding="utf-8"))
    fn(data)
    rules.write_text(tomli_w.dumps(data), encoding="utf-8")


def install_package(pkg: Path, target: Path) -> None:
    """Really ``pip install`` a package folder into ``target``, offline (its build backend is
    here)."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(pkg)],
                   check=True, capture_output=True, timeout=300)


def run_package_tests(pkg: Path, site: Path) -> subprocess.CompletedProcess:
    """Run a package's own tests with ``site`` (where it was installed) on the path."""
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(pkg / "tests")], cwd=pkg, env=env, capture_output=True,
                          text=True, timeout=300)


def set_cell(path: Path, line: int, column: int, value: str) -> None:
    """Replace one cell of a simple CSV file (``line`` 1 is the header)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[line - 1].split(",")
    cells[column] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
