import { describe, expect, it, vi } from "vitest";
import { toCsv } from "../src/export.js";
import { fmt, truncate } from "../src/dom.js";
import { Explanation } from "../src/explanation.js";
import { Links, featureKey, resolveTarget } from "../src/links.js";
import { encodePack, makePack } from "./helpers.js";

describe("resolveTarget", () => {
  const e = Explanation.fromBytes(makePack({ n: 6, L: 1, H: 1, recs: 3 }));
  it("lights the item, every repeat of its id and matching recommendations", () => {
    const repeat = Explanation.fromBytes(
      encodePack(
        { history: [{ id: "a" }, { id: "b" }, { id: "a" }], recommendations: [{ id: "a" }] },
        { seq_attn: { dtype: "float32", shape: [1, 1, 3, 3], values: new Array(9).fill(0) } },
      ),
    );
    const lit = resolveTarget(repeat, { kind: "hist", pos: 2 });
    expect([...lit.positions]).toEqual([0, 2]);
    expect([...lit.ranks]).toEqual([0]);
  });
  it("lights every item with a feature value", () => {
    const lit = resolveTarget(e, { kind: "feat", field: "category", value: "cameras" });
    expect([...lit.positions]).toEqual([0, 3]);
    expect([...lit.ranks]).toEqual([0]);
    expect(lit.features.has(featureKey("category", "cameras"))).toBe(true);
  });
  it("is empty for nothing or a stale target", () => {
    expect(resolveTarget(e, null).positions.size).toBe(0);
    expect(resolveTarget(e, { kind: "hist", pos: 99 }).positions.size).toBe(0);
  });
});

describe("Links", () => {
  it("hovers, pins and shift-selects", () => {
    const changed = vi.fn();
    const links = new Links(changed);
    links.setHover({ kind: "hist", pos: 1 });
    links.setHover({ kind: "hist", pos: 1 });
    expect(changed).toHaveBeenCalledTimes(1);
    links.click({ kind: "rec", rank: 0 }, false);
    links.setHover(null);
    expect(links.active).toEqual({ kind: "rec", rank: 0 });
    links.click({ kind: "rec", rank: 0 }, false);
    expect(links.active).toBeNull();
    links.click({ kind: "hist", pos: 2 }, true);
    links.click({ kind: "hist", pos: 4 }, true);
    links.click({ kind: "hist", pos: 2 }, true);
    expect([...links.selection]).toEqual([4]);
    expect(changed).toHaveBeenLastCalledWith(true);
    expect(links.setSelection([4])).toBe(false);
    expect(links.setSelection([1, 3])).toBe(true);
  });
});

describe("text helpers", () => {
  it("truncates, formats and writes safe CSV", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abc", 4)).toBe("abc");
    expect(fmt(0.123456)).toBe("0.123");
    expect(fmt(NaN)).toBe("—");
    expect(fmt(null)).toBe("—");
    expect(fmt(0.00001234)).toBe("1.2e-5");
    expect(toCsv([["a,b", 'say "hi"', "=cmd()", -1.5, null]])).toBe('"a,b","say ""hi""",\'=cmd(),-1.5,');
  });
});
