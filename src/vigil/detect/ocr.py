"""OCR detector: reads the text in an item's images with Tesseract and runs the text detectors on it.

The text goes into a derived Item (same id, the OCR text as its text) that every configured detector
except the media ones scores, so whatever text detectors are installed (the watch list, the text
classifier) apply. Their signals come back named ``ocr+<detector>``, with the image they came from.
Opt-in (``detectors`` in the configuration), since OCR costs seconds per image.
"""

from __future__ import annotations

import logging

from vigil.core.detector import Detector
from vigil.core.model import Item, Signal
from vigil.detect.context import DetectorContext

log = logging.getLogger(__name__)

MEDIA_DETECTORS = {"ocr", "hashmatch"}
MIN_SIDE = 32


class OcrDetector:
    name = "ocr"
    version = "1"
    #: Reads the media files on this machine.
    local_only = True

    def __init__(self, ctx: DetectorContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.media = ctx.media
        langs = self.config.extra.get("ocr_languages")
        self.languages = tuple(langs) if isinstance(langs, list) and langs else None

    def _text_detectors(self) -> list[Detector]:
        from vigil.detect import detector_names, load_detectors

        names = tuple(n for n in detector_names(self.ctx) if n not in MEDIA_DETECTORS)
        return load_detectors(self.ctx, names or None)

    def derived_items(self, items: list[Item]) -> list[tuple[Item, str]]:
        from vigil.errors import RecordError
        from vigil.hashing.image import open_image
        from vigil.hashing.ocr import ocr_text

        out = []
        for item in items:
            for media in item.media:
                if media.kind != "image":
                    continue
                path = self.media.path_for(media.sha256)
                if not path.is_file():
                    continue
                try:
                    img = open_image(path)
                except RecordError as exc:
                    log.info("OCR skipped %s: %s", media.sha256, exc)
                    continue
                if min(img.size) < MIN_SIDE:
                    continue
                text = ocr_text(img, self.languages).strip()
                if text:
                    derived = Item(
                        id=item.id,
                        source=item.source,
                        text=text,
                        url=item.url,
                        account=item.account,
                        channel=item.channel,
                        published=item.published,
                        meta={"derived_from": "ocr", "media": media.sha256},
                    )
                    out.append((derived, media.sha256))
        return out

    def detect(self, items: list[Item]) -> list[Signal]:
        derived = self.derived_items([i for i in items if any(m.kind == "image" for m in i.media)])
        if not derived:
            return []
        out = []
        for detector in self._text_detectors():
            for signal in detector.detect([d for d, _ in derived]):
                media = next((sha for d, sha in derived if d.id == signal.item_id), None)
                signal.detector = f"ocr+{signal.detector}"
                signal.meta = {**signal.meta, "ocr_media": media}
                out.append(signal)
        return out
