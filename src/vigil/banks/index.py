"""A persisted, incremental index (PDQ; TLSH through ``TLSHIndex``): a large immutable main segment,
a small delta segment for recent additions, and a set of disabled ids. Adding or disabling takes effect
at once; the main segment is rebuilt only when the delta grows past a fraction of it (amortised),
never on every change.

On disk (one folder per bank): ``meta.json`` names the live generation of each segment; segments are
plain ``.npy`` arrays opened memory-mapped, so a new process loads a million hashes in milliseconds.
Writers take an exclusive ``flock`` on the folder; a generation is written completely before
``meta.json`` is swapped to name it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from vigil.banks.pdqindex import I64, Segment
from vigil.banks.tlshindex import TLSHSegment

MIN_DELTA = 50_000
AnySegment = Segment | TLSHSegment


class PDQIndex:
    """Rows are (n, 4) uint64 PDQ words; ``segment`` names the segment class (its ``ARRAYS`` are what is
    saved, ``words`` the rows it was built from, ``empty()`` and ``build(rows, ids)`` make one)."""

    segment: type[Segment] | type[TLSHSegment] = Segment

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.meta: dict[str, Any] = {"version": -1, "generation": 0, "main": None, "delta": None}
        self.main: AnySegment = self._empty_segment()
        self.delta: AnySegment = self._empty_segment()
        self.disabled = np.empty(0, dtype=np.int64)
        self.reload()

    def _empty_segment(self) -> AnySegment:
        return self.segment.empty()

    def _save_segment(self, seg: AnySegment, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in self.segment.ARRAYS:
            np.save(folder / f"{name}.npy", np.asarray(getattr(seg, name)), allow_pickle=False)

    def _load_segment(self, folder: Path) -> AnySegment:
        names = self.segment.ARRAYS
        arrays = [np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in names]
        return self.segment(*arrays)

    # ---- reading ------------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return int(self.meta.get("version", -1))

    def __len__(self) -> int:
        return len(self.main) + len(self.delta)

    def reload(self) -> None:
        path = self.folder / "meta.json"
        if not path.exists():
            return
        self.meta = json.loads(path.read_text("utf-8"))
        self.main = (
            self._load_segment(self.folder / self.meta["main"])
            if self.meta["main"]
            else self._empty_segment()
        )
        self.delta = (
            self._load_segment(self.folder / self.meta["delta"])
            if self.meta["delta"]
            else self._empty_segment()
        )
        disabled = self.folder / self.meta.get("disabled", "")
        self.disabled = (
            np.load(disabled, allow_pickle=False) if self.meta.get("disabled") else np.empty(0, np.int64)
        )

    def search(self, queries: Any, radius: int) -> tuple[I64, I64, I64]:
        """(query row, id, distance) for every enabled id within ``radius``, the nearest hash per id."""
        parts = [seg.search(queries, radius) for seg in (self.main, self.delta) if len(seg)]
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        q = np.concatenate([p[0] for p in parts])
        i = np.concatenate([p[1] for p in parts])
        d = np.concatenate([p[2] for p in parts])
        if len(self.disabled):
            keep = ~np.isin(i, self.disabled)
            q, i, d = q[keep], i[keep], d[keep]
        # One id may own several hashes (video frames, variants): keep its nearest per query.
        order = np.lexsort((d, i, q))
        q, i, d = q[order], i[order], d[order]
        first = np.ones(len(q), dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (i[1:] != i[:-1])
        return q[first], i[first], d[first]

    # ---- writing ------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                self.reload()
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def rebuild(self, words: Any, ids: I64, disabled: I64, version: int) -> None:
        """Replace everything (first build, or when the store and the index disagree)."""
        with self._locked():
            self._commit(self.segment.build(words, ids), self._empty_segment(), disabled, version)

    def add(self, words: Any, ids: I64, version: int) -> None:
        with self._locked():
            dw = np.concatenate([self.delta.words, words])
            di = np.concatenate([np.asarray(self.delta.ids), ids])
            if len(dw) > max(MIN_DELTA, len(self.main) // 4):  # compaction: fold the delta into main
                mw = np.concatenate([self.main.words, dw])
                mi = np.concatenate([np.asarray(self.main.ids), di])
                self._commit(self.segment.build(mw, mi), self._empty_segment(), self.disabled, version)
            else:
                self._commit(self.main, self.segment.build(dw, di), self.disabled, version, keep_main=True)

    def set_disabled(self, ids: I64, disabled: bool, version: int) -> None:
        with self._locked():
            if disabled:
                new = np.union1d(self.disabled, ids)
            else:
                new = np.setdiff1d(self.disabled, ids)
            self._commit(
                self.main, self.delta, new.astype(np.int64), version, keep_main=True, keep_delta=True
            )

    def _commit(
        self,
        main: AnySegment,
        delta: AnySegment,
        disabled: I64,
        version: int,
        keep_main: bool = False,
        keep_delta: bool = False,
    ) -> None:
        gen = int(self.meta.get("generation", 0)) + 1
        meta = dict(self.meta, version=version, generation=gen)
        if not keep_main:
            meta["main"] = f"main-{gen}" if len(main) else None
            if len(main):
                self._save_segment(main, self.folder / f"main-{gen}")
        if not keep_delta:
            meta["delta"] = f"delta-{gen}" if len(delta) else None
            if len(delta):
                self._save_segment(delta, self.folder / f"delta-{gen}")
        meta["disabled"] = f"disabled-{gen}.npy"
        np.save(self.folder / meta["disabled"], np.asarray(disabled, dtype=np.int64), allow_pickle=False)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".meta-")
        with os.fdopen(fd, "w") as fh:
            json.dump(meta, fh)
        os.replace(tmp, self.folder / "meta.json")
        previous = self.meta
        self.meta = meta
        self._collect(previous)
        self.reload()

    def _collect(self, previous: dict[str, Any]) -> None:
        """Delete generations older than the previous one (a reader may still hold the previous)."""
        keep = {self.meta.get(k) for k in ("main", "delta", "disabled")}
        keep |= {previous.get(k) for k in ("main", "delta", "disabled")}
        for path in self.folder.iterdir():
            if path.name.startswith(("main-", "delta-", "disabled-")) and path.name not in keep:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


class TLSHIndex(PDQIndex):
    """The same persisted main/delta/disabled index over TLSH digests: rows are ``digest_rows``'s (n, 35)."""

    segment = TLSHSegment
