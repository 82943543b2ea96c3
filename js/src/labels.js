// Which graph labels to show: the ones that matter first (hovered/pinned/selected, then
// recommendations, the prediction position, the most important and most attended history
// items, the heaviest feature values), each only if its box overlaps no label already
// shown, up to a cap. Pure: boxes in, ids out.

/** Label budget (not counting forced ones: hovered, pinned, selected). */
export const MAX_LABELS = 28;

const overlaps = (a, b, pad) =>
  a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;

/**
 * candidates: [{ id, x, y, w, h, priority, forced }] (boxes in one coordinate system);
 * higher priority first, forced before all. A forced label is shown even when it overlaps
 * (the user asked for it); the others only where they overlap nothing shown.
 * Returns the Set of ids to label.
 */
export function chooseLabels(candidates, { max = MAX_LABELS, pad = 1 } = {}) {
  const order = [...candidates].sort((a, b) => Number(!!b.forced) - Number(!!a.forced) || b.priority - a.priority);
  const shown = [];
  const ids = new Set();
  let free = 0;
  for (const c of order) {
    if (!c.forced && (free >= max || !(c.priority > 0))) break;
    if (!c.forced && shown.some((s) => overlaps(s, c, pad))) continue;
    shown.push(c);
    ids.add(c.id);
    if (!c.forced) free++;
  }
  return ids;
}

/**
 * Priority of each graph node (higher = labelled first; 0 = only when forced).
 * nodes: graph nodes ({ id, kind, pos, rank, mass }); n history length;
 * importanceTop: history positions ordered by importance (most important first).
 */
export function labelPriorities(nodes, n, importanceTop = [], { topHistory = 10, topFeatures = 8 } = {}) {
  const prio = new Map();
  const hist = nodes.filter((d) => d.kind === "hist");
  const byMass = [...hist].sort((a, b) => (b.mass ?? 0) - (a.mass ?? 0) || b.pos - a.pos);
  const heavy = new Map(byMass.slice(0, topHistory).map((d, i) => [d.pos, i]));
  const important = new Map(importanceTop.slice(0, 5).map((pos, i) => [pos, i]));
  const feats = nodes.filter((d) => d.kind === "feat").sort((a, b) => (b.mass ?? 0) - (a.mass ?? 0));
  const featRank = new Map(feats.slice(0, topFeatures).map((d, i) => [d.id, i]));
  for (const d of nodes) {
    let p = 0;
    if (d.kind === "rec") p = 900 - d.rank;
    else if (d.kind === "hist") {
      if (d.pos === n - 1) p = 850;
      else if (important.has(d.pos)) p = 800 - important.get(d.pos);
      else if (heavy.has(d.pos)) p = 700 - heavy.get(d.pos);
      else if (n <= 30) p = 100 - d.pos / Math.max(n, 1); // short histories: all, as room allows
    } else if (featRank.has(d.id)) p = 600 - featRank.get(d.id);
    else if (n <= 30) p = 50;
    prio.set(d.id, p);
  }
  return prio;
}
