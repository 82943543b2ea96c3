// View 6: force-directed item–feature graph (SVG, d3-force, draggable, zoomable).
// A new user rebuilds the simulation; a head/layer change only re-weights the attention
// edges and node radii, so nodes keep their places.
import { drag } from "d3-drag";
import { forceCollide, forceLink, forceManyBody, forceSimulation, forceX, forceY } from "d3-force";
import { select } from "d3-selection";
import { zoom, zoomIdentity } from "d3-zoom";
import { FIELD_CSS, HISTORY_CSS, REC_CSS, WHY_CSS } from "./colors.js";
import { card, fmt, h, s, truncate } from "./dom.js";
import { exportSvg } from "./export.js";
import { attentionEdges, buildGraph, edgesPerQuery, importanceEdges, receivedMass } from "./graph-data.js";
import { createRoving } from "./keys.js";
import { chooseLabels, labelPriorities } from "./labels.js";

const W = 720;
const H = 420;
const LABEL_H = 14; // label box height (10px text) for the overlap test
const WHY_EDGES = 5; // importance edges to the explained recommendation
const DEFER_ABOVE = 60; // longer histories: the graph is built after the first paint
// The layout settles in ~60 steps instead of d3's 300, drawn every SETTLE_TICKS steps (about
// 8 frames in all) rather than each: every drawing moves hundreds of SVG nodes and edges,
// and while a new user's layout settled frame by frame (~1 s of a busy main thread) the page
// answered the kernel late and slowed it down on a small machine.
const ALPHA_DECAY = 0.1;
const HEAD_START_TICKS = 12; // layout steps before the first paint of a new user (~3 ms each at n = 200)
const SETTLE_TICKS = 8; // layout steps per drawn frame while a new layout settles

// Label widths come from a canvas in the labels' font: SVG's getComputedTextLength lays out
// each label's text anew (about 100 ms for a 200-item history on every user switch). The
// font is read once per label class and build (`fonts`, cleared by the caller).
const widths = new Map(); // font -> text -> px
let measurer;
function labelWidth(el, text, fonts) {
  if (!el.isConnected) return 0; // not in the page yet: measured on a later placement
  measurer ??= document.createElement("canvas").getContext?.("2d") ?? null;
  if (!measurer) return el.getComputedTextLength?.() || 0;
  const kind = el.getAttribute("class");
  if (!fonts.has(kind)) {
    const style = getComputedStyle(el);
    fonts.set(kind, `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`);
  }
  const font = fonts.get(kind);
  if (!widths.has(font)) widths.set(font, new Map());
  const known = widths.get(font);
  if (!known.has(text)) {
    measurer.font = font;
    known.set(text, measurer.measureText(text).width);
  }
  return known.get(text);
}

const colorOf = (d) =>
  d.kind === "hist" ? HISTORY_CSS : d.kind === "rec" ? REC_CSS : FIELD_CSS[d.fieldIndex % FIELD_CSS.length];

const targetOf = (d) =>
  d.kind === "hist"
    ? { kind: "hist", pos: d.pos }
    : d.kind === "rec"
      ? { kind: "rec", rank: d.rank }
      : { kind: "feat", field: d.field, value: d.value };

export function createGraphView(links) {
  const svgEl = s("svg", {
    class: "aw-graph",
    viewBox: `0 0 ${W} ${H}`,
    role: "group",
    "aria-label":
      "item and feature graph: arrow keys move between nodes, Enter selects, Shift+Enter adds to the selection",
  });
  const svg = select(svgEl);
  const stage = svg.append("g");
  const staticLayer = stage.append("g").attr("class", "aw-links-static");
  const attnLayer = stage.append("g").attr("class", "aw-links-attn");
  const whyLayer = stage.append("g").attr("class", "aw-links-why");
  const nodeLayer = stage.append("g").attr("class", "aw-nodes");
  // labels above every node (a node drawn later never covers a shown label); one per node
  const labelLayer = stage.append("g").attr("class", "aw-labels").attr("aria-hidden", "true");
  const zoomer = zoom()
    .scaleExtent([0.25, 8])
    .on("zoom", (event) => stage.attr("transform", event.transform));
  svg.call(zoomer).on("dblclick.zoom", () => svg.call(zoomer.transform, zoomIdentity));

  const legend = h("div", { class: "aw-legend" });
  const view = card("Item–feature graph", {
    className: "aw-graph-card",
    exportLabel: "SVG",
    exportWhat: "item–feature graph",
    onExport: () => exportSvg(svgEl, `graph-${expl?.user ?? "user"}.svg`),
  });
  view.body.append(svgEl, legend);

  let expl = null;
  let sim = null;
  let settleFrame = 0; // the next frame of settle(), while a new layout settles
  let byId = new Map();
  let nodes = select(null);
  let fixedLinks = select(null);
  let attnLinks = select(null);
  let whyLinks = select(null);
  let labels = select(null);
  let shownLabels = select(null);
  let whyMethod = null;
  let wasMarked = false;
  // labels: shown for what matters and only where they overlap no other shown label
  let nodeData = [];
  let priorities = new Map();
  let forced = new Set();
  let labelled = new Set();
  let importanceTop = [];
  const fonts = new Map(); // label class -> CSS font, for labelWidth

  const widthOf = (d) => d.tw || 6.2 * d.shortLabel.length; // estimate until measurable
  let unmeasured = false;
  function placeLabels() {
    if (!nodeData.length) return;
    if (unmeasured) {
      // text cannot be measured while the widget is not in the page yet: retry
      labels.each(function (d) {
        if (!d.tw) d.tw = labelWidth(this, d.shortLabel, fonts);
      });
      unmeasured = nodeData.some((d) => !d.tw);
    }
    const candidates = nodeData.map((d) => ({
      id: d.id,
      x: d.x + d.r + 3,
      y: d.y - LABEL_H / 2,
      w: widthOf(d),
      h: LABEL_H,
      priority: priorities.get(d.id) ?? 0,
      forced: forced.has(d.id),
    }));
    const next = chooseLabels(candidates);
    if (next.size === labelled.size && [...next].every((id) => labelled.has(id))) return;
    labelled = next;
    labels.classed("aw-label-on", (d) => next.has(d.id));
    shownLabels = labels.filter((d) => next.has(d.id));
    placeText(shownLabels);
    svgEl.dataset.labels = String(next.size);
  }
  const placeText = (sel) => sel.attr("x", (d) => (d.x + d.r + 3).toFixed(1)).attr("y", (d) => d.y.toFixed(1));
  // New priorities (another head, layer or method) relabel at the next frame, outside the
  // timed synchronous redraw: labels are the least urgent part of it.
  let labelFrame = 0;
  function updatePriorities() {
    if (labelFrame) return;
    const run = () => {
      labelFrame = 0;
      priorities = labelPriorities(nodeData, expl?.n ?? 0, importanceTop);
      labelled = new Set(["\u0000"]); // force a re-evaluation
      placeLabels();
    };
    if (typeof requestAnimationFrame === "function") labelFrame = requestAnimationFrame(run);
    else run();
  }

  // keyboard: the nodes are one tab stop; arrows move between them (history in time order,
  // then recommendations, then feature values); Enter/Space = click, Shift = shift-click
  const roving = createRoving(nodeLayer.node(), {
    items: () => nodes.nodes(),
    onActivate: (i, shift) => nodeData[i] && links.click(targetOf(nodeData[i]), shift),
    onFocus: (i) => links.setHover(i === null || !nodeData[i] ? null : targetOf(nodeData[i])),
  });

  const place = (sel) =>
    sel
      .attr("x1", (d) => d.source.x)
      .attr("y1", (d) => d.source.y)
      .attr("x2", (d) => d.target.x)
      .attr("y2", (d) => d.target.y);

  function ticked() {
    nodes.attr("transform", (d) => {
      // keep nodes (and the labels to their right) inside the view
      d.x = Math.min(Math.max(d.x, 8), W - 130);
      d.y = Math.min(Math.max(d.y, 8), H - 8);
      return `translate(${d.x.toFixed(1)},${d.y.toFixed(1)})`;
    });
    place(fixedLinks);
    place(attnLinks);
    place(whyLinks);
    placeLabels();
    placeText(shownLabels);
  }

  // Where each kind of node settles: history left -> right in time along the bottom,
  // feature values in a band per field above, recommendations in a column on the right.
  const SPAN = W - 290;
  const spread = (i, count) => 40 + (SPAN * (i + 0.5)) / Math.max(count, 1);
  function placeHomes(nodes, n) {
    const perField = new Map();
    for (const d of nodes) if (d.kind === "feat") perField.set(d.fieldIndex, (perField.get(d.fieldIndex) ?? 0) + 1);
    const seen = new Map();
    const bands = [...perField.keys()].sort((a, b) => a - b);
    for (const d of nodes) {
      if (d.kind === "hist") [d.hx, d.hy] = [spread(d.pos, n), H * 0.72 + (d.pos % 2 ? 16 : -16)];
      else if (d.kind === "rec") [d.hx, d.hy] = [W - 170, 30 + ((H - 60) * (d.rank + 0.5)) / expl.recs.length];
      else {
        const i = seen.get(d.fieldIndex) ?? 0;
        seen.set(d.fieldIndex, i + 1);
        [d.hx, d.hy] = [spread(i, perField.get(d.fieldIndex)), 40 + bands.indexOf(d.fieldIndex) * 44];
      }
    }
  }

  function build(e) {
    sim?.stop();
    stopSettling();
    fonts.clear(); // the theme may have changed since
    // The same user and items again (e.g. the complete pack after a fast one): nodes keep
    // their places and the view its zoom.
    const before = new Map([...byId.values()].map((d) => [`${d.id}|${d.label}`, d]));
    const same = expl !== null && e.user === expl.user;
    expl = e;
    const graph = buildGraph(e);
    placeHomes(graph.nodes, e.n);
    let kept = 0;
    graph.nodes.forEach((d) => {
      const old = same ? before.get(`${d.id}|${d.label}`) : undefined;
      [d.x, d.y] = old ? [old.x, old.y] : [d.hx, d.hy];
      if (old) kept++;
      d.r = d.kind === "rec" ? 6 : d.kind === "feat" ? 3 + 6 * Math.sqrt(Math.min(d.mass / Math.max(e.n, 1), 1)) : 4;
    });
    const unchanged = kept === graph.nodes.length && kept === before.size;
    byId = new Map(graph.nodes.map((d) => [d.id, d]));
    const lastPos = e.n - 1;

    fixedLinks = staticLayer
      .selectAll("line")
      .data(graph.links, (d) => d.id)
      .join("line")
      .attr("class", (d) => `aw-link aw-link-${d.kind}`)
      .attr("stroke-width", (d) => (d.weight === null ? 0.75 : 0.5 + 2.5 * d.weight))
      .attr("stroke-opacity", (d) => (d.weight === null ? 0.25 : 0.15 + 0.6 * d.weight));
    attnLayer.selectAll("line").remove();
    attnLinks = select(null);
    whyLayer.selectAll("line").remove();
    whyLinks = select(null);
    whyMethod = null;
    wasMarked = false;

    nodes = nodeLayer
      .selectAll("g")
      .data(graph.nodes, (d) => d.id)
      .join((enter) => {
        const g = enter.append("g");
        g.append("circle");
        g.append("title");
        return g;
      })
      .attr("class", (d) => `aw-node aw-node-${d.kind}${d.kind === "hist" && d.pos === lastPos ? " aw-node-pred" : ""}`)
      .attr("data-node", (d) => d.id)
      .on("mouseenter", (_, d) => links.setHover(targetOf(d)))
      .on("mouseleave", () => links.setHover(null))
      .on("click", (event, d) => links.click(targetOf(d), event.shiftKey))
      .call(
        drag()
          .on("start", (event, d) => {
            stopSettling();
            if (!event.active) sim.alphaTarget(0.2).restart();
            [d.fx, d.fy] = [d.x, d.y];
          })
          .on("drag", (event, d) => {
            [d.fx, d.fy] = [event.x, event.y];
          })
          .on("end", (event, d) => {
            if (!event.active) sim.alphaTarget(0);
            d.fx = d.fy = null;
          }),
      );
    nodes
      .select("circle")
      .attr("r", (d) => d.r)
      .attr("fill", colorOf);
    const kindName = (d) =>
      d.kind === "hist"
        ? `history item ${d.pos + 1}`
        : d.kind === "rec"
          ? `recommendation ${d.rank + 1}`
          : "feature value";
    nodes.attr("role", "button").attr("aria-label", (d) => `${kindName(d)}: ${d.label}`);
    labels = labelLayer
      .selectAll("text")
      .data(graph.nodes, (d) => d.id)
      .join((enter) => enter.append("text").attr("dy", "0.35em"))
      .attr("class", (d) => `aw-label aw-label-${d.kind}`)
      .attr("data-node", (d) => d.id)
      .text((d) => (d.shortLabel = truncate(d.label, 22)))
      .each(function (d) {
        d.tw = labelWidth(this, d.shortLabel, fonts); // 0 while not in the page: estimated later
      });
    shownLabels = select(null);
    nodeData = nodes.data();
    unmeasured = nodeData.some((d) => !d.tw);
    forced = new Set();
    importanceTop = [];
    labelled = new Set();
    priorities = labelPriorities(nodeData, e.n, importanceTop);
    roving.refresh();
    delete svgEl.dataset.settled;
    nodes.select("title").text((d) => {
      if (d.kind === "hist") return `${d.label}\nposition ${d.pos}${d.pos === lastPos ? " (prediction position)" : ""}`;
      if (d.kind === "rec") return `${d.label}\nrecommendation #${d.rank + 1}, score ${fmt(e.recs[d.rank].score)}`;
      return `${d.label}\nfeature attention received ${fmt(d.mass)}`;
    });

    // biome-ignore format: one force a line
    sim = forceSimulation(graph.nodes)
      .force(
        "link",
        forceLink(graph.layoutLinks)
          .id((d) => d.id)
          .distance((l) => (l.kind === "rec" ? 120 : 60))
          .strength((l) => (l.weight === null ? 0.02 : 0.02 + 0.2 * Math.min(l.weight, 1))),
      )
      .force("charge", forceManyBody().strength(-Math.min(200, Math.max(30, 4000 / graph.nodes.length))).distanceMax(250))
      .force("collide", forceCollide((d) => d.r + 2))
      .force("x", forceX((d) => d.hx).strength((d) => (d.kind === "rec" ? 0.5 : d.kind === "hist" ? 0.25 : 0.08)))
      .force("y", forceY((d) => d.hy).strength((d) => (d.kind === "rec" ? 0.5 : 0.12)))
      .alphaDecay(ALPHA_DECAY)
      .on("tick", ticked)
      .on("end", () => {
        svgEl.dataset.settled = "true";
      })
      .stop();
    if (!unchanged) {
      sim.tick(HEAD_START_TICKS); // off-screen, from the home places; the rest settles in view
      svg.call(zoomer.transform, zoomIdentity);
    }
    ticked();
    // already laid out: nothing moves
    if (unchanged) svgEl.dataset.settled = "true";
    else settle();
    renderLegend();
  }

  // The rest of the layout, SETTLE_TICKS steps per frame (a drag animates every step, as
  // d3 does, through the simulation's own timer).
  function settle() {
    const step = () => {
      sim.tick(SETTLE_TICKS);
      ticked();
      if (sim.alpha() < sim.alphaMin()) {
        settleFrame = 0;
        svgEl.dataset.settled = "true";
      } else settleFrame = requestAnimationFrame(step);
    };
    if (typeof requestAnimationFrame !== "function") sim.restart();
    else settleFrame = requestAnimationFrame(step);
  }
  function stopSettling() {
    if (settleFrame) cancelAnimationFrame(settleFrame);
    settleFrame = 0;
  }

  function renderLegend() {
    const item = (color, text) =>
      h("span", { class: "aw-legend-item" }, h("i", { style: `background:${color}` }), text);
    const fields = expl.fields.filter((f) => f !== "item");
    legend.replaceChildren(
      item(HISTORY_CSS, "history item (size = attention received)"),
      item(REC_CSS, "recommendation"),
      ...(whyMethod ? [item(WHY_CSS, `edge: ${whyMethod} importance for the top recommendation`)] : []),
      ...fields.map((f) => item(FIELD_CSS[Math.max(expl.fields.indexOf(f), 0) % FIELD_CSS.length], f)),
      h("span", {
        class: "aw-legend-note",
        text: `edges: ${edgesPerQuery(expl.n)} strongest key(s) per query · drag nodes · scroll to zoom · double-click resets`,
      }),
    );
  }

  /** Re-weight attention edges and history radii for a new n x n matrix. */
  function setAttention(matrix, description) {
    view.sub.textContent = description;
    const n = expl.n;
    const mass = receivedMass(matrix, n);
    const maxMass = Math.max(...mass, 1e-9);
    nodes
      .filter((d) => d.kind === "hist")
      .each((d) => {
        d.r = 3 + 9 * Math.sqrt(mass[d.pos] / maxMass);
        d.mass = mass[d.pos];
      })
      .call((g) => g.select("circle").attr("r", (d) => d.r));
    placeText(shownLabels);

    const edges = attentionEdges(matrix, n, edgesPerQuery(n));
    const maxW = Math.max(...edges.map((l) => l.weight), 1e-9);
    for (const l of edges) [l.source, l.target] = [byId.get(l.source), byId.get(l.target)];
    attnLinks = attnLayer
      .selectAll("line")
      .data(edges, (d) => d.id)
      .join((enter) => enter.append("line").attr("class", "aw-link aw-link-attn"))
      .attr("stroke-width", (d) => 0.5 + (3.5 * d.weight) / maxW)
      .attr("stroke-opacity", (d) => 0.15 + (0.65 * d.weight) / maxW);
    place(attnLinks);

    // New radii apply the next time the simulation moves (no reheat: nodes stay put).
    sim.force("collide").radius((d) => d.r + 2);
    updatePriorities();
  }

  /**
   * Edges from the most important history items (by `method`, values per history
   * position) to the recommendation at `rank`; null values or rank < 0 remove them.
   */
  function setImportance(values, method, rank) {
    const edges = importanceEdges(values, rank, WHY_EDGES);
    for (const l of edges) [l.source, l.target] = [byId.get(l.source), byId.get(l.target)];
    const drawn = edges.filter((l) => l.source && l.target);
    whyLinks = whyLayer
      .selectAll("line")
      .data(drawn, (d) => d.id)
      .join((enter) => enter.append("line").attr("class", "aw-link aw-link-why"))
      .attr("stroke-width", (d) => 0.75 + 3 * d.weight)
      .attr("stroke-opacity", (d) => 0.2 + 0.6 * d.weight);
    whyLinks.selectAll("title").remove();
    whyLinks.append("title").text((d) => `${method} importance ${fmt(d.weight)} of the largest`);
    place(whyLinks);
    whyMethod = drawn.length ? method : null;
    importanceTop = edges.map((l) => Number(String(l.id).slice(1)));
    if (expl) {
      renderLegend();
      updatePriorities();
    }
  }

  function highlight(lit, selection) {
    const marked = lit.positions.size + lit.ranks.size + lit.features.size + selection.size > 0;
    const isLit = (d) =>
      d.kind === "hist" ? lit.positions.has(d.pos) : d.kind === "rec" ? lit.ranks.has(d.rank) : lit.features.has(d.key);
    // hovered, pinned and selected nodes are always labelled
    const next = new Set(
      nodeData.filter((d) => isLit(d) || (d.kind === "hist" && selection.has(d.pos))).map((d) => d.id),
    );
    const same = next.size === forced.size && [...next].every((id) => forced.has(id));
    forced = next;
    if (!same) placeLabels();
    if (!marked && !wasMarked) return; // nothing lit before or now: classes are already clear
    wasMarked = marked;
    const active = lit.positions.size + lit.ranks.size + lit.features.size > 0;
    const near = new Set();
    const litLink = (l) => {
      const on = active && (isLit(l.source) || isLit(l.target));
      if (on) near.add(l.source.id).add(l.target.id);
      return on;
    };
    fixedLinks.classed("aw-lit", litLink).classed("aw-dim", (l) => active && !litLink(l));
    attnLinks.classed("aw-lit", litLink).classed("aw-dim", (l) => active && !litLink(l));
    whyLinks.classed("aw-lit", litLink).classed("aw-dim", (l) => active && !litLink(l));
    nodes
      .classed("aw-lit", (d) => active && isLit(d))
      .classed("aw-dim", (d) => active && !isLit(d) && !near.has(d.id))
      .classed("aw-sel", (d) => d.kind === "hist" && selection.has(d.pos));
    labels.classed("aw-dim", (d) => active && !isLit(d) && !near.has(d.id));
  }

  // A long history's graph (hundreds of SVG nodes and edges) is built after the other views
  // of a new user are painted; calls that arrive meanwhile are applied, latest first, then.
  let pending = null; // { e, attention, importance, highlight }
  let pendingFrame = 0;
  function flush() {
    pendingFrame = 0;
    const p = pending;
    pending = null;
    delete svgEl.dataset.pending;
    if (!p) return;
    const t0 = performance.now();
    build(p.e);
    if (p.attention) setAttention(...p.attention);
    if (p.importance) setImportance(...p.importance);
    if (p.highlight) highlight(...p.highlight);
    svgEl.dataset.buildMs = (performance.now() - t0).toFixed(1); // benchmarks read it
  }
  function cancelPending() {
    if (pendingFrame) cancelAnimationFrame(pendingFrame);
    pendingFrame = 0;
    pending = null;
    delete svgEl.dataset.pending;
  }
  const deferred =
    (fn, key) =>
    (...args) => {
      if (pending) pending[key] = args;
      else fn(...args);
    };

  let held = false; // hold() was called: no build or settling until resume() or a new view
  return {
    el: view.el,
    setExplanation(e) {
      held = false;
      if (e.n <= DEFER_ABOVE || typeof requestAnimationFrame !== "function") {
        cancelPending();
        build(e);
        return;
      }
      pending = { e };
      svgEl.dataset.pending = "true";
      // in the frame after the one that paints the other views (not in a task before it)
      pendingFrame ||= requestAnimationFrame(() => {
        pendingFrame = requestAnimationFrame(flush);
      });
    },
    /** Another view was asked for: leave this one's pending build and settling for now
     * (the page's main thread then answers the kernel at once); resume() takes them up. */
    hold() {
      held = true;
      if (pendingFrame) cancelAnimationFrame(pendingFrame);
      pendingFrame = 0;
      stopSettling();
    },
    /** The view asked for did not come (a refused change): finish building this one. */
    resume() {
      if (!held) return;
      held = false;
      if (pending) pendingFrame ||= requestAnimationFrame(flush);
      else if (sim && svgEl.dataset.settled !== "true") settle();
    },
    setAttention: deferred(setAttention, "attention"),
    setImportance: deferred(setImportance, "importance"),
    highlight: deferred(highlight, "highlight"),
    destroy() {
      cancelPending();
      stopSettling();
      sim?.stop();
      if (labelFrame) cancelAnimationFrame(labelFrame);
      labelFrame = 0;
    },
  };
}
