"""Terminal output shared by the flask commands."""

from __future__ import annotations

import click


def print_demo_logins(logins: list[tuple[str, str]], password: str) -> None:
    """Print the demo accounts so a newcomer can sign in."""
    click.echo(f"Demo logins (password for all: {password}):")
    for role, email in logins:
        click.echo(f"  {role:<24} {email}")
    from .services.demo import DEMO_TOTP_SECRET

    key = " ".join(DEMO_TOTP_SECRET[i : i + 4] for i in range(0, len(DEMO_TOTP_SECRET), 4))
    click.echo(
        "Staff accounts (worker, municipality, admin) then ask for a 6-digit code: run\n"
        "  flask --app wsgi demo-code EMAIL\n"
        f"or add the demo key {key} (time-based) to an authenticator app."
    )
