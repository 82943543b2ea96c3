import { describe, expect, it } from "vitest";
import { block, compareRecs, difference, positionsOf, sharedItems, sharedView, shownBlocks } from "../src/compare.js";
import { Explanation } from "../src/explanation.js";
import { makePack } from "./helpers.js";

const expl = (options) => Explanation.fromBytes(makePack(options));

describe("compare view", () => {
  it("lists every item of either top-k with both ranks and the change", () => {
    const a = expl({ recs: 4, recIds: ["x", "y", "z", "w"] });
    const b = expl({ recs: 4, recIds: ["z", "x", "v", "w"] });
    const rows = compareRecs(a, b);
    const by = Object.fromEntries(rows.map((r) => [r.id, [r.rankA, r.rankB, r.change]]));
    expect(by).toEqual({
      x: [1, 2, "down 1"],
      y: [2, null, "only in a"],
      z: [3, 1, "up 2"],
      w: [4, 4, "same"],
      v: [null, 3, "only in b"],
    });
    expect(rows.map((r) => r.id)).toEqual(["x", "y", "z", "w", "v"]); // a's order, then b's
  });

  it("compares the items both saw, and only the layers and heads both have", () => {
    const a = expl({ n: 5, L: 2, H: 3 });
    const b = expl({ n: 3, L: 1, H: 2, ids: ["i2", "i3", "i4"] });
    const view = sharedView(a, b, { layer: 1, head: 2, headMode: "head" });
    expect(view).toMatchObject({ m: 3, L: 1, H: 0, layer: 0, headMode: "mean" });
    const other = expl({ n: 3, ids: ["p", "q", "r"] });
    expect(sharedView(a, other).m).toBeNull();
  });

  it("subtracts the last m x m blocks of the chosen matrices", () => {
    const a = expl({ n: 4, L: 1, H: 2 });
    const b = expl({ n: 4, L: 1, H: 2 });
    const view = sharedView(a, b, { head: 1 });
    expect(Array.from(difference(a, b, view))).toEqual(new Array(16).fill(0));
    const full = a.matrix({ layer: 0, head: 1 });
    const last2 = block(a, { ...view, m: 2 }, 2);
    expect(Array.from(last2)).toEqual([full[2 * 4 + 2], full[2 * 4 + 3], full[3 * 4 + 2], full[3 * 4 + 3]]);
  });

  it("two users with other histories: each heatmap shows its own history, no difference", () => {
    const a = expl({ user: "u1", n: 4, ids: ["p", "q", "r", "s"] });
    const b = expl({ user: "u2", n: 3, ids: ["s", "t", "q"] });
    const view = sharedView(a, b);
    expect(view.m).toBeNull(); // their last items differ: B − A is not defined
    expect(sharedItems(a, b)).toBe(2); // q and s
    const blocks = shownBlocks(a, b, view.m);
    expect(blocks).toEqual([
      { offset: 0, size: 4 },
      { offset: 0, size: 3 },
    ]);
    // hovering q lights it wherever it is in each history
    expect([...positionsOf(a, blocks[0], "q")]).toEqual([1]);
    expect([...positionsOf(b, blocks[1], "q")]).toEqual([2]);
    expect(positionsOf(b, blocks[1], "p").size).toBe(0);
    expect(positionsOf(a, blocks[0], null).size).toBe(0);
  });

  it("two users whose histories end alike are compared over those items", () => {
    const a = expl({ user: "u1", n: 4, ids: ["p", "q", "r", "s"] });
    const b = expl({ user: "u2", n: 2, ids: ["r", "s"] });
    const view = sharedView(a, b);
    expect(view.m).toBe(2);
    const blocks = shownBlocks(a, b, view.m);
    expect(blocks).toEqual([
      { offset: 2, size: 2 },
      { offset: 0, size: 2 },
    ]);
    expect([...positionsOf(a, blocks[0], "s")]).toEqual([1]); // position within the block
    expect([...positionsOf(a, blocks[0], "p")]).toEqual([]); // outside the shown block
  });
});
