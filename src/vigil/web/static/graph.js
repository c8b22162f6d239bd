// The network view: draws /graph/network with vis-network (shipped, no CDN), filters by time window,
// community and node type, shows a node's edges, items and cases, and an outlet's timeline of domains and
// takedowns. The JSON comes from /api/v1/graph with the page's session cookie.
(function () {
  "use strict";
  const api = document.getElementById("graph-page").dataset.api;
  const KINDS = ["outlet", "channel", "account", "domain", "ip", "asn", "hoster", "media", "target", "tracking", "template"];
  const COLOURS = { outlet: "#d1495b", channel: "#edae49", account: "#00798c", domain: "#30638e", ip: "#8d6a9f",
    asn: "#6a4c93", hoster: "#5c5c5c", media: "#66a182", target: "#f4a259", tracking: "#bc4b51", template: "#8cb369" };
  const status = document.getElementById("status");
  let network = null;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function getJSON(path) {
    const r = await fetch(api + path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) {
      let reason = String(r.status);
      try { reason = (await r.json()).reason || reason; } catch (e) { /* not JSON */ }
      throw new Error(reason);
    }
    return r.json();
  }

  function fail(err) { status.textContent = "error: " + err.message; }

  function day(v) { return v ? String(v).slice(0, 10) : "?"; }

  function setupFilters() {
    const box = document.getElementById("kinds");
    KINDS.forEach((k) => {
      const label = el("label");
      const input = el("input", { type: "checkbox", name: "kind", value: k });
      if (["outlet", "channel", "account", "domain"].includes(k)) input.checked = true;
      label.append(input, " " + k);
      box.append(label);
    });
    document.getElementById("filters").addEventListener("submit", (ev) => { ev.preventDefault(); draw().catch(fail); });
  }

  function query() {
    const p = new URLSearchParams();
    document.querySelectorAll("#kinds input:checked").forEach((i) => p.append("kind", i.value));
    const since = document.getElementById("since").value, until = document.getElementById("until").value;
    if (since) p.set("since", since + "T00:00:00+00:00");
    if (until) p.set("until", until + "T23:59:59+00:00");
    const c = document.getElementById("community").value;
    if (c !== "") p.set("community", c);
    p.set("limit", document.getElementById("limit").value || "300");
    return p.toString();
  }

  async function draw() {
    status.textContent = "loading…";
    const data = await getJSON("/network?" + query());
    const nodes = data.nodes.map((n) => ({ id: n.id, label: n.label, group: n.kind,
      color: COLOURS[n.kind] || "#999", value: Math.max(1, n.degree), title: n.kind + ": " + n.label }));
    const edges = data.edges.map((e) => ({ id: e.id, from: e.src, to: e.dst, label: e.kind, arrows: "to",
      title: e.kind + " ×" + e.count + " (" + day(e.first_seen) + " – " + day(e.last_seen) + ")" }));
    const container = document.getElementById("network");
    if (network) network.destroy();
    network = new vis.Network(container, { nodes: new vis.DataSet(nodes), edges: new vis.DataSet(edges) }, {
      nodes: { shape: "dot", font: { size: 11 } },
      edges: { font: { size: 8, align: "middle" }, color: { opacity: 0.5 }, smooth: false },
      physics: { stabilization: { iterations: 150 }, barnesHut: { gravitationalConstant: -4000 } },
      interaction: { hover: true },
    });
    network.on("click", (params) => { if (params.nodes.length) showNode(params.nodes[0]).catch(fail); });
    document.body.dataset.stable = "0";
    network.once("stabilizationIterationsDone", () => {
      network.setOptions({ physics: false });
      document.body.dataset.stable = "1";
    });
    window.vigilGraph = { network: network };
    fillList(data.nodes);
    document.body.dataset.nodes = String(nodes.length);
    document.body.dataset.edges = String(edges.length);
    document.body.dataset.draws = String(Number(document.body.dataset.draws || 0) + 1);
    const more = data.edges_among > edges.length ? " (the strongest of " + data.edges_among + ")" : "";
    status.textContent = nodes.length + " nodes, " + edges.length + " edges" + more + ", " + data.communities + " communities";
  }

  function fillList(nodes) {
    const body = document.querySelector("#node-list tbody");
    body.replaceChildren();
    nodes.forEach((n) => {
      const tr = el("tr", { tabindex: "0", "data-id": n.id });
      [n.kind, n.label, n.community ?? "", n.degree, n.items, day(n.last_seen)].forEach((v) => tr.append(el("td", {}, String(v))));
      tr.addEventListener("click", () => showNode(n.id).catch(fail));
      tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") showNode(n.id).catch(fail); });
      body.append(tr);
    });
  }

  async function showNode(id) {
    const d = await getJSON("/nodes/" + id);
    const box = document.getElementById("details");
    box.replaceChildren(el("h2", {}, d.node.kind + ": " + d.node.label));
    box.append(el("p", {}, "first seen " + day(d.node.first_seen) + ", last seen " + day(d.node.last_seen) + ", " + d.node.items + " items"));
    const edges = el("ul", { id: "node-edges" });
    d.edges.slice(0, 30).forEach((e) => {
      const li = el("li", {}, e.src_label + " —" + e.kind + "→ " + e.dst_label + " ×" + e.count + " ");
      li.append(el("span", { class: "evidence" }, (e.evidence || []).slice(0, 3).join(" ")));
      edges.append(li);
    });
    box.append(el("h3", {}, "Edges"), edges, el("h3", {}, "Items"));
    const items = el("ul", { id: "node-items" });
    d.items.forEach((i) => {
      const li = el("li", { "data-item": i.id }, day(i.published) + " " + (i.url || i.id) + " ");
      if (i.case) {
        const a = el("a", { href: "/cases/" + i.case.id, class: "case" }, "case " + i.case.id + " (" + i.case.state + ")");
        li.append(a);
      }
      items.append(li);
    });
    if (!d.items.length) items.append(el("li", { class: "none" }, "no items on record"));
    box.append(items);
    if (network) network.selectNodes([id]);
  }

  async function setupOutlets() {
    const select = document.getElementById("outlet");
    (await getJSON("/outlets")).forEach((o) => select.append(el("option", { value: o.outlet }, o.outlet)));
    select.addEventListener("change", () => timeline(select.value).catch(fail));
  }

  async function timeline(outlet) {
    const list = document.getElementById("timeline");
    list.replaceChildren();
    if (!outlet) return;
    const chain = await getJSON("/lineage?outlet=" + encodeURIComponent(outlet));
    chain.forEach((s) => {
      const li = el("li", { "data-domain": s.domain });
      if (s.removed_at) li.classList.add("removed");
      li.append(el("span", { class: "domain" }, s.domain));
      let when = "seen " + day(s.first_seen) + " – " + day(s.last_seen);
      if (s.replaces) when += "; replaced " + s.replaces + " on " + day(s.replaced_at);
      if (s.removed_at) when += "; taken down " + day(s.removed_at);
      li.append(el("span", { class: "when" }, when));
      if (s.takedowns && s.takedowns.length) {
        li.append(el("span", { class: "takedowns" }, s.takedowns.length
          + " referred URL(s) removed, first on " + day(s.takedowns[0].removed_at)));
      }
      list.append(li);
    });
  }

  async function setupCommunities() {
    const select = document.getElementById("community");
    const data = await getJSON("/communities");
    data.communities.forEach((c) => select.append(el("option", { value: c.community },
      "#" + c.community + " (" + c.size + ")")));
  }

  setupFilters();
  Promise.all([setupOutlets(), setupCommunities()]).then(draw).catch(fail);
})();
