import { describe, expect, it } from "vitest";
import { Explanation } from "../src/explanation.js";
import { importanceEdges } from "../src/graph-data.js";
import { appendId, historyChange, removeAt } from "../src/what-if.js";
import { agreementText, barLayout, fmtPercent, fmtTau, methodInfo } from "../src/why.js";
import { encodePack, fixture, makePack } from "./helpers.js";

describe("importance in the pack", () => {
  it("reads the Python fixture: methods, default, null agreement, note, NaN", () => {
    const e = Explanation.fromBytes(fixture("sample.pack"));
    const imp = e.importance;
    expect(imp.methods).toEqual(["attention", "rollout", "gradient", "occlusion"]);
    expect(imp.default).toBe("rollout");
    expect(Array.from(imp.values.get("rollout"))).toEqual([
      expect.closeTo(0.166, 3),
      expect.closeTo(0.272, 3),
      expect.closeTo(0.562, 3),
    ]);
    expect(imp.values.get("gradient").every((v) => Number.isNaN(v))).toBe(true);
    expect(imp.agreement.gradient).toEqual({ kendallTau: null, top1: null }); // NaN -> null in the encoder
    expect(imp.agreement.rollout).toEqual({ kendallTau: 0.4, top1: 0.4667 });
    expect(imp.note).toContain("<img src=x onerror=alert(1)>");
    expect(e.target.label).toBe("Camera bag");
    expect(e.editable).toBe(true);
    expect(e.whatIf).toBeNull();
    expect(e.historyIds()).toEqual(["i1", "i2", "i3"]);
    expect(e.pickMethod("")).toBe("rollout");
    expect(e.pickMethod("occlusion")).toBe("occlusion");
    expect(e.pickMethod("shap")).toBe("rollout");
  });

  it("describes each method as the kernel's header does, and nothing it does not describe", () => {
    const { header } = Explanation.fromBytes(fixture("sample.pack"));
    expect(methodInfo(header, "rollout")).toBe("attention rollout through all layers (prediction position)");
    expect(methodInfo(header, "shap")).toBe("");
    expect(methodInfo({ importance: { descriptions: { attention: 3 } } }, "attention")).toBe("");
    expect(methodInfo(Explanation.fromBytes(makePack({ n: 3 })).header, "attention")).toBe("");
  });

  it("has no importance in an old pack, and warns about a malformed array", () => {
    const old = Explanation.fromBytes(makePack({ n: 3 }));
    expect(old.importance).toBeNull();
    expect(old.editable).toBe(false);
    expect(old.pickMethod("attention")).toBeNull();
    const bad = encodePack(
      { history: [{ id: "a" }, { id: "b" }], importance: { methods: ["attention"], default: "attention" } },
      {
        seq_attn: { dtype: "float32", shape: [1, 1, 2, 2], values: [1, 0, 0.5, 0.5] },
        importance: { dtype: "float32", shape: [1, 3], values: [1, 2, 3] },
      },
    );
    const e = Explanation.fromBytes(bad);
    expect(e.importance).toBeNull();
    expect(e.warnings.join()).toMatch(/importance array is \[1,3\], expected \[1, 2\]/);
  });

  it("reads what_if", () => {
    const whatIf = {
      original_history: ["i0", "i1"],
      original_recommendations: [{ id: "r0", title: "R" }],
      entered: [{ id: "x", title: null }],
      left: [],
    };
    const e = Explanation.fromBytes(makePack({ n: 1, importance: true, editable: true, whatIf }));
    expect(e.whatIf.originalHistory).toEqual(["i0", "i1"]);
    expect(e.whatIf.entered[0].label).toBe("x"); // title null -> id
    expect(e.whatIf.left).toEqual([]);
  });
});

describe("agreement text", () => {
  const imp = Explanation.fromBytes(fixture("sample.pack")).importance;

  it("formats τ, percentages and missing figures", () => {
    expect(fmtTau(0.4)).toBe("0.40");
    expect(fmtTau(-0.019)).toBe("−0.02");
    expect(fmtTau(-0.001)).toBe("0.00");
    expect(fmtTau(null)).toBe("n/a");
    expect(fmtTau(NaN)).toBe("n/a");
    expect(fmtPercent(0.4667)).toBe("47%");
    expect(fmtPercent(undefined)).toBe("n/a");
  });

  it("names the method's agreement with occlusion, model-wide and for this user", () => {
    const t = agreementText(imp, "rollout");
    expect(t.model).toBe("Kendall τ vs occlusion 0.40 · top-1 agreement 47% (mean over 30 users)");
    expect(agreementText({ ...imp, nUsers: null }, "rollout").model).toBe(
      "Kendall τ vs occlusion 0.40 · top-1 agreement 47% (model mean over sampled users)",
    );
    // occlusion has a NaN item here, so this user's τ is undefined
    expect(t.user).toBe("this user: τ n/a · same top item as occlusion: no");
    expect(agreementText({ ...imp, nUsers: 30 }, "attention").model).toBe(
      "Kendall τ vs occlusion 0.10 · top-1 agreement 20% (mean over 30 users)",
    );
    const none = agreementText(imp, "gradient");
    expect(none.model).toBe("Kendall τ vs occlusion n/a · top-1 agreement n/a (mean over 30 users)");
    expect(none.user).toBe("this user: τ n/a · same top item as occlusion: n/a");
    expect(agreementText(imp, "occlusion").model).toMatch(/reference/);
    expect(agreementText(null, "attention")).toEqual({ model: "", user: "" });
  });

  it("says the model-level agreement is being computed while the kernel works on it", () => {
    const pending = { ...imp, pending: new Set(["agreement"]) };
    expect(agreementText(pending, "rollout").model).toBe("Agreement with occlusion over sampled users: computing…");
    expect(agreementText(pending, "rollout").user).toBe("this user: τ n/a · same top item as occlusion: no");
  });
});

describe("barLayout", () => {
  it("scales positive values from a zero line at the left", () => {
    const { zero, bars, top, missing } = barLayout(Float32Array.from([0.25, 1, 0.5]));
    expect([zero, top, missing]).toEqual([0, 1, 0]);
    expect(bars.map((b) => b.width)).toEqual([0.25, 1, 0.5]);
    expect(bars.every((b) => b.left === 0 && !b.negative)).toBe(true);
  });

  it("puts negative values left of the zero line and skips NaN", () => {
    const { zero, bars, top, missing } = barLayout([0.75, -0.25, NaN]);
    expect(zero).toBeCloseTo(0.25);
    expect(top).toBe(0);
    expect(missing).toBe(1);
    expect(bars[0]).toMatchObject({ negative: false, left: 0.25, width: 0.75 });
    expect(bars[1]).toMatchObject({ negative: true, left: 0, width: 0.25 });
    expect(bars[2]).toMatchObject({ missing: true, width: 0 });
  });

  it("copes with all-NaN, all-zero and empty rows", () => {
    expect(barLayout([NaN, NaN])).toMatchObject({ zero: 0, top: -1, missing: 2 });
    expect(barLayout([0, 0]).bars.map((b) => b.width)).toEqual([0, 0]);
    expect(barLayout([])).toMatchObject({ top: -1, bars: [] });
    expect(barLayout([-2, -1])).toMatchObject({ zero: 1, top: 1 });
  });
});

describe("what-if edits", () => {
  it("removes an item but never the last one", () => {
    expect(removeAt(["a", "b", "c"], 1)).toEqual(["a", "c"]);
    expect(removeAt(["a", "b"], 1)).toEqual(["a"]);
    expect(removeAt(["a"], 0)).toBeNull();
    expect(removeAt(["a", "b"], 2)).toBeNull();
    expect(removeAt(["a", "b"], -1)).toBeNull();
    expect(removeAt(["a", "b"], 0.5)).toBeNull();
  });

  it("appends as the newest item and counts changes with repeats", () => {
    expect(appendId(["a"], 7)).toEqual(["a", "7"]);
    expect(historyChange(["a", "b", "a"], ["a", "c"])).toEqual({ removed: 2, added: 1 });
    expect(historyChange(["a"], ["a"])).toEqual({ removed: 0, added: 0 });
  });
});

describe("importanceEdges", () => {
  it("keeps the largest positive finite values, normalised, to the explained recommendation", () => {
    const edges = importanceEdges(Float32Array.from([0.5, NaN, -1, 2, 0, 1]), 0, 2);
    expect(edges).toEqual([
      { id: "w3", source: "h3", target: "r0", weight: 1 },
      { id: "w5", source: "h5", target: "r0", weight: 0.5 },
    ]);
    expect(importanceEdges([NaN, -1, 0], 0)).toEqual([]);
    expect(importanceEdges([1, 2], -1)).toEqual([]);
    expect(importanceEdges(null, 0)).toEqual([]);
  });
});
