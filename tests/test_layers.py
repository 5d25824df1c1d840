"""Imports between pinads' packages point one way: down the layers below, never up or sideways.

Every module under src/pinads is parsed (not imported) and each `import pinads...` or
`from ... import` that reaches another pinads package is checked, function-level and
TYPE_CHECKING imports included: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Bottom to top. A package may import only packages of a lower layer; packages of one layer
# stay independent of each other. `pinads` is the root module (its version string only).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("values", "pinads"),  # value types shared by all: tables, write modes, dates, schedules
    ("errors",),  # the exception tree
    ("settings", "secret_urls", "process"),  # environment; secret URLs; process switches
    ("catalog", "load"),  # what Pinterest offers (no I/O); where rows land (no HTTP)
    ("api",),  # the Pinterest HTTP client
    ("sources",),  # a source's config and its validation against the catalog
    ("extract",),  # plan and fetch a source's rows as Arrow batches
    ("state",),  # the control database and secrets at rest
    ("auth",),  # authorizers: OAuth flows over api, stored by state
    ("notify",),  # notifications: webhooks and email, channels stored by state
    ("runner",),  # the one place that composes extract, load, state and auth into a run
    ("schedule",),  # what is due and when
    ("singer", "web"),  # interfaces over the runner
    ("cli",),  # the commands, and the entry points that set the process-wide switches
    ("__main__",),  # `python -m pinads`
)
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}

# The emulator is a test double of Pinterest's API: it imports nothing of the client side.
EMULATOR = "emulator"

# Packages only named modules may import, and why: the emulator only by the CLI commands that
# serve it (`pinads emulator`, `pinads demo`); the process-wide switches (the collector, Arrow's
# allocator) only by the entry point, as the web server runs several extractions in one process
# and no library module may flip them under the others.
RESTRICTED: dict[str, tuple[frozenset[str], str]] = {
    EMULATOR: (
        frozenset({"pinads.cli.emulator_cmd", "pinads.cli.demo_cmd"}),
        "only the emulator and demo CLI commands may use the emulator",
    ),
    "process": (
        frozenset({"pinads.cli"}),
        "only the entry point (pinads.cli) sets process-wide switches",
    ),
}


@dataclass(frozen=True)
class Violation:
    where: str
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.importer} imports {self.imported} ({self.reason})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """`pinads.extract.plan` -> `extract`; `pinads.errors` -> `errors`; `pinads` -> `pinads`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pinads"


def imported_modules(tree: ast.Module, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of pinads in the tree, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base]
            if base == "pinads":  # `from pinads import errors` names a module, `__version__` not
                names = [f"pinads.{a.name}" for a in node.names if _is_module(a.name)] or [base]
            found += [(node.lineno, name) for name in names]
    return [(line, name) for line, name in found if name == "pinads" or name.startswith("pinads.")]


def _is_module(name: str) -> bool:
    root = SRC / "pinads"
    return (root / f"{name}.py").is_file() or (root / name).is_dir()


def check_module(source: str, module: str, where: str, *, is_package: bool) -> list[Violation]:
    importer = package_of(module)
    tree = ast.parse(source)
    violations = []
    for line, target in imported_modules(tree, module, is_package=is_package):
        imported = package_of(target)
        if imported == importer:
            continue
        reason = _refusal(module, importer, imported)
        if reason:
            violations.append(Violation(f"{where}:{line}", importer, imported, reason))
    return violations


def _refusal(module: str, importer: str, imported: str) -> str | None:
    if importer == EMULATOR:
        return "the emulator imports nothing of the client side"
    if imported in RESTRICTED:
        importers, why = RESTRICTED[imported]
        return None if module in importers else why
    for package in (importer, imported):
        if package not in RANK:
            return f"package {package!r} has no layer: add it to LAYERS in tests/test_layers.py"
    if RANK[imported] == RANK[importer]:
        return "same layer: sideways"
    if RANK[imported] > RANK[importer]:
        return "higher layer: upward"
    return None


def all_violations() -> list[Violation]:
    violations = []
    for path in sorted((SRC / "pinads").rglob("*.py")):
        where = str(path.relative_to(SRC.parent))
        violations += check_module(
            path.read_text(encoding="utf-8"),
            module_name(path),
            where,
            is_package=path.name == "__init__.py",
        )
    return violations


def test_no_import_goes_up_or_sideways() -> None:
    violations = all_violations()
    assert not violations, "imports against the layers:\n" + "\n".join(map(str, violations))


def test_every_package_has_a_layer() -> None:
    packages = {
        package_of(module_name(path))
        for path in (SRC / "pinads").rglob("*.py")
        if package_of(module_name(path)) != EMULATOR
    }
    assert packages - set(RANK) == set()
    assert set(RANK) - packages == set(), "LAYERS names a package that no longer exists"


def test_values_imports_nothing_of_pinads() -> None:
    imports = [
        (path, target)
        for path in (SRC / "pinads" / "values").rglob("*.py")
        for _, target in imported_modules(
            ast.parse(path.read_text(encoding="utf-8")),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
        if package_of(target) != "values"
    ]
    assert imports == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "pinads.extract.plan",
            "def f():\n    from pinads.runner.core import RunResult\n",
            "src/x.py:2: extract imports runner (higher layer: upward)",
        ),
        (
            "pinads.extract.plan",
            "from pinads.load import open_destination\n",
            None,
        ),
        (
            "pinads.catalog.model",
            "import pinads.load.spec\n",
            "src/x.py:1: catalog imports load (same layer: sideways)",
        ),
        (
            "pinads.api.http",
            "from pinads import __version__, settings\n",
            None,
        ),
        (
            "pinads.api.http",
            "from pinads import runner\n",
            "src/x.py:1: api imports runner (higher layer: upward)",
        ),
        (
            "pinads.values.table",
            "from pinads import errors\n",
            "src/x.py:1: values imports errors (higher layer: upward)",
        ),
        (
            "pinads.state.sealing",
            "from ..auth import flow\n",
            "src/x.py:1: state imports auth (higher layer: upward)",
        ),
        (
            "pinads.web.app",
            "from pinads.emulator import create_app\n",
            "src/x.py:1: web imports emulator "
            "(only the emulator and demo CLI commands may use the emulator)",
        ),
        (
            "pinads.cli.demo_cmd",
            "from pinads.emulator import create_app\n",
            None,
        ),
        (
            "pinads.web.app",
            "from pinads.process import tune_process\n",
            "src/x.py:1: web imports process "
            "(only the entry point (pinads.cli) sets process-wide switches)",
        ),
        (
            "pinads.cli",
            "from pinads.process import tune_process\n",
            None,
        ),
        (
            "pinads.emulator.app",
            "from pinads.catalog import DATASETS\n",
            "src/x.py:1: emulator imports catalog "
            "(the emulator imports nothing of the client side)",
        ),
    ],
)
def test_the_check_names_file_line_and_packages(
    module: str, source: str, expected: str | None
) -> None:
    found = [str(v) for v in check_module(source, module, "src/x.py", is_package=False)]
    assert found == ([expected] if expected else [])


def test_the_command_line_loads_no_web_server() -> None:
    """`pinads run` and every other command but `serve` start without FastAPI, the pages and
    the metrics registry: the CLI imports only light modules of `pinads.web` (users, roles)."""
    code = (
        "import sys\n"
        "import pinads.cli\n"
        "heavy = {'fastapi', 'starlette', 'jinja2', 'prometheus_client', 'pinads.web.app'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
