// Sequential colour scale (viridis, 10 stops interpolated into a 256-entry lookup table), a
// diverging one for signed values (score drops, differences: blue < 0 < red, white at 0), and
// the colours shared by the views.

// biome-ignore format: ten stops, five a row
const VIRIDIS = [
  "#440154", "#482878", "#3e4a89", "#31688e", "#26828e",
  "#1f9e89", "#35b779", "#6dcd59", "#b4de2c", "#fde725",
];

/** Colour of NaN ("missing") cells: a neutral grey that viridis never produces. */
export const MISSING = [154, 154, 154];
export const MISSING_CSS = "rgb(154,154,154)";
/** Categorical colours: history items, recommendations, then feature fields. */
export const HISTORY_CSS = "#4e79a7";
export const REC_CSS = "#f28e2b";
/** Importance edges (history item -> explained recommendation); negative importance bars. */
export const WHY_CSS = "#c04f15";
export const NEGATIVE_CSS = "#d62728";
export const FIELD_CSS = ["#76b7b2", "#b07aa1", "#edc948", "#ff9da7", "#9c755f", "#59a14f", "#bab0ac"];

// ColorBrewer RdBu, 9 classes, blue (negative) to red (positive)
// biome-ignore format: nine stops
const RDBU = ["#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"];

const hex = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));

/** 256 x RGB lookup table of a list of colour stops, index = round(255 * t). */
function lookupTable(colours) {
  const stops = colours.map(hex);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(x), stops.length - 2);
    const f = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
  }
  return lut;
}

/** Viridis, 256 x RGB, index = round(255 * t). */
export const LUT = lookupTable(VIRIDIS);
/** Diverging RdBu, 256 x RGB: index 0 is -max, 127.5 is 0, 255 is +max. */
export const DIVERGING_LUT = lookupTable(RDBU);

/** [r, g, b] for t in [0, 1] (clamped); MISSING for NaN. */
export function rgbAt(t) {
  if (Number.isNaN(t)) return MISSING;
  const i = Math.round(Math.min(Math.max(t, 0), 1) * 255) * 3;
  return [LUT[i], LUT[i + 1], LUT[i + 2]];
}

/** CSS colour string for t in [0, 1] (of the diverging scale, t = 0.5 is zero). */
export function cssAt(t, lut = LUT) {
  if (lut === LUT) {
    const [r, g, b] = rgbAt(t);
    return `rgb(${r},${g},${b})`;
  }
  const i = Math.round(Math.min(Math.max(t, 0), 1) * 255) * 3;
  return `rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]})`;
}

/** Largest finite value (0 when there is none). */
export function finiteMax(values) {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max && values[i] !== Infinity) max = values[i];
  return max;
}

/**
 * Write RGBA pixels for a rows x cols matrix into `out` (ImageData.data), scaled to
 * [0, max] (values above max get the brightest colour) or, with rowMax, each row to
 * [0, rowMax[row]]. With maskUpper, exact zeros above the diagonal (causally masked keys)
 * stay transparent.
 */
export function writePixels(values, cols, max, out, maskUpper = false, rowMax = null) {
  let scale = max > 0 ? 255 / max : 0;
  for (let i = 0, p = 0; i < values.length; i++, p += 4) {
    const v = values[i];
    const col = i % cols;
    if (rowMax && col === 0) {
      const m = rowMax[(i / cols) | 0];
      scale = m > 0 ? 255 / m : 0;
    }
    if (maskUpper && v === 0 && col > Math.floor(i / cols)) {
      out[p + 3] = 0;
      continue;
    }
    if (Number.isNaN(v)) {
      out[p] = MISSING[0];
      out[p + 1] = MISSING[1];
      out[p + 2] = MISSING[2];
    } else {
      const k = Math.round(Math.min(Math.max(v * scale, 0), 255)) * 3;
      out[p] = LUT[k];
      out[p + 1] = LUT[k + 1];
      out[p + 2] = LUT[k + 2];
    }
    out[p + 3] = 255;
  }
}

/**
 * RGBA pixels of signed values on the diverging scale: -max blue, 0 white, +max red
 * (beyond ±max clamped), NaN grey.
 */
export function writeDivergingPixels(values, max, out) {
  const scale = max > 0 ? 127.5 / max : 0;
  for (let i = 0, p = 0; i < values.length; i++, p += 4) {
    const v = values[i];
    if (Number.isNaN(v)) {
      out[p] = MISSING[0];
      out[p + 1] = MISSING[1];
      out[p + 2] = MISSING[2];
    } else {
      const k = Math.round(Math.min(Math.max(127.5 + v * scale, 0), 255)) * 3;
      out[p] = DIVERGING_LUT[k];
      out[p + 1] = DIVERGING_LUT[k + 1];
      out[p + 2] = DIVERGING_LUT[k + 2];
    }
    out[p + 3] = 255;
  }
}
