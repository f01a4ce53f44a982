"""The architecture holds: dependencies run one way, and no module imports itself back.

Apps by domain, each above the ones it uses:

    sectstudy base (db, http, dates...) <- reading <- groups <- discussions <- exports <- pages
                                        <- sectstudy top (settings, urls, views, wsgi, asgi)

The import graph is read with `ast` from every module of the project (migrations
excluded): absolute and relative imports, those inside functions too, with
`from package import module` resolved to the module. Imports under
`if TYPE_CHECKING:` never run, so they are left out.
"""

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("reading", "groups", "discussions", "search", "exports", "pages")
PROJECT = "sectstudy"
# The project package's entry points and its own views, which may import anything
# and which no app imports; the rest of it (db, http, dates...) are base utilities,
# below every app.
PROJECT_TOP = frozenset({"settings", "urls", "views", "wsgi", "asgi"})
BASE, TOP = -1, len(APPS)
RANKS = {app: rank for rank, app in enumerate(APPS)}

Graph = dict[str, set[str]]


# Reading the modules ------------------------------------------------------------


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file, for every module of the apps and the project package."""
    modules = {}
    for package in (*APPS, PROJECT):
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is, except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _import_nodes(ast.Module(body=[child], type_ignores=[]))
        else:
            yield from _import_nodes(node)


def _known(name: str, modules: set[str]) -> str | None:
    """The longest prefix of a dotted name that is one of the project's modules."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_of(source: str, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The project modules that `module` imports."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(filter(None, [*anchor, base]))
            # `from package import module` imports the module; otherwise the name
            # is an attribute of `base`.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found.update(filter(None, (_known(target, modules) for target in targets)))
    found.discard(module)
    return found


def import_graph(root: Path = ROOT) -> Graph:
    files = module_files(root)
    modules = set(files)
    return {
        module: imports_of(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py", modules
        )
        for module, path in files.items()
    }


# The rules ------------------------------------------------------------------------


def rank(module: str) -> int:
    head, _, rest = module.partition(".")
    if head == PROJECT:
        return TOP if rest.split(".")[0] in PROJECT_TOP else BASE
    return RANKS[head]


def layer_violations(graph: Graph) -> list[str]:
    """Each import that points up the layers (or from a base utility into an app)."""
    return sorted(
        f"{module} imports {imported}"
        for module, imports in graph.items()
        for imported in imports
        if rank(imported) > rank(module)
    )


def strongly_connected_components(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm, iterative so the depth of the graph does not matter."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = lowlink[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _cycle_through(graph: Graph, component: list[str]) -> list[str]:
    """One concrete cycle within a strongly connected component, for the message."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph.get(node, ())):
            if child == start:
                return [*paths[node], start]
            if child in inside and child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"{component} is not a cycle")


def import_cycles(graph: Graph) -> list[str]:
    return [
        " -> ".join(_cycle_through(graph, component))
        for component in strongly_connected_components(graph)
        if len(component) > 1 or component[0] in graph.get(component[0], ())
    ]


# The project ---------------------------------------------------------------------


GRAPH = import_graph()


def test_import_graph_covers_the_project():
    assert {"discussions.services", "groups.permissions", "pages.views", "reading.models"} <= set(
        GRAPH
    )
    assert not any(".migrations" in module for module in GRAPH)
    assert "groups.permissions" in GRAPH["discussions.services"]
    assert {app: any(m.startswith(f"{app}.") for m in GRAPH) for app in APPS} == dict.fromkeys(
        APPS, True
    )


def test_apps_import_only_lower_layers():
    violations = layer_violations(GRAPH)
    assert violations == [], "Imports against the layers:\n" + "\n".join(violations)


def test_import_graph_has_no_cycles():
    cycles = import_cycles(GRAPH)
    assert cycles == [], "Import cycles:\n" + "\n".join(cycles)


# The checker itself, so the tests above cannot pass vacuously --------------------


def test_import_cycles_finds_a_two_module_cycle():
    assert import_cycles({"a": {"b"}, "b": {"a"}}) == ["a -> b -> a"]


def test_import_cycles_finds_a_long_cycle_and_ignores_the_rest():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}, "s": {"s"}}
    assert import_cycles(graph) == ["a -> b -> c -> a", "s -> s"]


def test_import_cycles_finds_none_in_a_tree():
    assert import_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_layer_violations_name_each_upward_import():
    graph = {
        "discussions.views": {"pages.views", "groups.permissions"},
        "reading.models": {"groups.models"},
        "sectstudy.db": {"reading.models"},
        "groups.views": {"sectstudy.http", "sectstudy.urls", "sectstudy.views"},
        "sectstudy.urls": {"pages.views", "discussions.views"},
        "pages.views": {"discussions.selectors", "reading.models"},
    }
    assert layer_violations(graph) == [
        "discussions.views imports pages.views",
        "groups.views imports sectstudy.urls",
        "groups.views imports sectstudy.views",
        "reading.models imports groups.models",
        "sectstudy.db imports reading.models",
    ]


def test_imports_of_resolves_modules_functions_and_relative_imports():
    modules = {
        "discussions",
        "discussions.services",
        "discussions.tasks",
        "discussions.views",
        "discussions.views.comments",
        "groups",
        "groups.permissions",
        "groups.models",
        "pages.views",
        "reading.models",
    }
    source = """
from typing import TYPE_CHECKING
import django.db
from groups import permissions
from groups.models import Membership
from ..services import comment_create
from . import comments as _itself

if TYPE_CHECKING:
    from pages.views import home
else:
    import reading.models

def later():
    from discussions import tasks
"""
    assert imports_of(source, "discussions.views.comments", False, modules) == {
        "groups.permissions",
        "groups.models",
        "discussions.services",
        "reading.models",
        "discussions.tasks",
    }


def test_import_graph_of_a_project_that_breaks_both_rules(tmp_path):
    files = {
        "reading/__init__.py": "",
        "reading/models.py": "def f():\n    from groups.models import Membership\n",
        "reading/migrations/0001_initial.py": "from pages import views\n",
        "groups/__init__.py": "",
        "groups/models.py": "from reading import models\n",
        "discussions/__init__.py": "",
        "discussions/services.py": "from discussions.tasks import send\n",
        "discussions/tasks.py": "import discussions.services\n",
        "pages/__init__.py": "",
        "sectstudy/__init__.py": "",
        "sectstudy/http.py": "from groups.models import Membership\n",
    }
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source, encoding="utf-8")
    graph = import_graph(tmp_path)
    assert "reading.migrations.0001_initial" not in graph
    assert layer_violations(graph) == [
        "reading.models imports groups.models",
        "sectstudy.http imports groups.models",
    ]
    assert import_cycles(graph) == [
        "discussions.services -> discussions.tasks -> discussions.services",
        "groups.models -> reading.models -> groups.models",
    ]
