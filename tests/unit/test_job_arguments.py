"""Job arguments are ids only: a job payload sits in Redis (and in rq's failed-job registry) for
days, so it must never carry an email, phone, address or free text.

Two checks over the source: every job function in `mutualaid/jobs.py` takes only ints (ids) or
a few named, non-personal strings; every `enqueue(...)` / `enqueue_after_commit(...)` call in the
code passes only id-named values. `test_erasure_completeness` scans the real payloads too.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import mutualaid.jobs as jobs

PACKAGE = Path(jobs.__file__).resolve().parent
# Strings that are neither personal nor secret, with the reason they are allowed.
ALLOWED_STRINGS = {
    "token": "ping's probe token: a random string the health check makes up",
    "link_template": "the reset page URL with a `{token}` placeholder, the same for everyone",
}


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_ids")) or name in ALLOWED_STRINGS


def _arg_name(node: ast.expr) -> str | None:
    """The identifier an argument reads (`request.id` → `id`, `resident_id` → itself)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _enqueue_calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _arg_name(node.func)
            if name == "enqueue":
                yield path, node, node.args[1:]
            elif name == "enqueue_after_commit":
                yield path, node, node.args[2:]


def test_every_job_function_takes_ids_only():
    functions = [
        (name, func)
        for name, func in inspect.getmembers(jobs, inspect.isfunction)
        if func.__module__ == jobs.__name__ and not name.startswith("_")
    ]
    assert len(functions) >= 10
    bad = []
    for name, func in functions:
        for param in inspect.signature(func).parameters.values():
            annotation = str(param.annotation)
            is_int = annotation in ("int", "int | None")
            is_allowed_str = annotation == "str" and param.name in ALLOWED_STRINGS
            if not ((is_int and _is_id_name(param.name)) or is_allowed_str):
                bad.append(f"{name}({param.name}: {annotation})")
    assert bad == []


def test_every_enqueue_call_passes_ids_only():
    calls = list(_enqueue_calls())
    # background.py forwards *args (checked at the call sites); the rest name their arguments.
    checked = [c for c in calls if c[0].name != "background.py"]
    assert len(checked) >= 8
    bad = []
    for path, node, args in checked:
        for arg in args:
            name = _arg_name(arg)
            if isinstance(arg, ast.Starred) or name is None or not _is_id_name(name):
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                bad.append(f"{where}: {ast.unparse(arg)}")
        for keyword in node.keywords:
            if keyword.arg not in ("queue", "job_id", "retries"):
                bad.append(f"{path.name}:{node.lineno}: {keyword.arg}=")
    assert bad == []


def test_the_check_catches_an_email_argument():
    tree = ast.parse('enqueue("mutualaid.jobs.x", user.email, queue="default")')
    call = tree.body[0].value
    assert not _is_id_name(_arg_name(call.args[1]))
