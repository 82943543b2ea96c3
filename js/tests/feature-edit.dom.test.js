// @vitest-environment jsdom
// Feature what-if in the widget: the form under the why panel's list (item, field, value,
// "every item with this value", Apply), the rows' ✎ buttons, the `feature_edit` trait, the
// kernel's answer (banner in words, edited rows), reset, errors and hostile text.
import { describe, expect, it } from "vitest";
import { mount, view } from "./harness.js";
import { makePack } from "./helpers.js";

const IMG = "<img src=x onerror=alert(1)>";
const VALUES = { category: ["<unknown>", "bags", "cameras", "lenses"], brand: ["<unknown>", "Canon", "Nikon", IMG] };
const shown = (node) => node !== null && !node.closest("[hidden]");
const options = (select) => [...select.options].map((o) => o.value);
const q = (el, selector) => el.querySelector(selector);

/** An editable 5-item pack (brands Canon, Nikon, Canon, Nikon, Canon) offering VALUES. */
const pack = (extra = {}) =>
  view(makePack({ n: 5, importance: true, editable: true, featureValues: VALUES, ...extra }));

function choose(select, value) {
  select.value = value;
  select.dispatchEvent(new Event("change"));
}

/** The kernel's answer to a feature edit: the same history, an item's brand changed. */
function answer({ position = 4, before = "Canon", after = "Nikon", replaces = null } = {}) {
  return pack({
    whatIf: {
      original_history: ["i0", "i1", "i2", "i3", "i4"],
      original_recommendations: [{ id: "r0", title: "Rec 0" }],
      entered: [{ id: "r1", title: IMG }],
      left: [],
      feature_edits: [
        { field: "brand", value: after, position: replaces ? null : position, replaces, title: `Item ${position}` },
      ],
      feature_changes: [{ position, id: `i${position}`, title: `Item ${position}`, field: "brand", before, after }],
    },
  });
}

describe("feature what-if", () => {
  it("offers the fields' values for the newest item and sends an edit with Apply", () => {
    const { el, model } = mount({ payload: pack() });
    const form = q(el, ".aw-feature-editor");
    expect(shown(form)).toBe(true);
    const item = q(form, "select.aw-feature-item");
    expect(item.options).toHaveLength(5);
    expect(item.value).toBe("4"); // the newest (prediction position)
    expect(item.options[4].textContent).toBe("5. Item 4");
    expect(options(q(form, "select.aw-feature-field"))).toEqual(["category", "brand"]);
    const value = q(form, "select.aw-feature-value");
    expect(options(value)).toEqual(VALUES.category);
    expect(value.value).toBe("lenses"); // item 4's category, marked as the present one
    expect(value.selectedOptions[0].textContent).toBe("lenses (now)");
    const apply = q(form, "button.aw-feature-apply");
    expect(apply.disabled).toBe(true); // nothing would change

    choose(q(form, "select.aw-feature-field"), "brand");
    expect(value.value).toBe("Canon");
    expect(q(form, ".aw-feature-all-text").textContent).toBe(" every history item with brand Canon (3)");
    choose(value, "Nikon");
    expect(apply.disabled).toBe(false);
    expect(apply.getAttribute("aria-label")).toBe("Apply: brand of 'Item 4' → Nikon");
    apply.click();
    expect(model.state.feature_edit).toEqual([{ field: "brand", value: "Nikon", position: 4 }]);
    expect(model.state.history_edit).toEqual([]);
    const root = q(el, ".attnwidget");
    expect(root.classList.contains("aw-pending")).toBe(true);
    expect(apply.disabled).toBe(true); // until the kernel answers
    expect(value.disabled).toBe(true);

    model.set("payload", answer());
    expect(root.classList.contains("aw-pending")).toBe(false);
    expect(shown(q(el, ".aw-what-if"))).toBe(true);
    expect(q(el, ".aw-what-if-text").textContent).toBe(
      "What-if: brand of 'Item 4' → Nikon (1 history item changed). 1 recommendation(s) entered and 0 left the top 1.",
    );
    const rows = [...el.querySelectorAll(".aw-imp-row")];
    expect(rows.map((r) => r.classList.contains("aw-imp-edited"))).toEqual([false, false, false, false, true]);
    expect(rows[4].getAttribute("aria-label")).toContain("(what-if: brand: Canon → Nikon)");
    expect(q(el, ".aw-entered li").textContent).toBe(IMG);
    expect(el.querySelector("img")).toBeNull();
    // the same history: the form keeps its item and field
    expect(item.value).toBe("4");
    expect(q(form, "select.aw-feature-field").value).toBe("brand");

    // a second edit adds to the first; "every item with this value" replaces a value
    choose(item, "1");
    expect(value.value).toBe("Nikon");
    q(form, "input.aw-feature-all").click();
    choose(value, "Canon");
    apply.click();
    expect(model.state.feature_edit).toEqual([
      { field: "brand", value: "Nikon", position: 4 },
      { field: "brand", value: "Canon", replaces: "Nikon" },
    ]);
    model.set("payload", answer({ position: 1, before: "Nikon", after: "Canon", replaces: "Nikon" }));
    expect(q(el, ".aw-what-if-text").textContent).toContain("brand of every Nikon item → Canon");

    // back to the original: the feature edits go (no history edit to drop)
    q(el, ".aw-reset-history").click();
    expect(model.state.feature_edit).toEqual([]);
    expect(root.classList.contains("aw-pending")).toBe(true);
    model.set("payload", pack());
    expect(shown(q(el, ".aw-what-if"))).toBe(false);
  });

  it("a row's ✎ points the form at that item and focuses its field select", () => {
    const { el } = mount({ payload: pack() });
    const buttons = el.querySelectorAll(".aw-imp-row .aw-feature-edit");
    expect(buttons).toHaveLength(5);
    expect(buttons[2].getAttribute("aria-label")).toBe("Change a feature of 'Item 2' (what if?)");
    expect(buttons[2].getAttribute("tabindex")).toBe("-1"); // the form is the tab stop
    buttons[2].click();
    expect(q(el, "select.aw-feature-item").value).toBe("2");
    expect(document.activeElement).toBe(q(el, "select.aw-feature-field"));
    expect(el.querySelector(".aw-imp-row.aw-sel, .aw-imp-row.aw-pinned")).toBeNull(); // not a row click
  });

  it("resets both edits at once when a remove edit is shown too", () => {
    const { el, model } = mount({ payload: pack(), history_edit: ["i0", "i1", "i2", "i3", "i4"] });
    model.state.feature_edit = [{ field: "brand", value: "Nikon", position: 4 }];
    q(el, ".aw-reset-history").click();
    expect(model.state.history_edit).toEqual([]); // the kernel drops the feature edits with it
  });

  it("shows hostile values as text and leaves out fields too large to send", () => {
    const featureValues = { category: null, brand: VALUES.brand };
    const { el } = mount({ payload: pack({ featureValues }) });
    expect(options(q(el, "select.aw-feature-field"))).toEqual(["brand"]);
    expect(options(q(el, "select.aw-feature-value"))).toContain(IMG);
    expect(el.querySelector("img")).toBeNull();
    const note = q(el, ".aw-feature-note");
    expect(shown(note)).toBe(true);
    expect(note.textContent).toBe("Not offered (too many values to list here): category.");
  });

  it("has no form or ✎ when the model cannot edit features or the pack is not editable", () => {
    for (const payload of [pack({ featureValues: null }), pack({ editable: false })]) {
      const { el } = mount({ payload });
      expect(shown(q(el, ".aw-feature-editor"))).toBe(false);
      expect(el.querySelectorAll(".aw-feature-edit")).toHaveLength(0);
    }
    const { el } = mount({ payload: pack({ featureValues: null }) });
    expect(el.querySelectorAll(".aw-remove")).toHaveLength(5); // history edits still work
  });

  it("shows the kernel's refusal in the error line and lets the form work again", () => {
    const { el, model } = mount({ payload: pack() });
    choose(q(el, "select.aw-feature-value"), "cameras");
    q(el, "button.aw-feature-apply").click();
    expect(q(el, "button.aw-feature-apply").disabled).toBe(true);
    const refusal = "feature_edit[0].value 'cameras' is not a value of field 'category'";
    model.set("error", refusal);
    expect(q(el, ".aw-error").textContent).toBe(refusal);
    expect(q(el, "button.aw-feature-apply").disabled).toBe(false);
    expect(q(el, ".attnwidget").classList.contains("aw-pending")).toBe(false);
    expect(el.querySelectorAll(".aw-imp-row")).toHaveLength(5); // the view stays
  });
});
