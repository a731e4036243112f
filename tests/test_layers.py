"""The house's layers, read from the source: ``pipelines/`` (the models) never imports
``benchmarks/`` (the harness), and no two modules import each other, directly or around a
circle, whether the import is at the top of a module or inside a function (an import inside
a function that closes a circle only hides it)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

PACKAGES = ("benchmarks", "pipelines")


def project_modules() -> dict[str, object]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:``: an import there names a
    type for the checker and never runs, so it is no dependency."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING",
                                                                    "typing.TYPE_CHECKING"):
            for other in node.orelse:
                yield other
                yield from runtime_nodes(other)
            continue
        yield node
        yield from runtime_nodes(node)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in its source."""
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = (".".join(package[:len(package) - node.level + 1]
                                 + ([node.module] if node.module else []))
                        if node.level else node.module)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # a name inside a module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
                    break
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_models_never_import_the_harness():
    graph = import_graph()
    upward = sorted((source, target) for source, targets in graph.items()
                    for target in targets
                    if source.startswith("pipelines") and target.startswith("benchmarks"))
    assert upward == []


def test_no_module_imports_itself_around_a_circle():
    assert circles(import_graph()) == []


def test_the_circle_check_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(project_modules())
    code = f"import importlib\nfor name in {names!r}:\n    importlib.import_module(name)\n"
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_the_tools_own_benchmarks_stay_outside_the_library():
    """benchmarks/perf/ measures the tool; nothing the runner or the reports use imports it."""
    inward = sorted((source, target) for source, targets in import_graph().items()
                    for target in targets if target.startswith("benchmarks.perf")
                    and not source.startswith("benchmarks.perf"))
    assert inward == []


# What each stage of benchmarks/ may import from the project: data and records sit at the
# bottom (they import nothing above them), the reports read records and never reach the
# runner, and a study's spec is read by both without running anything.
MAY_IMPORT = {
    "benchmarks.data": ("benchmarks.data", "benchmarks.errors", "pipelines"),
    "benchmarks.records": ("benchmarks.records", "benchmarks.errors", "pipelines"),
    "benchmarks.studies": ("benchmarks.studies", "benchmarks.records", "benchmarks.errors",
                           "pipelines"),
    "benchmarks.reports": ("benchmarks.reports", "benchmarks.records", "benchmarks.studies",
                           "benchmarks.data", "benchmarks.errors", "pipelines"),
}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_each_stage_imports_only_the_stages_below_it():
    graph = import_graph()
    crossing = sorted(
        (source, target) for source, targets in graph.items() for target in targets
        for stage, allowed in MAY_IMPORT.items()
        if within(source, stage) and not any(within(target, below) for below in allowed))
    assert crossing == []


def test_the_stage_rule_catches_a_report_that_reaches_the_runner(monkeypatch):
    import tests.test_layers as layers

    real = layers.import_graph()
    real["benchmarks.reports.tables"].add("benchmarks.run.runner")
    monkeypatch.setattr(layers, "import_graph", lambda: real)
    try:
        layers.test_each_stage_imports_only_the_stages_below_it()
    except AssertionError as error:
        assert "benchmarks.run.runner" in str(error)
    else:
        raise AssertionError("a report importing the runner went unnoticed")


def longest_chain(graph: dict[str, set[str]], start: str) -> list[str]:
    """The longest import path from ``start`` (the graph has no circles: tested above)."""
    memo: dict[str, list[str]] = {}

    def walk(module: str) -> list[str]:
        if module not in memo:
            memo[module] = [module] + max((walk(target) for target in graph[module]),
                                          key=len, default=[])
        return memo[module]

    return walk(start)


def test_the_command_line_stands_on_a_short_stack_of_modules():
    """run_all.py -> cli -> ... -> pipelines: at most 9 modules, run_all.py counted (16 before
    the stages had folders), so a newcomer follows a call down in a few files."""
    graph = import_graph()
    chain = ["run_all"] + longest_chain(graph, "benchmarks.cli")
    assert len(chain) <= 9, " -> ".join(chain)


MAX_MODULE_LINES = 400  # a module of the harness is read at one sitting
MAX_FUNCTION_LINES = 80  # a function is read at once


def test_modules_and_functions_stay_short_enough_to_read():
    """No module of ``benchmarks/`` (its own benchmarks aside) over 400 lines, and no
    function of the harness or the models over 80."""
    long_modules, long_functions = [], []
    for name, path in project_modules().items():
        source = path.read_text(encoding="utf-8")
        if name.startswith("benchmarks.") and not name.startswith("benchmarks.perf") \
                and source.count("\n") > MAX_MODULE_LINES:
            long_modules.append(f"{name}: {source.count(chr(10))} lines")
        long_functions += [
            f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long_modules == [] and long_functions == []
