// View 3: feature attention (history items x feature fields); fixed per user.
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
  const view = card("Feature attention", {
    className: "aw-feat",
    exportLabel: "PNG",
    exportWhat: "feature attention heatmap",
    onExport: () => exportCanvas(map.canvas, `feature-attention-${expl?.user ?? "user"}.png`),
  });
  view.body.append(map.el, empty);

  return {
    el: view.el,
    canvas: map.canvas,
    setExplanation(e) {
      expl = e;
      map.restyle();
      map.el.hidden = !e.feat;
      empty.hidden = !!e.feat;
      view.sub.textContent = "share of each field, rows sum to 1";
      if (!e.feat) return;
      const cell = cellSize(e.n);
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
      map.restyle();
      map.refresh();
    },
    highlight(lit, selection) {
      map.highlight({ rows: lit.positions, selected: selection });
    },
  };
}
