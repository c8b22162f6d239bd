"""What several commands share: loading config and the store, printing JSON, a rich progress bar."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from vigil.config import Config

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by commands that open it
    from vigil.store import Store

err = Console(stderr=True)


def login_name() -> str:
    """Who runs the command, when ``--actor`` is not given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def load_config() -> Config:
    return Config.load()


@contextmanager
def open_store(config: Config) -> Iterator[Store]:
    """The configured store (``vigil.boot.open_store``), closed at the end."""
    from vigil.boot import open_store as boot_open_store

    store = boot_open_store(config)
    try:
        yield store
    finally:
        store.close()


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


class RichProgress:
    """A progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int | None = None, label: str = "records") -> None:
        self.enabled = err.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(label),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        )
        self._task = self.progress.add_task("starting", total=total)

    def __enter__(self) -> RichProgress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def task(self, name: str) -> None:
        self.progress.update(self._task, description=name[:60])

    def advance(self, n: int) -> None:
        self.progress.advance(self._task, n)
