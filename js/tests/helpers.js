// Test helpers: fixtures on disk and packs built in JS (same layout as payload.py).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readHeader } from "../src/decode.js";

export const fixture = (name) => new Uint8Array(readFileSync(join(import.meta.dirname, "fixtures", name)));

/** The method descriptions the kernel sends (read from the encoder-made sample pack). */
export const DESCRIPTIONS = readHeader(fixture("sample.pack")).importance.descriptions;

const align8 = (n) => (n + 7) & ~7;

/** Float to float16 bits (round to nearest; enough for tests). */
export function toHalf(value) {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  if (Number.isNaN(value)) return 0x7e00;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const frac = bits & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return sign | Math.round(Math.abs(value) / 2 ** -24);
  return sign | ((exp << 10) + Math.round(frac / 8192));
}

/** Encode a pack: arrays = { name: { dtype, shape, values } }. */
export function encodePack(header, arrays = {}) {
  const specs = {};
  const chunks = [];
  let offset = 0;
  for (const [name, { dtype, shape, values }] of Object.entries(arrays)) {
    let bytes;
    if (dtype === "float16") bytes = new Uint8Array(Uint16Array.from(values, toHalf).buffer);
    else if (dtype === "float32") bytes = new Uint8Array(Float32Array.from(values).buffer);
    else if (dtype === "int32") bytes = new Uint8Array(Int32Array.from(values).buffer);
    else bytes = Uint8Array.from(values);
    specs[name] = { dtype, shape, offset, nbytes: bytes.length };
    chunks.push([offset, bytes]);
    offset += align8(bytes.length);
  }
  const json = new TextEncoder().encode(JSON.stringify({ schema: 1, ...header, arrays: specs }));
  const start = align8(8 + json.length);
  const out = new Uint8Array(start + offset);
  out.set(
    [..."ATW1"].map((c) => c.charCodeAt(0)),
    0,
  );
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  for (const [at, bytes] of chunks) out.set(bytes, start + at);
  return out;
}

/** Causal attention [L, H, n, n]: rows proportional to key + 1 + layer + head. */
export function causal(L, H, n) {
  const out = new Float32Array(L * H * n * n);
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < n; q++) {
        const total = ((q + 1) * (q + 2)) / 2 + (q + 1) * (l + h);
        for (let k = 0; k <= q; k++) out[((l * H + h) * n + q) * n + k] = (k + 1 + l + h) / total;
      }
  return out;
}

/**
 * Importance values per method for n items: attention rising, rollout falling, gradient
 * all NaN, occlusion from -1 upwards (negative first item).
 */
export function sampleImportance(n) {
  return {
    attention: Array.from({ length: n }, (_, i) => (i + 1) / ((n * (n + 1)) / 2)),
    rollout: Array.from({ length: n }, (_, i) => (n - i) / ((n * (n + 1)) / 2)),
    gradient: new Array(n).fill(NaN),
    occlusion: Array.from({ length: n }, (_, i) => i - 1),
  };
}

/**
 * A synthetic user: n items, L layers, H heads, fields item/category/brand.
 * With `importance` (true or { values, default, note, agreement, userAgreement, nUsers, pending }) the pack also
 * has the why-panel fields; `editable`, `whatIf` (the header's what_if) and `featureValues`
 * (its feature_values) go as given;
 * `ids` / `recIds` set the history / recommendation ids (default i0, i1, ... / r0, r1, ...).
 */
export function makePack({
  user = "u1",
  n = 5,
  L = 2,
  H = 3,
  titles,
  ids,
  recs = 3,
  recIds,
  importance,
  editable = false,
  whatIf = null,
  featureValues = null,
} = {}) {
  const cats = ["cameras", "lenses", "bags"];
  const history = Array.from({ length: n }, (_, i) => ({
    id: ids?.[i] ?? `i${i}`,
    title: titles?.[i] ?? `Item ${i}`,
    features: { category: cats[i % 3], brand: i % 2 ? "Nikon" : "Canon" },
  }));
  const recommendations = Array.from({ length: recs }, (_, r) => ({
    id: recIds?.[r] ?? `r${r}`,
    title: `Rec ${r}`,
    score: 3 - r,
    features: { category: cats[r % 3], brand: "Sony" },
  }));
  const seq = causal(L, H, n);
  const rollout = new Float32Array(L * n * n);
  for (let l = 0; l < L; l++) rollout.set(seq.subarray(l * H * n * n, (l * H + 1) * n * n), l * n * n);
  const feat = Array.from({ length: n * 3 }, (_, i) => [0.5, 0.3, 0.2][i % 3]);
  const header = {
    user,
    n_layers: L,
    n_heads: H,
    fields: ["item", "category", "brand"],
    history,
    recommendations,
    truncated: null,
    warnings: [],
  };
  const arrays = {
    seq_attn: { dtype: "float16", shape: [L, H, n, n], values: seq },
    rollout: { dtype: "float16", shape: [L, n, n], values: rollout },
    feat_attn: { dtype: "float32", shape: [n, 3], values: feat },
  };
  if (importance) {
    const opts = importance === true ? {} : importance;
    const values = opts.values ?? sampleImportance(n);
    const methods = Object.keys(values);
    const agreement = opts.agreement ?? {
      attention: { kendall_tau: 0.1, top1_agreement: 0.2 },
      rollout: { kendall_tau: 0.4, top1_agreement: 0.47 },
      gradient: { kendall_tau: null, top1_agreement: null },
      occlusion: { kendall_tau: 1, top1_agreement: 1 },
    };
    header.target = recommendations[0] ?? null;
    header.importance = {
      methods,
      descriptions: DESCRIPTIONS,
      default: opts.default ?? "rollout",
      agreement,
      user_agreement: opts.userAgreement ?? agreement,
      note: opts.note ?? null,
      ...(opts.nUsers !== undefined ? { n_users: opts.nUsers } : {}),
      ...(opts.pending ? { pending: opts.pending } : {}),
    };
    arrays.importance = {
      dtype: "float32",
      shape: [methods.length, n],
      values: methods.flatMap((m) => Array.from(values[m])),
    };
  }
  header.editable = editable;
  header.feature_values = featureValues;
  header.what_if = whatIf;
  return encodePack(header, arrays);
}

/** Archive of packs (same layout as payload.encode_archive). */
export function encodeArchive(packs) {
  let size = 8 + 4 * packs.length;
  const at = packs.map((p) => {
    const pos = align8(size);
    size = pos + p.length;
    return pos;
  });
  const out = new Uint8Array(size);
  out.set(
    [..."ATWA"].map((c) => c.charCodeAt(0)),
    0,
  );
  const dv = new DataView(out.buffer);
  dv.setUint32(4, packs.length, true);
  packs.forEach((p, i) => {
    dv.setUint32(8 + 4 * i, p.length, true);
    out.set(p, at[i]);
  });
  return out;
}
