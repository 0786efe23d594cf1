"""The JSON API under /api/v1, documented as OpenAPI 3 at /api/v1/openapi.json."""

from flask import Flask

from ..extensions import csrf
from .auth import blp as auth_blp
from .docs import bp as docs_bp
from .error_schema import MutualaidApi
from .health import blp as health_blp
from .input_guard import register_input_guard
from .involvement import blp as involvement_blp
from .location import blp as location_blp
from .match_review import blp as match_review_blp
from .matches import blp as matches_blp
from .me import blp as me_blp
from .monitoring import blp as monitoring_blp
from .offers import blp as offers_blp
from .requests import blp as requests_blp
from .residents import blp as residents_blp
from .ties import blp as ties_blp


def register_api(app: Flask) -> None:
    """Register the API blueprints (token-authenticated, so exempt from form CSRF)."""
    api = MutualaidApi(app)
    for blueprint in (
        health_blp,
        auth_blp,
        me_blp,
        residents_blp,
        match_review_blp,
        involvement_blp,
        requests_blp,
        offers_blp,
        matches_blp,
        ties_blp,
        location_blp,
        monitoring_blp,
    ):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.extensions["mutualaid_api"] = api
    register_input_guard(app)
    app.register_blueprint(docs_bp)  # /api/v1/docs: the bundled Swagger UI
