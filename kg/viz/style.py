"""How actors and relationships look on the page: colours, shapes, widths, hover text, UI words."""

from __future__ import annotations

import math

from kg.output import format_amount

__all__ = [
    "NODE_STYLE", "KIND_STYLE", "HIGHLIGHT", "GAIN", "FONT", "node_style", "edge_style", "kind_style", "node_title", "edge_title",
    "impact_colour", "edge_width", "width_legend", "words", "type_label", "layer_label", "status_label",
]

#: Node type → fill colour, vis-network shape, and labels. Groups (collective actors) are
#: hexagons with a dashed border so they never read as one company.
NODE_STYLE = {
    "Company": {"color": "#4e79a7", "shape": "dot", "en": "Company", "zh-Hant": "公司"},
    "Platform": {"color": "#59a14f", "shape": "diamond", "en": "Platform", "zh-Hant": "平台"},
    "Product": {"color": "#f28e2b", "shape": "triangle", "en": "Product", "zh-Hant": "產品"},
    "ActorGroup": {"color": "#d9c3e6", "border": "#7b4f9d", "shape": "hexagon", "dashes": [5, 3],
                   "en": "Actor group (collective)", "zh-Hant": "行動者群組(集體)"},
    "Actor": {"color": "#9c9c9c", "shape": "square", "en": "Other actor", "zh-Hant": "其他行動者"},
}

#: Relationship kind notation → (colour, dashes). Solid lines carry money; dashed ones do not
#: (stakes, warrants, acquisitions, competition, analogies, memberships).
KIND_STYLE = {
    "equity-investment": ("#2e7d32", False),
    "funding-commitment": ("#66bb6a", False),
    "stake": ("#1b5e20", [6, 4]),
    "warrant": ("#8bc34a", [6, 4]),
    "cloud-services": ("#1f77b4", False),
    "compute-contract": ("#0d47a1", False),
    "capacity-purchase": ("#64b5f6", False),
    "chip-supply": ("#ff7f0e", False),
    "hardware-supply": ("#ffbb78", False),
    "manufacturing": ("#8c564b", False),
    "licence": ("#9467bd", [2, 3]),
    "revenue-share": ("#e377c2", False),
    "api-dependence": ("#17becf", [8, 3]),
    "model-services": ("#0e8a99", False),
    "right-of-first-refusal": ("#6a3d9a", [3, 3]),
    "capital-reallocation": ("#b15928", [6, 2, 2, 2]),
    "acquisition": ("#d62728", [10, 5]),
    "competition": ("#7f7f7f", [4, 4]),
    "analogy": ("#bcbd22", [1, 4]),
    "member-of": ("#7b4f9d", [2, 2]),
}
_DEFAULT_KIND = ("#607d8b", False)
#: The page's embedded CJK subset (:mod:`kg.viz.cjkfont`, CJK code points only) first, then
#: the system UI faces, then installed CJK faces for any character the subset lacks.
FONT = ("'KG CJK', system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK TC', 'PingFang TC', "
        "'Microsoft JhengHei', sans-serif")
#: Colour of chain and cycle edges, which are drawn thicker; other edges fade.
HIGHLIGHT = {"chain": "#c62828", "cycle": "#ad1457"}
_FADED = "rgba(160,160,160,0.25)"
#: Border of the actors that gain when the shocked actor fails (substitution and the like).
GAIN = "#2e7d32"

_LAYERS = {"article": ("article", "文章"), "context": ("context (public reporting)", "脈絡(公開報導)"),
           "user": ("user data", "使用者資料")}
_STATUS = {"in-force": "已生效", "committed": "已承諾", "intended": "意向", "reported": "報導",
           "hypothetical": "假設", "historical": "歷史", "ended": "已終止"}

_WORDS = {
    "en": {
        "title": "AI capital flows", "search": "Find an actor (English or 中文)…", "kinds": "Relationship kinds",
        "layers": "Layers", "types": "Actors", "details": "Details", "hint": "Click an actor or a relationship.",
        "no_match": "No actor matches", "relationships": "relationships", "claims": "claims", "source": "source",
        "sources": "Sources", "amount": "amount", "as_worded": "as worded", "status": "status", "layer": "layer",
        "impact": "impact", "loss": "loss", "round": "round", "shock": "fails (shock)", "money": "money flows",
        "direction": "direction", "loading": "Laying out", "only_highlighted": "Only highlighted",
        "all": "all", "none": "none", "more": "more: click for all", "focus": "neighbourhood of",
        "depth": "depth", "exposure": "if this actor fails", "chain": "dependency chains",
        "cycles": "circular flows", "impact_scale": "impact (0 → 1)", "empty": "Nothing to show in this view.",
        "gain": "gains", "gainers": "gains (substitution…)", "via_chain": "mostly through", "members": "member of", "dates": "dates",
        "actors_count": "actors", "edges_count": "relationships", "ticker": "ticker", "english": "English",
        "excerpt": "excerpt", "line": "line", "type": "type", "kind": "kind",
        "members_count": "memberships", "hops": "relationships from the focus",
        "widths": "Line width: amount (USD)", "width_unknown": "unknown or ≤ US$10M",
        "width_note": "log scale: +1.5 px per factor of ten, at most 10 px",
    },
    "zh-Hant": {
        "title": "AI 資本流向", "search": "搜尋行動者(中文或 English)…", "kinds": "關係類型",
        "layers": "資料層", "types": "行動者", "details": "詳細資料", "hint": "點選行動者或關係。",
        "no_match": "找不到行動者", "relationships": "項關係", "claims": "項主張", "source": "來源",
        "sources": "來源", "amount": "金額", "as_worded": "原文", "status": "狀態", "layer": "資料層",
        "impact": "衝擊", "loss": "損失", "round": "輪次", "shock": "倒下(衝擊起點)", "money": "金流",
        "direction": "方向", "loading": "版面配置中", "only_highlighted": "只顯示標示項目",
        "all": "全選", "none": "全不選", "more": "更多:點選查看全部", "focus": "鄰近範圍:",
        "depth": "深度", "exposure": "若此行動者倒下", "chain": "依賴鏈", "cycles": "循環金流",
        "impact_scale": "衝擊(0 → 1)", "empty": "此檢視沒有可顯示的內容。", "gain": "獲益", "gainers": "獲益(替代等)",
        "via_chain": "主要經由", "members": "屬於", "dates": "日期", "actors_count": "個行動者",
        "edges_count": "項關係", "ticker": "股票代號", "english": "英文", "excerpt": "摘錄", "line": "行",
        "type": "類型", "kind": "關係類型", "members_count": "項群組成員關係", "hops": "與焦點相隔的關係數",
        "widths": "線寬:金額(美元)", "width_unknown": "金額不明或 ≤ US$10M",
        "width_note": "對數刻度:金額每增十倍加 1.5 像素,最寬 10 像素",
    },
}


def words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def type_label(type_name: str, lang: str) -> str:
    style = NODE_STYLE.get(type_name, NODE_STYLE["Actor"])
    return style.get(lang, style["en"])


def layer_label(layer: str, lang: str) -> str:
    en, zh = _LAYERS.get(layer, (layer, layer))
    return zh if lang == "zh-Hant" else en


def status_label(status: str | None, lang: str) -> str:
    if not status:
        return ""
    return _STATUS.get(status, status) if lang == "zh-Hant" else status.replace("-", " ")


def impact_colour(h: float) -> str:
    """h in [0, 1] → pale yellow … dark red; negative h (a gain) → green."""
    if h < 0:
        return "#43a047"
    h = min(1.0, h)
    stops = ((0.0, (255, 247, 188)), (0.35, (254, 196, 79)), (0.7, (236, 112, 20)), (1.0, (153, 52, 4)))
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if h <= b:
            t = (h - a) / (b - a)
            r, g, bl = (round(x + (y - x) * t) for x, y in zip(ca, cb))
            return f"#{r:02x}{g:02x}{bl:02x}"
    return "#993404"


def edge_width(amount: float | None) -> float:
    """Width on a log scale of the amount: 1 for unknown or ≤ 10M, +1.5 per factor of ten."""
    if not amount or amount <= 1e7:
        return 1.0
    return round(min(10.0, 1.0 + 1.5 * math.log10(amount / 1e7)), 2)


def node_style(data: dict, degree: int, exposure: bool, big: bool = False) -> dict:
    """vis-network options of one node (no text: labels and titles are added by the caller)."""
    style = NODE_STYLE.get(data.get("type"), NODE_STYLE["Actor"])
    fill, border = style["color"], style.get("border", "#2b2b2b")
    size = min(24.0, 6.0 + 1.5 * math.sqrt(degree)) if big else min(40.0, 12.0 + 4.0 * math.sqrt(degree))
    if exposure:
        h = data.get("impact") or 0.0
        fill = impact_colour(h)
        size = 10.0 + 35.0 * min(1.0, abs(h))
    out = {"shape": style["shape"], "size": round(size, 1), "borderWidth": 2 if data.get("group") else 1,
           "color": {"background": fill, "border": border,
                     "highlight": {"background": fill, "border": "#000000"},
                     "hover": {"background": fill, "border": "#000000"}}}
    if style.get("dashes"):
        out["shapeProperties"] = {"borderDashes": style["dashes"]}
    if exposure and data.get("gain"):
        out["borderWidth"] = 4
        out["color"]["border"] = GAIN
    if data.get("focus") or data.get("shock"):
        out["borderWidth"] = 4
        out["color"]["border"] = "#000000"
    if data.get("highlight"):
        out["borderWidth"] = 4
        out["color"]["border"] = HIGHLIGHT[data["highlight"]]
    return out


def kind_style(kind: str | None) -> tuple[str, object]:
    """(colour, dashes) of a relationship kind; kinds from users' ontologies get a neutral grey."""
    return KIND_STYLE.get(kind, _DEFAULT_KIND)


def edge_style(data: dict, highlighting: bool) -> dict:
    colour, dashes = kind_style(data.get("kind"))
    # the width legend is in US dollars: amounts in other currencies are drawn thin, as unknown
    width = edge_width(data.get("amount") if data.get("currency") == "USD" else None)
    tag = data.get("highlight")
    if tag:
        colour, width = HIGHLIGHT[tag], width + 3
    elif highlighting:
        colour = _FADED
    out = {"color": colour, "width": width}  # one colour string covers every state
    if dashes:
        out["dashes"] = dashes
    if data.get("kind") == "member-of":
        out["arrows"] = {"to": {"enabled": True, "type": "circle", "scaleFactor": 0.4}}
    return out


def _clip(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def amount_text(data: dict) -> str:
    parts = []
    if data.get("amount") is not None:
        parts.append(format_amount(data["amount"], data.get("currency"), data.get("qualifier")))
    if data.get("quantity") is not None:
        q = f"{data['quantity']:,.10g}"
        parts.append(f"{q}{'%' if data.get('unit') in ('%', 'percent') else ' ' + (data.get('unit') or '')}".strip())
    return " · ".join(parts)


def claim_lines(claim: dict, w: dict, limit: int = 180) -> list[str]:
    """A claim as hover lines: the excerpt in its own language, then the English rendering."""
    lines = []
    excerpt, english = claim.get("excerpt"), claim.get("text_en")
    if excerpt:
        lines.append(f"「{_clip(excerpt, limit)}」" if claim.get("excerpt_lang", "").startswith("zh") else f"“{_clip(excerpt, limit)}”")
    if english and english != excerpt:
        lines.append(f"  {w['english']}: {_clip(english, limit)}")
    where = claim.get("source_label") or ""
    if claim.get("line"):
        where += f", {w['line']} {claim['line']}"
    if where:
        lines.append(f"  — {where}")
    return lines


def node_title(data: dict, degree: int, lang: str, claims: dict) -> str:
    """Plain text for the hover box (vis-network shows a string title as text, never as HTML)."""
    w = words(lang)
    head = data["label_zh"] if lang == "zh-Hant" else data["label_en"]
    other = data["label_en"] if lang == "zh-Hant" else data["label_zh"]
    lines = [head + (f" · {other}" if other and other != head else "")]
    kind = type_label(data.get("type", "Actor"), lang)
    lines.append(kind + (f" · {w['ticker']} {data['ticker']}" if data.get("ticker") else ""))
    if data.get("impact") is not None:
        lines.append(_impact_line(data, w))
    ids = data.get("claims") or []
    lines.append(f"{degree} {w['relationships']} · {len(ids)} {w['claims']}")
    if data.get("hops") and not data.get("focus"):
        lines.append(f"{w['hops']}: {data['hops']}")
    return "\n".join(lines)


#: The amounts the width legend shows (USD); their widths come from :func:`edge_width`.
WIDTH_LEGEND_USD = (1e9, 1e10, 1e11, 1e12)


def width_legend(lang: str) -> list[dict]:
    """What an edge's width means: [{"label": "US$1B", "width": 4.0}, …], thin (unknown) first."""
    w = words(lang)
    return [{"label": w["width_unknown"], "width": edge_width(None)}] + [
        {"label": format_amount(usd, "USD"), "width": edge_width(usd)} for usd in WIDTH_LEGEND_USD]


def _impact_line(data: dict, w: dict) -> str:
    if data.get("shock"):
        return f"{w['shock']} · {w['impact']} {data['impact']:.2f}"
    text = f"{w['impact']} {data['impact']:.2f}"
    if data.get("loss"):
        text += f" · {w['loss']} {format_amount(data['loss'], 'USD')}"
    if data.get("round") is not None:
        text += f" · {w['round']} {data['round']}"
    if data.get("impact_chain"):
        text += f"\n{w['via_chain']} {data['impact_chain']}"
    if data.get("gain"):
        text += f"\n{w['gain']} {data['gain']:.2f} (net {data['net']:+.2f})"
    return text


def edge_title(data: dict, source_label: str, target_label: str, lang: str, claims: dict, max_claims: int = 3) -> str:
    w = words(lang)
    lines = [f"{source_label} → {target_label}"]
    if data.get("label") and data.get("rel"):
        lines.append(_clip(data["label"], 120))
    head = data.get("kind_label") or data.get("kind") or ""
    if data.get("status"):
        head += f" · {status_label(data['status'], lang)}"
    lines.append(head)
    amount = amount_text(data)
    if amount:
        lines.append(f"{w['amount']}: {amount}")
    if data.get("amount_text"):
        lines.append(f"{w['as_worded']}: {_clip(data['amount_text'], 80)}")
    if data.get("money"):
        lines.append(f"{w['money']}: {source_label} → {target_label}")
    if data.get("highlight"):
        lines.append(w["chain"] if data["highlight"] == "chain" else w["cycles"])
    lines.append(f"{w['layer']}: {layer_label(data.get('layer') or '', lang)} · {w['source']}: {data.get('source_label') or ''}")
    ids = data.get("claims") or []
    for cid in ids[:max_claims]:
        lines.append("")
        lines.extend(claim_lines(claims[cid], w))
    if len(ids) > max_claims:
        lines.append(f"\n+{len(ids) - max_claims} {w['more']}")
    return "\n".join(lines)
