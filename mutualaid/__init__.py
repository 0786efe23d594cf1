"""mutualaid: neighbourhood mutual-aid matching. `create_app()` builds the Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import get_locale
from flask_login import user_logged_in

from .config import load_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database, extensions, blueprints, errors, commands."""
    settings = load_config()
    if config:
        settings.update(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("PROXY_FIX_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_logging(app)
    register_database(app)
    register_extensions(app)
    register_security_headers(app)
    register_input_text_guard(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    from .logs import configure_logging, mask_secrets_in_access_logs, register_request_ids

    if not app.config.get("TESTING"):  # pytest captures logs its own way
        configure_logging(json_lines=app.config["LOG_JSON"])
    mask_secrets_in_access_logs()  # reset/confirmation/export links in request lines
    register_request_ids(app)


def register_database(app: Flask) -> None:
    from . import models  # noqa: F401  (registers the tables on the metadata)
    from .background import install_session_hooks
    from .database import configure_engine_options, install_idle_ping, render_migration_type

    configure_engine_options(app)
    db.init_app(app)
    with app.app_context():
        install_idle_ping(db.engine)
    install_session_hooks()
    # render_as_batch: Alembic on SQLite cannot ALTER in place; batch mode copies the table.
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_type,
    )


def register_extensions(app: Flask) -> None:
    from .background import limiter_storage_uri
    from .models import User
    from .models.vocab import SECOND_FACTOR_ROLES

    csrf.init_app(app)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        # A password change or reset bumps the version: sessions from before stop counting.
        if user is None or session.get("session_version") != user.session_version:
            return None
        # Staff: only a session that began after the second factor (web/signin.py).
        if user.role in SECOND_FACTOR_ROLES and not session.get("second_factor"):
            return None
        return user

    @user_logged_in.connect_via(app)
    def remember_session_version(sender, user: User, **extra) -> None:
        session["session_version"] = user.session_version

    def select_locale() -> str:
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"]:
            session["lang"] = chosen
            return chosen
        if session.get("lang") in app.config["LANGUAGES"]:
            return session["lang"]
        return request.accept_languages.best_match(app.config["LANGUAGES"]) or "nl"

    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(lambda: {"get_locale": get_locale})


# Pages and API answers that may hold personal data: never kept by a browser or proxy cache.
PRIVATE_PREFIXES = ("/mijn", "/wijkwerk", "/gemeente", "/admin", "/auth", "/activeren", "/api/")
PUBLIC_API_PATHS = ("/api/v1/health", "/api/v1/openapi.json", "/api/v1/docs")


def content_security_policy(tile_url: str) -> str:
    """Only our own bundled assets, plus the configured map tile host (if any)."""
    from urllib.parse import urlsplit

    tiles = urlsplit(tile_url.replace("{s}", "a")) if tile_url else None
    tile_host = f" {tiles.scheme}://{tiles.netloc.replace('a.', '*.', 1)}" if tiles else ""
    return (
        f"default-src 'self'; img-src 'self' data:{tile_host}; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def register_security_headers(app: Flask) -> None:
    csp = content_security_policy(app.config.get("MAP_TILE_URL", ""))

    @app.after_request
    def secure_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", csp)
        path = request.path
        private = path.startswith(PRIVATE_PREFIXES) and not path.startswith(PUBLIC_API_PATHS)
        # Any page shown to someone signed in names them ("Signed in as ..."), also the home
        # page and error pages: not stored either.
        signed_in = not path.startswith(("/static/", "/api/")) and "_user_id" in session
        if private or signed_in:
            response.headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in response.headers and not path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-cache"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


def register_input_text_guard(app: Flask) -> None:
    from .input_text import register_input_text_guard as register

    register(app)


def register_blueprints(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter

    from .api import register_api
    from .api.ids import MAX_ID
    from .web import register_web

    class IdConverter(IntegerConverter):
        """`<int:...>` ids fit the database's INTEGER: a larger one is a 404, not an overflow."""

        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ID)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = IdConverter
    register_web(app)
    register_api(app)


def register_error_handlers(app: Flask) -> None:
    from .web.errors import register_error_pages

    register_error_pages(app)


def register_commands(app: Flask) -> None:
    from .cli import register_cli

    register_cli(app)
