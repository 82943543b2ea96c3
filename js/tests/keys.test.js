import { describe, expect, it } from "vitest";
import { gridMove, isHandledKey, listMove } from "../src/keys.js";
import { BOM, csvBlob, toCsv } from "../src/export.js";

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe("key handling", () => {
  it("keeps moving keys, and acting keys where they act, but not modified shortcuts", () => {
    const on = (selector) => ({ matches: (sel) => sel.split(", ").includes(selector) });
    const slider = { matches: () => false }; // input[type=range]: Enter does nothing there
    for (const k of ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]) {
      expect(isHandledKey(key(k), slider), k).toBe(true);
    }
    for (const k of ["Enter", " ", "Delete"]) {
      expect(isHandledKey(key(k), on("canvas")), k).toBe(true);
      expect(isHandledKey(key(k), on(".aw-node")), k).toBe(true);
      expect(isHandledKey(key(k), slider), k).toBe(false); // Enter on a slider: the notebook's
    }
    expect(isHandledKey(key("Enter", { shiftKey: true }), on(".aw-rec"))).toBe(true); // shift-click
    expect(isHandledKey(key("Enter", { ctrlKey: true }), on("canvas"))).toBe(false); // run cell
    expect(isHandledKey(key("s", { ctrlKey: true }), slider)).toBe(false); // save
    expect(isHandledKey(key("ArrowUp", { metaKey: true }), slider)).toBe(false);
    expect(isHandledKey(key("Escape"), on("canvas"))).toBe(false);
    expect(isHandledKey(key("a"), on("canvas"))).toBe(false);
  });

  it("moves in a list and clamps at its ends", () => {
    expect(listMove("ArrowDown", 0, 3)).toBe(1);
    expect(listMove("ArrowRight", 2, 3)).toBe(2);
    expect(listMove("ArrowUp", 0, 3)).toBe(0);
    expect(listMove("End", 0, 3)).toBe(2);
    expect(listMove("Home", 2, 3)).toBe(0);
    expect(listMove("PageDown", 0, 30)).toBe(10);
    expect(listMove("x", 0, 3)).toBeNull();
    expect(listMove("ArrowDown", 0, 0)).toBeNull();
  });

  it("moves in a causal grid without leaving the lower triangle", () => {
    const grid = { rows: 5, cols: 5, lower: true };
    expect(gridMove("ArrowRight", { row: 2, col: 2 }, grid)).toEqual({ row: 2, col: 2 });
    expect(gridMove("ArrowLeft", { row: 2, col: 2 }, grid)).toEqual({ row: 2, col: 1 });
    expect(gridMove("ArrowUp", { row: 2, col: 2 }, grid)).toEqual({ row: 1, col: 1 });
    expect(gridMove("ArrowDown", { row: 4, col: 0 }, grid)).toEqual({ row: 4, col: 0 });
    expect(gridMove("End", { row: 3, col: 0 }, grid)).toEqual({ row: 3, col: 3 });
    expect(gridMove("End", { row: 3, col: 0 }, { rows: 5, cols: 3 })).toEqual({ row: 3, col: 2 });
    expect(gridMove("Tab", { row: 0, col: 0 }, grid)).toBeNull();
  });
});

describe("CSV export", () => {
  it("starts with a UTF-8 byte order mark so Excel reads '–' right", async () => {
    const blob = csvBlob([["price"], ["$200–400"]]);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    expect(Array.from(bytes.slice(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)).toBe(`${BOM}price\n$200–400`);
    expect(toCsv([["a"]])).toBe("a"); // the text itself has no BOM
    expect(blob.type).toBe("text/csv;charset=utf-8");
  });
});
