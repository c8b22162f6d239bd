"""Small charts drawn as SVG on the server: no JavaScript library, no CDN, and they print."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#6b7280")
W, H, PAD = 640, 220, 36
#: Characters XML 1.0 does not allow, even escaped (C0 controls but tab, newline, return; U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    """Text from elsewhere (e.g. a server's error message) made safe inside the SVG."""
    return escape(_NOT_XML.sub("\ufffd", value))


def _frame(body: str, title: str, legend: list[tuple[str, str]]) -> str:
    keys = "".join(
        f'<rect x="{PAD + i * 110}" y="{H + 8}" width="10" height="10" fill="{c}"/>'
        f'<text x="{PAD + i * 110 + 14}" y="{H + 17}" font-size="11">{escape(n[:14])}</text>'
        for i, (n, c) in enumerate(legend)
    )
    return (
        f'<svg class="chart" viewBox="0 0 {W} {H + 28}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 8}" y2="{H - PAD}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="8" x2="{PAD}" y2="{H - PAD}" stroke="#999"/>{body}{keys}</svg>'
    )


def lines(title: str, labels: list[str], series: dict[str, list[int]]) -> str:
    """One polyline per series over the labels (e.g. days)."""
    top = max([1, *(v for values in series.values() for v in values)])
    step = (W - PAD - 16) / max(1, len(labels) - 1)
    body = [
        f'<text x="4" y="14" font-size="11">{top}</text><text x="4" y="{H - PAD}" font-size="11">0</text>'
    ]
    for i, label in enumerate(labels):
        if i % max(1, len(labels) // 7) == 0:
            body.append(
                f'<text x="{PAD + i * step:.1f}" y="{H - PAD + 14}" font-size="10" '
                f'text-anchor="middle">{escape(label[5:])}</text>'
            )
    legend = []
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(
            f"{PAD + i * step:.1f},{H - PAD - (v / top) * (H - PAD - 16):.1f}" for i, v in enumerate(values)
        )
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        legend.append((name, colour))
    return _frame("".join(body), title, legend)


def bars(title: str, values: dict[str, float], unit: str = "") -> str:
    """One bar per key, labelled with its value."""
    top = max([1.0, *values.values()])
    width = (W - PAD - 16) / max(1, len(values))
    body = []
    for i, (name, value) in enumerate(values.items()):
        height = (value / top) * (H - PAD - 24)
        x = PAD + 4 + i * width
        body.append(
            f'<rect x="{x:.1f}" y="{H - PAD - height:.1f}" width="{width * 0.7:.1f}" height="{height:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(name)}: {value:g}{unit}</title></rect>'
            f'<text x="{x + width * 0.35:.1f}" y="{H - PAD - height - 3:.1f}" font-size="10" '
            f'text-anchor="middle">{value:g}</text>'
            f'<text x="{x + width * 0.35:.1f}" y="{H - PAD + 12}" font-size="9" text-anchor="end" '
            f'transform="rotate(-30 {x + width * 0.35:.1f} {H - PAD + 12})">{escape(name[:12])}</text>'
        )
    return _frame("".join(body), title, [])


def histogram(title: str, values: list[float], buckets: list[float], unit: str) -> str:
    """Counts of ``values`` per bucket (upper bounds), the last bucket open-ended."""
    counts: dict[str, float] = {}
    lower = float("-inf")
    for bound in buckets:
        counts[f"≤{bound:g}{unit}"] = float(sum(1 for v in values if lower < v <= bound))
        lower = bound
    counts[f">{buckets[-1]:g}{unit}"] = float(sum(1 for v in values if v > buckets[-1]))
    return bars(title, counts)


def runs(title: str, points: Sequence[tuple[datetime, float, bool, str]]) -> str:
    """One bar per run at its time: ``(when, value, ok, tooltip)``; a failed run is a red mark on the axis."""
    top = max([1.0, *(value for _, value, _, _ in points)])
    left, right = PAD + 6, W - 16
    first = points[0][0] if points else None
    span = (points[-1][0] - first).total_seconds() if first else 0.0
    width = max(2.0, min(12.0, (right - left) / max(1, len(points)) * 0.7))
    body = [
        f'<text x="4" y="14" font-size="11">{top:g}</text><text x="4" y="{H - PAD}" font-size="11">0</text>'
    ]
    for when, value, ok, tip in points:
        offset = (when - first).total_seconds() / span if first and span else 0.5
        x = left + offset * (right - left - width)
        height = max(1.5, (value / top) * (H - PAD - 24)) if ok else 4.0  # a run with nothing new shows
        body.append(
            f'<rect class="run{"" if ok else " failed"}" x="{x:.1f}" y="{H - PAD - height:.1f}" '
            f'width="{width:.1f}" height="{height:.1f}" fill="{PALETTE[0] if ok else PALETTE[1]}">'
            f"<title>{_text(tip)}</title></rect>"
        )
    for when, anchor, x in ((points[0][0], "start", left), (points[-1][0], "end", right)) if points else ():
        body.append(
            f'<text x="{x}" y="{H - PAD + 14}" font-size="10" text-anchor="{anchor}">'
            f"{when.strftime('%m-%d %H:%M:%S')}</text>"
        )
    legend = [("items found", PALETTE[0]), ("failed run", PALETTE[1])]
    return _frame("".join(body), title, legend)
