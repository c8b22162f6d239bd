"""``vigil hash``, ``vigil bank ...`` and ``vigil match``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.common import RichProgress, err, load_config, open_store, print_json
from vigil.errors import UsageError, VigilError

bank_app = typer.Typer(help="Hash banks: create, import, add, list, export, enable and disable entries.")


def hash_cmd(
    files: Annotated[list[Path], typer.Argument(help="Files to hash.")],
    ocr: Annotated[bool, typer.Option(help="Also OCR images (Tesseract).")] = False,
    every_frame: Annotated[bool, typer.Option(help="vPDQ of every video frame, not one a second.")] = False,
) -> None:
    """Print one JSON line per file: sha256, md5, kind and the perceptual hashes that apply."""
    from vigil.hashing.files import hash_file

    failed = 0
    for path in files:
        if not path.is_file():
            print_json({"path": str(path), "error": "no such file"})
            failed += 1
            continue
        record = hash_file(path, ocr=ocr, every_frame=every_frame)
        failed += "error" in record
        print_json(record)
    if failed:
        raise VigilError(f"{failed} of {len(files)} files could not be hashed (see their 'error')")


def _service(store: Any) -> Any:
    from vigil.banks.service import BankService

    return BankService(store, load_config())


@bank_app.command("create")
def bank_create(
    name: str,
    threshold: Annotated[int, typer.Option(help="PDQ match distance (Hamming, of 256 bits).")] = 31,
    negative: Annotated[bool, typer.Option(help="Known benign content: its matches suppress hits.")] = False,
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a bank."""
    with open_store(load_config()) as store:
        print_json(_service(store).create(name, threshold, negative, description).to_dict())


@bank_app.command("list")
def bank_list() -> None:
    """One JSON line per bank."""
    with open_store(load_config()) as store:
        for bank in _service(store).list_banks():
            print_json(bank.to_dict())


@bank_app.command("set")
def bank_set(
    name: str,
    threshold: Annotated[int | None, typer.Option()] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    negative: Annotated[bool | None, typer.Option("--negative/--positive")] = None,
) -> None:
    """Change a bank's threshold, enabled flag or polarity."""
    with open_store(load_config()) as store:
        print_json(_service(store).update(name, threshold, enabled, negative).to_dict())


@bank_app.command("import")
def bank_import(
    name: str,
    file: Path,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="lines, te-csv or tat-json (default: sniffed).")
    ] = None,
    signal_type: Annotated[str, typer.Option("--type", help="Signal type of a 'lines' file.")] = "pdq",
    source: Annotated[str | None, typer.Option(help="Where the list came from.")] = None,
    strict: Annotated[bool, typer.Option(help="Import nothing if any record is bad.")] = False,
) -> None:
    """Import a hash list. Bad records are reported with their line, kept in quarantine, and skipped."""
    from vigil.banks.formats import Rejected, read, sniff_format
    from vigil.banks.model import NewEntry, normalise_type
    from vigil.core.model import Quarantined

    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    stype = normalise_type(signal_type)
    if stype is None:
        raise UsageError(f"unknown signal type {signal_type!r}")
    try:
        text = file.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VigilError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    fmt = fmt or sniff_format(file.name, text[:4096])
    good: list[NewEntry] = []
    bad: list[Rejected] = []
    for rec in read(text, fmt, stype, source or file.name):
        (bad if isinstance(rec, Rejected) else good).append(rec)  # type: ignore[arg-type]
    for r in bad[:50]:
        sys.stderr.write(f"{file}: {r.location}: {r.reason}\n")
    if len(bad) > 50:
        err.print(f"... and {len(bad) - 50} more rejected")
    if strict and bad:
        raise VigilError(f"{file}: {len(bad)} bad records; nothing imported (--strict)")
    with open_store(load_config()) as store:
        if bad:
            store.add_quarantined([Quarantined(str(file), r.location, r.reason, r.excerpt) for r in bad])
        with RichProgress(total=len(good), label="entries") as progress:
            progress.task(f"importing into {name}")
            added = _service(store).add(name, good, note="import", progress=progress.advance)
    print_json(
        {
            "bank": name,
            "format": fmt,
            "read": len(good),
            "added": len(added),
            "duplicates": len(good) - len(added),
            "rejected": len(bad),
        }
    )


def _parse_meta(pairs: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--meta {pair!r}: want key=value")
        key = key.strip()
        if key == "labels":
            meta[key] = [v.strip() for v in value.split(",") if v.strip()]
        else:
            meta[key] = value
    return meta


@bank_app.command("add")
def bank_add(
    name: str,
    files: Annotated[list[Path], typer.Argument(help="Media files to hash and add.")],
    meta: Annotated[list[str], typer.Option("--meta", help="key=value, repeatable.")] = [],  # noqa: B006
    source: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Hash files and add their hashes (perceptual and SHA-256) to a bank."""
    from vigil.banks.model import NewEntry
    from vigil.core.model import utcnow
    from vigil.hashing.files import hash_file

    extra = _parse_meta(meta)
    entries: list[NewEntry] = []
    for path in files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        rec = hash_file(path)
        if "error" in rec:
            err.print(f"[yellow]{path}[/]: {rec['error']} (adding its SHA-256 only)")
        info = {**extra, "file": path.name, "kind": rec["kind"]}
        first = utcnow()
        values = [("sha256", rec["sha256"])]
        extra_hashes = [rec["pdq_square"]] if rec.get("pdq_square") else []
        if rec.get("pdq"):
            values.append(("pdq", rec["pdq"]))
            info["pdq_quality"] = rec["pdq_quality"]
        if rec.get("vpdq"):
            frames = [f[2] for f in rec["vpdq"] if f[1] >= 50]
            if frames:
                values.append(("vpdq", " ".join(dict.fromkeys(frames))))
        if rec.get("tlsh"):
            values.append(("tlsh", rec["tlsh"]))
        if rec.get("chromaprint"):
            values.append(("chromaprint", rec["chromaprint"]))
        for stype, value in values:
            more = extra_hashes if stype == "pdq" else []
            entries.append(
                NewEntry(stype, value, dict(info), source or "vigil bank add", rec["sha256"], first, more)
            )
    with open_store(load_config()) as store:
        ids = _service(store).add(name, entries)
    print_json({"bank": name, "files": len(files), "added": len(ids), "entry_ids": ids})


@bank_app.command("export")
def bank_export(
    name: str,
    fmt: Annotated[str, typer.Option("--format", "-f", help="lines, te-csv or tat-json.")] = "te-csv",
    signal_type: Annotated[str | None, typer.Option("--type", help="Only this signal type.")] = None,
    include_disabled: Annotated[bool, typer.Option()] = False,
) -> None:
    """Write the bank's entries to stdout, with all their metadata (except in 'lines')."""
    from vigil.audit.log import append
    from vigil.banks.formats import write

    with open_store(load_config()) as store:
        service = _service(store)
        entries = (
            e
            for e in service.entries(name, include_disabled=include_disabled)
            if signal_type is None or e.signal_type == signal_type
        )
        count = write(entries, fmt, sys.stdout)
        append(store, "cli", "bank.export", "bank", service.get(name).id, {"format": fmt, "entries": count})


def _entry_ids(ids: list[int]) -> list[int]:
    if not ids:
        raise UsageError("give at least one entry id")
    return ids


@bank_app.command("disable")
def bank_disable(ids: list[int], reason: Annotated[str, typer.Option()] = "") -> None:
    """Disable entries: they stop matching at once."""
    with open_store(load_config()) as store:
        print_json({"disabled": _service(store).set_enabled(_entry_ids(ids), False, reason=reason)})


@bank_app.command("enable")
def bank_enable(ids: list[int], reason: Annotated[str, typer.Option()] = "") -> None:
    """Enable entries again (also releases entries the flood guard quarantined)."""
    with open_store(load_config()) as store:
        print_json({"enabled": _service(store).set_enabled(_entry_ids(ids), True, reason=reason)})


@bank_app.command("review")
def bank_review() -> None:
    """Entries the flood guard took out of matching, waiting for review."""
    with open_store(load_config()) as store:
        for e in _service(store).review_queue():
            print_json(e.to_dict())


def match(
    files: Annotated[list[Path] | None, typer.Argument(help="Files to hash and match.")] = None,
    bank: Annotated[list[str] | None, typer.Option("--bank", help="Only this bank (repeatable).")] = None,
    hash_file: Annotated[
        Path | None, typer.Option("--hash-file", help="One PDQ hash (64 hex digits) a line.")
    ] = None,
) -> None:
    """One JSON line per query: {"query", "matches": [{"bank", "entry_id", "distance", "meta"}]}.

    A bad line of a hash file gets a line with its number and an "error" instead, in order; the rest are
    matched, and the exit code is 1."""
    from vigil.banks.flood import record_matches
    from vigil.banks.matcher import Matcher, MatchResult

    if not files and hash_file is None:
        raise UsageError("give files to match, or --hash-file")
    config = load_config()
    failed = 0

    def emit(query: str, result: MatchResult, extra: dict[str, Any] | None = None) -> None:
        out: dict[str, Any] = {"query": query, **(extra or {})}
        out["matches"] = [m.to_dict() for m in result.matches]
        if result.negative:
            out["suppressed"] = [m.to_dict() for m in result.suppressed]
            out["negative"] = [m.to_dict() for m in result.negative]
        print_json(out)

    with open_store(config) as store:
        matcher = Matcher(_service(store), bank)
        if hash_file is not None:
            failed += _match_hash_file(matcher, hash_file, emit)
        for path in files or []:
            if not path.is_file():
                print_json({"query": str(path), "error": "no such file", "matches": []})
                failed += 1
                continue
            record, result = matcher.match_file(path)
            extra = {"sha256": record["sha256"], "kind": record["kind"], "pdq": record.get("pdq")}
            if "error" in record:
                extra["error"] = record["error"]
            emit(str(path), result, extra)
            record_matches(matcher.service, [m.entry_id for m in result.matches])
    if failed:
        raise VigilError(f"{failed} queries could not be matched (see their 'error')")


def _match_hash_file(matcher: Any, path: Path, emit: Any, batch: int = 50_000) -> int:
    from vigil.banks.flood import record_matches
    from vigil.banks.model import normalise_value

    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    failed = 0
    pending: list[tuple[int, str, str | None, str]] = []  # (line, raw, hash or None, error)

    def flush() -> None:
        hexes = [h for _, _, h, _ in pending if h is not None]
        results = iter(matcher.match_pdq(hexes))
        matched: list[int] = []
        for number, raw, value, error in pending:
            if value is None:
                print_json({"query": raw, "line": number, "error": error, "matches": []})
                continue
            result = next(results)
            matched.extend(m.entry_id for m in result.matches)
            emit(value, result)
        record_matches(matcher.service, matched)
        pending.clear()

    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                pending.append((number, line, normalise_value("pdq", line), ""))
            except ValueError as exc:
                sys.stderr.write(f"{path}: line {number}: {exc}\n")
                pending.append((number, line[:100], None, f"line {number}: {exc}"))
                failed += 1
            if len(pending) >= batch:
                flush()
    flush()
    return failed


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_cmd)
    app.command("match")(match)
    app.add_typer(bank_app, name="bank")
