// The query page: a SPARQL editor (CodeMirror 6, vendored in codemirror.js) that runs queries
// against /sparql (or a named query at /queries/NAME) and shows the result as a table with
// labels beside IRIs, or a CONSTRUCT/DESCRIBE result as a graph. Everything it loads comes from
// this server (/vocabulary, /queries, /labels): it works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const MEDIA = {
  "": "application/sparql-results+json, application/n-triples;q=0.9",
  json: "application/sparql-results+json", xml: "application/sparql-results+xml",
  csv: "text/csv", tsv: "text/tab-separated-values", turtle: "text/turtle",
  ntriples: "application/n-triples", jsonld: "application/ld+json", rdfxml: "application/rdf+xml",
};
const KEYWORDS = ("SELECT DISTINCT WHERE FILTER OPTIONAL UNION GRAPH PREFIX BASE CONSTRUCT DESCRIBE ASK " +
  "ORDER BY GROUP HAVING LIMIT OFFSET VALUES BIND MINUS EXISTS NOT IN AS COUNT SUM MIN MAX AVG SAMPLE " +
  "GROUP_CONCAT LANG LANGMATCHES STR DATATYPE BOUND IF COALESCE REGEX CONTAINS STRSTARTS isIRI isLiteral").split(" ");
const RESOURCE = "https://w3id.org/ai-capital-kg/resource/";
const MAX_GRAPH_NODES = 250;

let vocab = { prefixes: {}, terms: [] };
let named = null; // {name, text, params} while the editor holds an unchanged named query
let editor = null;
let runId = 0; // a newer run (or a loaded example) makes an older run's answer stale

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// -- the editor: prefixes and completion ----------------------------------------------------
function declared(text) {
  const out = new Set();
  for (const m of text.matchAll(/^\s*PREFIX\s+([A-Za-z][\w.-]*)?:/gim)) out.add(m[1] || "");
  return out;
}

// PREFIX lines for the project's prefixes that the text uses but does not declare.
function missingPrefixes(text) {
  const have = declared(text);
  const body = text.replace(/<[^>\s]*>|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|#[^\n]*/g, " ");
  const need = [];
  for (const m of body.matchAll(/(?:^|[\s(){}\[\],;/|^!=<>*+])([A-Za-z][\w-]*):/g)) {
    const p = m[1];
    if (!have.has(p) && p in vocab.prefixes && !need.includes(p)) need.push(p);
  }
  return need.map((p) => `PREFIX ${p}: <${vocab.prefixes[p]}>\n`).join("");
}

// Put declarations of the project's prefixes the query uses at its top, when a completion is
// accepted (the server predeclares them too, so a query runs without: this keeps the text whole
// for other endpoints).
function declareMissing() {
  const add = missingPrefixes(editor.get());
  if (add) editor.insertAt(0, add);
}

function complete(context) {
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  const prefixDecl = /^\s*PREFIX\s+([\w-]*:?)$/i.exec(before);
  if (prefixDecl) {
    return {
      from: context.pos - prefixDecl[1].length,
      options: Object.entries(vocab.prefixes).map(([p, iri]) => ({ label: `${p}: <${iri}>`, type: "namespace" })),
    };
  }
  const word = context.matchBefore(/[?$]?[A-Za-z_][\w-]*:?[\w-]*/);
  if (!word || (word.from === word.to && !context.explicit)) return null;
  if (/^[?$]/.test(word.text)) {
    const vars = new Set(context.state.doc.toString().match(/[?$][A-Za-z_]\w*/g) || []);
    vars.delete(word.text);
    return { from: word.from, options: [...vars].map((v) => ({ label: v, type: "variable" })) };
  }
  const options = vocab.terms.map((t) => ({
    label: t.name, type: t.kind === "class" ? "class" : t.kind === "property" ? "property" : "constant",
    detail: [t.label, t.label_zh].filter(Boolean).join(" · "), info: t.comment || undefined,
    apply: (view, completion, from, to) => {
      view.dispatch({ changes: { from, to, insert: completion.label } });
      declareMissing();
    },
  }));
  if (!word.text.includes(":")) for (const k of KEYWORDS) options.push({ label: k, type: "keyword" });
  return { from: word.from, options, validFor: /^[\w-]*:?[\w-]*$/ };
}

// -- examples -------------------------------------------------------------------------------
async function loadExamples() {
  const list = $("examples");
  try {
    const queries = await (await fetch("/queries")).json();
    list.replaceChildren();
    for (const q of queries) {
      const item = el("li");
      const button = el("button", q.name, { type: "button", "data-example": q.name });
      button.addEventListener("click", () => pick(q));
      const params = q.params.map((p) => `?${p.name}${p.optional ? " (optional)" : ""}`).join(", ");
      item.append(button, el("small", q.description), params ? el("small", "parameters: " + params) : "");
      list.append(item);
    }
  } catch (err) {
    list.replaceChildren(el("li", "could not load the named queries: " + err, { class: "hint" }));
  }
}

function clearResults() {
  runId += 1;
  $("results").replaceChildren();
  $("graph").replaceChildren();
  $("status").className = "";
  $("status").textContent = "";
}

async function pick(q) {
  clearResults();
  const text = await (await fetch(q.text)).text();
  editor.set(text);
  named = { name: q.name, text, params: q.params };
  const box = $("params");
  box.replaceChildren();
  for (const p of q.params) {
    const label = el("label", `${p.name}${p.optional ? "" : " *"} `, { title: p.description });
    label.append(el("input", null, { name: p.name, placeholder: p.type, "data-param": p.name }));
    box.append(label);
  }
  if (q.params.length) box.append(el("p", "Values are bound as parameters of /queries/" + q.name, { class: "hint" }));
}

// -- running --------------------------------------------------------------------------------
function requestFor() {
  const fmt = $("format").value;
  const timeout = $("timeout").value;
  const extra = new URLSearchParams();
  if (timeout) extra.set("timeout", timeout);
  if (named && editor.get() === named.text) {
    for (const input of document.querySelectorAll("[data-param]")) {
      if (input.value) extra.set(input.dataset.param, input.value);
    }
    const url = `/queries/${encodeURIComponent(named.name)}?${extra}`;
    return { url, init: { headers: { Accept: MEDIA[fmt] } }, link: url + (fmt ? `&format=${fmt}` : "") };
  }
  const body = new URLSearchParams({ query: editor.get() });
  for (const [k, v] of extra) body.set(k, v);
  const link = `/?${body}${fmt ? `&format=${fmt}` : ""}`;
  return { url: "/sparql", link, init: {
    method: "POST", body, headers: { Accept: MEDIA[fmt], "Content-Type": "application/x-www-form-urlencoded" } } };
}

async function run(event) {
  if (event) event.preventDefault();
  clearResults();
  const mine = runId;
  const status = $("status");
  const { url, init, link } = requestFor();
  $("permalink").href = link;
  status.textContent = "running…";
  const started = performance.now();
  try {
    const resp = await fetch(url, init);
    const ms = Math.round(performance.now() - started);
    const type = (resp.headers.get("Content-Type") || "").split(";")[0];
    if (mine !== runId) return;
    if (!resp.ok) {
      const err = type === "application/json" ? await resp.json() : { status: resp.status, message: await resp.text() };
      status.className = "error";
      status.textContent = `${err.status} ${err.error || ""}: ${err.message}`;
      return;
    }
    const rows = resp.headers.get("X-KG-Result-Rows");
    const table = !$("format").value;
    let shown;
    if (table && type === "application/sparql-results+json") shown = renderTable(await resp.json());
    else if (table && type === "application/n-triples") shown = renderTriples(parseNTriples(await resp.text()));
    else shown = { node: el("pre", await resp.text()), iris: [] };
    if (mine !== runId) return;
    status.textContent = `${rows === null ? "" : rows + (type === "application/n-triples" ? " triple(s), " : " row(s), ")}${ms} ms, ${type}`;
    $("results").append(shown.node);
    addLabels(shown.iris, mine);
  } catch (err) {
    if (mine !== runId) return;
    status.className = "error";
    status.textContent = "request failed: " + err;
  }
}

// -- results --------------------------------------------------------------------------------
// Only http(s) IRIs become links: a javascript: (or data:, file:…) IRI in the data, or in a
// result of a query someone put in a /?query= link, must not run or open anything when clicked.
// The browser's own URL parser decides. The project's own IRIs open their page on this server.
function webLink(iri) {
  let url;
  try {
    url = new URL(iri);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.href.startsWith(RESOURCE) && url.href.length > RESOURCE.length) {
    return "/resource/" + url.href.slice(RESOURCE.length);
  }
  return url.href;
}

function shortName(iri) {
  let best = "";
  for (const [p, ns] of Object.entries(vocab.prefixes)) {
    if (iri.startsWith(ns) && ns.length > (vocab.prefixes[best] || "").length) best = p;
  }
  const local = best ? iri.slice(vocab.prefixes[best].length) : "";
  return best && /^[\w-]*$/.test(local) ? `${best}:${local}` : iri;
}

function iriNode(iri) {
  const span = el("span", null, { class: "term" });
  const href = webLink(iri);
  span.append(href ? el("a", shortName(iri), { href, rel: "noopener noreferrer", title: iri }) : el("span", iri));
  span.append(el("span", null, { class: "label", "data-label-for": iri }));
  return span;
}

function cell(term, iris) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    td.className = "uri";
    td.append(iriNode(term.value));
    iris.push(term.value);
  } else if (term.type === "bnode") {
    td.textContent = "_:" + term.value;
  } else {
    td.textContent = term.value;
    const note = term["xml:lang"] ? "@" + term["xml:lang"] : term.datatype ? term.datatype.replace(/^.*[#/]/, "") : "";
    if (note) td.append(" ", el("span", note, { class: "dt" }));
  }
  return td;
}

function renderTable(data) {
  const iris = [];
  if ("boolean" in data) return { node: el("pre", String(data.boolean)), iris };
  const vars = data.head.vars;
  const table = el("table");
  const head = el("tr");
  for (const v of vars) head.append(el("th", "?" + v));
  table.append(head);
  for (const b of data.results.bindings) {
    const tr = el("tr");
    for (const v of vars) tr.append(cell(b[v], iris));
    table.append(tr);
  }
  return { node: table, iris };
}

// N-Triples (what /sparql sends for a CONSTRUCT or DESCRIBE) → [{s, p, o}] of SPARQL JSON terms.
const NT_TERM = String.raw`<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?`;
const NT_LINE = new RegExp(`^\\s*(?:${NT_TERM})\\s+<([^>]*)>\\s+(?:${NT_TERM})\\s*\\.\\s*$`);

function unescapeNT(s) {
  return s.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u, U, c) =>
    u || U ? String.fromCodePoint(parseInt(u || U, 16)) : ({ n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" }[c] ?? c));
}

function parseNTriples(text) {
  const out = [];
  const term = (iri, bnode, lit, lang, dt) => iri !== undefined ? { type: "uri", value: unescapeNT(iri) }
    : bnode !== undefined ? { type: "bnode", value: bnode }
    : { type: "literal", value: unescapeNT(lit), ...(lang ? { "xml:lang": lang } : {}), ...(dt ? { datatype: dt } : {}) };
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const m = NT_LINE.exec(line);
    if (!m) continue;
    out.push({ s: term(m[1], m[2], m[3], m[4], m[5]), p: { type: "uri", value: unescapeNT(m[6]) },
               o: term(m[7], m[8], m[9], m[10], m[11]) });
  }
  return out;
}

function renderTriples(triples) {
  const iris = [];
  const wrap = el("div");
  wrap.append(renderGraph(triples));
  const table = el("table");
  const head = el("tr");
  for (const v of ["subject", "predicate", "object"]) head.append(el("th", v));
  table.append(head);
  for (const t of triples) {
    const tr = el("tr");
    tr.append(cell(t.s, iris), cell(t.p, iris), cell(t.o, iris));
    table.append(tr);
  }
  wrap.append(table);
  return { node: wrap, iris };
}

// -- the graph view of a CONSTRUCT ----------------------------------------------------------
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function layout(nodes, edges, width, height) {
  const n = nodes.length;
  nodes.forEach((d, i) => {
    const a = (2 * Math.PI * i) / Math.max(n, 1);
    d.x = width / 2 + (width / 3) * Math.cos(a);
    d.y = height / 2 + (height / 3) * Math.sin(a);
  });
  const k = Math.sqrt((width * height) / Math.max(n, 1)) * 0.6;
  for (let step = 0, t = width / 10; step < 300; step++, t *= 0.985) {
    for (const d of nodes) { d.dx = 0; d.dy = 0; }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const a = nodes[i], b = nodes[j];
        let dx = a.x - b.x, dy = a.y - b.y;
        const dist = Math.max(Math.hypot(dx, dy), 0.01);
        const f = (k * k) / dist;
        dx /= dist; dy /= dist;
        a.dx += dx * f; a.dy += dy * f; b.dx -= dx * f; b.dy -= dy * f;
      }
    }
    for (const e of edges) {
      let dx = e.a.x - e.b.x, dy = e.a.y - e.b.y;
      const dist = Math.max(Math.hypot(dx, dy), 0.01);
      const f = (dist * dist) / k;
      dx /= dist; dy /= dist;
      e.a.dx -= dx * f; e.a.dy -= dy * f; e.b.dx += dx * f; e.b.dy += dy * f;
    }
    for (const d of nodes) {
      const len = Math.max(Math.hypot(d.dx, d.dy), 0.01);
      d.x = Math.min(width - 170, Math.max(20, d.x + (d.dx / len) * Math.min(len, t))); // room for the label
      d.y = Math.min(height - 20, Math.max(20, d.y + (d.dy / len) * Math.min(len, t)));
    }
  }
}

function renderGraph(triples) {
  const box = $("graph");
  const nodes = new Map();
  const edges = [];
  const key = (t) => (t.type === "bnode" ? "_:" : "") + t.value;
  const node = (t) => {
    const id = key(t);
    if (!nodes.has(id)) nodes.set(id, { id, term: t, literals: [] });
    return nodes.get(id);
  };
  for (const t of triples) {
    const s = node(t.s);
    if (t.o.type === "literal") s.literals.push(`${shortName(t.p.value)} ${t.o.value}`);
    else edges.push({ a: s, b: node(t.o), p: shortName(t.p.value) });
  }
  if (!nodes.size) return el("span");
  if (nodes.size > MAX_GRAPH_NODES) {
    box.append(el("p", `graph view: ${nodes.size} nodes, more than ${MAX_GRAPH_NODES}; the triples are below`, { class: "hint" }));
    return el("span");
  }
  const width = 900, height = Math.max(320, Math.min(700, 120 + 30 * Math.sqrt(nodes.size) * 6));
  const list = [...nodes.values()];
  layout(list, edges, width, height);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "graph of the result", class: "graph" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "16", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a93a6" }));
  defs.append(marker);
  root.append(defs);
  for (const e of edges) {
    const g = svg("g", { class: "edge" });
    g.append(svg("line", { x1: e.a.x, y1: e.a.y, x2: e.b.x, y2: e.b.y, stroke: "#aab2c0", "marker-end": "url(#arrow)" }));
    g.append(svg("text", { x: (e.a.x + e.b.x) / 2, y: (e.a.y + e.b.y) / 2 - 3, "text-anchor": "middle", "font-size": "9", fill: "#5d6677" }, e.p));
    root.append(g);
  }
  for (const d of list) {
    const g = svg("g", { class: "node", "data-node": d.id });
    const literal = d.term.type === "literal";
    g.append(svg("circle", { cx: d.x, cy: d.y, r: literal ? 4 : 7, fill: d.term.type === "uri" ? "#2557a7" : "#8d6e63" }));
    const label = svg("text", { x: d.x + 10, y: d.y + 4, "font-size": "11", fill: "#1d2330", "data-label-for": d.term.value }, shortName(d.term.value));
    g.append(label);
    g.append(svg("title", {}, [d.term.value, ...d.literals].join("\n")));
    root.append(g);
  }
  box.append(root);
  return el("span");
}

// -- labels beside IRIs ---------------------------------------------------------------------
async function addLabels(iris, mine) {
  const wanted = [...new Set(iris)];
  if (!wanted.length) return;
  const found = {};
  for (let i = 0; i < wanted.length; i += 500) {
    const body = new URLSearchParams();
    for (const iri of wanted.slice(i, i + 500)) body.append("iri", iri);
    try {
      const resp = await fetch("/labels", { method: "POST", body,
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" } });
      if (!resp.ok) return;
      Object.assign(found, await resp.json());
    } catch {
      return;
    }
  }
  if (mine !== runId) return;
  for (const target of document.querySelectorAll("[data-label-for]")) {
    const entry = found[target.getAttribute("data-label-for")];
    if (!entry) continue;
    const text = [entry.en, entry["zh-Hant"]].filter(Boolean).join(" · ");
    if (target.namespaceURI === SVG) target.textContent = entry.en || entry["zh-Hant"];
    else target.textContent = text;
  }
}

// -- start ----------------------------------------------------------------------------------
async function start() {
  const fallback = $("initial-query");
  editor = window.KGEditor.create($("editor"), { doc: fallback.value.trim() + "\n", complete, onRun: () => run() });
  fallback.remove();
  $("query-form").addEventListener("submit", run);
  try {
    vocab = await (await fetch("/vocabulary")).json();
  } catch (err) {
    $("status").textContent = "could not load the vocabulary for completion: " + err;
  }
  await loadExamples();
  // A link to this page with ?query=… (the "link to this result") fills the editor and runs it.
  const shared = new URLSearchParams(location.search);
  if (shared.get("query")) {
    editor.set(shared.get("query"));
    $("format").value = shared.get("format") || "";
    $("timeout").value = shared.get("timeout") || "";
    run();
  }
  document.body.dataset.ready = "true";
}

start();
