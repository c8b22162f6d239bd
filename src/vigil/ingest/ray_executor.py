"""Ray: the same pipeline with detection spread over a Ray cluster (``RAY_ADDRESS``) or a local Ray.

Items are read and stored by the driver exactly as in-process; each batch's new items are split into
chunks, the detectors (shipped once with ``ray.put``) score the chunks as Ray tasks, and the signals come
back in input order, so stored signals and cases are those the in-process executor gives. Detectors that
need this machine (``local_only``: the banks in the store, the media files) run in the driver: a Ray
node has neither the SQLite file nor the media folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from vigil.core.detector import Detector, is_local_only
from vigil.core.model import Item, Signal
from vigil.core.ports import ItemStore
from vigil.errors import UsageError
from vigil.ingest.pipeline import Pipeline


def _detect_chunk(detectors: Sequence[Detector], chunk: list[Item]) -> list[Signal]:
    found: list[Signal] = []
    for detector in detectors:
        found.extend(detector.detect(chunk))
    return found


class RayPipeline(Pipeline):
    def __init__(
        self, store: ItemStore, detectors: Sequence[Detector], chunk: int = 100, num_cpus: int | None = None
    ) -> None:
        super().__init__(store, detectors)
        try:
            import ray
        except ImportError as exc:
            raise UsageError("the ray executor needs the extra: pip install 'vigil[ray]'") from exc
        self.ray: Any = ray
        if not ray.is_initialized():
            address = os.environ.get("RAY_ADDRESS") or None
            ray.init(
                address=address,
                num_cpus=None if address else num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        self.chunk = max(1, chunk)
        self._remote = ray.remote(_detect_chunk)
        self._local = [d for d in detectors if is_local_only(d)]
        self._detectors_ref: Any = ray.put([d for d in detectors if not is_local_only(d)])

    def detect(self, batch: Sequence[Item]) -> list[Signal]:
        chunks = [list(batch[i : i + self.chunk]) for i in range(0, len(batch), self.chunk)]
        refs = [self._remote.remote(self._detectors_ref, chunk) for chunk in chunks]
        here = _detect_chunk(self._local, list(batch))
        per_chunk: list[list[Signal]] = self.ray.get(refs)
        # Same order as in-process: detector by detector over the whole batch.
        order = {d.name: i for i, d in enumerate(self.detectors)}
        flat = [s for signals in per_chunk for s in signals] + here
        return sorted(flat, key=lambda s: order.get(s.detector, len(order)))

    def close(self) -> None:
        self.ray.shutdown()
