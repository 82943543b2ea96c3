// Keyboard use inside notebooks: keys the widget handles never reach JupyterLab /
// Notebook 7 (Lumino's command-mode shortcuts take ↑/↓, Enter, Space), plus roving focus
// for lists and grids (one tab stop per view; arrows move inside it; Enter/Space = click).

/** Keys the widget handles itself when focus is inside it (without Ctrl/Alt/Meta). */
export const HANDLED_KEYS = new Set([
  "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight",
  "Home", "End", "PageUp", "PageDown", "Enter", " ", "Delete", "Backspace",
]);

/** Whether the widget keeps `event` from the page around it (the notebook's shortcuts). */
export function isHandledKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  return HANDLED_KEYS.has(event.key);
}

/** Lumino skips shortcut matching for targets with this attribute (and above it). */
export const SUPPRESS = "data-lm-suppress-shortcuts";

/**
 * Keep handled keys inside `root`: Lumino ignores keydown targets marked with
 * data-lm-suppress-shortcuts, and JupyterLab 4 listens for keydown in the bubble phase, so
 * stopping propagation at the root keeps its notebook shortcuts (↑/↓ move the active cell,
 * Enter edits it) off the widget's sliders, heatmaps, graph and lists. Default actions
 * (a range input moving on an arrow key) still happen.
 */
export function isolateKeys(root) {
  root.setAttribute(SUPPRESS, "true");
  const stop = (event) => {
    if (isHandledKey(event)) event.stopPropagation();
  };
  const mark = (event) => event.target?.setAttribute?.(SUPPRESS, "true");
  root.addEventListener("keydown", stop);
  root.addEventListener("keyup", stop);
  // the focused element itself must carry the attribute (Lumino checks the target first)
  root.addEventListener("focusin", mark);
  return () => {
    root.removeEventListener("keydown", stop);
    root.removeEventListener("keyup", stop);
    root.removeEventListener("focusin", mark);
  };
}

/** Next index in a list of `count` items for `key` (null when the key does not move). */
export function listMove(key, index, count, page = 10) {
  if (count <= 0) return null;
  const at = index < 0 ? 0 : index;
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
  c = Math.min(Math.max(c, 0), (lower ? Math.min(r, cols - 1) : cols - 1));
  return { row: r, col: c };
}

/** Enter or Space activates (what a click does); shift = shift-click. */
export const isActivate = (event) => event.key === "Enter" || event.key === " ";

/**
 * Roving focus over the items `items()` returns (elements inside `container`): the
 * current one has tabindex 0, the others -1; arrows/Home/End/Page move focus, Enter/Space
 * call onActivate(index, shiftKey), Delete/Backspace onDelete(index); focus/blur call
 * onFocus(index | null). Call refresh() after the items change.
 */
export function createRoving(container, { items, onActivate, onFocus = () => {}, onDelete = null }) {
  let current = 0;
  const list = () => items();
  const indexOf = (node) => list().findIndex((el) => el === node || el.contains(node));

  function refresh() {
    const all = list();
    if (current >= all.length) current = Math.max(all.length - 1, 0);
    all.forEach((el, i) => el.setAttribute("tabindex", i === current ? "0" : "-1"));
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
    const i = indexOf(event.target);
    if (i < 0 || list()[i] !== event.target) return;
    if (i !== current) {
      list()[current]?.setAttribute("tabindex", "-1");
      current = i;
      event.target.setAttribute("tabindex", "0");
    }
    onFocus(i);
  });
  container.addEventListener("focusout", (event) => {
    if (!container.contains(event.relatedTarget)) onFocus(null);
  });
  return { refresh, focusAt, get current() { return current; } };
}
