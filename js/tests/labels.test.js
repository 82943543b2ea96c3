import { describe, expect, it } from "vitest";
import { chooseLabels, labelPriorities, MAX_LABELS } from "../src/labels.js";

const box = (id, x, y, priority, forced = false) => ({ id, x, y, w: 50, h: 14, priority, forced });

describe("graph label choice", () => {
  it("shows the most important labels that overlap nothing already shown", () => {
    const ids = chooseLabels([box("a", 0, 0, 5), box("b", 10, 5, 9), box("c", 100, 0, 1), box("d", 0, 40, 0)]);
    expect([...ids].sort()).toEqual(["b", "c"]); // a overlaps b (more important); d has no priority
  });

  it("always labels forced (hovered, pinned, selected) nodes, and others avoid them", () => {
    const ids = chooseLabels([box("a", 0, 0, 900), box("f", 10, 5, 0, true), box("g", 20, 8, 0, true)]);
    expect([...ids].sort()).toEqual(["f", "g"]);
  });

  it("caps the number of labels", () => {
    const many = Array.from({ length: 100 }, (_, i) => box(`n${i}`, (i % 10) * 60, Math.floor(i / 10) * 20, 100 - i));
    expect(chooseLabels(many).size).toBe(MAX_LABELS);
    expect(chooseLabels(many, { max: 3 })).toEqual(new Set(["n0", "n1", "n2"]));
  });

  it("ranks recommendations, the prediction position, important and heavy items, heavy features", () => {
    const nodes = [
      ...Array.from({ length: 100 }, (_, pos) => ({ id: `h${pos}`, kind: "hist", pos, mass: pos === 7 ? 9 : 1 })),
      { id: "r0", kind: "rec", rank: 0 },
      { id: "r1", kind: "rec", rank: 1 },
      { id: "fa", kind: "feat", mass: 3 },
    ];
    const p = labelPriorities(nodes, 100, [42, 3]);
    expect(p.get("r0")).toBeGreaterThan(p.get("r1"));
    expect(p.get("r1")).toBeGreaterThan(p.get("h99")); // prediction position
    expect(p.get("h99")).toBeGreaterThan(p.get("h42"));
    expect(p.get("h42")).toBeGreaterThan(p.get("h3")); // importance order
    expect(p.get("h3")).toBeGreaterThan(p.get("h7")); // important before heavy
    expect(p.get("h7")).toBeGreaterThan(p.get("fa"));
    expect(p.get("fa")).toBeGreaterThan(0);
    // a long history: light items only when forced
    expect(nodes.filter((d) => d.kind === "hist" && p.get(d.id) > 0)).toHaveLength(12);
  });
});
