"""``vigil mirrors``: known outlets' fingerprints and the probable mirrors found."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.common import load_config, open_store, print_json
from vigil.mirrors.check import known_outlets, list_links

mirrors_app = typer.Typer(
    help="Probable mirrors of known outlets. Add an outlet with `vigil crawl URL --outlet NAME`.",
    no_args_is_help=True,
)


@mirrors_app.command("list")
def list_() -> None:
    """Probable-mirror links with their evidence, as JSON lines."""
    config = load_config()
    with open_store(config) as store:
        for link in list_links(store):
            print_json(link.to_dict())


@mirrors_app.command("outlets")
def outlets(
    full: Annotated[bool, typer.Option(help="Print the whole fingerprint.")] = False,
) -> None:
    """Known outlets' sites and their fingerprints."""
    config = load_config()
    with open_store(config) as store:
        for outlet, fp in known_outlets(store):
            data = fp.to_dict()
            if not full:
                data.pop("template_minhash")
            print_json({"outlet": outlet, **data})


def register(app: typer.Typer) -> None:
    app.add_typer(mirrors_app, name="mirrors")
