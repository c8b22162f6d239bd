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
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Connection, Integer, String, Text, cast, func, literal_column, select, true

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
CHUNK = 20_000  # rows per fetch from the driver (a server-side cursor on PostgreSQL) and per write
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_PLAIN = re.compile(r"[\w .:/@+,;=()\[\]{}#%*!?~^|$-]*")  # nothing to escape or replace
_ATTR_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_json_str = json.encoder.encode_basestring  # what json.dumps(s, ensure_ascii=False) writes for a str


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


_D = "[0-9]"
_SQLITE_TIME = f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}.{_D * 6}"  # as SQLAlchemy stores it


def _time_sql(dialect: str, c: str) -> Any:
    """Column ``c`` as ``datetime.isoformat()`` writes it in UTC, "" for NULL, formatted by the database:
    PostgreSQL from the timestamptz; SQLite from the text SQLAlchemy stores (``YYYY-MM-DD HH:MM:SS.ffffff``,
    UTC) and NULL for any other text (the row then goes through the column's own conversion)."""
    if dialect == "postgresql":
        iso = f"to_char(timezone('UTC', {c}), 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        return literal_column(
            f"CASE WHEN {c} IS NULL THEN '' ELSE replace({iso}, '.000000', '') || '+00:00' END", String
        )
    return literal_column(
        f"CASE WHEN {c} IS NULL THEN '' WHEN {c} GLOB '{_SQLITE_TIME}' "
        f"THEN replace(replace({c}, ' ', 'T'), '.000000', '') || '+00:00' END",
        String,
    )


def _evidence_sql(dialect: str, e: str) -> tuple[Any, Any]:
    """The evidence (a JSON list of item ids; ``e``: its JSON text) as space-separated text and its length,
    cut from the JSON text by the database where it is a plain list of strings (``["a", "b"]``, nothing
    escaped); NULL and -1 for anything else (parsed in Python)."""
    pg = dialect == "postgresql"
    find, length = ("strpos", "jsonb_array_length") if pg else ("instr", "json_array_length")
    inner = f"substr({e}, 3, length({e}) - 4)"
    empty = f"{e} IS NULL OR {e} = '[]' OR {e} = 'null'"
    short = f"length({e}) < 4"  # checked first: then ``inner`` is never asked for a negative length
    plain = (
        f"substr({e}, 1, 2) = '[\"' AND substr({e}, length({e}) - 1) = '\"]' AND {find}({e}, '\\') = 0 "
        f"AND {find}(replace({inner}, '\", \"', ''), '\"') = 0"
    )
    text = literal_column(
        f"CASE WHEN {empty} THEN '' WHEN {short} THEN NULL "
        f"WHEN {plain} THEN replace({inner}, '\", \"', ' ') END",
        String,
    )
    n = literal_column(
        f"CASE WHEN {empty} THEN 0 WHEN {short} THEN -1 WHEN {plain} THEN {length}(graph_edges.evidence) "
        "ELSE -1 END",
        Integer,
    )
    return text, n


class _Rows:
    """Nodes and edges as export rows, in id order, with the kind filters applied, a chunk at a time, as
    the database's tuples (times and evidence already text, see ``_time_sql``); counts what it gave.

    Node rows: id, key, kind, label, first_seen, last_seen, items. Edge rows: id, src, dst, kind,
    first_seen, last_seen, count, evidence, evidence_count."""

    def __init__(self, conn: Connection, node_kinds: Sequence[str], edge_kinds: Sequence[str]) -> None:
        self.plain = conn
        self.conn = conn.execution_options(stream_results=True, yield_per=CHUNK)
        self.dialect = conn.dialect.name
        self.node_kinds = list(node_kinds)
        self.edge_kinds = list(edge_kinds)
        self.kept = bytearray()  # node id -> exported
        self.nodes = self.edges = 0

    def node_chunks(self) -> Iterator[list[Any]]:
        n = graph_nodes.c
        top = int(self.conn.execute(select(func.max(n.id))).scalar() or 0)
        kept = self.kept = bytearray(top + 1)
        first, last = (_time_sql(self.dialect, f"graph_nodes.{c}") for c in ("first_seen", "last_seen"))
        query = select(n.id, n.key, n.kind, n.label, first, last, func.coalesce(n.item_count, 0))
        if self.node_kinds:
            query = query.where(n.kind.in_(self.node_kinds))
        for part in self.conn.execute(query.order_by(n.id)).partitions():
            rows: list[Any] = [
                r for r in part if r[0] <= top
            ]  # one added while exporting is left for the next
            for r in rows:
                kept[r[0]] = 1
            if any(r[4] is None or r[5] is None for r in rows):
                rows = [self._node(r) if r[4] is None or r[5] is None else r for r in rows]
            self.nodes += len(rows)
            yield rows

    def edge_chunks(self) -> Iterator[list[Any]]:
        e = graph_edges.c
        first, last = (_time_sql(self.dialect, f"graph_edges.{c}") for c in ("first_seen", "last_seen"))
        if self.dialect == "postgresql":  # the jsonb as text once per row, not once per use
            text = select(cast(e.evidence, Text).label("t")).correlate(graph_edges).lateral("v")
            evidence, n_evidence = _evidence_sql(self.dialect, "v.t")
            edges: Any = graph_edges.join(text, true())
        else:
            evidence, n_evidence = _evidence_sql(self.dialect, "graph_edges.evidence")
            edges = graph_edges
        query = select(
            e.id, e.src, e.dst, e.kind, first, last, func.coalesce(e.count, 0), evidence, n_evidence
        ).select_from(edges)
        if self.edge_kinds:
            query = query.where(e.kind.in_(self.edge_kinds))
        kept, top = self.kept, len(self.kept)
        for part in self.conn.execute(query.order_by(e.id)).partitions():
            rows: list[Any] = [r for r in part if r[1] < top and r[2] < top and kept[r[1]] and kept[r[2]]]
            if any(r[4] is None or r[5] is None or r[8] < 0 for r in rows):
                rows = [self._edge(r) if r[4] is None or r[5] is None or r[8] < 0 else r for r in rows]
            self.edges += len(rows)
            yield rows

    def _node(self, row: Any) -> tuple[Any, ...]:
        """A row the database could not format, converted in Python from the stored values."""
        n = graph_nodes.c
        found = self.plain.execute(select(n.first_seen, n.last_seen).where(n.id == row[0])).one()
        return (*row[:4], _iso(found[0]), _iso(found[1]), row[6])

    def _edge(self, row: Any) -> tuple[Any, ...]:
        e = graph_edges.c
        found = self.plain.execute(select(e.first_seen, e.last_seen, e.evidence).where(e.id == row[0])).one()
        ids = [str(i) for i in (found[2] or [])]
        return (*row[:4], _iso(found[0]), _iso(found[1]), row[6], " ".join(ids), len(ids))


def _safe(texts: list[str]) -> bool:
    """Whether all the texts are safe in XML as they are (one check for a chunk, not one per row)."""
    return _PLAIN.fullmatch("".join(texts)) is not None


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
    for nodes in rows.node_chunks():
        x = str if _safe([r[1] + r[3] for r in nodes]) else _x
        yield "".join(
            [
                f'<node id="{node_id}" label="{x(label)}"><attvalues><attvalue for="n0" value="{x(key)}" />'
                f'<attvalue for="n1" value="{kind}" /><attvalue for="n2" value="{first}" />'
                f'<attvalue for="n3" value="{last}" /><attvalue for="n4" value="{n_items}" />'
                "</attvalues></node>\n"
                for node_id, key, kind, label, first, last, n_items in nodes
            ]
        )
    yield "</nodes>\n<edges>\n"
    for edges in rows.edge_chunks():
        x = str if _safe([r[7] for r in edges]) else _x
        yield "".join(
            [
                f'<edge source="{src}" target="{dst}" id="{edge_id}"><attvalues>'
                f'<attvalue for="e0" value="{kind}" /><attvalue for="e1" value="{first}" />'
                f'<attvalue for="e2" value="{last}" /><attvalue for="e3" value="{n}" />'
                f'<attvalue for="e4" value="{x(evidence)}" /><attvalue for="e5" value="{n_evidence}" />'
                f'<attvalue for="e6" value="{edge_id}" /></attvalues></edge>\n'
                for edge_id, src, dst, kind, first, last, n, evidence, n_evidence in edges
            ]
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
    for nodes in rows.node_chunks():
        x = str if _safe([r[1] + r[3] for r in nodes]) else _x
        yield "".join(
            [
                f'<node id="{node_id}"><data key="n0">{x(key)}</data><data key="n1">{kind}</data>'
                f'<data key="n2">{first}</data><data key="n3">{last}</data>'
                f'<data key="n4">{x(label)}</data><data key="n5">{n_items}</data></node>\n'
                for node_id, key, kind, label, first, last, n_items in nodes
            ]
        )
    for edges in rows.edge_chunks():
        x = str if _safe([r[7] for r in edges]) else _x
        yield "".join(
            [
                f'<edge source="{src}" target="{dst}" id="{edge_id}"><data key="e0">{edge_id}</data>'
                f'<data key="e1">{kind}</data><data key="e2">{first}</data><data key="e3">{last}</data>'
                f'<data key="e4">{n}</data><data key="e5">{x(evidence)}</data>'
                f'<data key="e6">{n_evidence}</data></edge>\n'
                for edge_id, src, dst, kind, first, last, n, evidence, n_evidence in edges
            ]
        )
    yield "</graph></graphml>\n"


def _json(rows: _Rows) -> Iterator[str]:
    """What ``json.dumps`` writes for each node-link dict (same keys, same order, ``ensure_ascii=False``),
    written directly: strings through the encoder json.dumps uses, numbers as they print."""
    s = _json_str
    yield '{"directed": true, "multigraph": true, "graph": {}, "nodes": ['
    sep = ""
    for nodes in rows.node_chunks():
        if not nodes:
            continue
        yield sep + ", ".join(
            [
                f'{{"node_key": {s(key)}, "kind": {s(kind)}, "label": {s(label)}, "first_seen": {s(first)}, '
                f'"last_seen": {s(last)}, "items": {n_items}, "id": "{node_id}"}}'
                for node_id, key, kind, label, first, last, n_items in nodes
            ]
        )
        sep = ", "
    yield '], "links": ['
    sep = ""
    for edges in rows.edge_chunks():
        if not edges:
            continue
        yield sep + ", ".join(
            [
                f'{{"id": "{edge_id}", "kind": {s(kind)}, "first_seen": {s(first)}, "last_seen": {s(last)}, '
                f'"count": {n}, "evidence": {s(evidence)}, "evidence_count": {n_evidence}, '
                f'"source": "{src}", "target": "{dst}", "key": "{edge_id}"}}'
                for edge_id, src, dst, kind, first, last, n, evidence, n_evidence in edges
            ]
        )
        sep = ", "
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
