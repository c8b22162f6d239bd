"""Whole-graph analyses run where a failure is an exception, never the end of the process.

python-igraph turns an error of its C core into a Python exception only in the thread that imported it;
in any other thread (a web server's request threads) the core's default handler calls ``abort()`` and the
whole process dies: ``vigil serve`` exited with status 134 when the network page asked for the
communities of a graph with nodes but no edges. Hence two ways to run an analysis:

- ``InProcess`` runs it in the calling thread, which must be the main thread (the CLI, the benchmark):
  an error there is an exception, reported as a ``GraphAnalysisError`` (one line, exit status 1).
- ``Isolated`` (the server) runs it in a child process of its own (started with ``spawn``; one analysis
  at a time per child, in the child's main thread) that opens the same database, holds the loaded graph
  (``GraphView``) and keeps it up to date itself. An error in the child comes back as an exception; a
  child that dies (a crash in native code, the kernel's OOM killer) or runs past the time limit is
  killed, the request gets an error, and the next request starts a fresh child: the server answers on.

An analysis is named in ``ANALYSES``; it takes a ``GraphView`` first and plain, picklable arguments after,
and returns plain data. ``run_json`` has the child encode the answer as JSON (what the API sends), so
only bytes cross the pipe: pickling an answer of thousands of dicts and datetimes costs more than
encoding it, and the server then sends the bytes as they come.

Independently of where it runs, the inputs are guarded so that the native calls are not made on shapes
they refuse (``loaded.py``: edge attributes always present, weights >= 1; ``communities.py``: no library
call on a graph without edges).
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import queue
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from vigil.errors import UsageError, VigilError
from vigil.graph.centrality import key_actors
from vigil.graph.communities import communities
from vigil.graph.network import network
from vigil.graph.paths import path_between
from vigil.graph.view import GraphView
from vigil.store import Store

log = logging.getLogger(__name__)

TIME_LIMIT = 120.0  # seconds an analysis may run in the server (and wait for a free child) before it is cut
STARTUP_LIMIT = 120.0  # seconds a new child may take to import what it needs and open the store


class GraphAnalysisError(VigilError):
    """A graph analysis failed (the process that asked for it goes on)."""


class AnalysisTimeout(GraphAnalysisError):
    """A graph analysis ran past its time limit, or found no free child within it."""


class AnalysisCrashed(GraphAnalysisError):
    """The child process running a graph analysis died."""


def held(view: GraphView) -> dict[str, Any]:
    """What the view holds: the graph version, how it was brought up to date, its size."""
    loaded = view.whole()
    return {
        "version": loaded.version,
        "how": loaded.how,
        "vertices": loaded.graph.vcount(),
        "edges": loaded.graph.ecount(),
    }


ANALYSES: dict[str, Callable[..., Any]] = {
    "communities": communities,
    "key_actors": key_actors,
    "network": network,
    "path": path_between,
    "held": held,
}


class Analyses(Protocol):
    """Runs a named analysis (``ANALYSES``) with its arguments after the view."""

    def run(self, name: str, *args: Any) -> Any: ...

    def run_json(self, name: str, *args: Any) -> bytes: ...

    def close(self) -> None: ...


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def encode(answer: Any) -> bytes:
    """An analysis' answer as the API sends it: compact UTF-8 JSON, times in ISO 8601, no NaN."""
    text = json.dumps(answer, default=_plain, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8")


def _function(name: str) -> Callable[..., Any]:
    try:
        return ANALYSES[name]
    except KeyError:
        raise UsageError(f"no graph analysis {name!r}") from None


class InProcess:
    """Analyses in the calling thread, on a view of its own: for the main thread only (the CLI)."""

    def __init__(self, store: Store) -> None:
        self.view = GraphView(store)

    def run_json(self, name: str, *args: Any) -> bytes:
        return encode(self.run(name, *args))

    def run(self, name: str, *args: Any) -> Any:
        fn = _function(name)
        if threading.current_thread() is not threading.main_thread():
            # Outside the main thread a native error aborts the process: use ``Isolated`` there.
            raise GraphAnalysisError("graph analyses run in the main thread, or apart (Isolated)")
        try:
            return fn(self.view, *args)
        except VigilError:
            raise
        except Exception as exc:  # a library's error on this graph: one clear line, not a traceback
            raise GraphAnalysisError(f"the {name} analysis failed: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        pass


@dataclass(slots=True, eq=False)
class _Child:
    process: BaseProcess
    conn: Connection

    def stop(self, kill: bool = False) -> str:
        """Stop the child (asked to, or killed) and say how it ended."""
        if not kill and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)
        self.conn.close()
        return ended(self.process.exitcode)


def ended(code: int | None) -> str:
    """How a process ended, in words: ``exit status 1``, ``signal SIGABRT``."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


class Isolated:
    """Analyses in child processes (``workers`` of them, started on first use), each holding the loaded
    graph of ``store``'s database; an analysis gets ``time_limit`` seconds to find a free child and as
    many to run."""

    def __init__(self, store: Store, time_limit: float = TIME_LIMIT, workers: int = 1) -> None:
        url = store.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise UsageError("graph analyses run apart need a database another process can open")
        self.store = store
        self.url = url.render_as_string(hide_password=False)
        self.time_limit = time_limit
        self._idle: queue.LifoQueue[_Child | None] = queue.LifoQueue()
        for _ in range(max(1, workers)):
            self._idle.put(None)
        self._children: set[_Child] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # children started so far (a fresh one after each crash or time-out)

    def run(self, name: str, *args: Any) -> Any:
        return self._ask(name, args, False)

    def run_json(self, name: str, *args: Any) -> bytes:
        """The answer encoded as JSON in the child (``encode``)."""
        answer: bytes = self._ask(name, args, True)
        return answer

    def _ask(self, name: str, args: tuple[Any, ...], as_json: bool) -> Any:
        _function(name)
        if self._closed:
            raise GraphAnalysisError("the graph analyses are closed")
        try:
            child = self._idle.get(timeout=self.time_limit)
        except queue.Empty:
            raise AnalysisTimeout(
                f"no graph analysis process came free within {self.time_limit:.0f} s; try again later"
            ) from None
        try:
            child = self._ready(child)
            try:
                child.conn.send((name, args, as_json))
            except OSError:  # it died while idle: a fresh one
                self._discard(child)
                child = self._ready(None)
                child.conn.send((name, args, as_json))
            if not child.conn.poll(self.time_limit):
                self._discard(child)
                child = None
                raise AnalysisTimeout(f"the {name} analysis ran past {self.time_limit:.0f} s and was stopped")
            try:
                status, payload = child.conn.recv()
            except (EOFError, OSError):
                how = self._discard(child)
                child = None
                raise AnalysisCrashed(
                    f"the {name} analysis failed: its process ended ({how}); the next request starts anew"
                ) from None
        finally:
            self._idle.put(child)
        if status == "ok":
            return payload
        if status == "usage":
            raise UsageError(payload)
        raise GraphAnalysisError(f"the {name} analysis failed: {payload}")

    def _ready(self, child: _Child | None) -> _Child:
        if child is not None and child.process.is_alive():
            return child
        if child is not None:
            self._discard(child)
        ctx = multiprocessing.get_context("spawn")  # never fork a threaded server
        mine, theirs = ctx.Pipe()
        process = ctx.Process(target=child_main, args=(theirs, self.url), name="vigil-graph", daemon=True)
        process.start()
        theirs.close()
        made = _Child(process, mine)
        # Its imports and its store first (seconds on a busy machine): not counted in an analysis' time.
        if not mine.poll(STARTUP_LIMIT) or _receive(mine) != "ready":
            how = made.stop(kill=True)
            raise AnalysisCrashed(f"the graph analysis process did not start ({how})")
        with self._lock:
            if self._closed:
                made.stop(kill=True)
                raise GraphAnalysisError("the graph analyses are closed")
            self._children.add(made)
            self.started += 1
        return made

    def _discard(self, child: _Child) -> str:
        with self._lock:
            self._children.discard(child)
        how = child.stop(kill=True)
        log.warning("graph analysis process %s stopped (%s)", child.process.pid, how)
        return how

    def pids(self) -> list[int]:
        """The process ids of the children running now."""
        with self._lock:
            return sorted(c.process.pid for c in self._children if c.process.pid is not None)

    def close(self) -> None:
        """Stop every child (a request still running gets an error)."""
        with self._lock:
            self._closed = True
            children = list(self._children)
            self._children.clear()
        for child in children:
            child.stop()


def _receive(conn: Connection) -> Any:
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def child_main(conn: Connection, url: str) -> None:
    """The child: answer requests ``(name, args, as_json)`` with ``("ok", result)``, ``("usage", reason)`` or
    ``("error", reason)`` until the parent sends None or goes away."""
    from vigil.store.engine import make_engine

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; the child ends with its pipe
    store = Store(make_engine(url))  # the parent's database, migrated already
    view = GraphView(store)
    conn.send("ready")
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return
            if request is None:
                return
            name, args, as_json = request
            answer = _answer(view, name, args, as_json)
            try:
                conn.send(answer)
            except (EOFError, OSError):
                return
            except Exception as exc:  # a result that cannot be pickled: say so instead
                conn.send(("error", f"the result could not be sent back: {exc}"))
    finally:
        store.close()


def _answer(view: GraphView, name: str, args: tuple[Any, ...], as_json: bool) -> tuple[str, Any]:
    try:
        result = _function(name)(view, *args)
        return "ok", encode(result) if as_json else result
    except UsageError as exc:
        return "usage", str(exc)
    except Exception as exc:  # an analysis that fails is an answer, never the end of the child
        log.exception("graph analysis %s failed", name)
        return "error", f"{type(exc).__name__}: {exc}"
