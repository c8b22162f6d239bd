"""Who acts on the command line, and in which role: one rule for every command.

The role is the account's, never a flag's. A command whose outcome depends on a role (a reveal, a
referral, lifting someone else's entry, granting a right) looks ``--actor`` (default: the login name) up
in the user table (``vigil user add``) and acts with that account's role. ``--role`` is only a check
the caller may add: a claimed role that is not the account's is refused (exit 2) before anything is
done, so ``vigil reveal --actor ana --role dpo`` does not reveal anything when ana's account is an
analyst's. An actor without an active account is refused the same way.

Commands that only record who did something (``vigil hold add``, ``vigil evidence capture``, ``vigil
retention run`` ...) take ``--actor`` as the name to record and no role: nothing there depends on one.
``ROLE_COMMANDS`` and ``NAME_COMMANDS`` list both kinds, and a test checks that every command taking
``--actor`` or ``--role`` is in one of them and that the first kind goes through ``acting``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli.common import login_name
from vigil.errors import UsageError

if TYPE_CHECKING:
    from vigil.store import Store

Actor = Annotated[
    str,
    typer.Option(
        "--actor", help="Who does this: a vigil account (default: the login name); its role is the account's."
    ),
]
Role = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="Optional check: the role you expect the account to have (refused if it is not the account's).",
    ),
]

#: Commands whose outcome depends on the actor's role: the role comes from the account (``acting``).
ROLE_COMMANDS: frozenset[str] = frozenset(
    {
        "reveal",
        "audit reveal",
        "hold lift",
        "dnr list",
        "dnr lift",
        "privacy grant",
        "privacy revoke",
        "referral order",
        "referral notice",
        "referral refer",
        "referral send",
        "referral reply",
        "referral batch",
    }
)
#: Commands whose ``--actor`` is only the name recorded in the audit log; they take no role.
NAME_COMMANDS: frozenset[str] = frozenset(
    {
        "hold add",
        "dnr add",
        "dnr check",
        "dnr notify",
        "retention run",
        "recheck",
        "evidence capture",
        "evidence export",
    }
)

#: The command whose ``--role`` is not a claim but the role it gives a new account.
GIVES_ROLE: frozenset[str] = frozenset({"user add"})


@dataclass(frozen=True, slots=True)
class Acting:
    """The account a command acts as."""

    name: str
    role: str

    @property
    def roles(self) -> list[str]:
        """The role as the list the privacy functions take."""
        return [self.role]


def acting(store: Store, actor: str | None, claimed: Iterable[str] | str | None = None) -> Acting:
    """The active account named ``actor`` (default: the login name) and its role. ``UsageError`` when
    there is no such account, or when ``claimed`` names a role that is not the account's."""
    from vigil.workflow.accounts import get_user

    name = actor or login_name()
    user = get_user(store, name)
    if user is None:
        raise UsageError(
            f"{name!r} has no active vigil account; a command that depends on a role acts as an account"
            f" (vigil user add {name} --role ROLE), with that account's role"
        )
    claims = [claimed] if isinstance(claimed, str) else list(claimed or ())
    wrong = sorted({c for c in claims if c != user.role})
    if wrong:
        raise UsageError(
            f"{name}'s account has the role {user.role!r}, not {', '.join(map(repr, wrong))}:"
            " the role is the account's, never the command line's"
        )
    return Acting(user.username, user.role)
