"""What a password must be (OWASP ASVS 4.0.3, 2.1.1 and 2.1.7): at least 12 characters (runs of spaces
counted as one), at most 1024, and not one of the common passwords that ship with the package
(``vigil/data/passwords/common-passwords.txt.gz``: Django's list of 20,000, from Pwned Passwords; its
NOTICE.md says where it comes from and under which licence). Compared without case and surrounding
blanks, as Django does. Every way of setting a password (``vigil user add``, ``POST /api/v1/users``) goes
through ``accounts.add_user``, which applies ``check_password``.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib.resources import files

from vigil.errors import UsageError

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_SPACES = re.compile(r" {2,}")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (read once per process)."""
    data = files("vigil.data").joinpath("passwords", "common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines() if line)


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used, or ``None``."""
    length = len(_SPACES.sub(" ", password))
    if length < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters (runs of spaces count as one)"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    folded = password.strip().lower()
    if folded in common_passwords():
        return "this password is on the list of common passwords; choose another"
    if username and folded == username.lower():
        return "a password may not be the user name"
    return None


def check_password(password: str, username: str = "") -> None:
    """``UsageError`` naming what is wrong with ``password``."""
    problem = password_problem(password, username)
    if problem:
        raise UsageError(problem)
