"""The `residents` blueprint object, shared by the view modules of this package."""

from flask import Blueprint

bp = Blueprint("residents", __name__, url_prefix="/mijn")
