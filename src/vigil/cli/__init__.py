"""The ``vigil`` command: thin wrappers that parse options and call the core.

Each module in ``COMMANDS`` adds its commands with ``register(app)``.
Exit codes: 0 done, 1 failure, 2 usage error.
"""

from __future__ import annotations

import importlib
import sys

import typer

from vigil.errors import UsageError, VigilError

#: Command module -> the top-level commands it registers. ``vigil NAME ...`` imports only the module that
#: provides NAME (start-up time matters for streaming commands such as ``classify``); ``--help`` loads all.
COMMANDS: dict[str, tuple[str, ...]] = {
    "vigil.cli.scan": ("scan", "demo"),
    "vigil.cli.evidence": ("evidence",),
    "vigil.cli.referral": ("referral", "recheck"),
    "vigil.cli.report": ("report",),
    "vigil.cli.text": ("classify", "evaluate", "train"),
    "vigil.cli.serve": ("serve",),
    "vigil.cli.users": ("user",),
    "vigil.cli.audit": ("audit",),
    "vigil.cli.graph": ("graph",),
    "vigil.cli.banks": ("hash", "match", "bank"),
    "vigil.cli.crawl": ("crawl",),
    "vigil.cli.watch": ("watch",),
    "vigil.cli.mirrors": ("mirrors",),
    "vigil.cli.worker": ("worker",),
    "vigil.cli.privacy": ("retention", "hold", "dnr", "privacy", "reveal", "submit", "report"),
}


def _root() -> None:
    """Find terrorist and violent-extremist propaganda online, prove it, get it taken down."""


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """The Typer app with the command modules ``argv`` needs (all of them when it names no known command)."""
    app = typer.Typer(
        name="vigil",
        help="Find terrorist and violent-extremist propaganda online, prove it, get it taken down.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # A callback keeps the app a group even when only one single-command module is loaded.
    app.callback()(_root)
    first = next((a for a in (argv or []) if not a.startswith("-")), None)
    wanted = [m for m, names in COMMANDS.items() if first in names] or list(COMMANDS)
    for module in wanted:
        importlib.import_module(module).register(app)
    return app


def main() -> None:
    try:
        build_app(sys.argv[1:])(standalone_mode=False)
    except UsageError as exc:
        print(f"vigil: usage error: {exc}", file=sys.stderr)
        sys.exit(2)
    except VigilError as exc:
        print(f"vigil: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("vigil: aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        # Click's own errors (bad option, missing argument) arrive here in non-standalone mode.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
