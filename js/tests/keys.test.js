import { describe, expect, it } from "vitest";
import { gridMove, isHandledKey, listMove } from "../src/keys.js";
import { BOM, csvBlob, toCsv } from "../src/export.js";

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe("key handling", () => {
  it("keeps the notebook's navigation keys but not its modified shortcuts", () => {
    for (const k of ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown", "Enter", " "]) {
      expect(isHandledKey(key(k)), k).toBe(true);
    }
    expect(isHandledKey(key("Enter", { shiftKey: true }))).toBe(true); // shift-click on a cell
    expect(isHandledKey(key("Enter", { ctrlKey: true }))).toBe(false); // run cell
    expect(isHandledKey(key("s", { metaKey: true }))).toBe(false);
    expect(isHandledKey(key("Escape"))).toBe(false);
    expect(isHandledKey(key("a"))).toBe(false);
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
