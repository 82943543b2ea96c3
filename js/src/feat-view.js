// View 3: feature attention (history items x feature fields) and, beside it, feature occlusion
// (the score drop when one field of one item becomes "unknown"); fixed per user.
import { card, fmt, h } from "./dom.js";
import { exportCanvas } from "./export.js";
import { createHeatmap } from "./heatmap.js";
import { cellSize } from "./seq-view.js";

export function createFeatView(links) {
  let expl = null;

  function tooltipLines(row, col) {
    if (row === null) return [`field: ${expl.fields[col]}`];
    const it = expl.history[row];
    if (col === null) return [it.label, `position ${row}`];
    const field = expl.fields[col];
    const value = field === "item" ? (it.id ?? "") : (it.features?.[field] ?? "—");
    return [`share ${fmt(expl.feat[row * expl.fields.length + col], 4)}`, it.label, `${field}: ${value}`];
  }

  const map = createHeatmap({
    className: "aw-feat-heatmap",
    rowAxis: "history item",
    colAxis: "feature field",
    tooltipLines,
    onHover: (hit) => links.setHover(hit && hit.row !== null ? { kind: "hist", pos: hit.row } : null),
    onClick: (hit, shift) => hit.row !== null && links.click({ kind: "hist", pos: hit.row }, shift),
  });
  map.setScaleMode("max"); // shares of one row sum to 1: the full range reads directly
  const empty = h("div", { class: "aw-note", text: "This pack has no feature attention." });
  empty.hidden = true; // until an explanation says so (it is drawn a frame after the others)

  function occlusionLines(row, col) {
    const fields = expl.fields.slice(1);
    if (row === null) return [`field: ${fields[col]}`];
    const it = expl.history[row];
    if (col === null) return [it.label, `position ${row}`];
    const v = expl.featOcclusion[row * fields.length + col];
    const drop = Number.isNaN(v) ? "n/a" : fmt(v, 4);
    const reading = v > 0 ? "the field helps this recommendation" : v < 0 ? "the field works against it" : "no effect";
    return [`score drop ${drop} (${reading})`, it.label, `${fields[col]}: ${it.features?.[fields[col]] ?? "—"}`];
  }
  const occlusion = createHeatmap({
    className: "aw-featocc-heatmap",
    rowAxis: "history item",
    colAxis: "feature field",
    legendName: "score drop",
    tooltipLines: occlusionLines,
    onHover: (hit) => links.setHover(hit && hit.row !== null ? { kind: "hist", pos: hit.row } : null),
    onClick: (hit, shift) => hit.row !== null && links.click({ kind: "hist", pos: hit.row }, shift),
  });
  const occlusionTitle = h("div", { class: "aw-subtitle", text: "Feature occlusion: score drop without the field" });
  const occlusionNote = h("div", { class: "aw-note" });
  const occlusionBox = h("div", { class: "aw-featocc" }, occlusionTitle, occlusion.el, occlusionNote);
  const view = card("Feature attention", {
    className: "aw-feat",
    exportLabel: "PNG",
    exportWhat: "feature attention heatmap",
    onExport: () => exportCanvas(map.canvas, `feature-attention-${expl?.user ?? "user"}.png`),
  });
  view.body.append(h("div", { class: "aw-feat-pair" }, h("div", {}, map.el, empty), occlusionBox));

  function drawOcclusion(e, cell) {
    const fields = e.fields.slice(1);
    const shown = !!e.featOcclusion && fields.length > 0;
    occlusion.el.hidden = !shown;
    occlusionBox.hidden = !shown && !e.featOcclusionPending;
    occlusionNote.textContent = shown
      ? "red: the recommendation needs the field; blue: it does better without it"
      : "Computing the feature occlusion… it follows in a moment.";
    if (!shown) return;
    occlusion.restyle();
    occlusion.draw({
      values: e.featOcclusion,
      rows: e.n,
      cols: fields.length,
      rowLabels: e.history.map((it) => it.label),
      colLabels: fields,
      cellW: Math.max(cell, 36),
      cellH: cell,
      diverging: true,
    });
  }

  return {
    el: view.el,
    canvas: map.canvas,
    setExplanation(e) {
      expl = e;
      map.restyle();
      map.el.hidden = !e.feat;
      empty.hidden = !!e.feat;
      view.sub.textContent = "share of each field, rows sum to 1";
      const cell = cellSize(e.n);
      drawOcclusion(e, cell);
      if (!e.feat) return;
      map.draw({
        values: e.feat,
        rows: e.n,
        cols: e.fields.length,
        rowLabels: e.history.map((it) => it.label),
        colLabels: e.fields,
        cellW: Math.max(cell, 36),
        cellH: cell,
      });
    },
    /** Theme changed: read colours again and redraw. */
    restyle() {
      for (const m of [map, occlusion]) {
        m.restyle();
        m.refresh();
      }
    },
    highlight(lit, selection) {
      for (const m of [map, occlusion]) m.highlight({ rows: lit.positions, selected: selection });
    },
  };
}
