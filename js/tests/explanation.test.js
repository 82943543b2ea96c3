import { describe, expect, it } from "vitest";
import { PackError } from "../src/decode.js";
import { Explanation } from "../src/explanation.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { causal, encodePack, fixture, makePack } from "./helpers.js";

// The layer/head choices Python's explain.selected_attention is tested on too
// (tests/explain/test_view_cases.py), with the matrix each must show.
const VIEWS = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "view_cases.json"), "utf8"));
const numbers = (values) => values.map((v) => (v === null ? Number.NaN : v));

function viewCasesPack() {
  const [L, H, n] = VIEWS.shape;
  const history = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, title: `Item ${i}`, features: {} }));
  const header = { user: "u1", n_layers: L, n_heads: H, fields: ["item"], history, recommendations: [], warnings: [] };
  return encodePack(header, {
    seq_attn: { dtype: "float32", shape: [L, H, n, n], values: numbers(VIEWS.attention) },
    rollout: { dtype: "float32", shape: [L, n, n], values: numbers(VIEWS.rollout) },
    feat_attn: { dtype: "float32", shape: [n, 1], values: new Array(n).fill(1) },
  });
}

describe("Explanation", () => {
  it("decodes only the matrices a view shows, and knows of NaN from the header", () => {
    const e = Explanation.fromBytes(new DataView(fixture("sample.pack").buffer));
    expect(e.header.nonfinite.seq_attn).toBeTruthy(); // the kernel lists the NaN it sent
    expect(e.hasMissing).toBe(true);
    const shown = e.matrix({ layer: 1, head: 0 });
    expect(e.seqArray.left).toBe(e.L * e.H - 1);
    expect(Array.from(shown)).toEqual(Array.from(e.seq.subarray(2 * e.n * e.n, 3 * e.n * e.n)));
    expect(e.seqArray.left).toBe(0);
  });

  it("selects a head, the head mean and the rollout", () => {
    const e = Explanation.fromBytes(makePack({ n: 4, L: 2, H: 3 }));
    expect([e.n, e.L, e.H]).toEqual([4, 2, 3]);
    const ref = causal(2, 3, 4);
    const head = e.matrix({ layer: 1, head: 2 });
    expect(head).toHaveLength(16);
    expect(head[3 * 4 + 3]).toBeCloseTo(ref[((1 * 3 + 2) * 4 + 3) * 4 + 3], 3);
    expect(head.buffer).toBe(e.seq.buffer); // a view, no copy

    const mean = e.matrix({ layer: 1, headMode: "mean" });
    for (let i = 0; i < 16; i++) {
      const expected = (ref[3 * 4 * 4 + i] + ref[4 * 4 * 4 + i] + ref[5 * 4 * 4 + i]) / 3;
      expect(mean[i]).toBeCloseTo(expected, 3);
    }
    expect(e.matrix({ layer: 1, head: 0, headMode: "mean" })).toBe(mean); // cached

    const roll = e.matrix({ layer: 1, head: 2, layerMode: "rollout", headMode: "mean" });
    expect(Array.from(roll)).toEqual(Array.from(e.rollout.subarray(16, 32)));
    expect(Array.from(e.predictionRow(head))).toEqual(Array.from(head.subarray(12, 16)));
  });

  it("shows the matrix Python's selected_attention chooses, NaN weights included", () => {
    const e = Explanation.fromBytes(viewCasesPack());
    for (const { view, matrix } of VIEWS.cases) {
      const chosen = e.matrix({
        layer: view.layer,
        head: view.head,
        layerMode: view.layer_mode,
        headMode: view.head_mode,
      });
      const expected = numbers(matrix);
      expect(chosen).toHaveLength(expected.length);
      chosen.forEach((v, i) => {
        if (Number.isNaN(expected[i])) expect(v, `${JSON.stringify(view)} [${i}]`).toBeNaN();
        else expect(v, `${JSON.stringify(view)} [${i}]`).toBeCloseTo(expected[i], 6);
      });
    }
  });

  it("clamps the view to the pack", () => {
    const e = Explanation.fromBytes(makePack({ n: 3, L: 2, H: 2 }));
    expect(e.clampView({ layer: 9, head: -1, layerMode: "x", headMode: "mean" })).toEqual({
      layer: 1,
      head: 0,
      layerMode: "layer",
      headMode: "mean",
    });
    expect(e.clampView({})).toEqual({ layer: 0, head: 0, layerMode: "layer", headMode: "head" });
    expect(e.describe({ layer: 1, head: 1 })).toBe("layer 1 · head 1");
    expect(e.describe({ layer: 1, headMode: "mean" })).toBe("layer 1 · mean of 2 heads");
    expect(e.describe({ layer: 0, layerMode: "rollout" })).toBe("rollout through layer 0");
  });

  it("reads the Python fixture: NaN weights, warnings, truncation", () => {
    const e = Explanation.fromBytes(fixture("sample.pack"));
    expect(e.hasMissing).toBe(true);
    expect(e.warnings).toHaveLength(2);
    expect(e.truncated).toEqual({ total: 10, shown: 3 });
    expect(e.history[0].label).toBe("<img src=x onerror=alert(1)>");
    const mean = e.matrix({ layer: 1, headMode: "mean" });
    // (2, 0) is NaN in head 1 only: the mean skips it
    expect(mean[2 * 3 + 0]).toBeCloseTo(e.seq[((1 * 2 + 0) * 3 + 2) * 3 + 0], 5);
  });

  it("is NaN only where every head is NaN", () => {
    const pack = encodePack(
      { history: [{ id: "a" }] },
      { seq_attn: { dtype: "float32", shape: [1, 2, 1, 1], values: [NaN, NaN] } },
    );
    const e = Explanation.fromBytes(pack);
    expect(e.matrix({ headMode: "mean" })[0]).toBeNaN();
    expect(e.rollout).toBeNull();
    expect(e.clampView({ layerMode: "rollout" }).layerMode).toBe("layer");
    expect(e.history[0].label).toBe("a");
  });

  it("shows the kernel's non-finite warning once instead of adding its own", () => {
    const arrays = { seq_attn: { dtype: "float32", shape: [1, 1, 1, 1], values: [NaN] } };
    const plain = Explanation.fromBytes(encodePack({ history: [{ id: "a" }] }, arrays));
    expect(plain.warnings).toEqual(["Some attention weights are NaN: drawn grey and left out of the statistics."]);
    const header = {
      history: [{ id: "a" }],
      nonfinite: { seq_attn: { nan: 0, posinf: 1, neginf: 0 } },
      warnings: ["The attention has 1 value(s) that are not finite numbers (1 +inf)."],
    };
    const noted = Explanation.fromBytes(encodePack(header, arrays));
    expect(noted.hasMissing).toBe(true);
    expect(noted.warnings).toEqual(header.warnings);
  });

  it("handles n = 1 and n = 0", () => {
    expect(Explanation.fromBytes(makePack({ n: 1, L: 1, H: 1 })).matrix({})).toHaveLength(1);
    const empty = Explanation.fromBytes(makePack({ n: 0, L: 1, H: 1 }));
    expect(empty.n).toBe(0);
    expect(empty.matrix({})).toHaveLength(0);
  });

  it("rejects shapes that disagree with the header", () => {
    const wrong = encodePack(
      { history: [{ id: "a" }, { id: "b" }] },
      { seq_attn: { dtype: "float32", shape: [1, 1, 3, 3], values: new Array(9).fill(0) } },
    );
    expect(() => Explanation.fromBytes(wrong)).toThrow(PackError);
    expect(() => Explanation.fromBytes(encodePack({ history: [] }))).toThrow(/seq_attn/);
    expect(() => Explanation.fromBytes(encodePack({}))).toThrow(/history/);
  });
});
