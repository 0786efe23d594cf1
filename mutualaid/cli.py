"""Flask commands: `flask --app wsgi <command>`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .console import print_demo_logins
from .errors import DomainError


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


@click.command("import-neighbourhoods")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--schema",
    type=click.Choice(["auto", "generalised", "official", "legacy"]),
    default="auto",
    show_default=True,
    help="CBS schema of the file.",
)
@click.option("--municipality", metavar="GMxxxx", help="Import only this municipality (CBS code).")
@with_appcontext
def import_neighbourhoods_command(path: str, schema: str, municipality: str | None) -> None:
    """Import or update CBS neighbourhoods (buurten) from a GeoJSON file."""
    from .services.neighbourhoods import import_neighbourhoods

    try:
        summary = import_neighbourhoods(path, schema=schema, municipality=municipality)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Schema: {summary.schema}, coordinates: {summary.crs}")
    click.echo(
        f"Imported: {len(summary.imported)}, updated: {len(summary.updated)}, "
        f"unchanged: {len(summary.unchanged)}, skipped: {len(summary.skipped)}"
    )
    if summary.repaired:
        click.echo("Geometry repaired: " + ", ".join(summary.repaired))
    for what, why in summary.skipped:
        click.echo(f"  skipped {what}: {why}")


@click.command("seed-demo")
@click.option("--seed", default=20261122, show_default=True, help="Random seed (deterministic).")
@click.option("--residents", default=400, show_default=True, help="How many residents.")
@click.option("--if-empty", is_flag=True, help="Do nothing when residents already exist.")
@with_appcontext
def seed_demo_command(seed: int, residents: int, if_empty: bool) -> None:
    """Fill the database with a believable Hengelo: residents, requests, offers, ties, staff."""
    from .services.demo import DEMO_PASSWORD, database_has_residents, seed_demo

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("seed-demo is refused in production")
    if if_empty and database_has_residents():
        click.echo("Demo data already present; nothing to do.")
        return
    try:
        result = seed_demo(seed=seed, residents=residents, progress=True)
    except DomainError as exc:
        _fail(exc)
    click.echo(
        f"Demo: {result.residents} residents, {result.requests} requests, "
        f"{result.offers} offers, {result.ties} trust ties, {result.matches} matches."
    )
    print_demo_logins(result.logins, DEMO_PASSWORD)


@click.command("demo-logins")
@with_appcontext
def demo_logins_command() -> None:
    """Print the demo accounts."""
    from .services.demo import DEMO_PASSWORD, demo_logins

    print_demo_logins(demo_logins(), DEMO_PASSWORD)


@click.command("demo-code")
@click.argument("email")
@with_appcontext
def demo_code_command(email: str) -> None:
    """Print the current 6-digit sign-in code of a demo staff account (development only)."""
    from .services.demo import demo_code

    if current_app.config["ENV_NAME"] not in ("development", "demo"):
        raise click.ClickException(
            "demo-code only works in development or demo mode (MUTUALAID_ENV), never in production"
        )
    try:
        code = demo_code(email)
    except DomainError as exc:
        _fail(exc)
    click.echo(code)


@click.command("create-user")
@click.option("--email", required=True)
@click.option(
    "--role", type=click.Choice(["resident", "worker", "municipality", "admin"]), required=True
)
@click.option("--name", "display_name", required=True)
@click.option("--municipality", "municipality_code", help="CBS code, for municipality users.")
@click.option(
    "--neighbourhood",
    "neighbourhoods",
    multiple=True,
    help="CBS neighbourhood code a worker covers (repeatable).",
)
@click.password_option()
@with_appcontext
def create_user_command(email, role, display_name, municipality_code, neighbourhoods, password):
    """Create an account (staff accounts: worker, municipality, admin)."""
    from .services.accounts import create_user

    try:
        user = create_user(
            email,
            password,
            role,
            display_name,
            municipality_code=municipality_code,
            neighbourhood_codes=list(neighbourhoods),
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--no-periodic", is_flag=True, help="Do not enqueue the periodic tasks.")
@click.option("--no-warm", is_flag=True, help="Load offers per matching job (no warm index).")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, no_periodic: bool, no_warm: bool):
    """Run an rq worker (with rq's scheduler) on the given queues, default all.

    Unless --no-periodic, a companion process enqueues the periodic tasks; any number of
    workers may run it, since they agree through Redis on who enqueues each period.
    """
    import os
    import subprocess
    import sys

    from . import jobs  # noqa: F401  (heavy imports happen once, before the worker forks)
    from .background import QUEUE_NAMES, SERIALIZER, get_queue, get_redis
    from .services.warm import enable_warm_matcher
    from .worker import AppWorker

    names = queues or QUEUE_NAMES
    unknown = sorted(set(names) - set(QUEUE_NAMES))
    if unknown:
        raise click.BadParameter(
            f"unknown queue(s) {', '.join(unknown)}; known: " + ", ".join(QUEUE_NAMES),
            param_hint="QUEUES",
        )
    connection = get_redis()
    worker = AppWorker(
        [get_queue(n, connection) for n in names], connection=connection, serializer=SERIALIZER
    )
    if "matching" in names and not no_warm:
        worker.warm = enable_warm_matcher()
    periodic = None
    if not no_periodic and not burst:
        periodic = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "periodic",
                "--parent-pid",
                str(os.getpid()),
            ]
        )
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        if periodic is not None:
            periodic.terminate()
            periodic.wait(timeout=10)


@click.command("periodic")
@click.option("--parent-pid", type=int, help="Stop when this process is gone.")
@click.option("--once", is_flag=True, help="Enqueue what is due now, then stop.")
@with_appcontext
def periodic_command(parent_pid: int | None, once: bool) -> None:
    """Enqueue the periodic tasks (outbox sweep, expiry, re-matching, trust, ranker, waves)."""
    from .background import get_redis
    from .periodic import enqueue_due, periodic_tasks, run_forever

    tasks = periodic_tasks(current_app.config)
    if once:
        click.echo("enqueued: " + (", ".join(enqueue_due(get_redis(), tasks)) or "nothing"))
        return
    run_forever(get_redis(), tasks, parent_pid=parent_pid)


@click.command("match")
@click.option("--all", "match_everything", is_flag=True, help="Match every open request.")
@click.option("--request", "request_id", type=int, help="Match one request by id.")
@with_appcontext
def match_command(match_everything: bool, request_id: int | None) -> None:
    """Run matching now (in this process, not through the queue)."""
    from .services.matching import match_all, match_request

    if match_everything == (request_id is not None):
        raise click.UsageError("give exactly one of --all or --request ID")
    try:
        result = match_all() if match_everything else match_request(request_id, force=True)
    except DomainError as exc:
        _fail(exc)
    click.echo(", ".join(f"{key}: {value}" for key, value in result.items()))


def register_cli(app: Flask) -> None:
    """Add the project's commands to `flask`."""
    from .devserver import devserver_command

    for command in (
        import_neighbourhoods_command,
        seed_demo_command,
        demo_logins_command,
        demo_code_command,
        create_user_command,
        worker_command,
        devserver_command,
        match_command,
        periodic_command,
    ):
        app.cli.add_command(command)
