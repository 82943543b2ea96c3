// Linked highlighting shared by all views: one hovered/pinned target plus a
// multi-selection of history positions. A target is one of
//   { kind: "hist", pos } | { kind: "rec", rank } | { kind: "feat", field, value }.

/** Stable key of a feature value node, e.g. for ("brand", "Nikon"). */
export const featureKey = (field, value) => JSON.stringify([field, String(value)]);

/** [field, value] pairs of an item's features, skipping the "item" field and blanks. */
export function featureValues(item) {
  return Object.entries(item.features ?? {}).filter(
    ([field, value]) => field !== "item" && value !== null && value !== undefined && value !== "",
  );
}

const hasFeature = (item, field, value) =>
  item.features?.[field] !== undefined && String(item.features[field]) === String(value);

/**
 * What a target lights up: history positions, recommendation ranks and feature keys.
 * Items are matched by id, so a repeated item lights up at every position.
 */
export function resolveTarget(expl, target) {
  const out = { positions: new Set(), ranks: new Set(), features: new Set() };
  if (!expl || !target) return out;
  let match;
  if (target.kind === "feat") {
    out.features.add(featureKey(target.field, target.value));
    match = (item) => hasFeature(item, target.field, target.value);
  } else {
    const item = target.kind === "hist" ? expl.history[target.pos] : expl.recs[target.rank];
    if (!item) return out;
    match = (other) => other === item || (item.id !== undefined && other.id === item.id);
  }
  expl.history.forEach((item, pos) => {
    if (match(item)) out.positions.add(pos);
  });
  expl.recs.forEach((item, rank) => {
    if (match(item)) out.ranks.add(rank);
  });
  return out;
}

export function sameTarget(a, b) {
  if (!a || !b) return a === b;
  return a.kind === b.kind && a.pos === b.pos && a.rank === b.rank && a.field === b.field && a.value === b.value;
}

export class Links {
  /** onChange(selectionChanged) runs after every change. */
  constructor(onChange) {
    this.onChange = onChange;
    this.hover = null;
    this.pinned = null;
    this.selection = new Set();
  }

  /** The target to highlight: the hovered one, else the pinned one. */
  get active() {
    return this.hover ?? this.pinned;
  }

  setHover(target) {
    if (sameTarget(target, this.hover)) return;
    this.hover = target;
    this.onChange(false);
  }

  /** Click pins/unpins a target; shift-click toggles a history item in the selection. */
  click(target, shift) {
    if (shift && target?.kind === "hist") {
      if (!this.selection.delete(target.pos)) this.selection.add(target.pos);
      this.onChange(true);
    } else {
      this.pinned = sameTarget(target, this.pinned) ? null : target;
      this.onChange(false);
    }
  }

  /** Replace the selection (e.g. from Python); returns whether it changed. */
  setSelection(positions) {
    const next = new Set(positions);
    if (next.size === this.selection.size && [...next].every((p) => this.selection.has(p))) return false;
    this.selection = next;
    this.onChange(false);
    return true;
  }

  /** Forget everything (new user). */
  reset() {
    this.hover = this.pinned = null;
    this.selection = new Set();
  }
}
