"""The `workers` blueprint object, shared by the view modules of this package."""

from flask import Blueprint

bp = Blueprint("workers", __name__, url_prefix="/wijkwerk")
