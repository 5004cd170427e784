"""``salesrules new-plugin``: a complete plugin
package from the templates shipped with salesrules."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from . import HOOK_CONTRACT, __version__
from .errors import UserError

KINDS = {
    "allocation": ("allocation policy", "policy = \"{c}\"",
                   "[[allocation.rules]]\nname = \"all leads\"\npolicy = \"{c}\"\n"
                   "params = {{ max_per_rep = 20 }}"),
    "goals": ("time split", "split = \"{c}\"",
              "[goals]\nsplit = {{ strategy = \"{c}\", params = {{ first_month = 1.5 }} }}"),
    "check": ("check", "[checks.{c}]", "[checks.{c}]\nstage = \"dials\"\nbelow_median = 0.5"),
}


def _render(name: str, **values: str) -> str:
    text = resources.files("salesrules").joinpath("templates", "plugin", name).read_text("utf-8")
    return Template(text).substitute(values)


def new_plugin(name: str, kind: str, parent: Path) -> Path:
    """Write a plugin package into ``parent/name`` and return its folder."""
    if not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", name):
        raise UserError(f"plugin name {name!r}: use lower-case letters, digits and dashes, "
                        "starting with a letter (e.g. acme-dialect)")
    if kind not in KINDS:
        raise UserError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    dest = parent / name
    if dest.exists():
        raise UserError(f"{dest} already exists; choose another name or remove it")
    module = name.replace("-", "_")
    words = re.split(r"[-_]", name)
    class_name = "".join(w.capitalize() for w in words)
    what, _, toml = KINDS[kind]
    values = {
        "dist": name, "module": module, "component": name, "class_name": class_name,
        "contract": HOOK_CONTRACT, "salesrules_version": __version__,
        "summary": f"A salesrules {what}: {name}.",
        "toml": toml.format(c=name),
    }
    files = {
        "pyproject.toml": _render("pyproject.toml.tmpl", **values),
        "README.md": _render("README.md.tmpl", **values),
        f"src/{module}/__init__.py": _render(f"{kind}.py.tmpl", **values),
        f"tests/test_{module}.py": _render(f"test_{kind}.py.tmpl", **values),
    }
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dest
