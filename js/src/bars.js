// View 4: the prediction position's attention over the history as bars, with entropy,
// uniformity (MSE around the mean, std) and the summed weight of the selected items.
import { cssAt, MISSING_CSS } from "./colors.js";
import { card, fmt, h, s, tooltip } from "./dom.js";
import { exportSvg } from "./export.js";
import { summarize, sumAt } from "./stats.js";

const W = 440;
const H = 150;
const M = { left: 46, right: 6, top: 8, bottom: 18 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const TEXT_GAP = 11; // px between axis texts in the left margin

export function createBarsView(links) {
  let expl = null;
  let row = null;
  let yMax = 1;
  let selection = new Set();
  const svg = s("svg", {
    class: "aw-bars-svg",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": "attention of the prediction position",
  });
  const bands = s("g", { class: "aw-bands" });
  const bars = s("g", { class: "aw-bar-rects" });
  const uniform = s("line", { class: "aw-uniform", x1: M.left, x2: W - M.right });
  // in the left margin, like a y tick, so it never sits on the bars
  const uniformText = s("text", {
    class: "aw-axis-text aw-uniform-text",
    x: M.left - 4,
    "text-anchor": "end",
    text: "uniform",
  });
  const yTop = s("text", { class: "aw-axis-text", x: M.left - 4, y: M.top + 4, "text-anchor": "end" });
  svg.append(
    bands,
    s("line", { class: "aw-axis", x1: M.left, x2: W - M.right, y1: M.top + PH, y2: M.top + PH }),
    bars,
    uniform,
    uniformText,
    yTop,
    s("text", { class: "aw-axis-text", x: M.left - 4, y: M.top + PH, "text-anchor": "end", text: "0" }),
    s("text", {
      class: "aw-axis-text",
      x: M.left + PW / 2,
      y: H - 4,
      "text-anchor": "middle",
      text: "history, oldest → newest (last = prediction position)",
    }),
  );
  const plot = h("div", { class: "aw-bars" }, svg);
  const tip = tooltip(plot);
  const stats = h("dl", { class: "aw-stats" });
  const view = card("Prediction attention", {
    className: "aw-dist",
    exportLabel: "SVG",
    exportWhat: "prediction attention bar chart",
    onExport: () => exportSvg(svg, `prediction-attention-${expl?.user ?? "user"}.svg`),
  });
  view.body.append(plot, stats);

  const barWidth = () => PW / expl.n;
  const yOf = (w) => M.top + PH - (Math.min(w, yMax) / yMax) * PH;

  function indexAt(event) {
    if (!expl?.n) return null;
    const rect = svg.getBoundingClientRect();
    if (!rect.width) return null;
    const x = ((event.clientX - rect.left) / rect.width) * W;
    const i = Math.floor((x - M.left) / barWidth());
    return i >= 0 && i < expl.n ? { i, x: event.clientX - rect.left, y: event.clientY - rect.top } : null;
  }

  function renderStats() {
    const st = summarize(row);
    const pairs = [
      ["entropy", st.entropy === null ? "—" : `${fmt(st.entropy)} nats`],
      ["normalised", st.entropyNorm === null ? "—" : `${fmt(st.entropyNorm)} of ln n`],
      ["MSE vs mean", fmt(st.mse)],
      ["std", fmt(st.std)],
      ["top item", st.argmax >= 0 ? `${expl.history[st.argmax].label} (${fmt(st.max)})` : "—"],
    ];
    if (st.missing) pairs.push(["missing", `${st.missing} NaN`]);
    pairs.push(
      selection.size
        ? [`selected (${selection.size})`, `Σ ${fmt(sumAt(row, selection))}`]
        : ["selected", "shift-click items to sum their attention"],
    );
    stats.replaceChildren(...pairs.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
    stats.lastChild.classList.add("aw-selected-sum");
  }

  svg.addEventListener("mousemove", (event) => {
    const hit = indexAt(event);
    if (!hit) return tip.hide();
    const it = expl.history[hit.i];
    tip.show([it.label, `position ${hit.i}`, `weight ${fmt(row[hit.i], 4)}`], hit.x, hit.y);
    links.setHover({ kind: "hist", pos: hit.i });
  });
  svg.addEventListener("mouseleave", () => {
    tip.hide();
    links.setHover(null);
  });
  svg.addEventListener("click", (event) => {
    const hit = indexAt(event);
    if (hit) links.click({ kind: "hist", pos: hit.i }, event.shiftKey);
  });

  return {
    el: view.el,
    setExplanation(e) {
      expl = e;
      bars.replaceChildren(...e.history.map(() => s("rect")));
    },
    /** Redraw from the current n x n matrix (uses its last row). */
    draw(matrix, description) {
      view.sub.textContent = description;
      row = expl.predictionRow(matrix);
      const n = expl.n;
      const st = summarize(row);
      yMax = Math.max(st.max ?? 0, 1 / n) * 1.05 || 1;
      const bw = barWidth();
      const gap = bw > 4 ? 1 : 0;
      for (let i = 0; i < n; i++) {
        const rect = bars.children[i];
        const w = row[i];
        const missing = Number.isNaN(w);
        const top = missing ? M.top : yOf(Math.max(w, 0));
        rect.setAttribute("x", M.left + i * bw + gap / 2);
        rect.setAttribute("width", Math.max(bw - gap, 0.5));
        rect.setAttribute("y", top);
        rect.setAttribute("height", M.top + PH - top);
        rect.setAttribute("fill", missing ? MISSING_CSS : cssAt(w / (st.max || 1)));
        rect.setAttribute("fill-opacity", missing ? 0.35 : 1);
      }
      const uy = yOf(1 / n);
      uniform.setAttribute("y1", uy);
      uniform.setAttribute("y2", uy);
      // its baseline centred on the line, kept clear of the "max" and "0" ticks
      const low = M.top + 4 + TEXT_GAP;
      const high = M.top + PH - TEXT_GAP;
      uniformText.setAttribute("y", Math.min(Math.max(uy + 3, low), high));
      yTop.textContent = fmt(yMax / 1.05);
      renderStats();
    },
    highlight(lit, sel) {
      const bw = barWidth();
      bands.replaceChildren(
        ...[...lit.positions].map((i) =>
          s("rect", { class: "aw-band", x: M.left + i * bw, y: M.top, width: Math.max(bw, 2), height: PH }),
        ),
        ...[...sel].map((i) =>
          s("rect", { class: "aw-band-sel", x: M.left + i * bw, y: M.top + PH + 1, width: Math.max(bw, 2), height: 3 }),
        ),
      );
      selection = sel;
      if (row) renderStats();
    },
  };
}
