// Keyboard use inside notebooks: keys the widget handles never reach JupyterLab /
// Notebook 7 (Lumino's command-mode shortcuts take ↑/↓, Enter, Space), plus roving focus
// for lists and grids (one tab stop per view; arrows move inside it; Enter/Space = click).

/** Keys that move inside the widget (sliders, heatmap cells, lists, graph nodes). */
export const MOVE_KEYS = new Set([
  "ArrowUp",
  "ArrowDown",
  "ArrowLeft",
  "ArrowRight",
  "Home",
  "End",
  "PageUp",
  "PageDown",
]);
/** Keys that act on what has focus: only kept from the notebook where they do something. */
export const ACT_KEYS = new Set(["Enter", " ", "Delete", "Backspace"]);
/** Where Enter/Space/Delete act: heatmaps, graph nodes, rows, buttons, boxes and menus. */
export const ACTS_ON =
  "canvas, .aw-node, .aw-rec, .aw-imp-row, button, select, input[type=checkbox], input[type=text], input[type=search]";
/** HANDLED_KEYS = both. */
export const HANDLED_KEYS = new Set([...MOVE_KEYS, ...ACT_KEYS]);

/**
 * Whether the widget keeps `event` from the page around it (the notebook's shortcuts):
 * moving keys always, Enter/Space/Delete/Backspace on elements they act on; never with
 * Ctrl/Alt/Meta (Ctrl+S saves, Ctrl+Enter runs the cell, as everywhere in the notebook).
 */
export function isHandledKey(event, target = event.target) {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  if (MOVE_KEYS.has(event.key)) return true;
  return ACT_KEYS.has(event.key) && !!target?.matches?.(ACTS_ON);
}

/** Lumino skips shortcut matching for targets with this attribute (and above it). */
export const SUPPRESS = "data-lm-suppress-shortcuts";

/**
 * Keep handled keys inside `root`. Lumino (JupyterLab 4, Notebook 7) matches a key's
 * shortcuts from the event's target upwards and stops at an element with
 * data-lm-suppress-shortcuts. Its keydown listener is on the document, in the bubble phase
 * in JupyterLab 4 and in the capture phase in Notebook 7, so the target is marked from a
 * capture listener on the window (which runs before both): it gets the attribute for a
 * handled key and loses it for any other (a permanent one would also block Ctrl+S and every
 * other notebook shortcut inside the widget). A handled key also stops at the root. Default
 * actions still happen: ↑/↓ move a slider instead of the active cell, Enter on a heatmap
 * cell does not open the cell's editor.
 */
export function isolateKeys(root) {
  const mark = (event) => {
    const target = event.target;
    if (!target?.setAttribute || !root.contains(target)) return;
    if (isHandledKey(event)) target.setAttribute(SUPPRESS, "true");
    else target.removeAttribute(SUPPRESS);
  };
  const stop = (event) => {
    if (isHandledKey(event)) event.stopPropagation();
  };
  const view = root.ownerDocument?.defaultView ?? window;
  view.addEventListener("keydown", mark, true);
  root.addEventListener("keydown", stop);
  root.addEventListener("keyup", stop);
  return () => {
    view.removeEventListener("keydown", mark, true);
    root.removeEventListener("keydown", stop);
    root.removeEventListener("keyup", stop);
  };
}

/** Next index in a list of `count` items for `key` (null when the key does not move). */
export function listMove(key, index, count, page = 10) {
  if (count <= 0) return null;
  const at = Math.max(index, 0);
  const clamp = (i) => Math.min(Math.max(i, 0), count - 1);
  switch (key) {
    case "ArrowDown":
    case "ArrowRight":
      return clamp(at + 1);
    case "ArrowUp":
    case "ArrowLeft":
      return clamp(at - 1);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    case "PageDown":
      return clamp(at + page);
    case "PageUp":
      return clamp(at - page);
    default:
      return null;
  }
}

/**
 * Next cell of a rows x cols grid for `key`; with `lower` (a causal matrix) the column
 * stays at or left of the row. Returns null when the key does not move.
 */
export function gridMove(key, { row, col }, { rows, cols, lower = false, page = 10 }) {
  if (rows <= 0 || cols <= 0) return null;
  let r = row;
  let c = col;
  // biome-ignore format: one key a line
  switch (key) {
    case "ArrowDown": r++; break;
    case "ArrowUp": r--; break;
    case "ArrowRight": c++; break;
    case "ArrowLeft": c--; break;
    case "PageDown": r += page; break;
    case "PageUp": r -= page; break;
    case "Home": c = 0; break;
    case "End": c = lower ? r : cols - 1; break;
    default: return null;
  }
  r = Math.min(Math.max(r, 0), rows - 1);
  c = Math.min(Math.max(c, 0), lower ? Math.min(r, cols - 1) : cols - 1);
  return { row: r, col: c };
}

/** Enter or Space activates (what a click does); shift = shift-click. */
export const isActivate = (event) => event.key === "Enter" || event.key === " ";

/**
 * Roving focus over the items `items()` returns (elements inside `container`): the
 * current one has tabindex 0, the others -1; arrows/Home/End/Page move focus, Enter/Space
 * call onActivate(index, shiftKey), Delete/Backspace onDelete(index); focus/blur call
 * onFocus(index | null). Call refresh() after the items change.
 * @param {HTMLElement} container
 * @param {{
 *   items: () => HTMLElement[],
 *   onActivate: (index: number, shiftKey: boolean) => void,
 *   onFocus?: (index: number | null) => void,
 *   onDelete?: ((index: number) => void) | null,
 * }} options
 */
export function createRoving(container, { items, onActivate, onFocus = () => {}, onDelete = null }) {
  let current = 0;
  const list = () => items();
  const indexOf = (node) => list().findIndex((el) => el === node || el.contains(node));

  function refresh() {
    const all = list();
    if (current >= all.length) current = Math.max(all.length - 1, 0);
    all.forEach((el, i) => {
      el.setAttribute("tabindex", i === current ? "0" : "-1");
    });
  }

  function focusAt(i) {
    const all = list();
    if (!all[i]) return;
    all[current]?.setAttribute("tabindex", "-1");
    current = i;
    all[i].setAttribute("tabindex", "0");
    all[i].focus();
  }

  container.addEventListener("keydown", (event) => {
    const i = indexOf(event.target);
    if (i < 0 || event.ctrlKey || event.metaKey || event.altKey) return;
    if (list()[i] !== event.target) return; // a button inside the item handles its own keys
    if (isActivate(event)) {
      event.preventDefault();
      onActivate(i, event.shiftKey);
      return;
    }
    if (onDelete && (event.key === "Delete" || event.key === "Backspace")) {
      event.preventDefault();
      onDelete(i);
      return;
    }
    const next = listMove(event.key, i, list().length);
    if (next === null) return;
    event.preventDefault();
    focusAt(next);
  });
  container.addEventListener("focusin", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const i = indexOf(target);
    if (i < 0 || list()[i] !== target) return;
    if (i !== current) {
      list()[current]?.setAttribute("tabindex", "-1");
      current = i;
      target.setAttribute("tabindex", "0");
    }
    onFocus(i);
  });
  container.addEventListener("focusout", (event) => {
    if (!container.contains(/** @type {Node | null} */ (event.relatedTarget))) onFocus(null);
  });
  return {
    refresh,
    focusAt,
    get current() {
      return current;
    },
  };
}
