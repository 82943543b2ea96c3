// Follow the page's theme: JupyterLab / Notebook 7 set data-jp-theme-name and
// data-jp-theme-light on <body> when the user switches themes (after the theme's CSS is
// in); VS Code and others change classes or the colour scheme. onChange runs (once per
// animation frame at most) after any of those changes, and again shortly after, since a
// theme's stylesheet can land a moment after its attributes.

const ATTRIBUTES = ["data-jp-theme-name", "data-jp-theme-light", "class", "data-vscode-theme-kind", "style"];
const RECHECK_MS = [250, 1000];

/** Start watching; returns a function that stops. */
export function watchTheme(onChange, doc = document) {
  let frame = 0;
  const timers = new Set();
  const schedule = () => {
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        onChange();
      });
    }
    for (const ms of RECHECK_MS) {
      const t = setTimeout(() => {
        timers.delete(t);
        onChange();
      }, ms);
      timers.add(t);
    }
  };
  const observer = typeof MutationObserver === "function" ? new MutationObserver(schedule) : null;
  for (const target of [doc.body, doc.documentElement]) {
    if (target) observer?.observe(target, { attributes: true, attributeFilter: ATTRIBUTES });
  }
  const media = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  media?.addEventListener?.("change", schedule);
  return () => {
    observer?.disconnect();
    media?.removeEventListener?.("change", schedule);
    if (frame) cancelAnimationFrame(frame);
    for (const t of timers) clearTimeout(t);
  };
}

/** The colours the canvases paint text with, read from computed styles (a key to compare). */
export function themeKey(el) {
  const style = getComputedStyle(el);
  return `${style.color}|${style.getPropertyValue("--aw-select").trim()}|${style.backgroundColor}`;
}
