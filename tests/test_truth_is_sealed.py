"""Evaluation never peeks (DESIGN.md, principle 4).

The embedded world knows the true demand curves and the true profit and loss. Only evaluation code
may read them; models and agents see what a real shop sees: the landing zone and, for agents, the
commerce systems' APIs through one adapter.

Static policy, checked on the source of every platform module (``ast``, so comments and prose do not count):

- ``evaluation/`` (the benchmarks and oracle comparisons) is the only package that may read the truth;
- every other platform package imports only what its role needs from ``commerce_sim``, in any form
  (``import x``, ``from x import y``, ``from commerce_sim import truth``, ``importlib.import_module("x")``,
  ``__import__``, or a dotted module name in a string): ``orchestration/`` runs the world
  (``simulator``, ``scenario``, ``export``); ``agents/dispatch/adapters/embedded.py`` — the one module of
  ``agents/`` that reaches the embedded systems — may import ``commerce_sim.systems`` (and ``scenario``);
  ``data_quality/``, ``ml/`` and the rest of ``agents/`` import nothing from ``commerce_sim``. The modules
  that hold or compute the truth (``SEALED_MODULES``) are reported as sealed;
- no platform module names the truth directory (a ``truth`` path component in a string, ``TRUTH_DIR``,
  ``truth_dir``, ``GroundTruth``) or reaches into the simulator's true parameters (``.world.params``);
- no platform module plays attribute tricks to get from a systems object (or a simulator) to the
  world behind it: ``.state``, ``.simulator`` (``paths.simulator``, a directory, is fine), the
  systems' private handles (``._sim``, ``._state``, ``._world``, ``_WORLDS``), ``getattr`` /
  ``setattr`` / ``hasattr`` / ``delattr`` with those names or any private name, ``vars()``,
  ``__dict__``, ``__globals__``, ``__closure__``, ``gc`` and ``inspect.getmembers``.

At runtime: the landing zone the simulator writes holds no truth column in any file, and the
systems object exposes nothing that leads to the simulator or its state.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commerce_sim.simulator import Simulator
from commerce_sim.state import SimState
from commerce_sim.systems import CommerceSystems
from commerce_sim.truth import GroundTruth
from commerce_sim.world import World

REPO = Path(__file__).resolve().parents[1]
PLATFORM_PACKAGES = ("orchestration", "data_quality", "ml", "agents", "evaluation")
EVALUATION_MODULES = ("evaluation/*",)
ADAPTER_MODULE = "agents/dispatch/adapters/embedded.py"
SEALED_MODULES = tuple(f"commerce_sim.{m}" for m in (
    "truth", "state", "world", "demand", "day", "ledger", "market", "marketing", "fulfilment", "inventory",
    "replenishment", "streams", "records"))
ALLOWED_SIMULATOR_MODULES = {
    "orchestration": ("commerce_sim.simulator", "commerce_sim.scenario", "commerce_sim.export"),
    "data_quality": (),
    "ml": (),
    "agents": (),
}
ADAPTER_ALLOWED = ("commerce_sim.systems", "commerce_sim.scenario")
IMPORT_FUNCTIONS = {"import_module", "__import__", "find_spec", "import_from_string"}
TRUTH_IDENTIFIERS = {"TRUTH_DIR", "truth_dir", "GroundTruth", "TruthWriter"}
DOTTED_MODULE = re.compile(r"^commerce_sim(\.[A-Za-z_]\w*)+$")
SIMULATOR_PATH = re.compile(r"commerce_sim[/\\](truth|state|world|demand|ledger)(\.py|[/\\])")
SEALED_ATTRIBUTES = {"state", "simulator", "_sim", "_state", "_world", "_WORLDS", "_streams", "_lock"}
DUNDER_TRICKS = {"__dict__", "__globals__", "__closure__", "__getattribute__", "__code__"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}
INTROSPECTION_CALLS = {"vars", "getmembers", "getmembers_static", "getclosurevars", "get_referrers", "get_referents",
                       "get_objects"}
PATH_HOLDERS = {"paths"}  # ``paths.simulator`` is the simulator's directory in the data layout
TRUTH_COLUMNS = {
    "own_elasticity", "cross_elasticity", "competitor_elasticity", "promo_lift", "expected_units", "demand_units",
    "lost_units", "log_base", "cross_term", "reference_log_price", "own_term", "reference_term", "promo_term",
    "dip_term", "local_elasticity", "remote_units", "regional_stockout", "amount_cents",
}


# ----------------------------------------------------------------------------- the detector
def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def is_evaluation_module(relative_path: str) -> bool:
    return any(fnmatch.fnmatch(relative_path, pattern) for pattern in EVALUATION_MODULES)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                    first.value.value, str):
                ids.add(id(first.value))
    return ids


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file imports or names for import, with its line: static and dynamic forms."""
    found: list[tuple[int, str]] = []
    aliases = {name for name in IMPORT_FUNCTIONS}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "importlib":
            aliases |= {a.asname or a.name for a in node.names if a.name in IMPORT_FUNCTIONS}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                found.append((node.lineno, node.module if alias.name == "*" else f"{node.module}.{alias.name}"))
        elif isinstance(node, ast.Call) and _call_name(node) in aliases and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED_MODULE.match(node.value):
            found.append((node.lineno, node.value))  # a module name kept in a string, e.g. for importlib
    return found


def _names_truth_directory(text: str) -> bool:
    components = [part.strip().lower() for part in re.split(r"[/\\]", text)]
    return "truth" in components or bool(SIMULATOR_PATH.search(text))


def _last_name(node: ast.AST) -> str | None:
    """The name an attribute is read from: ``paths`` for ``paths.x`` and for ``platform.paths.x``."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _attribute_tricks(tree: ast.AST, relative_path: str) -> list[str]:
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            receiver = _last_name(node.value)
            if node.attr in SEALED_ATTRIBUTES and not (node.attr == "simulator" and receiver in PATH_HOLDERS):
                problems.append(f"{relative_path}:{node.lineno}: reaches for the world behind an object: .{node.attr}")
            elif node.attr in DUNDER_TRICKS:
                problems.append(f"{relative_path}:{node.lineno}: introspects objects: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id == "_WORLDS":
            problems.append(f"{relative_path}:{node.lineno}: reaches for the world behind an object: _WORLDS")
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name in ATTRIBUTE_FUNCTIONS and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                    and isinstance(node.args[1].value, str):
                attribute = node.args[1].value
                if attribute in SEALED_ATTRIBUTES or attribute.startswith("_"):
                    problems.append(f"{relative_path}:{node.lineno}: reaches for the world behind an object: "
                                    f"{name}(..., {attribute!r})")
            elif name in INTROSPECTION_CALLS:
                problems.append(f"{relative_path}:{node.lineno}: introspects objects: {name}()")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if "gc" in modules:
                problems.append(f"{relative_path}:{node.lineno}: introspects objects: imports gc")
    return problems


def policy_violations(source: str, relative_path: str) -> list[str]:
    """Violations of the sealing policy in one platform module (path relative to the repo, with '/')."""
    if is_evaluation_module(relative_path):
        return []
    package = relative_path.split("/", 1)[0]
    adapter = relative_path == ADAPTER_MODULE
    allowed = ADAPTER_ALLOWED if adapter else ALLOWED_SIMULATOR_MODULES[package]
    where = relative_path if adapter else f"{package}/"
    tree = ast.parse(source, filename=relative_path)
    problems = []
    for line, module in imported_modules(tree):
        if not _within(module, ("commerce_sim",)):
            continue
        if _within(module, allowed):
            continue
        if _within(module, SEALED_MODULES):
            problems.append(f"{relative_path}:{line}: uses sealed module {module} (only evaluation code may)")
        else:
            problems.append(f"{relative_path}:{line}: {where} may not import {module} "
                            f"(allowed: {', '.join(allowed) or 'nothing from commerce_sim'})")
    docstrings = _docstring_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if _names_truth_directory(node.value) or node.value in TRUTH_IDENTIFIERS:
                problems.append(f"{relative_path}:{node.lineno}: names the sealed truth: {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in TRUTH_IDENTIFIERS:
            problems.append(f"{relative_path}:{node.lineno}: names the sealed truth: {node.id}")
        elif isinstance(node, ast.alias) and (node.asname or node.name).split(".")[-1] in TRUTH_IDENTIFIERS:
            problems.append(f"{relative_path}:{node.lineno}: imports the sealed truth: {node.name}")
        elif isinstance(node, ast.Attribute):
            if node.attr in TRUTH_IDENTIFIERS:
                problems.append(f"{relative_path}:{node.lineno}: names the sealed truth: .{node.attr}")
            elif node.attr == "params" and isinstance(node.value, ast.Attribute) and node.value.attr == "world":
                problems.append(f"{relative_path}:{node.lineno}: reads the true demand parameters (.world.params)")
    problems += _attribute_tricks(tree, relative_path)
    return sorted(set(problems))


def platform_modules() -> list[Path]:
    return sorted(p for package in PLATFORM_PACKAGES for p in (REPO / package).rglob("*.py")
                  if "__pycache__" not in p.parts)


# ----------------------------------------------------------------------------- the policy itself
def test_platform_modules_never_peek_at_the_truth():
    modules = platform_modules()
    assert REPO / "data_quality" / "contracts.py" in modules  # the scan really looks at the platform
    problems = []
    for path in modules:
        relative = path.relative_to(REPO).as_posix()
        problems += policy_violations(path.read_text(encoding="utf-8"), relative)
    assert not problems, "evaluation never peeks; these platform modules do:\n" + "\n".join(problems)


def test_every_platform_package_exists():
    for package in PLATFORM_PACKAGES:
        assert (REPO / package / "__init__.py").is_file(), package


# ----------------------------------------------------------------------------- the detector catches violations
VIOLATIONS = [
    ("agents/pricing.py", "import commerce_sim.truth", "sealed module commerce_sim.truth"),
    ("agents/pricing.py", "import commerce_sim.truth as t", "sealed module commerce_sim.truth"),
    ("ml/features.py", "from commerce_sim.truth import GroundTruth", "sealed module commerce_sim.truth"),
    ("ml/features.py", "from commerce_sim import truth", "sealed module commerce_sim.truth"),
    ("ml/features.py", "from commerce_sim import scenario, world", "sealed module commerce_sim.world"),
    ("ml/features.py", "def f():\n    from commerce_sim.demand import price_terms\n", "sealed module commerce_sim.demand"),
    ("data_quality/x.py", "import importlib\nimportlib.import_module('commerce_sim.truth')",
     "sealed module commerce_sim.truth"),
    ("data_quality/x.py", "from importlib import import_module as load\nload('commerce_sim.state')",
     "sealed module commerce_sim.state"),
    ("agents/x.py", "__import__('commerce_sim.world')", "sealed module commerce_sim.world"),
    ("agents/x.py", "SECRET = 'commerce_sim.demand'", "sealed module commerce_sim.demand"),
    ("orchestration/commands.py", "from commerce_sim.state import StateError", "sealed module commerce_sim.state"),
    ("orchestration/x.py", "import commerce_sim.orders", "orchestration/ may not import commerce_sim.orders"),
    ("orchestration/x.py", "import commerce_sim", "orchestration/ may not import commerce_sim"),
    ("agents/x.py", "from commerce_sim.simulator import Simulator", "agents/ may not import commerce_sim.simulator"),
    ("data_quality/x.py", "from commerce_sim.export import FILE_FORMATS", "may not import commerce_sim.export"),
    ("ml/forecast.py", "import commerce_sim", "ml/ may not import commerce_sim"),
    ("orchestration/x.py", "p = root / 'truth' / 'products.parquet'", "names the sealed truth: 'truth'"),
    ("orchestration/x.py", "p = root / 'sim/truth/products.parquet'", "names the sealed truth"),
    ("agents/x.py", "p = f'{root}/truth/daily/{day}.parquet'", "names the sealed truth"),
    ("ml/x.py", "open('commerce_sim/truth.py')", "names the sealed truth"),
    ("orchestration/x.py", "from commerce_sim.simulator import TRUTH_DIR", "imports the sealed truth: TRUTH_DIR"),
    ("orchestration/x.py", "where = simulator.truth_dir", "names the sealed truth: .truth_dir"),
    ("orchestration/x.py", "where = getattr(simulator, 'truth_dir')", "names the sealed truth: 'truth_dir'"),
    ("orchestration/x.py", "e = simulator.state.world.params.own_elasticity", "true demand parameters"),
    # reading the truth is evaluation's job, wherever else it would be convenient
    ("ml/evaluation.py", "from commerce_sim.truth import GroundTruth", "sealed module commerce_sim.truth"),
    ("ml/benchmark.py", "from commerce_sim.truth.outlook import Outlook", "sealed module commerce_sim.truth.outlook"),
    ("agents/pricing.py", "from commerce_sim.truth.oracle import oracle_prices", "sealed module commerce_sim.truth"),
    ("orchestration/x.py", "from commerce_sim.ledger import DayLedger", "sealed module commerce_sim.ledger"),
    ("orchestration/x.py", "from commerce_sim import streams", "sealed module commerce_sim.streams"),
    # only the adapter reaches the commerce systems
    ("agents/pricing.py", "from commerce_sim.systems import CommerceSystems",
     "agents/ may not import commerce_sim.systems"),
    ("orchestration/x.py", "from commerce_sim import systems", "orchestration/ may not import commerce_sim.systems"),
    ("ml/x.py", "import commerce_sim.systems", "ml/ may not import commerce_sim.systems"),
    (ADAPTER_MODULE, "from commerce_sim.simulator import Simulator", "may not import commerce_sim.simulator"),
    (ADAPTER_MODULE, "from commerce_sim.truth import GroundTruth", "sealed module commerce_sim.truth"),
    # attribute tricks on the systems object (or a simulator), in any module, the adapter included
    (ADAPTER_MODULE, "world = systems.simulator", "reaches for the world behind an object: .simulator"),
    ("agents/x.py", "s = systems.pricing.state", "reaches for the world behind an object: .state"),
    ("agents/x.py", "s = systems.pricing._sim.state", "reaches for the world behind an object: ._sim"),
    ("agents/x.py", "w = getattr(systems, 'simulator')", "getattr(..., 'simulator')"),
    ("agents/x.py", "w = getattr(systems.pricing, '_state')", "getattr(..., '_state')"),
    ("agents/x.py", "ok = hasattr(systems, '_anything')", "hasattr(..., '_anything')"),
    ("orchestration/x.py", "s = sim.state", "reaches for the world behind an object: .state"),
    ("agents/x.py", "from commerce_sim.systems import _WORLDS", "may not import commerce_sim.systems._WORLDS"),
    (ADAPTER_MODULE, "from commerce_sim.systems import _WORLDS\nw = _WORLDS[systems]", "_WORLDS"),
    ("agents/x.py", "inner = vars(systems.pricing)", "introspects objects: vars()"),
    ("agents/x.py", "inner = systems.pricing.__dict__", "introspects objects: .__dict__"),
    ("agents/x.py", "g = systems.pricing.set_price.__func__.__globals__", "introspects objects: .__globals__"),
    ("agents/x.py", "import gc\nrefs = gc.get_referrers(systems)", "imports gc"),
    ("agents/x.py", "import inspect\nm = inspect.getmembers(systems)", "introspects objects: getmembers()"),
]


@pytest.mark.parametrize(("path", "source", "expected"), VIOLATIONS, ids=[f"{p}:{s}" for p, s, _ in VIOLATIONS])
def test_the_detector_catches_a_violating_snippet(path, source, expected):
    problems = policy_violations(source, path)
    assert any(expected in problem for problem in problems), problems


ALLOWED = [
    ("orchestration/x.py", "from commerce_sim.simulator import Simulator\nfrom commerce_sim.scenario import "
                           "load_scenario\nimport commerce_sim.export as export"),
    ("orchestration/x.py", "state = paths.simulator / 'state'\nsim = Simulator.open(paths.simulator, paths.landing)"),
    ("orchestration/x.py", "sim = Simulator.open(platform.paths.simulator, platform.paths.landing)"),
    (ADAPTER_MODULE, "from commerce_sim.systems import CommerceSystems, Receipt\nimport commerce_sim.systems\n"
                     "systems = CommerceSystems.open(root, landing)\nr = systems.pricing.set_price('P1', 'web', 9.99, "
                     "idempotency_key='k')"),
    ("evaluation/model_benchmark.py", "from commerce_sim.truth import GroundTruth\ntruth = GroundTruth(root)"),
    ("evaluation/decisions.py", "from commerce_sim.truth.oracle import oracle_prices\nfrom commerce_sim.simulator "
                                "import Simulator\ns = sim.state\np = root / 'truth'"),
    ("evaluation/metrics/world.py", "import commerce_sim.world\nfrom commerce_sim import demand"),
    ("agents/x.py", '"""The sealed truth/ directory is never read here."""\nx = 1'),
    ("ml/x.py", "def f():\n    '''See commerce_sim/truth.py for why.'''\n    return 'the truth is out there'"),
    ("ml/x.py", "from .truth_table import rows\nimport pandas as pd\nfrom data_quality.contracts import SOURCES"),
    ("data_quality/x.py", "world = 'hello'\nstate = {'truthful': 1, 'ground truth': 2}.get('ok')"),
    ("ml/training.py", "names = inspect.signature(f).parameters\nv = getattr(model, name)\nok = hasattr(m, 'fit')"),
    ("orchestration/cli.py", "handler = getattr(commands, name.replace('-', '_'))"),
]


@pytest.mark.parametrize(("path", "source"), ALLOWED, ids=[p for p, _ in ALLOWED])
def test_the_detector_lets_allowed_code_through(path, source):
    assert policy_violations(source, path) == []


def test_only_evaluation_modules_are_exempt():
    assert is_evaluation_module("evaluation/model_benchmark.py")
    assert is_evaluation_module("evaluation/decisions/oracle.py")
    assert not is_evaluation_module("ml/evaluation.py")
    assert not is_evaluation_module("ml/benchmark.py")
    assert not is_evaluation_module("agents/evaluation.py")
    assert not is_evaluation_module("orchestration/evaluation/x.py")


def test_the_adapter_is_the_only_module_of_agents_that_may_reach_the_systems():
    source = "from commerce_sim.systems import CommerceSystems"
    assert policy_violations(source, ADAPTER_MODULE) == []
    for path in ("agents/dispatch/dispatcher.py", "agents/dispatch/adapters/other.py", "agents/pricing.py"):
        assert policy_violations(source, path), path


# ----------------------------------------------------------------------------- at runtime: the systems object
def _reachable(root, depth: int = 3) -> list[tuple[str, object]]:
    """Every (path, value) reachable from ``root`` through attribute access of public and private names
    (not dunders: those are introspection, which the static check forbids)."""
    found, frontier, seen = [], [("systems", root)], {id(root)}
    for _ in range(depth):
        following = []
        for path, obj in frontier:
            for name in dir(obj):
                if name.startswith("__"):
                    continue
                try:
                    value = getattr(obj, name)
                except Exception:  # a property that cannot answer is not a way in
                    continue
                if id(value) in seen:
                    continue
                seen.add(id(value))
                found.append((f"{path}.{name}", value))
                following.append((f"{path}.{name}", value))
        frontier = following
    return found


def test_the_systems_object_exposes_nothing_that_leads_to_the_world(small_world, tmp_path):
    simulator = Simulator.create(small_world.scenario, tmp_path / "sim", tmp_path / "landing")
    systems = CommerceSystems(simulator)
    for name in ("simulator", "state", "_sim", "_state", "_world", "world"):
        assert not hasattr(systems, name), name
        assert not hasattr(systems.pricing, name), name
    with pytest.raises(TypeError):
        vars(systems.pricing)  # no instance dictionary to look into
    reachable = _reachable(systems)
    assert any(path == "systems.pricing.set_price" for path, _ in reachable)  # the walk does look around
    leaks = [path for path, value in reachable if isinstance(value, (Simulator, SimState, World, np.ndarray))]
    assert leaks == [], leaks
    assert systems.current_date == small_world.scenario.start_date  # what the systems do say


# ----------------------------------------------------------------------------- at runtime: the landing zone
def _parquet_names(schema: pa.Schema) -> set[str]:
    names = set()

    def walk(field: pa.Field) -> None:
        names.add(field.name)
        if pa.types.is_struct(field.type):
            for child in field.type:
                walk(child)

    for field in schema:
        walk(field)
    return names


def _json_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _json_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _json_keys(v)}
    return set()


def test_the_landing_zone_holds_no_truth(small_world):
    truth_columns = set(GroundTruth(small_world.root).daily().columns) | set(GroundTruth(small_world.root).products())
    assert {"own_elasticity", "expected_units", "demand_units", "lost_units"} <= truth_columns  # truth exists
    forbidden = TRUTH_COLUMNS | {c for c in truth_columns if c.startswith("base_units")}
    assert small_world.landing.resolve() not in small_world.root.resolve().parents
    assert small_world.root.resolve() not in small_world.landing.resolve().parents

    files = [p for p in small_world.landing.rglob("*") if p.is_file()]
    assert len(files) > 8 * small_world.days
    for path in files:
        assert "truth" not in path.relative_to(small_world.landing).parts, path
        if path.suffix == ".parquet":
            names = _parquet_names(pq.read_schema(path))
        else:
            text = path.read_text(encoding="utf-8")
            leaked = [c for c in forbidden if c in text]
            assert not leaked, f"{path} mentions {leaked}"
            if path.suffix == ".csv":
                names = set(text.split("\n", 1)[0].split(","))
            elif path.suffix == ".json":  # the manifest
                names = _json_keys(json.loads(text))
            else:
                names = {k for line in text.splitlines() if line.strip() for k in _json_keys(json.loads(line))}
        assert not names & forbidden, f"{path} has truth columns {names & forbidden}"
