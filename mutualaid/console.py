"""Terminal output shared by the flask commands."""

from __future__ import annotations

import click


def print_demo_logins(logins: list[tuple[str, str]], password: str) -> None:
    """Print the demo accounts so a newcomer can sign in."""
    click.echo(f"Demo logins (password for all: {password}):")
    for role, email in logins:
        click.echo(f"  {role:<24} {email}")
