"""The ``vigil`` command: thin wrappers that parse options and call the core.

Each module in ``COMMANDS`` adds its commands with ``register(app)``.
Exit codes: 0 done, 1 failure, 2 usage error.
"""

from __future__ import annotations

import importlib
import sys

import typer

from vigil.errors import UsageError, VigilError

COMMANDS = (
    "vigil.cli.scan",
    "vigil.cli.evidence",
    "vigil.cli.referral",
    "vigil.cli.report",
    "vigil.cli.serve",
    "vigil.cli.users",
    "vigil.cli.audit",
    "vigil.cli.graph",
    "vigil.cli.banks",
)

app = typer.Typer(
    name="vigil",
    help="Find terrorist and violent-extremist propaganda online, prove it, get it taken down.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in COMMANDS:
    importlib.import_module(_module).register(app)


def main() -> None:
    try:
        app(standalone_mode=False)
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
