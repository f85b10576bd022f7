/* kg viz: filters, search, details panel, and a layout that stops once stable.
 * Data is only ever inserted as text (textContent, canvas labels, vis-network's innerText hover
 * box): nothing from the graph is parsed as HTML. */
(function () {
  "use strict";
  // Canvas labels are measured and drawn once: the page's embedded CJK face ("KG CJK") must be
  // loaded before the network is made, or Chinese labels are laid out with a fallback font.
  function start() {
    var data = JSON.parse(document.getElementById("kg-data").textContent);
    var W = data.words, claims = data.claims || {};
    var kindLabel = {};
    data.kinds.forEach(function (k) { kindLabel[k.id] = k.label; });
    var exposure = !!(data.overlays && data.overlays.exposure);
    var nodes = new vis.DataSet(data.nodes);
    var edges = new vis.DataSet(data.edges);
    var state = {
      kinds: new Set(data.kinds.map(function (k) { return k.id; })),
      layers: new Set(data.layers.map(function (l) { return l.id; })),
      only: false
    };
    var incident = {};
    data.edges.forEach(function (e) {
      (incident[e.from] = incident[e.from] || []).push(e.id);
      if (e.to !== e.from) (incident[e.to] = incident[e.to] || []).push(e.id);
    });
    var shown = new Set();

    function edgeVisible(e) {
      return state.kinds.has(e.kg.kind) && (!e.kg.layer || state.layers.has(e.kg.layer)) &&
        (!state.only || !!e.kg.highlight);
    }
    function nodeVisible(n) {
      if (shown.has(n.id)) return true;
      if (state.only) return !!(n.kg.highlight || n.kg.shock || n.kg.focus);
      return !incident[n.id] || !!(n.kg.focus || n.kg.shock);
    }
    function recompute() {
      shown = new Set();
      data.edges.forEach(function (e) { if (edgeVisible(e)) { shown.add(e.from); shown.add(e.to); } });
    }
    // Filtering hides items (vis-network keeps their positions) rather than removing them, and
    // only the items whose visibility changes are updated: one batch per data set.
    var hiddenNodes = {}, hiddenEdges = {};
    var container = document.getElementById("graph");
    var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);

    // -- layout: physics runs until stabilised, then stops so the graph stays put ------------------
    var progress = document.getElementById("progress"), loading = document.getElementById("loading");
    var stable = false;
    function settle() {
      if (stable) return;
      stable = true;
      network.setOptions({ physics: { enabled: false } });
      if (!data.separate || data.nodes.length < 2) return done();
      // the boxes (shape and label) are measured when drawn: separate them after one more frame
      // (and report stable only once drawn where they now are, so getBoundingBox is current)
      network.once("afterDrawing", function () {
        separate(); fitAll();
        network.once("afterDrawing", done);
        network.redraw();
      });
      network.redraw();
    }
    function done() {
      scaleLegend();
      loading.hidden = true;
      window.kgStableAt = performance.now();
      document.body.setAttribute("data-stable", "true");
    }

    // -- no label over another actor or its label: push overlapping boxes apart --------------------
    var GAP = 4;  // canvas units between two boxes
    function boxes() {
      var pos = network.getPositions();
      return network.body.nodeIndices.map(function (id) {
        var b = network.getBoundingBox(id), p = pos[id];
        return { id: id, x: p.x, y: p.y, l: b.left - p.x, r: b.right - p.x, t: b.top - p.y, b: b.bottom - p.y };
      });
    }
    function separate() {
      var items = boxes(), n = items.length, moved = {}, round, i, j, start = performance.now();
      function left(x) { return x.x + x.l; }
      for (round = 0; round < 3000 && performance.now() - start < 3000; round++) {
        var any = false;
        // a sweep along x: once a box starts right of a's right edge, no later box can meet a
        items.sort(function (p, q) { return left(p) - left(q); });
        for (i = 0; i < n; i++) {
          var a = items[i];
          for (j = i + 1; j < n; j++) {
            var c = items[j];
            if (left(c) >= a.x + a.r + GAP) break;
            var ox = Math.min(a.x + a.r, c.x + c.r) - Math.max(a.x + a.l, c.x + c.l) + GAP;
            var oy = Math.min(a.y + a.b, c.y + c.b) - Math.max(a.y + a.t, c.y + c.t) + GAP;
            if (ox <= 0 || oy <= 0) continue;
            any = true; moved[a.id] = a; moved[c.id] = c;
            // along the axis that needs the shorter move, each box half the way
            if (ox < oy) {
              var sx = (a.x + (a.l + a.r) / 2 <= c.x + (c.l + c.r) / 2 ? 1 : -1) * (ox / 2 + 0.5);
              a.x -= sx; c.x += sx;
            } else {
              var sy = (a.y + (a.t + a.b) / 2 <= c.y + (c.t + c.b) / 2 ? 1 : -1) * (oy / 2 + 0.5);
              a.y -= sy; c.y += sy;
            }
          }
        }
        if (!any) break;
      }
      // set the positions directly: network.moveNode would redraw the whole network once per actor
      Object.keys(moved).forEach(function (id) {
        var node = network.body.nodes[id];
        node.x = moved[id].x; node.y = moved[id].y;
      });
    }
    // fit every box (labels included) inside the canvas with a margin, so nothing is clipped
    var MARGIN = 24;  // CSS pixels
    function fitAll() {
      var items = boxes().filter(function (b) { return !hiddenNodes[b.id]; });
      if (!items.length) return;
      var l = Infinity, r = -Infinity, t = Infinity, b = -Infinity;
      items.forEach(function (x) {
        l = Math.min(l, x.x + x.l); r = Math.max(r, x.x + x.r); t = Math.min(t, x.y + x.t); b = Math.max(b, x.y + x.b);
      });
      var w = container.clientWidth - 2 * MARGIN, h = container.clientHeight - 2 * MARGIN;
      var scale = Math.min(1.5, w / Math.max(1, r - l), h / Math.max(1, b - t));
      network.moveTo({ position: { x: (l + r) / 2, y: (t + b) / 2 }, scale: scale, animation: false });
    }
    network.on("stabilizationProgress", function (p) { progress.value = Math.round(100 * p.iterations / p.total); });
    network.once("stabilizationIterationsDone", settle);
    network.once("stabilized", settle);
    if (data.nodes.length === 0) { document.getElementById("empty").hidden = false; settle(); }

    function refresh() {
      recompute();
      var nodeChanges = [], edgeChanges = [];
      data.edges.forEach(function (e) {
        var hide = !edgeVisible(e);
        if (hide !== !!hiddenEdges[e.id]) { hiddenEdges[e.id] = hide; edgeChanges.push({ id: e.id, hidden: hide }); }
      });
      data.nodes.forEach(function (n) {
        var hide = !nodeVisible(n);
        if (hide !== !!hiddenNodes[n.id]) { hiddenNodes[n.id] = hide; nodeChanges.push({ id: n.id, hidden: hide }); }
      });
      if (edgeChanges.length) edges.update(edgeChanges);
      if (nodeChanges.length) nodes.update(nodeChanges);
    }

    // -- small DOM helpers (text only) --------------------------------------------------------------
    function el(tag, text, cls) {
      var e = document.createElement(tag);
      if (text !== undefined && text !== null) e.textContent = String(text);
      if (cls) e.className = cls;
      return e;
    }
    function swatch(item) {
      var s = el("span", null, "swatch " + item.shape);
      // in an exposure view the fill shows the impact, so the type legend shows shapes only
      s.style.background = exposure ? "#e4e4e4" : item.color;
      if (item.border) s.style.borderColor = item.border;
      return s;
    }
    function checkbox(group, id, checked, onChange) {
      var box = el("input");
      box.type = "checkbox"; box.checked = checked; box.value = id;
      box.setAttribute("data-" + group, id);
      box.addEventListener("change", function () { onChange(box.checked); });
      return box;
    }

    // -- legend and filters ------------------------------------------------------------------------
    var typeList = document.getElementById("type-list");
    data.types.forEach(function (t) {
      var li = el("li"); li.appendChild(swatch(t)); li.appendChild(el("span", t.label)); typeList.appendChild(li);
    });
    if (exposure) {
      document.getElementById("impact-scale").hidden = false;
      if (data.nodes.some(function (n) { return n.kg.gain; })) {
        var li = el("li"), ring = el("span", null, "swatch dot");
        ring.style.background = "#ffffff"; ring.style.border = "3px solid " + data.gain_colour;
        li.appendChild(ring); li.appendChild(el("span", W.gainers)); typeList.appendChild(li);
      }
    }

    var kindList = document.getElementById("kind-list");
    data.kinds.forEach(function (k) {
      var li = el("li"), label = el("label");
      label.appendChild(checkbox("kind", k.id, true, function (on) { setKind(k.id, on); }));
      var line = el("span", null, "line" + (k.dashed ? " dashed" : ""));
      line.style.borderTopColor = k.color;
      label.appendChild(line);
      label.appendChild(el("span", k.label));
      li.appendChild(label);
      li.appendChild(el("span", k.count, "count"));
      kindList.appendChild(li);
    });
    // the legend's lines are as wide as the edges are drawn at the current zoom
    var widthList = document.getElementById("width-list"), widthLines = [];
    (data.widths || []).forEach(function (x) {
      var li = el("li"), line = el("span", null, "line width");
      widthLines.push([line, x.width]);
      li.appendChild(line);
      li.appendChild(el("span", x.label));
      widthList.appendChild(li);
    });
    function scaleLegend() {
      if (!widthLines) return;  // not made yet (an empty view settles at once)
      var scale = network.getScale();
      widthLines.forEach(function (p) { p[0].style.height = Math.max(0.5, p[1] * scale) + "px"; });
    }
    scaleLegend();
    network.on("zoom", scaleLegend);
    network.on("stabilized", scaleLegend);
    var layerList = document.getElementById("layer-list");
    data.layers.forEach(function (l) {
      var li = el("li"), label = el("label");
      label.appendChild(checkbox("layer", l.id, true, function (on) { setLayer(l.id, on); }));
      label.appendChild(el("span", l.label));
      li.appendChild(label);
      layerList.appendChild(li);
    });
    var anyHighlight = data.edges.some(function (e) { return !!e.kg.highlight; });
    if (anyHighlight) {
      document.getElementById("only-highlighted-row").hidden = false;
      document.getElementById("only-highlighted").addEventListener("change", function (ev) {
        state.only = ev.target.checked; refresh();
      });
    }
    function setKind(id, on) { if (on) state.kinds.add(id); else state.kinds.delete(id); syncBoxes(); refresh(); }
    function setLayer(id, on) { if (on) state.layers.add(id); else state.layers.delete(id); syncBoxes(); refresh(); }
    function syncBoxes() {
      document.querySelectorAll("input[data-kind]").forEach(function (b) { b.checked = state.kinds.has(b.value); });
      document.querySelectorAll("input[data-layer]").forEach(function (b) { b.checked = state.layers.has(b.value); });
    }
    document.querySelector("button[data-all=kind]").addEventListener("click", function () {
      data.kinds.forEach(function (k) { state.kinds.add(k.id); }); syncBoxes(); refresh();
    });
    document.querySelector("button[data-none=kind]").addEventListener("click", function () {
      state.kinds.clear(); syncBoxes(); refresh();
    });

    // -- search in either language -----------------------------------------------------------------
    function norm(s) { return String(s || "").normalize("NFKC").toLowerCase().trim(); }
    var names = [];
    var datalist = document.getElementById("actor-names"), seen = new Set();
    data.nodes.forEach(function (n) {
      var iri = n.kg.iri, local = iri.replace(/^.*[\/#]/, "");
      [n.kg.label_en, n.kg.label_zh, n.kg.ticker, local].forEach(function (name) {
        if (!name) return;
        names.push([norm(name), n.id]);
        if (name !== local && !seen.has(name)) { seen.add(name); var o = el("option"); o.value = name; datalist.appendChild(o); }
      });
    });
    function find(query) {
      var q = norm(query), i;
      if (!q) return null;
      for (i = 0; i < names.length; i++) if (names[i][0] === q) return names[i][1];
      for (i = 0; i < names.length; i++) if (names[i][0].indexOf(q) === 0) return names[i][1];
      for (i = 0; i < names.length; i++) if (names[i][0].indexOf(q) >= 0) return names[i][1];
      return null;
    }
    var status = document.getElementById("search-status");
    function search(query) {
      var id = find(query);
      status.textContent = id || !query ? "" : W.no_match + ": " + query;
      if (id) selectNode(id, true);
      return id;
    }
    var input = document.getElementById("search");
    input.addEventListener("change", function () { search(input.value); });
    input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); search(input.value); } });

    // -- details panel -----------------------------------------------------------------------------
    var body = document.getElementById("details-body");
    function row(dl, term, value) {
      if (value === undefined || value === null || value === "") return;
      dl.appendChild(el("dt", term)); dl.appendChild(el("dd", value));
    }
    function claimBlock(id) {
      var c = claims[id];
      if (!c) return null;
      var div = el("div", null, "claim");
      var zh = (c.excerpt_lang || "").indexOf("zh") === 0;
      var ex = el("p", zh ? "「" + c.excerpt + "」" : "“" + c.excerpt + "”", "excerpt");
      if (c.excerpt_lang) ex.lang = c.excerpt_lang;
      div.appendChild(ex);
      if (c.text_en && c.text_en !== c.excerpt) { var en = el("p", c.text_en, "english"); en.lang = "en"; div.appendChild(en); }
      var where = [c.kind, c.hedge, c.source_label, c.line ? W.line + " " + c.line : null].filter(Boolean).join(" · ");
      div.appendChild(el("p", where, "where"));
      return div;
    }
    function claimsSection(ids) {
      if (!ids || !ids.length) return;
      body.appendChild(el("h4", ids.length + " " + W.claims));
      ids.forEach(function (id) { var b = claimBlock(id); if (b) body.appendChild(b); });
    }
    function nodeLabel(id) { var n = nodes.get(id); return n ? n.label : id; }
    function showNode(id) {
      var n = nodes.get(id);
      if (!n) return;
      var k = n.kg, zhFirst = data.lang === "zh-Hant";
      body.textContent = "";
      body.appendChild(el("h3", n.label));
      var other = zhFirst ? k.label_en : k.label_zh;
      if (other && other !== n.label) body.appendChild(el("p", other, "sub"));
      var dl = el("dl");
      var type = data.types.filter(function (t) { return t.id === k.type; })[0];
      row(dl, W.type, type ? type.label : k.type);
      row(dl, W.ticker, k.ticker);
      if (!k.focus) row(dl, W.hops, k.hops);
      if (k.impact !== undefined) {
        row(dl, W.impact, k.shock ? W.shock + " · " + Number(k.impact).toFixed(2) : Number(k.impact).toFixed(3));
        if (k.loss) row(dl, W.loss, k.loss_text);
        row(dl, W.round, k.round);
        row(dl, W.via_chain, k.impact_chain);
        if (k.gain) row(dl, W.gain, Number(k.gain).toFixed(2) + " (net " + (k.net >= 0 ? "+" : "") + Number(k.net).toFixed(2) + ")");
      }
      row(dl, "IRI", k.iri);
      body.appendChild(dl);
      if (k.comment) body.appendChild(el("p", k.comment));
      var ids = incident[id] || [];
      body.appendChild(el("h4", ids.length + " " + W.relationships));
      var ul = el("ul");
      ids.forEach(function (eid) {
        var e = edges.get(eid), out = e.from === id;
        var text = (out ? "→ " : "← ") + nodeLabel(out ? e.to : e.from) + " · " + (kindLabel[e.kg.kind] || e.kg.kind) +
          (e.kg.amount ? " · " + e.kg.amount : "") + (e.kg.status ? " · " + (data.statuses[e.kg.status] || e.kg.status) : "");
        var li = el("li", text, "rel");
        if (hiddenEdges[eid]) li.style.opacity = "0.5";
        li.addEventListener("click", function () { showEdge(eid); if (!hiddenEdges[eid]) network.selectEdges([eid]); });
        ul.appendChild(li);
      });
      body.appendChild(ul);
      claimsSection(k.claims);
    }
    function showEdge(eid) {
      var e = edges.get(eid);
      if (!e) return;
      var k = e.kg;
      body.textContent = "";
      body.appendChild(el("h3", nodeLabel(e.from) + " → " + nodeLabel(e.to)));
      if (k.label) body.appendChild(el("p", k.label, "sub"));
      var dl = el("dl");
      row(dl, W.kind, kindLabel[k.kind] || k.kind);
      row(dl, W.status, k.status ? (data.statuses[k.status] || k.status) : null);
      row(dl, W.amount, k.amount);
      row(dl, W.as_worded, k.amount_text);
      if (k.money) row(dl, W.money, nodeLabel(e.from) + " → " + nodeLabel(e.to));
      row(dl, W.dates, [k.date, k.start, k.end, k.period].filter(Boolean).join(" – "));
      var layer = data.layers.filter(function (l) { return l.id === k.layer; })[0];
      row(dl, W.layer, layer ? layer.label : k.layer);
      row(dl, W.source, k.source_label);
      row(dl, "IRI", k.rel);
      body.appendChild(dl);
      claimsSection(k.claims);
    }
    function selectNode(id, focus) {
      showNode(id);
      if (!hiddenNodes[id]) {
        network.selectNodes([id]);
        if (focus) network.focus(id, { scale: Math.max(network.getScale(), 1.0), animation: false });
      }
    }
    network.on("click", function (p) {
      if (p.nodes.length) showNode(p.nodes[0]);
      else if (p.edges.length) showEdge(p.edges[0]);
    });

    window.kgPage = {
      network: network, nodes: nodes, edges: edges,
      search: search, setKind: setKind, setLayer: setLayer,
      counts: function () { return { nodes: network.body.nodeIndices.length, edges: network.body.edgeIndices.length }; },
      fit: fitAll
    };
  }
  if (document.fonts && document.getElementById("kg-font")) {
    document.fonts.load('20px "KG CJK"', "\u4e00").then(start, start);
  } else {
    start();
  }
})();
