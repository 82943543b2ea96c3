// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { mount, painted, view } from "./harness.js";
import { encodeArchive, makePack } from "./helpers.js";

const press = (el, key, opts = {}) => {
  const event = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...opts });
  el.dispatchEvent(event);
  return event;
};

describe("keyboard, theme and messages", () => {
  it("keeps handled keys from the notebook around it, and no others", () => {
    const { el } = mount();
    const seen = [];
    const outside = (event) => seen.push([event.key, event.target.getAttribute("data-lm-suppress-shortcuts")]);
    document.addEventListener("keydown", outside);
    const slider = el.querySelector("input.aw-head-slider");
    slider.focus();
    press(slider, "ArrowUp");
    expect(slider.getAttribute("data-lm-suppress-shortcuts")).toBe("true"); // Lumino checks the target
    press(slider, "s", { ctrlKey: true });
    press(slider, "Enter"); // nothing to do on a slider: the notebook's
    press(slider, "Escape");
    const canvas = el.querySelector("canvas.aw-seq-heatmap");
    press(canvas, "Enter");
    document.removeEventListener("keydown", outside);
    // Ctrl+S, Enter on a slider and Escape reach the notebook, with no suppressing attribute
    expect(seen).toEqual([
      ["s", null],
      ["Enter", null],
      ["Escape", null],
    ]);
    expect(el.querySelector(".attnwidget").hasAttribute("data-lm-suppress-shortcuts")).toBe(false);
  });

  it("reaches and selects heatmap cells, recommendations, why rows and graph nodes", () => {
    const { model, el } = mount({ payload: view(makePack({ n: 5, recs: 3, importance: true })) });
    const canvas = el.querySelector("canvas.aw-seq-heatmap");
    expect(canvas.getAttribute("tabindex")).toBe("0");
    canvas.focus();
    // a browser shows the focused cell on a Tab focus (:focus-visible); after a focus that
    // is not (a click, or jsdom), the first key shows it
    if (!canvas.dataset.focusCell) press(canvas, "Home");
    expect(canvas.dataset.focusCell).toBe("4,4"); // prediction row, strongest key
    press(canvas, "ArrowLeft");
    press(canvas, "ArrowLeft");
    expect(canvas.dataset.focusCell).toBe("4,2");
    press(canvas, "ArrowUp");
    press(canvas, "ArrowRight");
    press(canvas, "ArrowRight");
    expect(canvas.dataset.focusCell).toBe("3,3"); // stays in the causal triangle
    expect(el.querySelector(".aw-heatmap .aw-sr-only").textContent).toMatch(/^weight .*query: Item 3/);
    press(canvas, "Enter", { shiftKey: true });
    expect(model.state.selection).toEqual([3]);
    press(canvas, "Enter");
    canvas.blur();
    expect(el.querySelector('.aw-imp-row[data-pos="3"]').classList.contains("aw-lit")).toBe(true); // pinned

    const rows = [...el.querySelectorAll(".aw-rec")];
    expect(rows.map((r) => r.getAttribute("tabindex"))).toEqual(["0", "-1", "-1"]);
    rows[0].focus();
    press(rows[0], "ArrowDown");
    expect(document.activeElement).toBe(rows[1]);
    expect(rows[1].classList.contains("aw-lit")).toBe(true); // focus = hover
    press(rows[1], " ");
    rows[1].blur();
    expect(rows[1].classList.contains("aw-lit")).toBe(true); // Space pinned it

    const why = [...el.querySelectorAll(".aw-imp-row")];
    expect(why.filter((r) => r.getAttribute("tabindex") === "0")).toHaveLength(1);
    why[0].focus();
    press(why[0], "End");
    expect(document.activeElement).toBe(why[4]);
    press(why[4], "Enter", { shiftKey: true });
    expect(model.state.selection).toEqual([3, 4]);

    const nodes = [...el.querySelectorAll("svg.aw-graph .aw-node")];
    expect(nodes.filter((g) => g.getAttribute("tabindex") === "0")).toHaveLength(1);
    const node = (label) => el.querySelector(`svg.aw-graph .aw-node[aria-label="${label}"]`);
    node("history item 1: Item 0").focus();
    press(document.activeElement, "ArrowRight"); // history in time order (not DOM order)
    expect(document.activeElement).toBe(node("history item 2: Item 1"));
    press(document.activeElement, "Enter", { shiftKey: true });
    expect(model.state.selection).toEqual([1, 3, 4]);
  });

  it("names what each export button downloads", () => {
    const { el } = mount();
    const names = [...el.querySelectorAll("button.aw-export")].map((b) => b.getAttribute("aria-label"));
    expect(names).toEqual([
      "Download the sequence attention heatmap as PNG",
      "Download the feature attention heatmap as PNG",
      "Download the prediction attention bar chart as SVG",
      "Download the recommendations table as CSV",
      "Download the item–feature graph as SVG",
    ]);
  });

  it("says which colour scale the heatmap uses and switches it", async () => {
    const { el } = mount({ payload: view(makePack({ n: 40 })) });
    await painted();
    const canvas = el.querySelector("canvas.aw-seq-heatmap");
    expect(canvas.dataset.scale).toMatch(/^colour: 0–[\d.]+ \(99th pct\)$/);
    const select = el.querySelector("select.aw-scale");
    select.value = "row";
    select.dispatchEvent(new Event("change"));
    expect(canvas.dataset.scale).toBe("colour: per row, 0–row max");
    expect(el.querySelector("canvas.aw-feat-heatmap").dataset.scale).toMatch(/\(max\)$/);
  });

  it("redraws the heatmaps when the page's theme changes", async () => {
    const { el } = mount();
    const root = el.querySelector(".attnwidget");
    const seq = el.querySelector("canvas.aw-seq-heatmap");
    const before = Number(seq.dataset.drawCount);
    root.style.color = "rgb(240, 240, 240)"; // what a dark theme's --jp-ui-font-color1 does
    document.body.dataset.jpThemeName = "JupyterLab Dark";
    document.body.dataset.jpThemeLight = "false";
    await new Promise((r) => setTimeout(r, 400));
    expect(Number(seq.dataset.drawCount)).toBeGreaterThan(before);
    const after = Number(seq.dataset.drawCount);
    document.body.dataset.jpThemeName = "JupyterLab Dark"; // same colours: no redraw
    await new Promise((r) => setTimeout(r, 400));
    expect(Number(seq.dataset.drawCount)).toBe(after);
    delete document.body.dataset.jpThemeName;
    delete document.body.dataset.jpThemeLight;
  });

  it("drops an 'unknown user' message once the view moved on", () => {
    const archive = encodeArchive([makePack({ user: "a", n: 3 }), makePack({ user: "b", n: 4 })]);
    const { model, el } = mount({
      user: "a",
      users: [],
      payload: new DataView(new ArrayBuffer(0)),
      archive: view(archive),
    });
    const box = el.querySelector("input.aw-user-input");
    box.value = "zz";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    const error = el.querySelector(".aw-error");
    expect(error.textContent).toBe("Unknown user 'zz'");
    const head = el.querySelector("input.aw-head-slider");
    head.value = "1";
    head.dispatchEvent(new Event("input"));
    expect(error.hidden).toBe(true);

    // live: the kernel's message about another user goes when a new user's pack arrives
    const live = mount({ payload: view(makePack({ user: "u1" })) });
    live.model.set("error", "Unknown user 'zz'");
    expect(live.el.querySelector(".aw-error").hidden).toBe(false);
    live.model.set("payload", view(makePack({ user: "u1" }))); // same view: still true
    expect(live.el.querySelector(".aw-error").hidden).toBe(false);
    live.model.set("user", "u2");
    live.model.set("payload", view(makePack({ user: "u2" })));
    expect(live.el.querySelector(".aw-error").hidden).toBe(true);
    expect(model.state.user).toBe("a");
  });
});
