"""What a detector is built with: the configuration, the pipeline's store and the media store."""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.config import Config
from vigil.store import Store
from vigil.store.media import MediaSink


@dataclass(frozen=True, slots=True)
class DetectorContext:
    config: Config
    #: The store the pipeline writes to (None: detectors that need one do nothing, e.g. in ``classify``).
    store: Store | None = None
    media: MediaSink = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "media", MediaSink(self.config.media_dir))
