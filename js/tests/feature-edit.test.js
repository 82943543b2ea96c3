// Feature what-if on the front end, without a DOM: the edits in words, the edit a form
// describes, what "every item with this value" changes, the banner and the header's keys.
import { describe, expect, it } from "vitest";
import { Explanation } from "../src/explanation.js";
import { describeFeatureEdit, featureEditOf, featureOf, positionsWith } from "../src/feature-edit.js";
import { bannerText } from "../src/what-if.js";
import { makePack } from "./helpers.js";

const edit = (e) => ({ position: null, replaces: null, title: null, ...e });

describe("feature edits in words", () => {
  it("names the item, the value it replaces, or every item", () => {
    expect(describeFeatureEdit(edit({ field: "brand", value: "Lumora", position: 3, title: "Canon EOS" }))).toBe(
      "brand of 'Canon EOS' → Lumora",
    );
    expect(describeFeatureEdit(edit({ field: "brand", value: "Kestrel", replaces: "Aperta" }))).toBe(
      "brand of every Aperta item → Kestrel",
    );
    expect(describeFeatureEdit(edit({ field: "price", value: "<unknown>" }))).toBe("price of every item → <unknown>");
    expect(describeFeatureEdit(edit({ field: "brand", value: "X", position: 0 }))).toBe("brand of 'item 1' → X");
  });

  it("makes the trait's entry, or nothing when the value is the item's own", () => {
    const form = { position: 2, field: "brand", value: "Sony", current: "Canon", all: false };
    expect(featureEditOf(form)).toEqual({ field: "brand", value: "Sony", position: 2 });
    expect(featureEditOf({ ...form, all: true })).toEqual({ field: "brand", value: "Sony", replaces: "Canon" });
    expect(featureEditOf({ ...form, value: "Canon" })).toBeNull();
  });

  it("finds the items sharing a value (a missing feature reads <unknown>)", () => {
    const history = [{ features: { brand: "Canon" } }, { features: { brand: "Nikon" } }, { features: {} }];
    expect(positionsWith(history, "brand", "Canon")).toEqual([0]);
    expect(positionsWith(history, "brand", "<unknown>")).toEqual([2]);
    expect(featureOf(history[2], "brand")).toBe("<unknown>");
  });
});

describe("the header's feature keys", () => {
  it("reads feature_values: offered fields, and the ones too large to send", () => {
    const featureValues = { category: ["<unknown>", "bags"], brand: null, colour: ["red"] };
    const e = Explanation.fromBytes(makePack({ n: 2, importance: true, editable: true, featureValues }));
    expect([...e.featureValues.values.keys()]).toEqual(["category"]); // colour is not a field of this pack
    expect(e.featureValues.omitted).toEqual(["brand"]);
    const locked = Explanation.fromBytes(makePack({ n: 2, importance: true, editable: false, featureValues }));
    expect(locked.featureValues).toBeNull(); // not editable: nothing to offer
    expect(Explanation.fromBytes(makePack({ n: 2, editable: true })).featureValues).toBeNull();
  });

  it("reads what_if's feature edits and changes, and the banner says them", () => {
    const whatIf = {
      original_history: ["i0", "i1", "i2"],
      original_recommendations: [{ id: "r0", title: "Rec 0" }],
      entered: [{ id: "r9", title: "Rec 9" }],
      left: [{ id: "r0", title: "Rec 0" }],
      feature_edits: [
        { field: "brand", value: "Sony", position: 1, replaces: null, title: "Item 1" },
        { field: "category", value: "bags", position: null, replaces: "cameras", title: null },
      ],
      feature_changes: [
        { position: 1, id: "i1", title: "Item 1", field: "brand", before: "Nikon", after: "Sony" },
        { position: 0, id: "i0", title: "Item 0", field: "category", before: "cameras", after: "bags" },
      ],
    };
    const e = Explanation.fromBytes(makePack({ n: 3, importance: true, editable: true, whatIf }));
    expect(e.whatIf.featureEdits[0]).toEqual({
      field: "brand",
      value: "Sony",
      position: 1,
      replaces: null,
      title: "Item 1",
    });
    expect(e.whatIf.featureChanges.map((c) => c.position)).toEqual([1, 0]);
    expect(bannerText(e.whatIf, e.historyIds(), 1)).toBe(
      "What-if: brand of 'Item 1' → Sony; category of every cameras item → bags (2 history items changed). " +
        "1 recommendation(s) entered and 1 left the top 1.",
    );
    // on top of a remove edit, the banner says that too
    expect(bannerText(e.whatIf, ["i0", "i1"], 1)).toContain(
      "bags (2 history items changed; 1 item removed, 0 items added). 1 recommendation",
    );
    // a what-if with no feature edit keeps its sentence
    const plain = { ...e.whatIf, featureEdits: [], featureChanges: [] };
    expect(bannerText(plain, ["i0", "i1"], 1)).toBe(
      "What-if: the views show an edited history (1 item removed, 0 items added; the original has 3). " +
        "1 recommendation(s) entered and 1 left the top 1.",
    );
  });

  it("reads an older what_if without the feature keys", () => {
    const whatIf = { original_history: ["i0"], original_recommendations: [], entered: [], left: [] };
    const e = Explanation.fromBytes(makePack({ n: 1, importance: true, editable: true, whatIf }));
    expect(e.whatIf.featureEdits).toEqual([]);
    expect(e.whatIf.featureChanges).toEqual([]);
  });
});
