import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sumAt, summarize } from "../src/stats.js";

// The cases Python's distribution_stats is tested on too (tests/explain/test_stats_cases.py).
const { cases } = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "stats_cases.json"), "utf8"));
const KEYS = { entropy: "entropy", normalized_entropy: "entropyNorm", mse: "mse", std: "std" };

describe("summarize on the cases shared with Python", () => {
  it.each(cases.map((c) => [c.name, c]))("%s", (_name, { weights, expected }) => {
    const st = summarize(weights.map(Number)); // "NaN", "Infinity", "-Infinity" -> numbers
    for (const [key, value] of Object.entries(expected)) {
      if (value === null) expect(st[KEYS[key]], key).toBeNull();
      else expect(st[KEYS[key]], key).toBeCloseTo(value, 12);
    }
    expect(st.count + st.missing).toBe(weights.length);
  });
});

describe("summarize", () => {
  it("gives maximal entropy and zero spread for a uniform row", () => {
    const st = summarize([0.25, 0.25, 0.25, 0.25]);
    expect(st.entropy).toBeCloseTo(Math.log(4), 12);
    expect(st.entropyNorm).toBeCloseTo(1, 12);
    expect(st.mse).toBe(0);
    expect(st.std).toBe(0);
  });

  it("gives zero entropy for a one-hot row", () => {
    const st = summarize([0, 1, 0]);
    expect(st.entropy).toBeCloseTo(0, 12);
    expect(st.entropyNorm).toBeCloseTo(0, 12);
    expect(st.max).toBe(1);
    expect(st.argmax).toBe(1);
    expect(st.mse).toBeCloseTo(((1 / 3) ** 2 * 2 + (2 / 3) ** 2) / 3, 12);
    expect(st.std).toBeCloseTo(Math.sqrt(st.mse), 12);
  });

  it("matches hand-computed figures", () => {
    const w = [0.1, 0.2, 0.7];
    const st = summarize(w);
    const h = -w.reduce((a, p) => a + p * Math.log(p), 0);
    expect(st.entropy).toBeCloseTo(h, 6);
    expect(st.entropyNorm).toBeCloseTo(h / Math.log(3), 6);
    const mean = 1 / 3;
    expect(st.mse).toBeCloseTo(w.reduce((a, x) => a + (x - mean) ** 2, 0) / 3, 12);
  });

  it("skips NaN and renormalises", () => {
    const st = summarize([0.5, NaN, 0.5]);
    expect(st.count).toBe(2);
    expect(st.missing).toBe(1);
    expect(st.entropy).toBeCloseTo(Math.log(2), 12);
    expect(st.mse).toBe(0);
  });

  it("handles n = 1 and n = 0", () => {
    const one = summarize([1]);
    expect(one.entropy).toBe(0);
    expect(one.entropyNorm).toBeNull();
    const none = summarize([]);
    expect(none.entropy).toBeNull();
    expect(none.std).toBeNull();
    expect(summarize([NaN]).count).toBe(0);
  });
});

describe("sumAt", () => {
  it("sums selected weights, ignoring NaN and out-of-range positions", () => {
    expect(sumAt([0.1, 0.2, NaN, 0.4], new Set([1, 2, 3, 9, -1]))).toBeCloseTo(0.6, 12);
    expect(sumAt([0.1], [])).toBe(0);
    expect(sumAt([Infinity, 0.5], [0, 1])).toBe(0.5);
  });
});
