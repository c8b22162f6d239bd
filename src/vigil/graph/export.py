"""Exports for Gephi and other tools: GEXF, GraphML and JSON (NetworkX's node-link layout), streamed.

The writers read nodes and edges from the store in id order and write them as they come: the whole
graph is never held in memory (a million-edge export is a few hundred MB of text, not a NetworkX object
of several GB). The output is what NetworkX writes for the same directed multigraph, so
``nx.read_gexf`` / ``nx.read_graphml`` / ``nx.node_link_graph`` read it back with the same nodes, edges
and attributes.

Every node carries node_key, kind, label, first_seen, last_seen, items; every edge id, kind, first_seen,
last_seen, count, evidence (space-separated item ids, capped) and evidence_count. Times are ISO 8601
strings ("" when unknown) because GEXF and GraphML attributes must be scalars. Characters that XML 1.0
cannot carry (control characters from hostile input) become U+FFFD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from sqlalchemy import Connection, func, select

from vigil.errors import UsageError
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.store import Store

FORMATS = ("gexf", "graphml", "json")
NODE_ATTRS = (("node_key", "string"), ("kind", "string"), ("first_seen", "string"), ("last_seen", "string"))
EDGE_ATTRS = (
    ("kind", "string"),
    ("first_seen", "string"),
    ("last_seen", "string"),
    ("count", "long"),
    ("evidence", "string"),
    ("evidence_count", "long"),
)
CHUNK = 5000
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_PLAIN = re.compile(r"[\w .:/@+,;=()\[\]{}#%*!?~^|$-]*")  # nothing to escape or replace
_ATTR_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _x(value: str) -> str:
    """Text safe inside an XML attribute or element."""
    if _PLAIN.fullmatch(value):
        return value
    return escape(_NOT_XML.sub("\ufffd", value), _ATTR_ENTITIES)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")


def count(store: Store) -> tuple[int, int]:
    """Nodes and edges in the graph."""
    with store.read() as conn:
        nodes = conn.execute(select(func.count()).select_from(graph_nodes)).scalar_one()
        edges = conn.execute(select(func.count()).select_from(graph_edges)).scalar_one()
    return int(nodes), int(edges)


class _Rows:
    """Nodes and edges as export rows, in id order, with the kind filters applied; counts what it gave."""

    def __init__(self, conn: Connection, node_kinds: Sequence[str], edge_kinds: Sequence[str]) -> None:
        self.conn = conn.execution_options(stream_results=True, yield_per=CHUNK)
        self.node_kinds = list(node_kinds)
        self.edge_kinds = list(edge_kinds)
        self.kept = np.zeros(0, dtype=bool)  # node id -> exported
        self.nodes = self.edges = 0

    def node_rows(self) -> Iterator[tuple[str, str, str, str, str, str, int]]:
        n = graph_nodes.c
        top = self.conn.execute(select(func.max(n.id))).scalar() or 0
        self.kept = np.zeros(int(top) + 1, dtype=bool)
        query = select(n.id, n.key, n.kind, n.label, n.first_seen, n.last_seen, n.item_count).order_by(n.id)
        if self.node_kinds:
            query = query.where(n.kind.in_(self.node_kinds))
        for row in self.conn.execute(query):
            if row.id >= len(self.kept):
                continue  # added while exporting: left for the next export
            self.kept[row.id] = True
            self.nodes += 1
            yield (
                str(row.id),
                row.key,
                row.kind,
                row.label,
                _iso(row.first_seen),
                _iso(row.last_seen),
                int(row.item_count or 0),
            )

    def edge_rows(self) -> Iterator[tuple[str, str, str, str, str, str, int, str, int]]:
        e = graph_edges.c
        query = select(
            e.id, e.src, e.dst, e.kind, e.first_seen, e.last_seen, e.count.label("n"), e.evidence
        ).order_by(e.id)
        if self.edge_kinds:
            query = query.where(e.kind.in_(self.edge_kinds))
        kept, top = self.kept, len(self.kept)
        for row in self.conn.execute(query):
            if not (row.src < top and row.dst < top and kept[row.src] and kept[row.dst]):
                continue
            evidence = [str(i) for i in (row.evidence or [])]
            self.edges += 1
            yield (
                str(row.id),
                str(row.src),
                str(row.dst),
                row.kind,
                _iso(row.first_seen),
                _iso(row.last_seen),
                int(row.n or 0),
                " ".join(evidence),
                len(evidence),
            )


def _batched(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces joined ``CHUNK`` at a time: few, large writes without holding the whole export."""
    part: list[str] = []
    for piece in pieces:
        part.append(piece)
        if len(part) >= CHUNK:
            yield "".join(part)
            part = []
    if part:
        yield "".join(part)


def _gexf(rows: _Rows) -> Iterator[str]:
    today = datetime.now(UTC).date().isoformat()
    yield (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" '
        'version="1.2">\n'
        f'<meta lastmodifieddate="{today}"><creator>vigil</creator></meta>\n'
        '<graph defaultedgetype="directed" mode="static" name="">\n<attributes mode="static" class="node">\n'
    )
    node_attrs = [*NODE_ATTRS, ("items", "long")]
    for i, (title, kind) in enumerate(node_attrs):
        yield f'<attribute id="n{i}" title="{title}" type="{kind}" />\n'
    yield '</attributes>\n<attributes mode="static" class="edge">\n'
    for i, (title, kind) in enumerate([*EDGE_ATTRS, ("networkx_key", "string")]):
        yield f'<attribute id="e{i}" title="{title}" type="{kind}" />\n'
    yield "</attributes>\n<nodes>\n"
    yield from _batched(
        f'<node id="{node_id}" label="{_x(label)}"><attvalues><attvalue for="n0" value="{_x(key)}" />'
        f'<attvalue for="n1" value="{kind}" /><attvalue for="n2" value="{first}" />'
        f'<attvalue for="n3" value="{last}" /><attvalue for="n4" value="{n_items}" />'
        "</attvalues></node>\n"
        for node_id, key, kind, label, first, last, n_items in rows.node_rows()
    )
    yield "</nodes>\n<edges>\n"
    yield from _batched(
        f'<edge source="{src}" target="{dst}" id="{edge_id}"><attvalues>'
        f'<attvalue for="e0" value="{kind}" /><attvalue for="e1" value="{first}" />'
        f'<attvalue for="e2" value="{last}" /><attvalue for="e3" value="{n}" />'
        f'<attvalue for="e4" value="{_x(evidence)}" /><attvalue for="e5" value="{n_evidence}" />'
        f'<attvalue for="e6" value="{edge_id}" /></attvalues></edge>\n'
        for edge_id, src, dst, kind, first, last, n, evidence, n_evidence in rows.edge_rows()
    )
    yield "</edges>\n</graph>\n</gexf>\n"


def _graphml(rows: _Rows) -> Iterator[str]:
    yield (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    node_attrs = [*NODE_ATTRS, ("label", "string"), ("items", "long")]
    for i, (title, kind) in enumerate(node_attrs):
        yield f'<key id="n{i}" for="node" attr.name="{title}" attr.type="{kind}"/>\n'
    for i, (title, kind) in enumerate([("id", "string"), *EDGE_ATTRS]):
        yield f'<key id="e{i}" for="edge" attr.name="{title}" attr.type="{kind}"/>\n'
    yield '<graph edgedefault="directed">\n'
    yield from _batched(
        f'<node id="{node_id}"><data key="n0">{_x(key)}</data><data key="n1">{kind}</data>'
        f'<data key="n2">{first}</data><data key="n3">{last}</data>'
        f'<data key="n4">{_x(label)}</data><data key="n5">{n_items}</data></node>\n'
        for node_id, key, kind, label, first, last, n_items in rows.node_rows()
    )
    yield from _batched(
        f'<edge source="{src}" target="{dst}" id="{edge_id}"><data key="e0">{edge_id}</data>'
        f'<data key="e1">{kind}</data><data key="e2">{first}</data><data key="e3">{last}</data>'
        f'<data key="e4">{n}</data><data key="e5">{_x(evidence)}</data>'
        f'<data key="e6">{n_evidence}</data></edge>\n'
        for edge_id, src, dst, kind, first, last, n, evidence, n_evidence in rows.edge_rows()
    )
    yield "</graph></graphml>\n"


def _json(rows: _Rows) -> Iterator[str]:
    yield '{"directed": true, "multigraph": true, "graph": {}, "nodes": ['
    nodes = (
        {
            "node_key": key,
            "kind": kind,
            "label": label,
            "first_seen": first,
            "last_seen": last,
            "items": n_items,
            "id": node_id,
        }
        for node_id, key, kind, label, first, last, n_items in rows.node_rows()
    )
    yield from _batched(
        (", " if i else "") + json.dumps(node, ensure_ascii=False) for i, node in enumerate(nodes)
    )
    yield '], "links": ['
    edges = (
        {
            "id": edge_id,
            "kind": kind,
            "first_seen": first,
            "last_seen": last,
            "count": n,
            "evidence": evidence,
            "evidence_count": n_evidence,
            "source": src,
            "target": dst,
            "key": edge_id,
        }
        for edge_id, src, dst, kind, first, last, n, evidence, n_evidence in rows.edge_rows()
    )
    yield from _batched(
        (", " if i else "") + json.dumps(edge, ensure_ascii=False) for i, edge in enumerate(edges)
    )
    yield "]}\n"


WRITERS = {"gexf": _gexf, "graphml": _graphml, "json": _json}


def _chunks(
    store: Store, fmt: str, node_kinds: Sequence[str], edge_kinds: Sequence[str], tally: dict[str, int]
) -> Iterator[bytes]:
    check_format(fmt)
    with store.read() as conn:
        rows = _Rows(conn, node_kinds, edge_kinds)
        for text in WRITERS[fmt](rows):
            yield text.encode("utf-8", "surrogatepass")
        tally.update(nodes=rows.nodes, edges=rows.edges)


def stream_export(
    store: Store, fmt: str, node_kinds: Sequence[str] = (), edge_kinds: Sequence[str] = ()
) -> Iterator[bytes]:
    """The export as UTF-8 chunks (for a file, stdout or an HTTP response)."""
    return _chunks(store, fmt, node_kinds, edge_kinds, {})


def write_export(store: Store, fmt: str, out: Any, **filters: Any) -> dict[str, Any]:
    """Write the export to a binary file object; return the format and the node and edge counts."""
    check_format(fmt)
    tally: dict[str, int] = {}
    for chunk in _chunks(store, fmt, filters.get("node_kinds", ()), filters.get("edge_kinds", ()), tally):
        out.write(chunk)
    return {"format": fmt, **tally}


def export_file(store: Store, fmt: str, path: Path, **filters: Any) -> dict[str, Any]:
    """Write the export to ``path`` (through a ``.part`` file, renamed when complete)."""
    check_format(fmt)
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("wb") as fh:
            summary = write_export(store, fmt, fh, **filters)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return {**summary, "path": str(path)}
