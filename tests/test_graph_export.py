"""The streamed exports read back in NetworkX with every node, edge and attribute the store holds, whatever
the labels contain; kind filters; a failed export leaves no file."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from vigil.boot import open_store
from vigil.errors import UsageError
from vigil.graph.export import export_file, stream_export, write_export
from vigil.graph.outlets import register_outlet
from vigil.graph.synthetic import outlet_network
from vigil.graph.tables import graph_edges, graph_nodes
from vigil.graph.update import update_graph
from vigil.store import Store


def fill(store: Store, outlet: str = "Outlet Alpha") -> None:
    items, truth = outlet_network(
        outlet, n_mirrors=3, n_spreaders=8, n_bystanders=30, n_releases=4, n_groups=3
    )
    register_outlet(store, truth.outlet, channels=[truth.main_channel], domains=[truth.domains[0]])
    store.add_items(items)
    update_graph(store, items)


def iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def expected(store: Store) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """What the export must say, straight from the tables."""
    with store.read() as conn:
        nodes = {
            str(r["id"]): {
                "node_key": r["key"],
                "kind": r["kind"],
                "label": r["label"],
                "first_seen": iso(r["first_seen"]),
                "last_seen": iso(r["last_seen"]),
                "items": r["item_count"],
            }
            for r in conn.execute(select(graph_nodes)).mappings()
        }
        edges = {
            str(r["id"]): {
                "source": str(r["src"]),
                "target": str(r["dst"]),
                "kind": r["kind"],
                "first_seen": iso(r["first_seen"]),
                "last_seen": iso(r["last_seen"]),
                "count": r["count"],
                "evidence": " ".join(str(i) for i in r["evidence"] or []),
                "evidence_count": len(r["evidence"] or []),
            }
            for r in conn.execute(select(graph_edges)).mappings()
        }
    return nodes, edges


def read_back(data: bytes, fmt: str) -> nx.MultiDiGraph:
    if fmt == "gexf":
        return nx.read_gexf(io.BytesIO(data))
    if fmt == "graphml":
        return nx.read_graphml(io.BytesIO(data), force_multigraph=True)
    return nx.node_link_graph(json.loads(data), edges="links")


def check_same(store: Store, fmt: str, data: bytes) -> None:
    nodes, edges = expected(store)
    g = read_back(data, fmt)
    assert g.is_directed()
    assert g.number_of_nodes() == len(nodes) and g.number_of_edges() == len(edges)
    for node_id, attrs in nodes.items():
        got = {k: g.nodes[node_id][k] for k in attrs}
        assert got == attrs, node_id
    seen = 0
    for src, dst, attrs in g.edges(data=True):
        edge_id = str(attrs["id"])
        want = edges[edge_id]
        assert (src, dst) == (want["source"], want["target"])
        assert {k: attrs[k] for k in want if k not in ("source", "target")} == {
            k: v for k, v in want.items() if k not in ("source", "target")
        }
        seen += 1
    assert seen == len(edges)


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "json"])
def test_export_reads_back_with_every_attribute(store: Store, fmt: str) -> None:
    fill(store)
    data = b"".join(stream_export(store, fmt))
    check_same(store, fmt, data)


def test_export_filters_and_files(store: Store, tmp_path: Path) -> None:
    fill(store)
    out = tmp_path / "g.gexf"
    summary = export_file(store, "gexf", out, node_kinds=("account", "channel"), edge_kinds=("posted",))
    g = nx.read_gexf(out)
    assert {d["kind"] for _, d in g.nodes(data=True)} == {"account", "channel"}
    assert {d["kind"] for _, _, d in g.edges(data=True)} == {"posted"}
    assert summary["nodes"] == g.number_of_nodes() and summary["edges"] == g.number_of_edges()
    with pytest.raises(UsageError):
        export_file(store, "pdf", tmp_path / "g.pdf")
    assert not list(tmp_path.glob("g.pdf*"))


def xml_char(c: str) -> bool:
    """Whether XML 1.0 can carry the character (its Char production)."""
    o = ord(c)
    return o in (9, 10, 13) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(lambda s: s.strip())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names)
def test_hostile_labels_stay_valid_xml(config: Any, name: str) -> None:
    store = open_store(config)
    try:
        with store.write() as conn:
            conn.execute(graph_edges.delete())
            conn.execute(graph_nodes.delete())
        register_outlet(store, name, domains=["site.example"], at=datetime(2024, 1, 1, tzinfo=UTC))
        for fmt in ("gexf", "graphml", "json"):
            buf = io.BytesIO()
            write_export(store, fmt, buf)
            g = read_back(buf.getvalue(), fmt)
            labels = {d["label"] for _, d in g.nodes(data=True)}
            outlet = " ".join(name.split()).replace("\x00", "\ufffd")  # the graph stores no NUL
            want = outlet if fmt == "json" else "".join(c if xml_char(c) else "\ufffd" for c in outlet)
            assert labels == {want, "site.example"}, fmt
            assert g.number_of_nodes() == 2 and g.number_of_edges() == 1
    finally:
        store.close()


def add_edge(store: Store, evidence: Any, first: Any = None, last: Any = None) -> int:
    """An edge between two existing nodes, with the given stored evidence and times."""
    with store.write() as conn:
        a, b = conn.execute(select(graph_nodes.c.id).order_by(graph_nodes.c.id).limit(2)).scalars()
        top = conn.execute(select(graph_edges.c.id).order_by(graph_edges.c.id.desc())).scalar() or 0
        return int(
            conn.execute(
                graph_edges.insert()
                .values(
                    ekey=f"{a} {b} odd{top + 1}",
                    src=a,
                    dst=b,
                    kind=f"odd{top + 1}",
                    first_seen=first,
                    last_seen=last,
                    count=1,
                    evidence=evidence,
                    attrs={},
                )
                .returning(graph_edges.c.id)
            ).scalar_one()
        )


UNUSUAL_EVIDENCE = [
    ['a"b', "c\\d"],  # escaped in JSON: parsed, not cut
    [5, "x"],
    [["nested"]],
    [],
    None,
    ["", "y"],
    ["has space", "z"],
    ["<&>", "tab\there"],
    ['", "', "q"],
    ["é", "日本"],
]


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "json"])
def test_unusual_stored_values_export_as_stored(store: Store, fmt: str) -> None:
    """Evidence that is not a plain list of id strings and times with microseconds, none or odd stored
    text: the database's formatting steps aside, and the export says what the tables hold."""
    fill(store)
    at = datetime(2024, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
    for n, evidence in enumerate(UNUSUAL_EVIDENCE):
        add_edge(store, evidence, at if n % 2 else None, at)
    if store.dialect == "sqlite":  # a time stored by another writer in another text form
        odd = add_edge(store, ["w"])
        with store.write() as conn:
            conn.exec_driver_sql(
                "UPDATE graph_edges SET first_seen = '2024-05-06T07:08:09+02:00' WHERE id = ?", (odd,)
            )
    data = b"".join(stream_export(store, fmt))
    check_same(store, fmt, data)


ids_text = st.text(alphabet='ab "\\,[]<>&é\t', max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(evidence=st.lists(st.one_of(ids_text, st.integers(-5, 5)), max_size=4))
def test_any_evidence_list_exports_as_stored(store: Store, evidence: list[Any]) -> None:
    with store.write() as conn:
        if conn.execute(select(graph_nodes.c.id)).first() is None:
            conn.execute(
                graph_nodes.insert(),
                [{"key": f"domain:n{i}.example", "kind": "domain", "label": "n"} for i in range(2)],
            )
    edge = str(add_edge(store, evidence))
    want = " ".join(str(i) for i in evidence)
    for fmt in ("json", "graphml"):
        g = read_back(b"".join(stream_export(store, fmt)), fmt)
        got = next(d for _, _, d in g.edges(data=True) if str(d["id"]) == edge)
        assert (got["evidence"], got["evidence_count"]) == (want, len(evidence)), fmt
