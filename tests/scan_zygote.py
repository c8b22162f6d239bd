"""A fork server for the scan-kill test: imports vigil once, then runs each ``vigil`` command it is asked
for in a forked child process (the real command line, ``vigil.cli.main``, in a process of its own) and
kills that child with SIGKILL when asked. Forking skips the seconds of imports a fresh interpreter costs,
so that a test can kill many scans.

Protocol, one JSON object per line. On stdin: ``{"args": [...], "env": {...}, "kill_after": K,
"delay": S, "timeout": T}``: run ``vigil ARGS`` with exactly ENV; with ``kill_after`` K >= 1, SIGKILL it
S seconds after its K-th ``vigil-checkpoint`` line on stderr (``vigil.ingest.faults``); with K = 0, S
seconds after it starts; with K null, never (but after T seconds). On stdout: ``{"status": exit status
or minus the signal, "killed": bool, "checkpoints": [names seen], "stdout": ..., "stderr": ...}``.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

import vigil.cli
from vigil.ingest.faults import MARK

#: What a scan imports, loaded once before any fork.
PRELOAD = (
    "vigil.boot",
    "vigil.cli.scan",
    "vigil.detect.hashmatch",
    "vigil.detect.text",
    "vigil.detect.watchlist",
    "vigil.graph.update",
    "vigil.ingest.scan",
    "vigil.sources.jsonl",
    "sqlalchemy.dialects.postgresql.psycopg",
)


def child(args: list[str], env: dict[str, str], out_w: int, err_w: int) -> None:
    """In the forked child: become ``vigil ARGS``; never returns."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["vigil", *args]
        try:
            vigil.cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run(request: dict[str, Any]) -> dict[str, Any]:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        child(request["args"], request["env"], out_w, err_w)
    os.close(out_w)
    os.close(err_w)
    kill_after = request.get("kill_after")
    delay = float(request.get("delay") or 0.0)
    started = time.monotonic()
    deadline = started + float(request.get("timeout") or 300)
    kill_at = started + delay if kill_after == 0 else None
    checkpoints: list[str] = []
    buffers = {out_r: bytearray(), err_r: bytearray()}
    pending = b""
    killed = timed_out = False
    selector = selectors.DefaultSelector()
    for fd in buffers:
        selector.register(fd, selectors.EVENT_READ)
    while selector.get_map():
        now = time.monotonic()
        limit = min(x for x in (kill_at, deadline) if x is not None)
        if now >= limit and not killed:
            os.kill(pid, signal.SIGKILL)
            killed, timed_out = True, kill_at is None or now < kill_at
        wait = None if killed else max(0.0, limit - now)
        for key, _ in selector.select(wait):
            fd = key.fd
            data = os.read(fd, 65536)  # type: ignore[arg-type]
            if not data:
                selector.unregister(fd)
                os.close(fd)  # type: ignore[arg-type]
                continue
            buffers[fd] += data  # type: ignore[index]
            if fd == err_r:
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    text = line.decode("utf-8", "replace")
                    if text.startswith(MARK + " "):
                        checkpoints.append(text[len(MARK) + 1 :])
                        if kill_at is None and kill_after and len(checkpoints) == kill_after:
                            kill_at = time.monotonic() + delay
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {
        "status": code,
        "killed": code == -signal.SIGKILL and not timed_out,
        "timed_out": timed_out,
        "checkpoints": checkpoints,
        "stdout": buffers[out_r].decode("utf-8", "replace"),
        "stderr": buffers[err_r].decode("utf-8", "replace")[-5000:],
        "seconds": time.monotonic() - started,
    }


def warm_up() -> None:
    """Import what a scan imports, lazily included (plug-ins, the migration scripts' imports): scan one
    post into a throw-away store, its output discarded, the environment left as it was."""
    for name in PRELOAD:
        importlib.import_module(name)
    saved_env, saved_argv = dict(os.environ), sys.argv
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "one.jsonl")
        with open(corpus, "w", encoding="utf-8") as out:
            out.write('{"id": "1", "text": "A placeholder.", "author": "someone"}\n')
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.environ.update({"VIGIL_HOME": tmp, "VIGIL_DATABASE_URL": f"sqlite:///{tmp}/warm.db"})
        sys.argv = ["vigil", "scan", "--json", corpus]
        try:
            vigil.cli.main()
        except SystemExit:
            pass
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (devnull, *saved):
                os.close(fd)
            os.environ.clear()
            os.environ.update(saved_env)
            sys.argv = saved_argv


def main() -> None:
    warm_up()
    for line in sys.stdin:
        if line.strip():
            answer = run(json.loads(line))
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
