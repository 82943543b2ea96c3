// One user's decoded pack: validated header fields plus the attention tensors, and the
// matrix the current layer/head/mode selects (head means computed lazily and cached).
import { PackError, decodePack } from "./decode.js";

const asFloat = (a) => (a.data instanceof Float32Array ? a.data : Float32Array.from(a.data));

function countNaN(values) {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) count++;
  return count;
}

function checkShape(name, array, expected) {
  if (!array) return null;
  if (array.shape.join() !== expected.join()) {
    throw new PackError(`array "${name}" has shape [${array.shape}], expected [${expected}]`);
  }
  return asFloat(array);
}

const label = (item, i) => String(item.title ?? item.id ?? `#${i}`);

export class Explanation {
  /** Build from decodePack() output; throws PackError when shapes disagree. */
  constructor({ header, arrays }) {
    if (!Array.isArray(header.history)) throw new PackError('pack header has no "history" list');
    const seq = arrays.seq_attn;
    if (!seq || seq.shape.length !== 4) throw new PackError('pack has no 4-d "seq_attn" array');
    this.header = header;
    this.user = String(header.user ?? "");
    this.history = header.history.map((item, i) => ({ ...item, label: label(item, i) }));
    this.recs = (header.recommendations ?? []).map((item, i) => ({ ...item, label: label(item, i) }));
    this.fields = (header.fields ?? ["item"]).map(String);
    const n = (this.n = this.history.length);
    const [L, H] = seq.shape;
    if (!(L >= 1 && H >= 1)) throw new PackError(`"seq_attn" needs at least one layer and head, got [${seq.shape}]`);
    this.L = L;
    this.H = H;
    this.seq = checkShape("seq_attn", seq, [L, H, n, n]);
    this.rollout = checkShape("rollout", arrays.rollout, [L, n, n]);
    this.feat = checkShape("feat_attn", arrays.feat_attn, [n, this.fields.length]);
    this.truncated = header.truncated ?? null;
    this.warnings = (header.warnings ?? []).map(String);
    const missing = countNaN(this.seq) + (this.rollout ? countNaN(this.rollout) : 0);
    this.hasMissing = missing > 0 || (this.feat ? countNaN(this.feat) > 0 : false);
    if (this.hasMissing) {
      this.warnings.push("Some attention weights are NaN: drawn grey and left out of the statistics.");
    }
    this.means = new Array(L).fill(null);
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
      layerMode: layerMode === "rollout" && this.rollout ? "rollout" : "layer",
      headMode: headMode === "mean" ? "mean" : "head",
    };
  }

  /** n x n (query x key) Float32Array for a view; a view into the pack when possible. */
  matrix(view) {
    const { layer, head, layerMode, headMode } = this.clampView(view);
    const nn = this.n * this.n;
    if (layerMode === "rollout") return this.rollout.subarray(layer * nn, (layer + 1) * nn);
    if (headMode === "mean") return this.headMean(layer);
    const at = (layer * this.H + head) * nn;
    return this.seq.subarray(at, at + nn);
  }

  /** Mean over heads of one layer, skipping NaN (NaN only where every head is NaN). */
  headMean(layer) {
    if (this.means[layer]) return this.means[layer];
    const nn = this.n * this.n;
    const sum = new Float32Array(nn);
    const count = new Uint16Array(nn);
    for (let h = 0; h < this.H; h++) {
      const base = (layer * this.H + h) * nn;
      for (let i = 0; i < nn; i++) {
        const v = this.seq[base + i];
        if (v === v) {
          sum[i] += v;
          count[i]++;
        }
      }
    }
    for (let i = 0; i < nn; i++) sum[i] = count[i] ? sum[i] / count[i] : NaN;
    return (this.means[layer] = sum);
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
