"""Server-rendered web interface, one blueprint per audience."""

from flask import Flask

from .activation import bp as activation_bp
from .admin import bp as admin_bp
from .auth import bp as auth_bp
from .main import bp as main_bp
from .municipality import bp as municipality_bp
from .registration import bp as registration_bp
from .residents import bp as residents_bp
from .second_factor import bp as second_factor_bp
from .workers import bp as workers_bp


def register_web(app: Flask) -> None:
    """Register the web blueprints."""
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(second_factor_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(workers_bp)
    app.register_blueprint(residents_bp)
    app.register_blueprint(activation_bp)
    app.register_blueprint(municipality_bp)
