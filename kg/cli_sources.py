"""``kg sources`` and ``kg show SOURCE``: where every claim, relationship and figure comes from."""

from __future__ import annotations


from kg.cli import cli, emit, format_option, layer_option, pass_session

__all__ = ["sources", "show_source_text"]

_CSV_COLUMNS = ["slug", "short_title", "layer", "by", "date", "url", "claims", "relationships", "figures",
                "cited_by", "title", "title_zh", "label", "label_zh", "citation", "graph", "id"]


def _by(row: dict) -> str:
    """Who a source is by: its publishers, else its creators (the article's author)."""
    return "; ".join(p["label"] for p in (row["publishers"] or row["creators"]))


@cli.command()
@layer_option()
@format_option()
@pass_session
def sources(session, layer, fmt):
    """Every source with its publisher, title, date, URL, layer and what it supports.

    Counts are the claims, relationships and figures whose dcterms:source is the source, and the
    claims that cite it (kg:cites). `kg show SLUG` shows one source in full.

    \b
    Examples:
      kg sources
      kg sources --layer context --format csv
      kg show wsj-2025-09-10
    """
    from kg.output import render
    from kg.sources import list_sources

    rows = list_sources(session.store, None if layer == "all" else layer, session.lang)
    if fmt in ("json", "jsonl"):
        return emit(render(rows, fmt))
    flat = [{**r, "by": _by(r)} for r in rows]
    if fmt == "csv":
        return emit(render(flat, "csv", columns=_CSV_COLUMNS))
    table = [{"source": r["short_title"], "by": r["by"], "date": r["date"], "layer": r["layer"],
              "claims": r["claims"], "rels": r["relationships"], "figures": r["figures"], "cited": r["cited_by"],
              "url": r["url"], "slug": r["slug"]} for r in flat]
    emit(render(table, "table", max_width=60))


def show_source_text(session, name: str, fmt: str) -> str:
    """``kg show`` for a source: its metadata and what it supports (table, json or csv)."""
    from kg.output import render
    from kg.sources import show_source

    data = show_source(session.store, name, session.lang)
    if fmt == "json":
        return render(data, "json")
    if fmt in ("csv", "jsonl"):
        return render(data["items"], fmt, columns=["what", "kind", "line", "text", "id"])
    out = [f"{data['short_title']}  <{data['id']}>", f"layer: {data['layer']}"]
    for key, title in (("title", "title"), ("title_zh", "title (zh-Hant)"), ("label_zh" if session.lang == "en" else "label",
                                                                             "also")):
        if data[key] and data[key] != data["short_title"]:
            out.append(f"{title}: {data[key]}")
    if _by(data):
        out.append(f"by: {_by(data)}")
    for key in ("date", "url", "citation", "graph"):
        if data[key]:
            out.append(f"{key}: {data[key]}")
    out.append(f"supports: {data['claims']} claims, {data['relationships']} relationships, {data['figures']} figures"
               + (f"; cited by {data['cited_by']} claims" if data["cited_by"] else ""))
    items = [{"what": i["what"], "kind": i["kind"], "line": i["line"], "text": i["text"],
              "id": i["id"].rsplit("/", 1)[-1]} for i in data["items"]]
    return "\n".join(out) + "\n\n" + render(items, "table", max_width=70)
