import { describe, expect, it } from "vitest";
import { LUT, writePixels } from "../src/colors.js";
import { chooseScale, quantileInPlace, trivialRows } from "../src/scale.js";

/** A causal n x n matrix with uniform rows (1/(q+1)): the untrained model's picture. */
function uniformCausal(n) {
  const m = new Float32Array(n * n);
  for (let q = 0; q < n; q++) for (let k = 0; k <= q; k++) m[q * n + k] = 1 / (q + 1);
  return m;
}

describe("colour scale", () => {
  it("takes nearest-rank quantiles", () => {
    expect(quantileInPlace(Float32Array.from([5, 1, 4, 2, 3]), 0.5)).toBe(3);
    expect(quantileInPlace(Float32Array.from([5, 1, 4, 2, 3]), 0.99)).toBe(5);
    expect(quantileInPlace(new Float32Array(0), 0.99)).toBeNaN();
    // agrees with sorting on random data, ties and sorted runs included
    let seed = 7;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (const n of [1, 2, 3, 10, 101, 5000]) {
      for (const q of [0, 0.5, 0.9, 0.99, 1]) {
        const data = Float32Array.from({ length: n }, (_, i) => (i % 3 ? Math.round(rand() * 20) / 20 : i / n));
        const sorted = Float32Array.from(data).sort();
        const want = sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
        expect(quantileInPlace(Float32Array.from(data), q), `n=${n} q=${q}`).toBe(want);
      }
    }
    expect(trivialRows(200)).toBe(20);
    expect(trivialRows(3)).toBe(1);
  });

  it("leaves out the trivial first rows and the diagonal of a long causal matrix", () => {
    const n = 200;
    const scale = chooseScale(uniformCausal(n), n, n, { causal: true });
    // rows >= 20 hold weights <= 1/21; the 0..1 scale made all of them the darkest tenth
    expect(scale.max).toBeLessThanOrEqual(1 / 21 + 1e-6);
    expect(scale.max).toBeGreaterThan(1 / 40);
    expect(scale.clipped).toBe(true);
    expect(scale.label).toBe(`colour: 0–${Number(scale.max.toPrecision(3))} (99th pct)`);
    // the median off-trivial weight (~1/120) now lands well above the bottom tenth
    expect(1 / 120 / scale.max).toBeGreaterThan(0.1);
  });

  it("keeps 0..max when the robust max is close to it (nothing worth clipping)", () => {
    const n = 4;
    const m = new Float32Array(n * n).fill(0.5);
    const scale = chooseScale(m, n, n, { causal: false });
    expect(scale).toMatchObject({ max: 0.5, clipped: false, label: "colour: 0–0.5 (max)" });
    expect(chooseScale(new Float32Array(4), 2, 2).label).toBe("colour: 0–0 (max)");
  });

  it("skips NaN and infinities, and scales per row on request", () => {
    const m = Float32Array.from([1, 0, NaN, 0.2]);
    expect(chooseScale(m, 2, 2, { mode: "max" }).max).toBe(1);
    const row = chooseScale(Float32Array.from([1, 0, 0.1, 0.3]), 2, 2, { mode: "row", causal: true });
    expect(Array.from(row.rowMax)).toEqual([1, Math.fround(0.3)]);
    expect(row.label).toBe("colour: per row, 0–row max");
  });

  it("writes clipped values at the brightest colour and per-row scales", () => {
    const out = new Uint8ClampedArray(4 * 4);
    writePixels(Float32Array.from([0.5, 0, 2, 1]), 2, 1, out, true);
    expect(out[3]).toBe(255);
    expect(out[7]).toBe(0); // masked future key
    expect(Array.from(out.slice(8, 11))).toEqual(Array.from(LUT.slice(255 * 3, 256 * 3))); // 2 > max
    writePixels(Float32Array.from([0.1, 0, 0.1, 0.2]), 2, 1, out, true, Float32Array.from([0.1, 0.2]));
    expect(Array.from(out.slice(0, 3))).toEqual(Array.from(LUT.slice(255 * 3, 256 * 3))); // row 0 max
    expect(Array.from(out.slice(12, 15))).toEqual(Array.from(LUT.slice(255 * 3, 256 * 3))); // row 1 max
  });
});
