"""Find what to read under a path, and which source reads each file: by ``--format`` or by sniffing."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vigil.core.registry import SOURCES, plugin, plugins
from vigil.sources.base import Source

SNIFF_BYTES = 8192
log = logging.getLogger(__name__)


@dataclass(slots=True)
class Task:
    path: Path
    source: Source | None
    reason: str = ""  # why no source was found


def sources() -> list[Source]:
    return [cls() for cls in plugins(SOURCES).values()]


def choose(path: Path, candidates: list[Source]) -> Source | None:
    head = b""
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    best, best_score = None, 0.0
    for src in candidates:
        if src.reads_folders != path.is_dir() and not (src.reads_files and not path.is_dir()):
            continue
        try:
            score = src.sniff(path, head)
        except Exception:  # a plug-in's faulty sniff must not end the scan: it just does not claim the file
            log.exception("source %s failed to sniff %s", src.name, path)
            continue
        if score > best_score:
            best, best_score = src, score
    return best


def _folder_source_for_file(path: Path, candidates: list[Source]) -> Source | None:
    folder_sources = [s for s in candidates if s.reads_folders]
    best = choose(path.parent, folder_sources) if folder_sources else None
    return best if best is not None and path in best.claimed_files(path.parent) else None


def discover(root: Path, fmt: str | None = None) -> Iterator[Task]:
    """Yield one task per readable unit under ``root``: a file, or a folder a folder-source claims.

    With ``fmt`` every file under a folder (hidden ones aside) is read in that format, unsniffed, as
    ``--format`` promises; a folder format (``telegram``) reads ``root`` itself."""
    if fmt:
        forced = plugin(SOURCES, fmt)()
        if root.is_file() or forced.reads_folders:
            yield Task(root, forced)
            return
        for path in _walk_files(root):
            yield Task(path, forced)
        return
    candidates = sources()
    if root.is_file():
        # A file given on its own may be the heart of a folder format (a Telegram export's result.json).
        src = _folder_source_for_file(root, candidates) or choose(root, candidates)
        yield Task(root, src, "" if src else "unrecognised format")
        return
    folder_sources = [s for s in candidates if s.reads_folders]
    claimed: set[Path] = set()  # files a folder source owns, in its folder and below
    for dirpath, dirnames, filenames in os.walk(root):
        folder = Path(dirpath)
        dirnames.sort()
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        folder_src = choose(folder, folder_sources) if folder_sources else None
        if folder_src is not None:
            yield Task(folder, folder_src)
            owned = folder_src.claimed_files(folder)
            if not owned:
                dirnames[:] = []
                continue
            claimed |= owned
        for name in sorted(filenames):
            path = folder / name
            if name.startswith(".") or path in claimed or not path.is_file():
                continue
            src = choose(path, [s for s in candidates if not s.reads_folders or s.reads_files])
            yield Task(path, src, "" if src else "unrecognised format")


def _walk_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not name.startswith(".") and path.is_file():
                yield path
