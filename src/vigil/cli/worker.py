"""``vigil worker``: take items from the queue (NATS JetStream), store and detect, acknowledge."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated

import typer

from vigil import boot
from vigil.cli.common import err, load_config, open_store, print_json
from vigil.errors import UsageError
from vigil.ingest.jetstream import WorkerStats, run_worker


def worker(
    batch: Annotated[int, typer.Option(min=1, help="Messages per batch.")] = 50,
    idle_exit: Annotated[
        float | None, typer.Option(help="Stop once the queue has been empty this many seconds.")
    ] = None,
    pause_before_ack: Annotated[
        float, typer.Option(hidden=True, help="Fault-injection: wait between commit and ack.")
    ] = 0.0,
    progress: Annotated[bool, typer.Option(help="Print stats after every batch (JSON lines).")] = False,
) -> None:
    """Process queued items until SIGTERM/SIGINT (the batch in progress is finished and acknowledged)."""
    config = load_config()
    if not config.queue_url:
        raise UsageError("no queue configured: set queue_url (e.g. VIGIL_QUEUE_URL=nats://127.0.0.1:4222)")

    async def main() -> WorkerStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        with open_store(config) as store:
            return await run_worker(
                config,
                store,
                boot.detectors(config, store),
                stop,
                batch,
                idle_exit,
                pause_before_ack,
                _print_batch if progress else None,
            )

    stats = asyncio.run(main())
    print_json({"done": stats.to_dict()})
    err.print(f"worker stopped: {stats.messages} messages, {stats.new_items} new items, {stats.cases} cases")


def _print_batch(stats: WorkerStats) -> None:
    print_json({"batch": stats.to_dict()})
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command()(worker)
