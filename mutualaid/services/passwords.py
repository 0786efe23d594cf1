"""The password policy: long enough, not too long, and not one of the most common passwords.

Length, not composition (NIST SP 800-63B): no rules about digits or capitals, which only lead
to `Welkom2024!`. The common passwords come from a bundled list (see data/README.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..errors import Invalid

MIN_PASSWORD_LENGTH = 10
# Long passphrases are welcome; the cap only keeps argon2 from hashing megabytes.
MAX_PASSWORD_LENGTH = 200
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower case (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def is_common_password(password: str) -> bool:
    """True when the password (ignoring case and surrounding spaces) is on the common list."""
    return password.strip().lower() in common_passwords()


def check_password_policy(password: object, field: str = "password") -> str:
    """The password when the policy allows it; Invalid naming `field` and the rule otherwise."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"{field} must have at least {MIN_PASSWORD_LENGTH} characters",
            field=field,
            rule="min_length",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            f"{field} may have at most {MAX_PASSWORD_LENGTH} characters",
            field=field,
            rule="max_length",
        )
    if is_common_password(password):
        raise Invalid(
            f"{field} is one of the most used passwords; choose another one",
            field=field,
            rule="common",
        )
    return password
