// Tiny DOM helpers. Text always goes in as text nodes / textContent, never as HTML.

export const SVG_NS = "http://www.w3.org/2000/svg";

/** Element with attributes ("class", "text" = textContent) and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

/** Cut text to at most `max` characters with an ellipsis. */
export function truncate(text, max) {
  const str = String(text);
  return str.length <= max ? str : `${str.slice(0, Math.max(max - 1, 1))}…`;
}

/** Format a weight compactly: 3 significant digits, "—" for null/NaN. */
export function fmt(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(1);
  return Number(value.toPrecision(digits)).toString();
}

/** Accessible name of an export button: what it downloads, in which format. */
export const exportName = (what, format) => `Download the ${what} as ${format}`;

/**
 * A card: header with title, subtitle and an optional export button, then a body.
 * exportWhat names what the button downloads ("sequence attention heatmap"): its
 * accessible name and tooltip say "Download the <exportWhat> as <exportLabel>".
 * @param {string} title
 * @param {{ className?: string, exportLabel?: string, exportWhat?: string, onExport?: (event: Event) => void }} [options]
 */
export function card(title, { className = "", exportLabel, exportWhat, onExport } = {}) {
  const sub = h("span", { class: "aw-sub" });
  const titleEl = h("span", { class: "aw-card-title", text: title });
  const head = h("div", { class: "aw-card-head" }, titleEl, sub);
  if (onExport) {
    const label = exportName(exportWhat ?? title.toLowerCase(), exportLabel);
    const button = h("button", {
      class: "aw-export",
      type: "button",
      title: label,
      "aria-label": label,
      text: exportLabel,
    });
    button.addEventListener("click", onExport);
    head.append(button);
  }
  const body = h("div", { class: "aw-card-body" });
  const el = h("section", { class: `aw-card ${className}`.trim() }, head, body);
  return { el, body, sub, title: titleEl };
}

/** Tooltip box inside `parent` (position: relative); show(lines, x, y) / hide(). */
export function tooltip(parent) {
  const box = h("div", { class: "aw-tooltip", role: "tooltip" });
  box.hidden = true;
  parent.append(box);
  return {
    show(lines, x, y) {
      box.replaceChildren(...lines.map((line, i) => h("div", { class: i ? "" : "aw-tip-title", text: line })));
      box.hidden = false;
      const maxX = parent.clientWidth - box.offsetWidth - 4;
      box.style.left = `${Math.max(0, Math.min(x + 12, maxX > 0 ? maxX : x + 12))}px`;
      box.style.top = `${y + 14}px`;
    },
    hide() {
      box.hidden = true;
    },
  };
}

/** Nearest non-transparent background colour above `node` (white if none). */
export function backgroundOf(node) {
  for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    if (bg && bg !== "transparent" && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
  }
  return "#ffffff";
}
