// Widget CSS, injected as a <style> inside the widget's element. Every rule is scoped
// under .attnwidget; colours follow JupyterLab's --jp-* variables when present and
// currentColor otherwise, so light and dark themes both work.
export const STYLES = `
.attnwidget {
  --aw-border: var(--jp-border-color2, rgba(128, 128, 128, 0.3));
  --aw-card: var(--jp-layout-color1, transparent);
  --aw-halo: var(--jp-layout-color1, transparent);
  --aw-accent: var(--jp-brand-color1, #2f7fd1);
  --aw-select: #e15759;
  color: var(--jp-ui-font-color1, currentColor);
  font: 12px/1.4 var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  display: flex;
  flex-direction: column;
  gap: 8px;
  min-width: 0;
  max-width: 100%;
}
.attnwidget [hidden] { display: none !important; }
.attnwidget .aw-sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
/* keyboard focus: a visible ring on everything that takes focus */
.attnwidget :focus-visible { outline: 2px solid var(--aw-accent); outline-offset: 1px; }
.attnwidget .aw-heatmap canvas:focus-visible { outline-offset: 2px; }
.attnwidget .aw-rec:focus-visible, .attnwidget .aw-imp-row:focus-visible { outline-offset: -2px; background: rgba(47, 127, 209, 0.14); }
.attnwidget button, .attnwidget input, .attnwidget select { font: inherit; color: inherit; }

.attnwidget .aw-top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; }
.attnwidget .aw-controls { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; }
.attnwidget .aw-control { display: inline-flex; align-items: center; gap: 6px; }
.attnwidget .aw-control-name { font-weight: 600; }
.attnwidget .aw-control input[type="range"] { width: 120px; margin: 0; accent-color: var(--aw-accent); }
.attnwidget .aw-user-input {
  width: 110px; padding: 2px 6px; border: 1px solid var(--aw-border); border-radius: 4px;
  background: var(--jp-input-background, transparent);
}
.attnwidget .aw-value, .attnwidget .aw-status, .attnwidget .aw-sub { opacity: 0.7; font-variant-numeric: tabular-nums; }
.attnwidget .aw-value { min-width: 48px; }
.attnwidget .aw-toggle { display: inline-flex; align-items: center; gap: 3px; cursor: pointer; }
.attnwidget .aw-status { margin-left: auto; }
.attnwidget.aw-loading .aw-grid, .attnwidget.aw-pending .aw-grid { opacity: 0.55; transition: opacity 0.2s; }

.attnwidget .aw-error, .attnwidget .aw-truncated, .attnwidget .aw-warnings {
  margin: 0; padding: 4px 8px; border-radius: 4px; border-left: 3px solid;
}
.attnwidget .aw-error { border-color: #d62728; background: rgba(214, 39, 40, 0.1); }
.attnwidget .aw-truncated { border-color: var(--aw-accent); background: rgba(47, 127, 209, 0.08); }
.attnwidget .aw-warnings { border-color: #e8a33d; background: rgba(232, 163, 61, 0.12); list-style: none; }
.attnwidget .aw-empty, .attnwidget .aw-recs-empty { padding: 16px; text-align: center; opacity: 0.7; }

.attnwidget .aw-grid {
  display: grid; gap: 8px; align-items: start;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr));
}
.attnwidget .aw-card {
  min-width: 0; border: 1px solid var(--aw-border); border-radius: 6px;
  background: var(--aw-card); padding: 6px 8px 8px;
}
.attnwidget .aw-graph-card { grid-column: 1 / -1; }
.attnwidget .aw-rec-reason { font-size: 11px; opacity: 0.85; margin: 1px 0 2px; overflow-wrap: anywhere; }
.attnwidget .aw-counterfactual { margin: 4px 0; overflow-wrap: anywhere; }
.attnwidget .aw-cf-label { font-weight: 600; }
.attnwidget .aw-cf-apply { margin-left: 4px; }
.attnwidget .aw-rec-only { background: rgba(232, 163, 61, 0.12); }
.attnwidget .aw-compare-diff-card { margin-top: 8px; }
.attnwidget .aw-feat-pair { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
.attnwidget .aw-subtitle { font-size: 11px; font-weight: 600; opacity: 0.8; margin: 0 0 2px; }
.attnwidget .aw-featocc .aw-note { max-width: 320px; font-size: 11px; }
.attnwidget.aw-edited .aw-grid { outline: 2px dashed #e8a33d; outline-offset: 3px; border-radius: 6px; }
.attnwidget .aw-card-head { display: flex; align-items: baseline; gap: 8px; margin-bottom: 4px; }
.attnwidget .aw-card-title { font-weight: 600; }
.attnwidget .aw-sub { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attnwidget .aw-export {
  margin-left: auto; padding: 1px 8px; border: 1px solid var(--aw-border); border-radius: 4px;
  background: transparent; cursor: pointer; font-size: 11px;
}
.attnwidget .aw-export:hover { border-color: var(--aw-accent); }
.attnwidget .aw-card-body { position: relative; overflow-x: auto; }
.attnwidget .aw-scale-control { display: flex; width: max-content; margin: 0 0 4px; font-size: 11px; }
.attnwidget .aw-scale {
  padding: 0 4px; border: 1px solid var(--aw-border); border-radius: 4px;
  background: var(--jp-input-background, transparent);
}
.attnwidget .aw-scale option { color: initial; }

.attnwidget .aw-heatmap { position: relative; display: inline-block; }
.attnwidget .aw-heatmap canvas { display: block; }
.attnwidget .aw-overlay { position: absolute; left: 0; top: 0; pointer-events: none; }
.attnwidget .aw-tooltip {
  position: absolute; z-index: 10; pointer-events: none; max-width: 300px; padding: 4px 7px;
  border-radius: 4px; background: rgba(28, 28, 30, 0.94); color: #f5f5f5; font-size: 11px;
  line-height: 1.35; overflow-wrap: anywhere; box-shadow: 0 2px 6px rgba(0, 0, 0, 0.25);
}
.attnwidget .aw-tip-title { font-weight: 600; }

.attnwidget .aw-bars { position: relative; }
.attnwidget .aw-bars-svg { display: block; width: 100%; height: auto; cursor: crosshair; }
.attnwidget .aw-axis { stroke: currentColor; stroke-opacity: 0.4; }
.attnwidget .aw-uniform { stroke: currentColor; stroke-opacity: 0.55; stroke-dasharray: 4 3; }
.attnwidget .aw-axis-text { fill: currentColor; fill-opacity: 0.75; font-size: 10px; }
.attnwidget .aw-band { fill: var(--aw-accent); fill-opacity: 0.2; }
.attnwidget .aw-band-sel { fill: var(--aw-select); }
.attnwidget .aw-stats {
  display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 1px 10px; margin: 6px 0 0;
  font-variant-numeric: tabular-nums;
}
.attnwidget .aw-stats dt { opacity: 0.7; white-space: nowrap; }
.attnwidget .aw-stats dd { margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attnwidget .aw-selected-sum { font-weight: 600; }

.attnwidget .aw-recs { list-style: none; margin: 0; padding: 0; max-height: 420px; overflow-y: auto; }
.attnwidget .aw-rec {
  display: grid; grid-template-columns: 22px 1fr auto; gap: 6px; align-items: start;
  padding: 4px 4px; border-radius: 4px; cursor: pointer;
}
.attnwidget .aw-rec + .aw-rec { border-top: 1px solid var(--aw-border); }
.attnwidget .aw-rec:hover, .attnwidget .aw-rec.aw-lit { background: rgba(47, 127, 209, 0.14); }
.attnwidget .aw-rank { opacity: 0.6; text-align: right; font-variant-numeric: tabular-nums; }
.attnwidget .aw-rec-main { min-width: 0; }
.attnwidget .aw-rec-title { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attnwidget .aw-rec-feats { display: flex; flex-wrap: wrap; gap: 3px; margin-top: 2px; }
.attnwidget .aw-chip {
  padding: 0 5px; border: 1px solid var(--aw-border); border-radius: 8px; font-size: 11px; opacity: 0.85;
}
.attnwidget .aw-score { font-variant-numeric: tabular-nums; font-weight: 600; }

.attnwidget .aw-graph { display: block; width: 100%; height: auto; max-height: 520px; cursor: grab; }
.attnwidget .aw-link { stroke: currentColor; }
.attnwidget .aw-link-feat, .attnwidget .aw-link-recfeat { stroke-dasharray: 3 2; }
.attnwidget .aw-link-rec { stroke: #f28e2b; }
.attnwidget .aw-link-attn { stroke: var(--aw-accent); }
.attnwidget .aw-link-why { stroke: #c04f15; }
.attnwidget .aw-link.aw-lit { stroke-opacity: 0.95; }
.attnwidget .aw-dim { opacity: 0.12; }
.attnwidget .aw-node { cursor: pointer; }
.attnwidget .aw-node circle { stroke: var(--aw-halo); stroke-width: 1px; }
.attnwidget .aw-node-pred circle { stroke: currentColor; stroke-width: 2.5px; }
.attnwidget .aw-node.aw-lit circle { stroke: currentColor; stroke-width: 2.5px; }
.attnwidget .aw-node.aw-sel circle { stroke: var(--aw-select); stroke-width: 3px; }
.attnwidget .aw-label {
  fill: currentColor; font-size: 10px; paint-order: stroke; stroke: var(--aw-halo); stroke-width: 3px;
  pointer-events: none;
}
.attnwidget .aw-label-feat { font-style: italic; }
/* labels only for what matters, where they do not overlap (see labels.js) */
.attnwidget .aw-label:not(.aw-label-on) { visibility: hidden; }
.attnwidget .aw-node:focus { outline: none; }
.attnwidget .aw-node:focus-visible circle { stroke: var(--aw-accent); stroke-width: 3.5px; }
.attnwidget .aw-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 4px; font-size: 11px; }
.attnwidget .aw-legend-item { display: inline-flex; align-items: center; gap: 4px; }
.attnwidget .aw-legend-item i { display: inline-block; width: 9px; height: 9px; border-radius: 50%; }
.attnwidget .aw-legend-note { opacity: 0.65; }

.attnwidget .aw-chip-new { border-color: #e8a33d; background: rgba(232, 163, 61, 0.18); font-weight: 600; opacity: 1; }
.attnwidget .aw-rec-new { box-shadow: inset 3px 0 0 #e8a33d; }

.attnwidget .aw-why-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; }
.attnwidget .aw-method {
  padding: 1px 4px; border: 1px solid var(--aw-border); border-radius: 4px;
  background: var(--jp-input-background, transparent);
}
.attnwidget .aw-method option { color: initial; }
.attnwidget .aw-method-info { opacity: 0.7; font-size: 11px; }
.attnwidget .aw-agreement { margin: 4px 0; font-variant-numeric: tabular-nums; }
.attnwidget .aw-agreement-model { font-weight: 600; }
.attnwidget .aw-agreement-user { opacity: 0.75; }
.attnwidget .aw-note {
  margin: 4px 0; padding: 4px 8px; border-left: 3px solid #e8a33d; border-radius: 4px;
  background: rgba(232, 163, 61, 0.12); overflow-wrap: anywhere;
}
.attnwidget .aw-why-top { margin: 2px 0 4px; overflow-wrap: anywhere; }
.attnwidget .aw-why-absent, .attnwidget .aw-why-missing { opacity: 0.7; font-size: 11px; margin: 4px 0; }
.attnwidget .aw-importance-bars { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow-y: auto; }
.attnwidget .aw-imp-row {
  display: grid; grid-template-columns: 24px minmax(80px, 1fr) minmax(90px, 1.2fr) 56px auto; gap: 6px;
  align-items: center; padding: 1px 4px; border-radius: 4px; cursor: pointer;
  /* rows scrolled out of the list are not laid out until they scroll in (fast first paint) */
  content-visibility: auto; contain-intrinsic-size: auto 18px;
}
.attnwidget .aw-imp-row:hover, .attnwidget .aw-imp-row.aw-lit { background: rgba(47, 127, 209, 0.14); }
.attnwidget .aw-imp-row.aw-sel { box-shadow: inset 3px 0 0 var(--aw-select); }
.attnwidget .aw-imp-pos { opacity: 0.6; text-align: right; font-variant-numeric: tabular-nums; }
.attnwidget .aw-imp-title { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attnwidget .aw-imp-last .aw-imp-title { font-style: italic; }
.attnwidget .aw-imp-top .aw-imp-title { font-weight: 700; }
.attnwidget .aw-imp-track { position: relative; height: 12px; background: rgba(128, 128, 128, 0.1); border-radius: 2px; }
.attnwidget .aw-imp-zero {
  position: absolute; top: -1px; bottom: -1px; left: var(--aw-zero, 0%); width: 1px;
  background: currentColor; opacity: 0.45;
}
.attnwidget .aw-imp-bar { position: absolute; top: 1px; bottom: 1px; border-radius: 2px; }
.attnwidget .aw-imp-missing .aw-imp-track {
  background: repeating-linear-gradient(45deg, rgba(154, 154, 154, 0.35) 0 3px, transparent 3px 6px);
}
.attnwidget .aw-imp-value { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.attnwidget .aw-imp-negative .aw-imp-value { color: #d62728; }
.attnwidget .aw-imp-missing .aw-imp-value { opacity: 0.6; }
.attnwidget .aw-imp-waiting .aw-imp-track { opacity: 0.4; }
.attnwidget .aw-remove {
  width: 20px; height: 18px; padding: 0; border: 1px solid var(--aw-border); border-radius: 4px;
  background: transparent; cursor: pointer; line-height: 1;
}
.attnwidget .aw-remove:hover:not(:disabled) { border-color: #d62728; color: #d62728; }
.attnwidget .aw-imp-actions { display: inline-flex; gap: 2px; }
.attnwidget .aw-feature-edit {
  width: 20px; height: 18px; padding: 0; border: 1px solid var(--aw-border); border-radius: 4px;
  background: transparent; cursor: pointer; line-height: 1;
}
.attnwidget .aw-feature-edit:hover { border-color: #e8a33d; color: #b06d00; }
.attnwidget .aw-imp-row.aw-imp-edited .aw-imp-title { text-decoration: underline dashed #e8a33d; }
.attnwidget .aw-feature-editor {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin-top: 6px; padding: 4px 6px;
  border: 1px dashed var(--aw-border); border-radius: 4px;
}
.attnwidget .aw-feature-editor select { max-width: 16em; }
.attnwidget .aw-feature-item { max-width: 14em; }
.attnwidget .aw-feature-all-label { display: inline-flex; align-items: center; gap: 2px; }
.attnwidget .aw-feature-note { flex-basis: 100%; opacity: 0.7; font-size: 11px; }
.attnwidget .aw-remove:disabled, .attnwidget .aw-search-result:disabled { opacity: 0.35; cursor: not-allowed; }

.attnwidget .aw-what-if {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; padding: 4px 8px;
  border-left: 3px solid #e8a33d; border-radius: 4px; background: rgba(232, 163, 61, 0.16); font-weight: 500;
}
.attnwidget .aw-reset-history {
  margin-left: auto; padding: 1px 10px; border: 1px solid #e8a33d; border-radius: 4px;
  background: transparent; cursor: pointer;
}
.attnwidget .aw-what-if-hint { opacity: 0.75; margin-bottom: 4px; }
.attnwidget .aw-add-input {
  width: 100%; box-sizing: border-box; padding: 3px 6px; border: 1px solid var(--aw-border);
  border-radius: 4px; background: var(--jp-input-background, transparent);
}
.attnwidget .aw-search-note, .attnwidget .aw-what-if-status { opacity: 0.7; margin: 2px 0; }
.attnwidget .aw-search-results { list-style: none; margin: 2px 0 0; padding: 0; max-height: 180px; overflow-y: auto; }
.attnwidget .aw-search-result {
  display: flex; justify-content: space-between; gap: 8px; width: 100%; padding: 2px 6px;
  border: 0; border-radius: 4px; background: transparent; cursor: pointer; text-align: left;
}
.attnwidget .aw-search-result:hover:not(:disabled), .attnwidget .aw-search-result:focus { background: rgba(47, 127, 209, 0.14); }
.attnwidget .aw-result-title { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.attnwidget .aw-result-id { opacity: 0.6; white-space: nowrap; font-variant-numeric: tabular-nums; }
.attnwidget .aw-change { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; margin-top: 8px; }
.attnwidget .aw-change-summary { grid-column: 1 / -1; font-weight: 600; }
.attnwidget .aw-change-head { opacity: 0.75; }
.attnwidget .aw-entered, .attnwidget .aw-left { margin: 0; padding-left: 18px; overflow-wrap: anywhere; }
.attnwidget .aw-entered li::marker { content: "+ "; color: #2ca02c; }
.attnwidget .aw-left li::marker { content: "− "; color: #d62728; }
.attnwidget .aw-entered .aw-linked { cursor: pointer; }
.attnwidget .aw-entered .aw-lit { background: rgba(47, 127, 209, 0.14); }
.attnwidget .aw-none { opacity: 0.6; list-style: none; }
`;
