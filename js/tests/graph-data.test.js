import { describe, expect, it } from "vitest";
import { Explanation } from "../src/explanation.js";
import { attentionEdges, buildGraph, edgesPerQuery, receivedMass } from "../src/graph-data.js";
import { fixture, makePack } from "./helpers.js";

describe("attentionEdges", () => {
  // biome-ignore format: a 4 x 4 matrix, one row a line
  const m = Float32Array.from([
    1, 0, 0, 0,
    0.6, 0.4, 0, 0,
    0.2, 0.5, 0.3, 0,
    0.1, 0.3, NaN, 0.6,
  ]);
  it("keeps the top-k keys per query, without self loops, NaN or zeros", () => {
    const edges = attentionEdges(m, 4, 2);
    expect(edges.map((e) => e.id)).toEqual(["a1-0", "a2-1", "a2-0", "a3-1", "a3-0"]);
    expect(edges[1]).toMatchObject({ source: "h2", target: "h1", weight: 0.5 });
    expect(attentionEdges(m, 4, 1).map((e) => e.id)).toEqual(["a1-0", "a2-1", "a3-1"]);
  });
  it("sums received attention per key", () => {
    expect(Array.from(receivedMass(m, 4)).map((v) => +v.toFixed(3))).toEqual([1.9, 1.2, 0.3, 0.6]);
  });
});

describe("buildGraph", () => {
  it("builds item, recommendation and deduplicated feature nodes", () => {
    const e = Explanation.fromBytes(makePack({ n: 5, L: 1, H: 2, recs: 2 }));
    const g = buildGraph(e);
    const kinds = (k) => g.nodes.filter((n) => n.kind === k);
    expect(kinds("hist")).toHaveLength(5);
    expect(kinds("rec")).toHaveLength(2);
    // categories: cameras, lenses, bags; brands: Canon, Nikon, Sony (recs)
    expect(
      kinds("feat")
        .map((n) => n.label)
        .sort(),
    ).toEqual([
      "brand: Canon",
      "brand: Nikon",
      "brand: Sony",
      "category: bags",
      "category: cameras",
      "category: lenses",
    ]);
    expect(new Set(g.nodes.map((n) => n.id)).size).toBe(g.nodes.length);
    const ids = new Set(g.nodes.map((n) => n.id));
    for (const l of g.layoutLinks) expect(ids.has(l.source) && ids.has(l.target)).toBe(true);

    const featLinks = g.links.filter((l) => l.kind === "feat");
    expect(featLinks).toHaveLength(10); // 5 items x (category, brand)
    expect(featLinks[0].weight).toBeCloseTo(0.3, 6); // feat_attn[0, category]
    expect(g.links.filter((l) => l.kind === "rec").map((l) => l.source)).toEqual(["h4", "h4"]);
    expect(g.links.filter((l) => l.kind === "recfeat").every((l) => l.weight === null)).toBe(true);
    const canon = kinds("feat").find((n) => n.label === "brand: Canon");
    expect(canon.mass).toBeCloseTo(0.2 * 3, 5); // items 0, 2, 4
    expect(g.layoutLinks.length).toBeGreaterThan(g.links.length); // + overview attention edges
  });

  it("prunes edges for long histories", () => {
    expect([edgesPerQuery(10), edgesPerQuery(40), edgesPerQuery(200)]).toEqual([3, 2, 1]);
    const e = Explanation.fromBytes(makePack({ n: 60, L: 1, H: 1, recs: 0 }));
    const g = buildGraph(e);
    // shares are 0.5 / 0.3 / 0.2 for (item, category, brand): both feature shares < 1/3
    expect(g.links.filter((l) => l.kind === "feat")).toHaveLength(0);
    expect(buildGraph(e, { minShare: 0.25 }).links.filter((l) => l.kind === "feat")).toHaveLength(60);
    const overview = g.layoutLinks.filter((l) => l.id.startsWith("a"));
    expect(overview).toHaveLength(1 + 58 * 2); // 2 per query (n = 60); query 1 has one other key
  });

  it("works with the Python fixture and with item-only packs", () => {
    const g = buildGraph(Explanation.fromBytes(fixture("sample.pack")));
    expect(g.nodes.find((n) => n.id === "h0").label).toBe("<img src=x onerror=alert(1)>");
    const lone = buildGraph(Explanation.fromBytes(makePack({ n: 1, L: 1, H: 1, recs: 0 })));
    expect(lone.nodes.filter((n) => n.kind === "hist")).toHaveLength(1);
    expect(lone.layoutLinks.filter((l) => l.id.startsWith("a"))).toHaveLength(0);
  });
});
