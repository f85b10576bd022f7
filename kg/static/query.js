// The query page: runs SPARQL against /sparql (or a named query at /queries/NAME) and shows
// the result. No libraries and no network beyond this server, so it works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const MEDIA = {
  "": "application/sparql-results+json, text/turtle;q=0.9",
  json: "application/sparql-results+json", xml: "application/sparql-results+xml",
  csv: "text/csv", tsv: "text/tab-separated-values", turtle: "text/turtle",
  ntriples: "application/n-triples", jsonld: "application/ld+json", rdfxml: "application/rdf+xml",
};
let named = null; // {name, text, params} while the editor holds an unchanged named query

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

async function loadExamples() {
  const list = $("examples");
  try {
    const queries = await (await fetch("/queries")).json();
    list.replaceChildren();
    for (const q of queries) {
      const item = el("li");
      const button = el("button", q.name, { type: "button" });
      button.addEventListener("click", () => pick(q));
      const params = q.params.map((p) => `?${p.name}${p.optional ? " (optional)" : ""}`).join(", ");
      item.append(button, el("small", q.description), params ? el("small", "parameters: " + params) : "");
      list.append(item);
    }
  } catch (err) {
    list.replaceChildren(el("li", "could not load the named queries: " + err, { class: "hint" }));
  }
}

async function pick(q) {
  const text = await (await fetch(q.text)).text();
  $("query").value = text;
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

function requestFor() {
  const fmt = $("format").value;
  const timeout = $("timeout").value;
  const extra = new URLSearchParams();
  if (timeout) extra.set("timeout", timeout);
  if (named && $("query").value === named.text) {
    for (const input of document.querySelectorAll("[data-param]")) {
      if (input.value) extra.set(input.dataset.param, input.value);
    }
    const url = `/queries/${encodeURIComponent(named.name)}?${extra}`;
    return { url, init: { headers: { Accept: MEDIA[fmt] } }, link: url + (fmt ? `&format=${fmt}` : "") };
    // (a named query's link is its own URL: the raw result, with the parameters bound)
  }
  const body = new URLSearchParams({ query: $("query").value });
  for (const [k, v] of extra) body.set(k, v);
  const link = `/?${body}${fmt ? `&format=${fmt}` : ""}`;
  return { url: "/sparql", link, init: {
    method: "POST", body, headers: { Accept: MEDIA[fmt], "Content-Type": "application/x-www-form-urlencoded" } } };
}

async function run(event) {
  if (event) event.preventDefault();
  const status = $("status");
  const results = $("results");
  const { url, init, link } = requestFor();
  $("permalink").href = link;
  status.className = "";
  status.textContent = "running…";
  results.replaceChildren();
  const started = performance.now();
  try {
    const resp = await fetch(url, init);
    const ms = Math.round(performance.now() - started);
    const type = (resp.headers.get("Content-Type") || "").split(";")[0];
    if (!resp.ok) {
      const err = type === "application/json" ? await resp.json() : { status: resp.status, message: await resp.text() };
      status.className = "error";
      status.textContent = `${err.status} ${err.error || ""}: ${err.message}`;
      return;
    }
    const rows = resp.headers.get("X-KG-Result-Rows");
    status.textContent = `${rows === null ? "" : rows + " row(s), "}${ms} ms, ${type}`;
    if (type === "application/sparql-results+json" && !$("format").value) {
      render(await resp.json(), results);
    } else {
      results.append(el("pre", await resp.text()));
    }
  } catch (err) {
    status.className = "error";
    status.textContent = "request failed: " + err;
  }
}

function render(data, target) {
  if ("boolean" in data) {
    target.append(el("pre", String(data.boolean)));
    return;
  }
  const vars = data.head.vars;
  const table = el("table");
  const head = el("tr");
  for (const v of vars) head.append(el("th", "?" + v));
  table.append(head);
  for (const b of data.results.bindings) {
    const tr = el("tr");
    for (const v of vars) tr.append(cell(b[v]));
    table.append(tr);
  }
  target.append(table);
}

// Only http(s) IRIs become links: a javascript: (or data:, file:…) IRI in the data, or in a
// result of a query someone put in a /?query= link, must not run or open anything when clicked.
// The browser's own URL parser decides, so the test sees the scheme the link would have.
function webLink(iri) {
  let url;
  try {
    url = new URL(iri);
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

function cell(term) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    td.className = "uri";
    const href = webLink(term.value);
    td.append(href ? el("a", term.value, { href, rel: "noopener noreferrer" }) : term.value);
  } else if (term.type === "bnode") {
    td.textContent = "_:" + term.value;
  } else {
    td.textContent = term.value;
    const note = term["xml:lang"] ? "@" + term["xml:lang"] : term.datatype ? term.datatype.replace(/^.*[#/]/, "") : "";
    if (note) td.append(" ", el("span", note, { class: "dt" }));
  }
  return td;
}

$("query-form").addEventListener("submit", run);
$("query").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(e); });
loadExamples();
// A link to this page with ?query=… (the "link to this result") fills the editor and runs it.
const shared = new URLSearchParams(location.search);
if (shared.get("query")) {
  $("query").value = shared.get("query");
  $("format").value = shared.get("format") || "";
  $("timeout").value = shared.get("timeout") || "";
  run();
}
