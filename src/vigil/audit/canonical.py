"""The JSON Canonicalization Scheme (RFC 8785, JCS): one byte sequence for one JSON value, whatever
produced it. The audit log hashes this text and keeps it as text, so that what is verified is what was
hashed byte for byte (PostgreSQL's JSONB rewrites numbers: ``1e16`` comes back as an integer).

- Objects: members sorted by the UTF-16 code units of their names; no whitespace.
- Strings: only ``"``, ``\\`` and control characters escaped (``\\b \\f \\n \\r \\t``, else ``\\u00xx``);
  everything else as UTF-8. An unpaired surrogate cannot be written: ``ValueError``.
- Numbers: as ECMAScript writes a double (``1e16`` → ``10000000000000000``, ``-0.0`` → ``0``, ``1e21`` →
  ``1e+21``, ``1.5e-7`` → ``1.5e-7``); NaN and infinities are refused (``ValueError``). One extension:
  a Python ``int`` beyond ±(2**53 − 1), which a double cannot hold, is written with all its digits
  (RFC 8785 leaves such numbers out; inside the safe range both ways give the same text).
"""

from __future__ import annotations

import json
import math
from typing import Any

SAFE_INT = 2**53 - 1


def canonical(value: Any) -> str:
    """The JCS text of a JSON value (``dict`` with ``str`` keys, ``list``/``tuple``, ``str``, ``int``,
    ``float``, ``bool``, ``None``); ``ValueError`` for anything else."""
    out: list[str] = []
    _write(value, out, 0)
    return "".join(out)


def _write(value: Any, out: list[str], depth: int) -> None:
    if depth > 500:
        raise ValueError("nested too deeply to be canonicalised")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(number(value))
    elif isinstance(value, str):
        out.append(string(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, element in enumerate(value):
            if n:
                out.append(",")
            _write(element, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("object member names must be strings")
        out.append("{")
        for n, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))):
            if n:
                out.append(",")
            out.append(string(key))
            out.append(":")
            _write(value[key], out, depth + 1)
        out.append("}")
    else:
        raise ValueError(f"{type(value).__name__} is not a JSON value")


def string(text: str) -> str:
    """A JSON string as JCS writes it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string with an unpaired surrogate cannot be canonicalised") from None
    # Python's encoder escapes exactly what JCS escapes (lower-case \u00xx) when it may keep non-ASCII.
    return json.dumps(text, ensure_ascii=False)


def number(x: float) -> str:
    """A double as ECMAScript's Number.prototype.toString writes it (RFC 8785 section 3.2.2.3)."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError("NaN and infinities are not JSON numbers")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exp_text = repr(abs(x)).partition("e")  # repr: the shortest digits that round-trip
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    stripped = all_digits.lstrip("0")
    lead = len(all_digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    n = len(whole) - lead + (int(exp_text) if exp_text else 0)  # x = 0.digits × 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = (
            (digits if k == 1 else digits[0] + "." + digits[1:])
            + "e"
            + ("+" if e >= 0 else "-")
            + str(abs(e))
        )
    return sign + text


def plain(value: Any) -> Any:
    """``value`` with what JSON cannot hold made JSON: tuples as lists, other objects (dates, paths) as
    their ``str``, as the audit log always wrote them. Non-finite floats stay, for ``canonical`` to refuse."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)
