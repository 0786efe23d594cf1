"""Browsable API documentation at /api/v1/docs, from the bundled Swagger UI (no CDN).

flask-smorest's own Swagger UI page starts the viewer with an inline script, which our
Content-Security-Policy (script-src 'self') forbids; this page loads a static starter instead.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from ..web.access import public

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
@public
def docs():
    """The interactive documentation of /api/v1/openapi.json."""
    return render_template("api/docs.html")
