// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { SEARCH_DELAY_MS } from "../src/what-if.js";
import { mount, view } from "./harness.js";
import { encodeArchive, fixture, makePack, sampleImportance } from "./helpers.js";

const IMG = "<img src=x onerror=alert(1)>";
const rows = (el) => [...el.querySelectorAll(".aw-importance-bars .aw-imp-row")];
const values = (el) => rows(el).map((r) => r.querySelector(".aw-imp-value").textContent);
const widths = (el) => rows(el).map((r) => r.querySelector(".aw-imp-bar").style.width);
const shown = (node) => node !== null && !node.closest("[hidden]");

/** The kernel's answer to a history edit: a pack of the edited history with what_if. */
function editedPack(ids, { entered = [], left = [] } = {}) {
  return view(
    makePack({
      n: ids.length,
      ids,
      importance: true,
      editable: true,
      recIds: ["r0", ...entered.map((e) => e.id)],
      recs: 1 + entered.length,
      whatIf: {
        original_history: ["i1", "i2", "i3"],
        original_recommendations: [{ id: "i9", title: "Camera bag" }],
        entered,
        left,
      },
    }),
  );
}

afterEach(() => vi.useRealTimers());

describe("why this recommendation", () => {
  it("shows the default method, its agreement, the note and bars", () => {
    const { el, model } = mount();
    const panel = el.querySelector(".aw-why");
    expect(shown(panel)).toBe(true);
    const select = panel.querySelector("select.aw-method");
    expect(select.value).toBe("rollout"); // header default; method trait is ""
    expect([...select.options].map((o) => o.value)).toEqual(["attention", "rollout", "gradient", "occlusion"]);
    expect(select.options[1].textContent).toContain("agrees best with occlusion");
    expect(select.options[2].textContent).toContain("n/a"); // gradient is all NaN
    expect(panel.querySelector(".aw-agreement").textContent).toContain(
      "Kendall τ vs occlusion 0.40 · top-1 agreement 47%",
    );
    const note = panel.querySelector(".aw-note");
    expect(shown(note)).toBe(true);
    expect(note.textContent).toContain(IMG); // the hostile title, as text
    expect(el.querySelector("img")).toBeNull();
    expect(rows(el)).toHaveLength(3);
    expect(rows(el)[0].querySelector(".aw-imp-title").textContent).toBe(IMG);
    // rollout importance, as the kernel computes it from the fixture's attention
    expect(values(el)).toEqual(["0.166", "0.272", "0.562"]);
    expect(widths(el)).toEqual(["29.56%", "48.49%", "100%"]);
    expect(rows(el)[2].classList.contains("aw-imp-top")).toBe(true);
    expect(panel.querySelector(".aw-card-head .aw-sub").textContent).toBe("of Camera bag");
    expect(model.saved).toBe(0); // showing the default writes nothing
  });

  it("switches methods locally: NaN and negative bars, graph edges follow", () => {
    const { el, model } = mount();
    const select = el.querySelector("select.aw-method");
    const list = el.querySelector(".aw-importance-bars");
    const before = Number(list.dataset.drawCount);
    expect(el.querySelectorAll("svg.aw-graph .aw-link-why")).toHaveLength(3); // rollout: all positive

    select.value = "occlusion";
    select.dispatchEvent(new Event("change"));
    expect(model.state.method).toBe("occlusion");
    expect(model.sent).toEqual([]); // no kernel round trip
    expect(Number(list.dataset.drawCount)).toBe(before + 1);
    expect(list.dataset.method).toBe("occlusion");
    expect(values(el)).toEqual(["0.75", "-0.25", "n/a"]);
    const [pos, neg, nan] = rows(el);
    expect(neg.classList.contains("aw-imp-negative")).toBe(true);
    expect(nan.classList.contains("aw-imp-missing")).toBe(true);
    expect(neg.querySelector(".aw-imp-bar").style.left).toBe("0%");
    expect(neg.querySelector(".aw-imp-bar").style.width).toBe("25%");
    expect(pos.querySelector(".aw-imp-bar").style.left).toBe("25%");
    expect(pos.style.getPropertyValue("--aw-zero")).toBe("25.00%");
    expect(el.querySelector(".aw-agreement").textContent).toMatch(/reference/);
    expect(el.querySelector(".aw-method-info").textContent).toBe(
      "drop of the recommendation's score when the item is left out",
    );
    expect(el.querySelector(".aw-why-missing").textContent).toMatch(/1 item.*n\/a.*Negative/);
    // only positive finite importance becomes a graph edge
    expect([...el.querySelectorAll("svg.aw-graph .aw-link-why")]).toHaveLength(1);

    select.value = "gradient";
    select.dispatchEvent(new Event("change"));
    expect(values(el)).toEqual(["n/a", "n/a", "n/a"]);
    expect(el.querySelector(".aw-why-top").textContent).toBe("No gradient scores for this history.");
    expect(el.querySelector(".aw-agreement").textContent).toContain("Kendall τ vs occlusion n/a · top-1 agreement n/a");
    expect(el.querySelectorAll("svg.aw-graph .aw-link-why")).toHaveLength(0);

    model.set("method", "attention"); // Python sets it: the view follows
    expect(el.querySelector("select.aw-method").value).toBe("attention");
    expect(values(el)).toEqual(["0.153", "0.333", "0.451"]);
    model.set("method", "");
    expect(el.querySelector("select.aw-method").value).toBe("rollout");
  });

  it("hides the note when there is none and links rows to the other views", () => {
    const { el } = mount({ payload: view(makePack({ n: 4, importance: true, editable: true })) });
    expect(shown(el.querySelector(".aw-note"))).toBe(false);
    const row = rows(el)[2];
    row.dispatchEvent(new MouseEvent("mouseenter"));
    expect(row.classList.contains("aw-lit")).toBe(true);
    expect(el.querySelector("svg.aw-graph .aw-node-hist.aw-lit title").textContent).toContain("Item 2");
    row.dispatchEvent(new MouseEvent("mouseleave"));
    row.dispatchEvent(new MouseEvent("click", { shiftKey: true }));
    expect(row.classList.contains("aw-sel")).toBe(true);
  });

  it("says so when a pack has no importance", () => {
    const { el } = mount({ payload: view(makePack({ n: 3 })) });
    expect(shown(el.querySelector(".aw-why-absent"))).toBe(true);
    expect(shown(el.querySelector("select.aw-method"))).toBe(false);
    expect(el.querySelectorAll(".aw-link-why")).toHaveLength(0);
  });
});

describe("what-if editing", () => {
  it("removes an item through history_edit and shows the change", () => {
    const { el, model } = mount();
    expect(shown(el.querySelector(".aw-what-if"))).toBe(false);
    expect(shown(el.querySelector(".aw-entered"))).toBe(false);
    const removes = el.querySelectorAll(".aw-remove");
    expect(removes).toHaveLength(3);
    expect(removes[0].getAttribute("aria-label")).toBe(`Remove '${IMG}' from the history (what if?)`);
    removes[1].click();
    expect(model.state.history_edit).toEqual(["i1", "i3"]);
    expect(el.querySelector(".attnwidget").classList.contains("aw-pending")).toBe(true);
    expect([...el.querySelectorAll(".aw-remove")].every((b) => b.disabled)).toBe(true); // until the answer

    const entered = [{ id: "x1", title: IMG }];
    const left = [{ id: "i7", title: "SD card" }];
    model.set("payload", editedPack(["i1", "i3"], { entered, left }));
    const root = el.querySelector(".attnwidget");
    expect(root.classList.contains("aw-pending")).toBe(false);
    expect(root.classList.contains("aw-edited")).toBe(true);
    expect(shown(el.querySelector(".aw-what-if"))).toBe(true);
    expect(el.querySelector(".aw-what-if").textContent).toMatch(
      /edited history \(1 item removed, 0 items added; the original has 3\)\. 1 recommendation\(s\) entered and 1 left the top 1\./,
    );
    expect([...el.querySelectorAll(".aw-entered li")].map((li) => li.textContent)).toEqual([IMG]);
    expect([...el.querySelectorAll(".aw-left li")].map((li) => li.textContent)).toEqual(["SD card"]);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".aw-rec.aw-rec-new .aw-rec-title").textContent).toBe("Rec 1"); // id x1
    expect(el.querySelector(".aw-rec.aw-rec-new .aw-chip-new").textContent).toBe("new in top-k");
    expect(el.querySelector(".aw-why .aw-sub").textContent).toContain("(edited history)");
    // hovering an entered recommendation lights it up in the list
    el.querySelector(".aw-entered li").dispatchEvent(new MouseEvent("mouseenter"));
    expect(el.querySelector(".aw-rec.aw-rec-new").classList.contains("aw-lit")).toBe(true);

    el.querySelector(".aw-reset-history").click();
    expect(model.state.history_edit).toEqual([]);
    model.set("payload", view(fixture("sample.pack")));
    expect(shown(el.querySelector(".aw-what-if"))).toBe(false);
    expect(shown(el.querySelector(".aw-entered"))).toBe(false);
    expect(el.querySelector(".attnwidget").classList.contains("aw-edited")).toBe(false);
  });

  it("never asks for an empty history", () => {
    const { el, model } = mount({ payload: view(makePack({ n: 2, importance: true, editable: true })) });
    el.querySelectorAll(".aw-remove")[0].click();
    expect(model.state.history_edit).toEqual(["i1"]);
    model.set("payload", editedPack(["i1"]));
    const [only] = el.querySelectorAll(".aw-remove");
    expect(only.disabled).toBe(true);
    expect(only.title).toBe("A history needs at least one item");
    only.click();
    only.dispatchEvent(new MouseEvent("click")); // even a forced event does not empty it
    expect(model.state.history_edit).toEqual(["i1"]);
  });

  it("keeps the edit controls working after a kernel error", () => {
    const { el, model } = mount();
    el.querySelectorAll(".aw-remove")[0].click();
    expect(el.querySelectorAll(".aw-remove")[2].disabled).toBe(true);
    model.set("error", "Unknown item 'zz'");
    expect(el.querySelector(".aw-error").textContent).toBe("Unknown item 'zz'");
    expect(el.querySelectorAll(".aw-remove")[2].disabled).toBe(false);
    expect(el.querySelectorAll(".aw-imp-row")).toHaveLength(3); // the payload stays
  });

  it("shows no edit controls for a pack that is not editable", () => {
    const archive = encodeArchive([fixture("sample.pack").slice(), makePack({ user: "s", n: 3, importance: true })]);
    const { el } = mount({ user: "s", users: [], payload: new DataView(new ArrayBuffer(0)), archive: view(archive) });
    expect(rows(el)).toHaveLength(3);
    expect(el.querySelectorAll(".aw-remove")).toHaveLength(0);
    expect(shown(el.querySelector(".aw-add-input"))).toBe(false);
    expect(shown(el.querySelector(".aw-reset-history"))).toBe(false);
    expect(shown(el.querySelector(".aw-what-if-card"))).toBe(false);
    expect(shown(el.querySelector("select.aw-method"))).toBe(true); // the method switch still works
  });

  it("a one-item history without an occlusion score has a disabled remove button", () => {
    const { el } = mount({
      payload: view(
        makePack({
          n: 1,
          importance: { values: { attention: [1], occlusion: [NaN] }, default: "occlusion" },
          editable: true,
        }),
      ),
    });
    expect(values(el)).toEqual(["n/a"]);
    expect(el.querySelector(".aw-remove").disabled).toBe(true);
  });

  it("searches with a debounce, ignores stale replies and adds the picked item", () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const input = el.querySelector(".aw-add-input");
    const type = (text) => {
      input.value = text;
      input.dispatchEvent(new Event("input"));
    };
    type("c");
    type("ca");
    type("cam");
    vi.advanceTimersByTime(SEARCH_DELAY_MS - 1);
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(model.sent).toEqual([{ type: "search", query: "cam" }]);

    type("came");
    // the reply to "cam" arrives after the box changed: ignored
    model.emit("msg:custom", { type: "search_results", query: "cam", items: [{ id: "old", title: "Old" }] });
    expect(el.querySelectorAll(".aw-search-result")).toHaveLength(0);
    vi.advanceTimersByTime(SEARCH_DELAY_MS);
    expect(model.sent.at(-1)).toEqual({ type: "search", query: "came" });
    model.emit("msg:custom", { type: "something_else", query: "came" });
    model.emit("msg:custom", {
      type: "search_results",
      query: "came",
      items: [
        { id: "i50", title: IMG },
        { id: "i2", title: "Tripod" },
      ],
    });
    const results = [...el.querySelectorAll(".aw-search-result")];
    expect(results.map((b) => b.querySelector(".aw-result-title").textContent)).toEqual([IMG, "Tripod"]);
    expect(results[1].querySelector(".aw-result-id").textContent).toBe("i2 · in history");
    expect(el.querySelector("img")).toBeNull();
    results[0].click();
    expect(model.state.history_edit).toEqual(["i1", "i2", "i3", "i50"]);
    expect(input.value).toBe("");
    expect(el.querySelectorAll(".aw-search-result")).toHaveLength(0);

    type("zzz");
    vi.advanceTimersByTime(SEARCH_DELAY_MS);
    model.emit("msg:custom", { type: "search_results", query: "zzz", items: [] });
    expect(el.querySelector(".aw-search-note").textContent).toBe("No item matches 'zzz'.");
    type("");
    vi.advanceTimersByTime(SEARCH_DELAY_MS);
    expect(model.sent.filter((m) => m.query === "")).toEqual([]);
  });

  it("drops the selection when the history changes", () => {
    const { el, model } = mount({ selection: [0, 2] });
    expect(model.state.selection).toEqual([0, 2]);
    el.querySelectorAll(".aw-remove")[1].click();
    model.set("payload", editedPack(["i1", "i3"]));
    expect(model.state.selection).toEqual([]);
    expect(rows(el).some((r) => r.classList.contains("aw-sel"))).toBe(false);
  });
});

describe("a pack sent before occlusion is computed", () => {
  it("says occlusion is on its way, then shows it from the complete pack", () => {
    const fast = { ...sampleImportance(3), occlusion: [NaN, NaN, NaN] };
    const { el, model } = mount({
      payload: view(
        makePack({ n: 3, importance: { values: fast, pending: ["occlusion"], nUsers: 1 }, editable: true }),
      ),
      method: "occlusion",
    });
    expect(el.querySelector("select.aw-method").value).toBe("occlusion");
    expect(el.querySelector("select.aw-method").options[3].textContent).toBe("occlusion — computing…");
    expect(values(el)).toEqual(["…", "…", "…"]);
    expect(el.querySelector(".aw-why-top").textContent).toMatch(/^Computing occlusion scores/);
    expect(shown(el.querySelector(".aw-why-missing"))).toBe(false);
    model.set("method", "rollout");
    expect(el.querySelector(".aw-agreement").textContent).toContain("(mean over 1 user)");
    expect(el.querySelector(".aw-agreement").textContent).toContain("waiting for occlusion");
    model.set("method", "occlusion");
    const nodes = () => [...el.querySelectorAll("svg.aw-graph .aw-node")].map((g) => g.getAttribute("transform"));
    const where = nodes();
    model.set("payload", view(makePack({ n: 3, importance: true, editable: true })));
    expect(nodes()).toEqual(where); // same items: the graph keeps its layout
    expect(values(el)).toEqual(["-1", "0", "1"]);
    expect(el.querySelector(".aw-why-top").textContent).toBe("Most important by occlusion: Item 2");
  });
});
