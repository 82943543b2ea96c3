// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { Explanation } from "../src/explanation.js";
import { serializeSvg } from "../src/export.js";
import { mount, painted, view } from "./harness.js";
import { encodeArchive, fixture, makePack } from "./helpers.js";

const drawCount = (el, sel = "canvas.aw-seq-heatmap") => Number(el.querySelector(sel).dataset.drawCount);

describe("AttentionExplorer front end", () => {
  it("renders every view and shows hostile text as text", async () => {
    const { el } = mount();
    const root = el.querySelector(".attnwidget");
    expect(root).not.toBeNull();
    for (const sel of [
      "canvas.aw-seq-heatmap",
      "canvas.aw-feat-heatmap",
      ".aw-bars",
      ".aw-recs",
      "svg.aw-graph",
      "input.aw-head-slider",
      "input.aw-layer-slider",
      "input.aw-user-slider",
      "input.aw-user-input",
    ]) {
      expect(el.querySelector(sel), sel).not.toBeNull();
    }
    expect(el.querySelectorAll(".aw-rec")).toHaveLength(2);
    expect(el.querySelector(".aw-rec .aw-rec-title").textContent).toBe("Camera bag");
    const titles = [...el.querySelectorAll("svg.aw-graph title")].map((t) => t.textContent);
    expect(titles.some((t) => t.startsWith("<img src=x onerror=alert(1)>"))).toBe(true);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".aw-truncated").textContent).toContain("3 of 10");
    expect(el.querySelector(".aw-warnings").textContent).toContain("NaN");
    expect(drawCount(el)).toBe(1);
    // the feature heatmaps follow in the frame after the sequence heatmap's paint
    expect(el.querySelector("canvas.aw-feat-heatmap").dataset.drawCount).toBeUndefined();
    expect(el.querySelector(".aw-feat .aw-note").hidden).toBe(true); // no "has no feature attention" flash
    await painted();
    expect(drawCount(el, "canvas.aw-feat-heatmap")).toBe(1);
  });

  it("tries the counterfactual as a what-if edit with one click, and says while it is computed", () => {
    const { el, model } = mount({ payload: view(fixture("sample.pack")) });
    const apply = el.querySelector(".aw-cf-apply");
    expect(apply.hidden).toBe(false);
    apply.click();
    expect(model.get("history_edit")).toEqual(["i1", "i2"]); // the history without 'Lens'
    expect(apply.disabled).toBe(true); // until the kernel answers
    const pending = mount({ payload: view(fixture("what-if.pack")) }).el;
    expect(pending.querySelector(".aw-cf-text").textContent).toBe("computing…");
    expect(pending.querySelector(".aw-cf-apply").hidden).toBe(true);
    expect(pending.querySelectorAll(".aw-rec-reason")).toHaveLength(0); // not computed yet
  });

  it("exports the graph as standalone SVG with escaped text", () => {
    const { el } = mount();
    const text = serializeSvg(el.querySelector("svg.aw-graph"));
    expect(text).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(text).not.toContain("<img");
    expect(text).toMatch(/<rect [^>]*fill="/); // background
    expect(text).toMatch(/style="[^"]*fill:/); // inlined styles
  });

  it("redraws locally when head, layer or mode change", async () => {
    const { model, el } = mount();
    await painted();
    model.set("head", 1);
    expect(drawCount(el)).toBe(2);
    expect(Number(el.querySelector(".attnwidget").dataset.redrawMs)).toBeGreaterThanOrEqual(0);
    const slider = el.querySelector("input.aw-layer-slider");
    slider.value = "1";
    slider.dispatchEvent(new Event("input"));
    expect(model.state.layer).toBe(1);
    expect(drawCount(el)).toBe(3);
    expect(el.querySelector(".aw-seq .aw-sub").textContent).toBe("layer 1 · head 1");
    model.set("layer_mode", "rollout");
    expect(el.querySelector(".aw-seq .aw-sub").textContent).toBe("rollout through layer 1");
    expect(el.querySelector("input.aw-head-slider").disabled).toBe(true);
    const node = el.querySelector("svg.aw-graph .aw-node-hist");
    const where = node.getAttribute("transform");
    model.set("layer_mode", "layer");
    expect(el.querySelector("svg.aw-graph .aw-node-hist")).toBe(node); // graph not rebuilt
    expect(node.getAttribute("transform")).toBe(where); // and not moved
    model.set("layer", 7); // out of range: clamped, same view, no redraw
    expect(drawCount(el)).toBe(5);
    expect(drawCount(el, "canvas.aw-feat-heatmap")).toBe(1);
  });

  it("shows errors as text and keeps working", () => {
    const { model, el } = mount();
    model.set("error", "Unknown user '<b>zz</b>'");
    const error = el.querySelector(".aw-error");
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("Unknown user '<b>zz</b>'");
    expect(el.querySelector("b")).toBeNull();
    model.set("error", "");
    expect(error.hidden).toBe(true);

    model.set("payload", view(new TextEncoder().encode("garbage!")));
    expect(error.textContent).toMatch(/Could not read the explanation: not an attnwidget pack/);
    expect(el.querySelector(".aw-empty").hidden).toBe(false);
    model.set("user", "u9");
    model.set("payload", view(makePack({ user: "u9", n: 4 })));
    expect(error.hidden).toBe(true);
    expect(el.querySelectorAll(".aw-rec")).toHaveLength(3);
  });

  it("shows an empty state for a user without history", () => {
    const { el } = mount({ payload: view(makePack({ n: 0, L: 1, H: 1 })) });
    expect(el.querySelector(".aw-empty").hidden).toBe(false);
    expect(el.querySelector(".aw-empty").textContent).toContain("no history");
    expect(el.querySelector(".aw-grid").hidden).toBe(true);
  });

  it("shift-click selects history items and syncs the selection trait", () => {
    const { model, el } = mount();
    const canvas = el.querySelector("canvas.aw-seq-heatmap");
    // no layout in jsdom: the canvas sits at (0, 0); 3 items -> 22 px cells from (128, 6)
    const at = (col, row) => ({ clientX: 128 + 22 * col + 5, clientY: 6 + 22 * row + 5, bubbles: true });
    canvas.dispatchEvent(new MouseEvent("click", { ...at(1, 2), shiftKey: true }));
    canvas.dispatchEvent(new MouseEvent("click", { ...at(0, 2), shiftKey: true }));
    expect(model.state.selection).toEqual([0, 1]);
    expect(el.querySelector(".aw-selected-sum").textContent).toMatch(/^Σ 0\.\d+/);
    canvas.dispatchEvent(new MouseEvent("mousemove", at(1, 2)));
    expect(el.querySelector(".aw-tooltip").textContent).toContain("key: Tripod (position 1)");
    expect(el.querySelector("svg.aw-graph .aw-node.aw-lit title").textContent).toContain("Tripod");
    model.set("selection", [2]);
    expect(el.querySelector(".aw-dist dt:last-of-type").textContent).toBe("selected (1)");
  });

  it("switches users from the archive with no kernel", () => {
    const archive = encodeArchive([makePack({ user: "a", n: 3, recs: 1 }), makePack({ user: "b", n: 6, recs: 4 })]);
    const { model, el } = mount({
      user: "a",
      users: [],
      payload: new DataView(new ArrayBuffer(0)),
      archive: view(archive),
    });
    expect(el.querySelectorAll(".aw-rec")).toHaveLength(1);
    const slider = el.querySelector("input.aw-user-slider");
    expect(slider.max).toBe("1");
    const box = el.querySelector("input.aw-user-input");
    box.value = "nobody";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(el.querySelector(".aw-error").textContent).toBe("Unknown user 'nobody'");
    expect(model.state.user).toBe("a");
    slider.value = "1";
    slider.dispatchEvent(new Event("change"));
    expect(model.state.user).toBe("b");
    expect(el.querySelectorAll(".aw-rec")).toHaveLength(4);
    expect(el.querySelector(".aw-error").hidden).toBe(true);
  });

  it("reports a malformed archive and removes its listeners on cleanup", () => {
    const { model, el, cleanup } = mount({ archive: view(new TextEncoder().encode("ATWA\x09\x00\x00\x00")) });
    expect(el.querySelector(".aw-error").textContent).toMatch(/Could not read the archive/);
    expect(el.querySelectorAll(".aw-rec")).toHaveLength(2); // falls back to the payload
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("handles a long history (n=200, L=4, H=8), building its graph after the first paint", {
    timeout: 30_000,
  }, async () => {
    const { model, el } = mount({ payload: view(makePack({ n: 200, L: 4, H: 8, recs: 10 })) });
    const svg = el.querySelector("svg.aw-graph");
    expect(svg.dataset.pending).toBe("true"); // the heatmaps are drawn, the graph follows
    model.set("head", 7);
    model.set("head_mode", "mean");
    model.set("layer", 3);
    expect(drawCount(el)).toBe(4);
    // jsdom timings mean little (no real canvas); the browser benchmark measures this.
    expect(Number(el.querySelector(".attnwidget").dataset.redrawMs)).toBeGreaterThan(0);
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0))));
    expect(svg.dataset.pending).toBeUndefined();
    expect(el.querySelectorAll("svg.aw-graph .aw-link-attn").length).toBe(199); // 1 edge per query
    // ... with the last layer/head asked for while it waited (layer 3, mean of heads)
    expect(svg.closest(".aw-card").querySelector(".aw-sub").textContent).toBe("layer 3 · mean of 8 heads");
  });
});

describe("static export", () => {
  it("decodes the archive's users next to the shown one while idle", async () => {
    const decodes = vi.spyOn(Explanation, "fromBytes");
    const packs = ["a", "b", "c", "d"].map((user) => makePack({ user, n: 3 }));
    const { model, el } = mount({
      user: "b",
      users: [],
      payload: new DataView(new ArrayBuffer(0)),
      archive: view(encodeArchive(packs)),
    });
    const users = () => decodes.mock.results.map((r) => r.value.user);
    expect(users()).toEqual(["b"]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(users()).toEqual(["b", "c", "a"]); // next, then previous
    model.set("user", "c"); // already decoded: only drawn
    expect(users()).toEqual(["b", "c", "a"]);
    expect(el.querySelector(".aw-user-input").value).toBe("c");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(users()).toEqual(["b", "c", "a", "d"]);
    decodes.mockRestore();
  });
});
