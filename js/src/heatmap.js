// Canvas heatmap used by the sequence and feature views: cells through ImageData on a
// rows x cols offscreen canvas scaled up with drawImage, labels, axis titles, a legend,
// and an overlay canvas for linked highlights (so hovering never redraws the cells).
import { DIVERGING_LUT, LUT, MISSING_CSS, cssAt, writeDivergingPixels, writePixels } from "./colors.js";
import { fmt, h, tooltip } from "./dom.js";
import { gridMove, isActivate } from "./keys.js";
import { chooseScale, divergingScale } from "./scale.js";

const FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const AXIS = 16; // band for an axis title
const ROW_LABELS = 112;
const COL_LABELS = 80;
const LEGEND = 44;
const TOP = 6;
const MIN_LABEL_GAP = 12; // px between drawn labels; others are skipped (tooltip has them)

/**
 * @param {object} o
 * @param {string} o.className class of the main canvas (stable selector)
 * @param {string} o.rowAxis axis title of the rows
 * @param {string} o.colAxis axis title of the columns
 * @param {(row, col) => string[]} o.tooltipLines tooltip text; row/col may be null (labels)
 * @param {(hit: { row: number | null, col: number | null } | null) => void} o.onHover hit = { row, col } (either may be null)
 * @param {(hit: { row: number | null, col: number | null }, shift: boolean) => void} o.onClick
 * @param {(row, col) => object} [o.keyTarget] key cell's {row, col} for keyboard focus
 * @param {string} [o.legendName] what the colour legend measures (default "weight")
 *
 * Keyboard: the canvas is one tab stop; arrows (Page/Home/End) move a focused cell, shown
 * with a ring and the tooltip and announced to screen readers; Enter/Space = click,
 * Shift+Enter = shift-click.
 */
export function createHeatmap({ className, rowAxis, colAxis, tooltipLines, onHover, onClick, legendName = "weight" }) {
  const name = `${rowAxis} by ${colAxis}`;
  const canvas = h("canvas", {
    class: className,
    tabindex: "0",
    role: "application",
    "aria-roledescription": "heatmap",
    "aria-label": `${name}: arrow keys move between cells, Enter selects, Shift+Enter adds to the selection`,
  });
  const overlay = h("canvas", { class: "aw-overlay", "aria-hidden": "true" });
  const live = h("div", { class: "aw-sr-only", "aria-live": "polite" });
  const el = h("div", { class: "aw-heatmap" }, canvas, overlay, live);
  const tip = tooltip(el);
  const cells = document.createElement("canvas");
  // Text goes on detached canvases, redrawn only when their key changes: setting the font
  // of a canvas that is in the document forces a style recalculation (milliseconds).
  const axes = { canvas: document.createElement("canvas"), key: "" };
  const legend = { canvas: document.createElement("canvas"), key: "" };
  let labelsId = 0;
  let lastLabels = [];
  const fitted = new Map();
  let image = null;
  let layout = null;
  let marks = { rows: new Set(), cols: new Set(), selected: new Set(), cell: null };
  let lastHit = null;
  let drawCount = 0;
  let colors = null; // { fg, select, focus } read from CSS; see restyle()
  let focusCell = null; // keyboard focus { row, col }
  let lastArgs = null;
  let scaleMode = "robust";
  let keyboard = false; // focus came from the keyboard (a mouse click focuses the canvas too)
  // colour scales of the matrices drawn (head/layer switching comes back to the same ones):
  // keyed by the values' buffer, then offset, shape and mode
  const scales = new WeakMap();
  function scaleOf(values, rows, cols, causal, diverging) {
    if (diverging) return divergingScale(values);
    const key = `${values.byteOffset}|${values.length}|${rows}|${cols}|${causal}|${scaleMode}`;
    let byKey = scales.get(values.buffer);
    if (!byKey) {
      byKey = new Map();
      scales.set(values.buffer, byKey);
    }
    if (!byKey.has(key)) byKey.set(key, chooseScale(values, rows, cols, { mode: scaleMode, causal }));
    return byKey.get(key);
  }

  // Longest prefix of text (+ "…") that fits maxWidth; cached per label.
  function fit(ctx, text, maxWidth) {
    const key = `${maxWidth}\u0000${text}`;
    if (fitted.has(key)) return fitted.get(key);
    let out = text;
    if (ctx.measureText(text).width > maxWidth) {
      let lo = 0;
      let hi = text.length;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (ctx.measureText(`${text.slice(0, mid)}…`).width <= maxWidth) lo = mid;
        else hi = mid - 1;
      }
      out = `${text.slice(0, lo)}…`;
    }
    fitted.set(key, out);
    return out;
  }

  function resize(target, width, height, dpr) {
    const w = Math.round(width * dpr);
    const hh = Math.round(height * dpr);
    if (target.width !== w || target.height !== hh) {
      target.width = w;
      target.height = hh;
      target.style.width = `${width}px`;
      target.style.height = `${height}px`;
    }
    const ctx = target.getContext("2d");
    if (ctx) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
    }
    return ctx;
  }

  /**
   * Draw values (rows x cols, row-major) with cells of cellW x cellH CSS pixels.
   * maskUpper leaves causally masked (zero, above-diagonal) cells transparent; diverging
   * draws signed values blue (< 0) to red (> 0) around a white 0.
   * Pass the same label arrays again to reuse the cached axes.
   */
  function draw(args) {
    lastArgs = args;
    const { values, rows, cols, rowLabels, colLabels, cellW, cellH, maskUpper = false, diverging = false } = args;
    const x0 = AXIS + ROW_LABELS;
    const mw = cols * cellW;
    const mh = rows * cellH;
    const width = Math.ceil(Math.max(x0 + mw + 12, x0 + 190));
    const height = Math.ceil(TOP + mh + 4 + COL_LABELS + AXIS + LEGEND);
    const scale = scaleOf(values, rows, cols, maskUpper, diverging);
    const max = scale.max;
    const hasMissing = values.some((v) => Number.isNaN(v));
    layout = { x0, y0: TOP, cellW, cellH, rows, cols, mw, mh, width, height, lower: maskUpper };
    if (focusCell) focusCell = clampCell(focusCell);
    canvas.dataset.cells = [x0, TOP, mw, mh].map((v) => +v.toFixed(3)).join(",");
    canvas.dataset.scale = scale.label;
    const dpr = window.devicePixelRatio || 1;
    const ctx = resize(canvas, width, height, dpr);
    if (ctx) {
      if (cells.width !== cols || cells.height !== rows || !image) {
        cells.width = cols;
        cells.height = rows;
        image = cells.getContext("2d").createImageData(cols, rows);
      }
      if (diverging) writeDivergingPixels(values, max, image.data);
      else writePixels(values, cols, max, image.data, maskUpper, scale.rowMax);
      cells.getContext("2d").putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(cells, x0, TOP, mw, mh);
      if (!colors) {
        const style = getComputedStyle(canvas);
        colors = {
          fg: style.color || "#333",
          select: style.getPropertyValue("--aw-select").trim() || "#e15759",
          focus: style.getPropertyValue("--aw-accent").trim() || "#2f7fd1",
        };
      }
      if (lastLabels[0] !== rowLabels || lastLabels[1] !== colLabels) {
        lastLabels = [rowLabels, colLabels];
        labelsId++;
      }
      const { fg } = colors;
      const base = `${width}|${height}|${dpr}|${fg}`;
      paintLayer(axes, `${base}|${cellW}|${cellH}|${labelsId}`, width, height, dpr, (c) =>
        drawAxes(c, fg, rowLabels, colLabels),
      );
      paintLayer(legend, `${base}|${scale.label}|${hasMissing}`, width, LEGEND, dpr, (c) =>
        drawLegend(c, fg, scale, hasMissing),
      );
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(axes.canvas, 0, 0);
      ctx.drawImage(legend.canvas, 0, Math.round((height - LEGEND) * dpr));
    }
    canvas.dataset.drawCount = String(++drawCount);
    drawOverlay();
  }

  function paintLayer(layer, key, width, height, dpr, paint) {
    if (layer.key === key) return;
    const ctx = resize(layer.canvas, width, height, dpr);
    if (ctx) paint(ctx);
    layer.key = key;
  }

  function drawAxes(ctx, fg, rowLabels, colLabels) {
    const { x0, y0, cellW, cellH, rows, cols, mw, mh } = layout;
    ctx.fillStyle = fg;
    ctx.strokeStyle = fg;
    ctx.globalAlpha = 0.35;
    ctx.lineWidth = 1;
    ctx.strokeRect(x0 - 0.5, y0 - 0.5, mw + 1, mh + 1);
    ctx.globalAlpha = 1;
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    const rowStep = Math.ceil(MIN_LABEL_GAP / cellH);
    for (let r = rows - 1; r >= 0; r -= rowStep) {
      ctx.fillText(fit(ctx, rowLabels[r], ROW_LABELS - 6), x0 - 5, y0 + (r + 0.5) * cellH);
    }
    const colStep = Math.ceil(MIN_LABEL_GAP / cellW);
    for (let c = cols - 1; c >= 0; c -= colStep) {
      ctx.save();
      ctx.translate(x0 + (c + 0.5) * cellW, y0 + mh + 4);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(fit(ctx, colLabels[c], COL_LABELS - 6), 0, 0);
      ctx.restore();
    }
    ctx.font = `600 ${FONT}`;
    ctx.textAlign = "center";
    ctx.save();
    ctx.translate(AXIS / 2, y0 + mh / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(rowAxis, 0, 0);
    ctx.restore();
    ctx.fillText(colAxis, x0 + mw / 2, y0 + mh + 4 + COL_LABELS + AXIS / 2);
  }

  function drawLegend(ctx, fg, scale, hasMissing) {
    const { x0 } = layout;
    const y = 8;
    const w = 120;
    const diverging = scale.mode === "diverging";
    const grad = ctx.createLinearGradient(x0, 0, x0 + w, 0);
    for (let i = 0; i <= 10; i++) grad.addColorStop(i / 10, cssAt(i / 10, diverging ? DIVERGING_LUT : LUT));
    ctx.fillStyle = grad;
    ctx.fillRect(x0, y, w, 8);
    ctx.fillStyle = fg;
    ctx.font = FONT;
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(diverging ? `−${fmt(scale.max)}` : "0", x0, y + 11);
    if (diverging) {
      ctx.textAlign = "center";
      ctx.fillText("0", x0 + w / 2, y + 11);
    }
    ctx.textAlign = "right";
    const top = diverging ? `+${fmt(scale.max)}` : `${fmt(scale.max)}${scale.clipped ? "+" : ""}`;
    ctx.fillText(scale.rowMax ? "row max" : top, x0 + w, y + 11);
    ctx.fillText(legendName, x0 - 6, y);
    ctx.textAlign = "left";
    ctx.fillText(scale.label, x0, y + 24);
    if (hasMissing) {
      ctx.fillStyle = MISSING_CSS;
      ctx.fillRect(x0 + w + 14, y, 8, 8);
      ctx.fillStyle = fg;
      ctx.textAlign = "left";
      ctx.fillText("NaN", x0 + w + 26, y - 1);
    }
  }

  // Linked highlights: outlined rows/columns, selection ticks, the hovered cell.
  function drawOverlay() {
    if (!layout) return;
    const { x0, y0, cellW, cellH, rows, cols, mw, mh, width, height } = layout;
    const ctx = resize(overlay, width, height, window.devicePixelRatio || 1);
    if (!ctx) return;
    const outline = (x, y, w, hh) => {
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(0,0,0,0.75)";
      ctx.strokeRect(x - 1, y - 1, Math.max(w, 1) + 2, Math.max(hh, 1) + 2);
      ctx.lineWidth = 1.25;
      ctx.strokeStyle = "#fff";
      ctx.strokeRect(x - 1, y - 1, Math.max(w, 1) + 2, Math.max(hh, 1) + 2);
    };
    for (const r of marks.rows) if (r < rows) outline(x0, y0 + r * cellH, mw, cellH);
    for (const c of marks.cols) if (c < cols) outline(x0 + c * cellW, y0, cellW, mh);
    if (marks.cell && marks.cell.row !== null && marks.cell.col !== null) {
      outline(x0 + marks.cell.col * cellW, y0 + marks.cell.row * cellH, cellW, cellH);
    }
    ctx.fillStyle = colors?.select ?? "#e15759";
    for (const r of marks.selected) {
      if (r < rows) ctx.fillRect(x0 - 4, y0 + r * cellH, 3, Math.max(cellH, 2));
    }
    if (focusCell && keyboard && document.activeElement === canvas) {
      // keyboard focus: a ring in the accent colour around the cell, over a dark halo
      const x = x0 + focusCell.col * cellW;
      const y = y0 + focusCell.row * cellH;
      const pad = 3;
      ctx.lineWidth = 4;
      ctx.strokeStyle = "rgba(0,0,0,0.8)";
      ctx.strokeRect(x - pad, y - pad, Math.max(cellW, 1) + 2 * pad, Math.max(cellH, 1) + 2 * pad);
      ctx.lineWidth = 2;
      ctx.strokeStyle = colors?.focus ?? "#2f7fd1";
      ctx.strokeRect(x - pad, y - pad, Math.max(cellW, 1) + 2 * pad, Math.max(cellH, 1) + 2 * pad);
    }
  }

  function clampCell({ row, col }) {
    const { rows, cols, lower } = layout;
    const r = Math.min(Math.max(row, 0), rows - 1);
    return { row: r, col: Math.min(Math.max(col, 0), lower ? Math.min(r, cols - 1) : cols - 1) };
  }

  // --- keyboard: one tab stop, a focused cell moved by arrows ---------------------------
  function showFocus() {
    if (!layout || !focusCell) return;
    const { x0, y0, cellW, cellH } = layout;
    const lines = tooltipLines(focusCell.row, focusCell.col);
    tip.show(lines, x0 + (focusCell.col + 1) * cellW, y0 + focusCell.row * cellH);
    live.textContent = lines.join(", ");
    canvas.dataset.focusCell = `${focusCell.row},${focusCell.col}`;
    onHover({ row: focusCell.row, col: focusCell.col });
    drawOverlay();
  }

  const focusVisible = () => {
    try {
      return canvas.matches(":focus-visible");
    } catch {
      return true;
    }
  };
  function startKeyboard() {
    keyboard = true;
    // start on the hovered cell, else the prediction position's strongest key
    if (!focusCell) {
      focusCell =
        lastHit?.row != null && lastHit?.col != null
          ? clampCell(lastHit)
          : clampCell({ row: layout.rows - 1, col: strongestCol(layout.rows - 1) });
    }
    showFocus();
  }
  canvas.addEventListener("focus", () => {
    if (layout && focusVisible()) startKeyboard();
  });
  canvas.addEventListener("blur", () => {
    if (!keyboard) return;
    keyboard = false;
    tip.hide();
    delete canvas.dataset.focusCell;
    onHover(null);
    drawOverlay();
  });
  canvas.addEventListener("keydown", (event) => {
    if (!layout || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!keyboard && (isActivate(event) || gridMove(event.key, { row: 0, col: 0 }, layout))) {
      event.preventDefault();
      startKeyboard(); // the first key after a mouse focus shows where focus is
      return;
    }
    if (!keyboard) return;
    if (isActivate(event)) {
      event.preventDefault();
      onClick({ ...focusCell }, event.shiftKey);
      return;
    }
    const next = gridMove(event.key, focusCell, { rows: layout.rows, cols: layout.cols, lower: layout.lower });
    if (!next) return;
    event.preventDefault();
    focusCell = next;
    showFocus();
  });

  function strongestCol(row) {
    const values = lastArgs?.values;
    const { cols, lower } = layout;
    if (!values) return 0;
    let best = 0;
    const end = lower ? Math.min(row + 1, cols) : cols;
    for (let c = 0; c < end; c++) if (values[row * cols + c] > values[row * cols + best]) best = c;
    return best;
  }

  /** rows/cols to outline, selected rows to tick. */
  function highlight({ rows = new Set(), cols = new Set(), selected = new Set() }) {
    marks = { rows, cols, selected, cell: marks.cell };
    drawOverlay();
  }

  function hitTest(event) {
    if (!layout) return null;
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const { x0, y0, cellW, cellH, mw, mh } = layout;
    const col = Math.floor((x - x0) / cellW);
    const row = Math.floor((y - y0) / cellH);
    const inCols = x >= x0 && x < x0 + mw;
    const inRows = y >= y0 && y < y0 + mh;
    if (inCols && inRows) return { row, col, x, y };
    if (inRows && x >= AXIS && x < x0) return { row, col: null, x, y };
    if (inCols && y >= y0 + mh && y < y0 + mh + 4 + COL_LABELS) return { row: null, col, x, y };
    return null;
  }

  function onMove(event) {
    const hit = hitTest(event);
    const same = hit && lastHit && hit.row === lastHit.row && hit.col === lastHit.col;
    if (hit) tip.show(tooltipLines(hit.row, hit.col), hit.x, hit.y);
    else tip.hide();
    if (same || (!hit && !lastHit)) return;
    lastHit = hit;
    marks.cell = hit;
    onHover(hit && { row: hit.row, col: hit.col });
    drawOverlay();
  }

  function onLeave() {
    tip.hide();
    if (!lastHit) return;
    lastHit = marks.cell = null;
    onHover(null);
    drawOverlay();
  }

  function onPointerClick(event) {
    const hit = hitTest(event);
    if (hit) onClick({ row: hit.row, col: hit.col }, event.shiftKey);
  }

  el.addEventListener("mousemove", onMove);
  el.addEventListener("mouseleave", onLeave);
  el.addEventListener("click", onPointerClick);
  /** Re-read theme colours at the next draw (computed styles are not read on every
   * redraw: that would force a style recalculation on each head/layer change). */
  function restyle() {
    colors = null;
  }

  /** Redraw the last matrix (e.g. after a theme change or another colour scale). */
  function refresh() {
    if (lastArgs) draw(lastArgs);
  }

  /** "robust" | "row" | "max" (see scale.js); redraws. */
  function setScaleMode(mode) {
    scaleMode = mode;
    refresh();
  }

  return { el, canvas, draw, highlight, restyle, refresh, setScaleMode };
}
