"""``vigil user add|list``: accounts and roles."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from vigil.cli.common import err, load_config, open_store, print_json
from vigil.errors import UsageError
from vigil.workflow import accounts
from vigil.workflow.roles import ROLES

user_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UsageError("the two passwords differ")
    return first


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
) -> None:
    """Add a user. The password comes from standard input (first line) or a prompt."""
    password = _read_password()
    config = load_config()
    with open_store(config) as store:
        user = accounts.add_user(store, name, role, password, actor="cli")
    err.print(f"user [bold]{user.username}[/] added with role {user.role}")
    print_json({"username": user.username, "role": user.role})


@user_app.command("list")
def list_users() -> None:
    """List users and their roles (JSON Lines)."""
    with open_store(load_config()) as store:
        for user in accounts.list_users(store):
            print_json({"username": user.username, "role": user.role})


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
