// Download a view: PNG for canvases, standalone SVG (styles inlined) for SVG views, text.
import { SVG_NS, backgroundOf } from "./dom.js";

function download(href, filename) {
  const a = document.createElement("a");
  a.href = href;
  a.download = filename;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
}

export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  download(url, filename);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** PNG of a canvas on the widget's background colour. */
export function exportCanvas(canvas, filename) {
  const out = document.createElement("canvas");
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = backgroundOf(canvas);
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  if (out.toBlob) out.toBlob((blob) => blob && downloadBlob(blob, filename), "image/png");
  else download(out.toDataURL("image/png"), filename);
}

// biome-ignore format: a word list, filled to the width
const STYLE_PROPS = [
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
  "opacity", "font-family", "font-size", "font-weight", "text-anchor", "dominant-baseline",
  "paint-order", "display", "visibility",
];

/** Standalone SVG text: computed styles inlined, background rect added. */
export function serializeSvg(svg) {
  const clone = svg.cloneNode(true);
  const source = [svg, ...svg.querySelectorAll("*")];
  const target = [clone, ...clone.querySelectorAll("*")];
  source.forEach((node, i) => {
    const style = getComputedStyle(node);
    const decl = STYLE_PROPS.map((p) => [p, style.getPropertyValue(p)]).filter(([, v]) => v);
    target[i].setAttribute("style", decl.map(([p, v]) => `${p}:${v}`).join(";"));
  });
  const [x, y, w, h] = (svg.getAttribute("viewBox") ?? "0 0 800 600").split(/[\s,]+/).map(Number);
  clone.setAttribute("xmlns", SVG_NS);
  clone.setAttribute("width", w);
  clone.setAttribute("height", h);
  const bg = document.createElementNS(SVG_NS, "rect");
  for (const [k, v] of Object.entries({ x, y, width: w, height: h, fill: backgroundOf(svg) })) bg.setAttribute(k, v);
  clone.prepend(bg);
  return new XMLSerializer().serializeToString(clone);
}

export function exportSvg(svg, filename) {
  downloadBlob(new Blob([serializeSvg(svg)], { type: "image/svg+xml" }), filename);
}

/** CSV text from rows of cells: quoted when needed; text that a spreadsheet would run as a
 * formula (leading = + - @) gets a leading apostrophe. */
export function toCsv(rows) {
  const cell = (v) => {
    let s = v === null || v === undefined ? "" : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(",")).join("\n");
}

/** Byte order mark: without it Excel reads UTF-8 CSV as a legacy code page ("–" → "â€“"). */
export const BOM = "\ufeff";

/** A downloadable UTF-8 CSV file (with a BOM) of rows of cells. */
export function csvBlob(rows) {
  return new Blob([BOM + toCsv(rows)], { type: "text/csv;charset=utf-8" });
}
