// Which values the heatmap colour scale spans. A causal attention matrix has trivial
// rows: query 0 can only attend to itself (weight 1), query 1 to two keys, ... so a
// 0..max scale makes a 200-item history one dark triangle (typical weights ~0.005).
// The scale is chosen from what the view shows and named in the legend.
import { fmt } from "./dom.js";

export const SCALE_MODES = ["robust", "row", "max"];

/** The symmetric scale of signed values: ±the largest finite |value|. */
export function divergingScale(values) {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]);
    if (v > max && v !== Infinity) max = v;
  }
  return { mode: "diverging", max, rowMax: null, clipped: false, label: `colour: −${fmt(max)} to +${fmt(max)}` };
}
export const SCALE_NAMES = {
  robust: "robust (99th percentile)",
  row: "per row (each query's max)",
  max: "full range (0–max)",
};
const QUANTILE = 0.99;

/**
 * The q-quantile (0..1, nearest rank) of a Float32Array without NaN; reorders it in place
 * (quickselect: linear time, so a 200 x 200 matrix costs well under a millisecond).
 */
export function quantileInPlace(sample, q) {
  const n = sample.length;
  if (!n) return NaN;
  const k = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = sample[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (sample[i] < pivot) i++;
      while (sample[j] > pivot) j--;
      if (i <= j) {
        const t = sample[i];
        sample[i] = sample[j];
        sample[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return sample[k];
}

/** Rows a robust scale skips for an n-item causal matrix (their few keys share ~1). */
export const trivialRows = (n) => Math.max(1, Math.round(n / 10));

/**
 * The colour scale for a rows x cols matrix (row-major `values`).
 * mode "robust": 0..the 99th percentile of the finite off-diagonal weights, skipping the
 *   first trivialRows(n) queries when `causal` (their weights are ~1/(q+1) by construction);
 *   weights above it are drawn at the brightest colour. Falls back to the max when that is
 *   within 10% of it (nothing would be clipped worth saying so) or there is no sample.
 * mode "row": each row from 0 to its own finite max.
 * mode "max": 0..the largest finite value.
 * Returns { mode, max, rowMax (Float32Array | null), clipped (bool), label }.
 */
export function chooseScale(values, rows, cols, { mode = "robust", causal = false } = {}) {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > max && v !== Infinity) max = v;
  }
  if (mode === "row") {
    const rowMax = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let m = 0;
      const end = causal ? Math.min(r + 1, cols) : cols;
      for (let c = 0; c < end; c++) {
        const v = values[r * cols + c];
        if (v > m && v !== Infinity) m = v;
      }
      rowMax[r] = m;
    }
    return { mode, max, rowMax, clipped: false, label: "colour: per row, 0–row max" };
  }
  if (mode === "robust" && max > 0) {
    const skip = causal ? Math.min(trivialRows(rows), rows - 1) : 0;
    const sample = new Float32Array(values.length);
    let k = 0;
    for (let r = skip; r < rows; r++) {
      const end = causal ? Math.min(r + 1, cols) : cols;
      for (let c = 0; c < end; c++) {
        if (causal && c === r) continue;
        const v = values[r * cols + c];
        if (!Number.isNaN(v) && v !== Infinity) sample[k++] = v;
      }
    }
    const robust = quantileInPlace(sample.subarray(0, k), QUANTILE);
    if (robust > 0 && robust < 0.9 * max) {
      return { mode, max: robust, rowMax: null, clipped: true, label: `colour: 0–${fmt(robust)} (99th pct)` };
    }
  }
  return {
    mode: mode === "row" ? "row" : mode,
    max,
    rowMax: null,
    clipped: false,
    label: `colour: 0–${fmt(max)} (max)`,
  };
}
