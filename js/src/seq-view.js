// View 2: sequence attention (query x key over the history) for the current layer/head.
import { card, fmt, h } from "./dom.js";
import { exportCanvas } from "./export.js";
import { createHeatmap } from "./heatmap.js";
import { SCALE_MODES, SCALE_NAMES } from "./scale.js";

/** Cell size in CSS px for n history items: big for short histories, >= 1 px always. */
export const cellSize = (n) => (n ? Math.min(22, Math.max(1, 340 / n)) : 0);

export function createSeqView(links) {
  let expl = null;
  let matrix = null;
  let labels = [];
  const item = (pos) => `${expl.history[pos].label} (position ${pos})`;

  function tooltipLines(row, col) {
    if (row === null || col === null) {
      const pos = row ?? col;
      return [expl.history[pos].label, `position ${pos}${pos === expl.n - 1 ? " (prediction)" : ""}`];
    }
    const w = matrix[row * expl.n + col];
    const value = Number.isNaN(w) ? "missing (NaN)" : col > row && w === 0 ? "masked (future)" : fmt(w, 4);
    return [`weight ${value}`, `query: ${item(row)}`, `key: ${item(col)}`];
  }

  const target = (hit) => ({ kind: "hist", pos: hit.col ?? hit.row });
  const map = createHeatmap({
    className: "aw-seq-heatmap",
    rowAxis: "query (attending)",
    colAxis: "key (attended to)",
    tooltipLines,
    onHover: (hit) => links.setHover(hit && target(hit)),
    onClick: (hit, shift) => links.click(target(hit), shift),
  });
  const view = card("Sequence attention", {
    className: "aw-seq",
    exportLabel: "PNG",
    exportWhat: "sequence attention heatmap",
    onExport: () => exportCanvas(map.canvas, `sequence-attention-${expl?.user ?? "user"}.png`),
  });
  const scale = h(
    "select",
    { class: "aw-scale", "aria-label": "colour scale of the sequence heatmap" },
    ...SCALE_MODES.map((m) => h("option", { value: m, text: SCALE_NAMES[m] })),
  );
  scale.addEventListener("change", () => map.setScaleMode(scale.value));
  const scaleRow = h(
    "label",
    { class: "aw-control aw-scale-control" },
    h("span", { class: "aw-control-name", text: "Colour scale" }),
    scale,
  );
  view.body.append(scaleRow, map.el);

  return {
    el: view.el,
    canvas: map.canvas,
    setExplanation(e) {
      expl = e;
      labels = e.history.map((it) => it.label);
      map.restyle();
    },
    /** Theme changed: read colours again and redraw. */
    restyle() {
      map.restyle();
      map.refresh();
    },
    /** Redraw from an n x n matrix; description names the layer/head. */
    draw(m, description) {
      matrix = m;
      view.sub.textContent = description;
      const cell = cellSize(expl.n);
      map.draw({
        values: m,
        rows: expl.n,
        cols: expl.n,
        rowLabels: labels,
        colLabels: labels,
        cellW: cell,
        cellH: cell,
        maskUpper: true,
      });
    },
    highlight(lit, selection) {
      map.highlight({ rows: lit.positions, cols: lit.positions, selected: selection });
    },
  };
}
