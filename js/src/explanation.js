// One user's decoded pack: validated header fields plus the attention tensors, and the
// matrix the current layer/head/mode selects (head means computed lazily and cached).
import { PackError, decodePack } from "./decode.js";

const asFloat = (a) => (a.data instanceof Float32Array ? a.data : Float32Array.from(a.data));

/** NaN values of a decoded array (log12 arrays count them while decoding). */
function countNaN(array) {
  if (!array) return 0;
  if (Number.isInteger(array.nanCount)) return array.nanCount;
  const values = array.data;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) count++;
  return count;
}

function checkShape(name, array, expected) {
  if (!array) return null;
  if (array.shape.join() !== expected.join()) {
    throw new PackError(`array "${name}" has shape [${array.shape}], expected [${expected}]`);
  }
  return array;
}

/** Matrix `index` (size values) of an array: decoded on first use for a log12 one. */
const blockOf = (array, index, size) =>
  typeof array.block === "function" ? array.block(index) : asFloat(array).subarray(index * size, (index + 1) * size);

const ATTENTION = ["seq_attn", "rollout", "feat_attn"];

const label = (item, i) => String(item.title ?? item.id ?? `#${i}`);

/** A finite number, or null (null, NaN, strings and the like). */
const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

function readAgreement(table) {
  const out = {};
  if (!table || typeof table !== "object") return out;
  for (const [method, a] of Object.entries(table)) {
    out[method] = { kendallTau: finite(a?.kendall_tau), top1: finite(a?.top1_agreement) };
  }
  return out;
}

/**
 * The "why" part of a pack: header.importance + the [methods, n] "importance" array, or
 * null when the pack has none. A malformed array is reported as a warning, not thrown.
 */
/**
 * @param {import("./types.js").Importance} info
 * @param {import("./types.js").DecodedArray | undefined} array
 * @param {number} n
 * @param {string[]} warnings
 */
function readImportance(info, array, n, warnings) {
  if (!info || typeof info !== "object" || !Array.isArray(info.methods) || !info.methods.length) return null;
  const methods = info.methods.map(String);
  if (!array || array.shape.join() !== [methods.length, n].join()) {
    const got = array ? `[${array.shape}]` : "missing";
    warnings.push(`The importance array is ${got}, expected [${methods.length}, ${n}]: the "why" panel is off.`);
    return null;
  }
  const data = asFloat(array);
  const values = new Map(methods.map((m, i) => [m, data.subarray(i * n, (i + 1) * n)]));
  return {
    methods,
    values,
    default: methods.includes(info.default) ? String(info.default) : methods[0],
    agreement: readAgreement(info.agreement),
    userAgreement: readAgreement(info.user_agreement),
    nUsers: finite(info.n_users),
    // methods the kernel has not computed yet (NaN here; a complete pack follows)
    pending: new Set((Array.isArray(info.pending) ? info.pending : []).map(String)),
    note: info.note === null || info.note === undefined || info.note === "" ? null : String(info.note),
  };
}

const asItems = (list) => (Array.isArray(list) ? list : []).map((item, i) => ({ ...item, label: label(item, i) }));

/** A recommendation's reason: its sentence as [kind, text] parts (set as text, never markup). */
function readReason(reason) {
  if (!reason || typeof reason !== "object" || !Array.isArray(reason.parts)) return null;
  const parts = reason.parts
    .filter((p) => Array.isArray(p) && p.length === 2)
    .map(([kind, text]) => [String(kind), String(text)]);
  return { text: String(reason.text ?? parts.map((p) => p[1]).join("")), parts, scoreDrop: finite(reason.score_drop) };
}

/** The explained item's verified counterfactual (null while not computed). */
function readCounterfactual(cf) {
  if (!cf || typeof cf !== "object") return null;
  const list = (v) => (Array.isArray(v) ? v : []);
  return {
    found: cf.found === true,
    removed: list(cf.removed).map((r) => ({
      position: r?.position,
      id: String(r?.id),
      title: String(r?.title ?? r?.id),
    })),
    rankBefore: finite(cf.rank_before),
    rankAfter: finite(cf.rank_after),
    exhaustive: cf.exhaustive === true,
    message: String(cf.message ?? ""),
    editedHistory: list(cf.edited_history).map(String),
  };
}

const text = (v) => (v === null || v === undefined ? null : String(v));

/** @param {import("./types.js").WhatIf | null} what */
function readWhatIf(what) {
  if (!what || typeof what !== "object") return null;
  const list = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === "object") : []);
  return {
    originalHistory: (what.original_history ?? []).map(String),
    originalRecs: asItems(what.original_recommendations),
    entered: asItems(what.entered),
    left: asItems(what.left),
    // feature what-if: the edits (in words in the banner) and the positions they changed
    featureEdits: list(what.feature_edits).map((e) => ({
      field: String(e.field),
      value: String(e.value),
      position: Number.isInteger(e.position) ? e.position : null,
      replaces: text(e.replaces),
      title: text(e.title),
    })),
    featureChanges: list(what.feature_changes).map((c) => ({
      position: Number.isInteger(c.position) ? c.position : -1,
      field: String(c.field),
      before: String(c.before),
      after: String(c.after),
    })),
  };
}

/**
 * The values a feature what-if may set, per field of this pack (header.feature_values):
 * `values` (field -> labels, only fields with a list) and `omitted` (fields whose vocabulary
 * was too large to send). Null when the model cannot edit features.
 * @param {import("./types.js").PackHeader["feature_values"] | undefined} table
 * @param {string[]} fields
 */
function readFeatureValues(table, fields) {
  if (!table || typeof table !== "object") return null;
  const values = new Map();
  const omitted = [];
  for (const field of fields.slice(1)) {
    const list = table[field];
    if (Array.isArray(list) && list.length) values.set(field, list.map(String));
    else if (field in table) omitted.push(field);
  }
  return values.size || omitted.length ? { values, omitted } : null;
}

export class Explanation {
  /**
   * Build from decodePack() output; throws PackError when shapes disagree.
   * @param {import("./types.js").DecodedPack} pack
   */
  constructor({ header, arrays }) {
    if (!Array.isArray(header.history)) throw new PackError('pack header has no "history" list');
    const seq = arrays.seq_attn;
    if (seq?.shape.length !== 4) throw new PackError('pack has no 4-d "seq_attn" array');
    this.header = header;
    this.user = String(header.user ?? "");
    this.history = header.history.map((item, i) => ({ ...item, label: label(item, i) }));
    this.recs = (header.recommendations ?? []).map((item, i) => ({ ...item, label: label(item, i) }));
    this.fields = (header.fields ?? ["item"]).map(String);
    this.n = this.history.length;
    const n = this.n;
    const [L, H] = seq.shape;
    if (!(L >= 1 && H >= 1)) throw new PackError(`"seq_attn" needs at least one layer and head, got [${seq.shape}]`);
    this.L = L;
    this.H = H;
    this.seqArray = checkShape("seq_attn", seq, [L, H, n, n]);
    this.rolloutArray = checkShape("rollout", arrays.rollout, [L, n, n]);
    this.hasRollout = !!this.rolloutArray;
    const feat = checkShape("feat_attn", arrays.feat_attn, [n, this.fields.length]);
    this.feat = feat && asFloat(feat);
    // score drop when one field (not the item id) of one item is unknown: [n, fields - 1]
    const occlusion = checkShape("feat_occlusion", arrays.feat_occlusion, [n, this.fields.length - 1]);
    this.featOcclusion = occlusion && asFloat(occlusion);
    this.truncated = header.truncated ?? null;
    this.warnings = (header.warnings ?? []).map(String);
    // The kernel names every array with NaN in header.nonfinite (and warns): no need to
    // decode them all to know. A pack without that list is counted.
    const nonfinite = header.nonfinite;
    const listed = nonfinite && typeof nonfinite === "object" ? Object.keys(nonfinite) : null;
    const attentionNoted = !!listed && ATTENTION.some((name) => listed.includes(name));
    this.hasMissing = listed
      ? attentionNoted
      : countNaN(seq) + countNaN(arrays.rollout) + countNaN(arrays.feat_attn) > 0;
    if (this.hasMissing && !attentionNoted) {
      this.warnings.push("Some attention weights are NaN: drawn grey and left out of the statistics.");
    }
    this.means = new Array(L).fill(null);
    this.target = header.target ? { ...header.target, label: label(header.target, 0) } : null;
    this.importance = readImportance(header.importance, arrays.importance, n, this.warnings);
    this.featOcclusionPending = !!this.importance?.pending.has("feature_occlusion");
    this.editable = header.editable === true;
    this.reasons = this.recs.map((_, rank) => readReason(header.reasons?.[rank]));
    this.counterfactual = readCounterfactual(header.counterfactual);
    this.whatIf = readWhatIf(header.what_if);
    this.featureValues = this.editable ? readFeatureValues(header.feature_values, this.fields) : null;
  }

  /** All sequence attention, [L, H, n, n] (decodes every matrix of a log12 pack). */
  get seq() {
    return asFloat(this.seqArray);
  }

  /** Rollout [L, n, n], or null when the pack has none. */
  get rollout() {
    return this.rolloutArray && asFloat(this.rolloutArray);
  }

  /** Item ids of the history as strings, oldest first (what `history_edit` holds). */
  historyIds() {
    return this.history.map((item) => String(item.id));
  }

  /** The method to show: `wanted` when this pack has it, else the pack's default. */
  pickMethod(wanted) {
    const imp = this.importance;
    if (!imp) return null;
    return imp.methods.includes(wanted) ? wanted : imp.default;
  }

  /** Decode bytes (DataView, typed array or ArrayBuffer) straight into an Explanation. */
  static fromBytes(data) {
    return new Explanation(decodePack(data));
  }

  /** The view with layer/head clamped to this pack and modes it can honour. */
  clampView({ layer = 0, head = 0, layerMode = "layer", headMode = "head" } = {}) {
    const clamp = (v, max) => Math.min(Math.max(Math.trunc(Number(v) || 0), 0), max - 1);
    return {
      layer: clamp(layer, this.L),
      head: clamp(head, this.H),
      layerMode: layerMode === "rollout" && this.hasRollout ? "rollout" : "layer",
      headMode: headMode === "mean" ? "mean" : "head",
    };
  }

  /** n x n (query x key) Float32Array for a view; a view into the pack when possible. */
  matrix(view) {
    const { layer, head, layerMode, headMode } = this.clampView(view);
    const nn = this.n * this.n;
    if (layerMode === "rollout") return blockOf(this.rolloutArray, layer, nn);
    if (headMode === "mean") return this.headMean(layer);
    return blockOf(this.seqArray, layer * this.H + head, nn);
  }

  /** Mean over heads of one layer, skipping NaN (NaN only where every head is NaN). */
  headMean(layer) {
    if (this.means[layer]) return this.means[layer];
    const nn = this.n * this.n;
    const sum = new Float32Array(nn);
    const count = new Uint16Array(nn);
    for (let h = 0; h < this.H; h++) {
      const values = blockOf(this.seqArray, layer * this.H + h, nn);
      for (let i = 0; i < nn; i++) {
        const v = values[i];
        if (!Number.isNaN(v)) {
          sum[i] += v;
          count[i]++;
        }
      }
    }
    for (let i = 0; i < nn; i++) sum[i] = count[i] ? sum[i] / count[i] : NaN;
    this.means[layer] = sum;
    return sum;
  }

  /** The prediction position's row (the last query) of an n x n matrix. */
  predictionRow(matrix) {
    return matrix.subarray((this.n - 1) * this.n, this.n * this.n);
  }

  /** Short text for a view (0-based like the traits), e.g. "layer 1 · head 2". */
  describe(view) {
    const { layer, head, layerMode, headMode } = this.clampView(view);
    if (layerMode === "rollout") return `rollout through layer ${layer}`;
    return headMode === "mean" ? `layer ${layer} · mean of ${this.H} heads` : `layer ${layer} · head ${head}`;
  }
}
