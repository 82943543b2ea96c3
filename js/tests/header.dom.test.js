// @vitest-environment jsdom
// The pack header schema (attnwidget/widget/pack_header.schema.json) on the front end's side:
// the kernel's packs (fixtures made by the real encoder) validate, the packs the JS tests
// build by hand use only its keys, and every key it lists shows somewhere in the widget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { decodeArchive, readHeader } from "../src/decode.js";
import { mount, view } from "./harness.js";
import { encodeArchive, fixture, makePack } from "./helpers.js";

const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "..", "attnwidget", "widget", "pack_header.schema.json"), "utf8"),
);
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
const texts = (el, selector) => [...el.querySelectorAll(selector)].map((e) => e.textContent);
const sample = () => mount({ payload: view(fixture("sample.pack")) }).el;

/** Where each header key shows, on the sample pack (or the pack named by `pack`). */
const SHOWS = {
  user: () => {
    // in a static export, the archive is keyed by each pack's user
    const archive = encodeArchive([fixture("sample.pack").slice(), makePack({ user: "u2", n: 1, importance: true })]);
    const { el } = mount({ user: "u2", archive: view(archive), payload: new DataView(new ArrayBuffer(0)) });
    return texts(el, ".aw-importance-bars .aw-imp-row").length === 1;
  },
  fields: (el) => ["category", "brand"].every((f) => texts(el, ".aw-legend-item").includes(f)),
  history: (el) =>
    texts(el, ".aw-imp-title")[0] === "<img src=x onerror=alert(1)>" &&
    texts(el, "svg .aw-label-feat").some((t) => t.includes("cameras")),
  truncated: (el) => el.querySelector(".aw-truncated").textContent.includes("last 3 of 10"),
  recommendations: (el) =>
    texts(el, ".aw-rec-title").join() === "Camera bag,SD card" &&
    texts(el, ".aw-score")[1] === "2.25" &&
    texts(el, ".aw-chip").includes("category: bags"),
  target: (el) => el.querySelector(".aw-why .aw-card-head .aw-sub").textContent === "of Camera bag",
  importance: (el) => texts(el, "select.aw-method option").length === 4,
  "importance.methods": (el) =>
    [...el.querySelectorAll("select.aw-method option")].map((o) => o.value).join() ===
    "attention,rollout,gradient,occlusion",
  "importance.descriptions": (el) => {
    const text = el.querySelector(".aw-why .aw-method-info").textContent;
    return text !== "" && text === readHeader(fixture("sample.pack")).importance.descriptions.rollout;
  },
  "importance.default": (el) => el.querySelector("select.aw-method").value === "rollout",
  "importance.agreement": (el) =>
    el.querySelector(".aw-agreement-model").textContent.includes("Kendall τ vs occlusion 0.40"),
  "importance.n_users": (el) => el.querySelector(".aw-agreement-model").textContent.includes("mean over 30 users"),
  "importance.user_agreement": (el) =>
    el.querySelector(".aw-agreement-user").textContent.startsWith("this user: τ n/a"),
  "importance.note": (el) =>
    el.querySelector(".aw-why .aw-note").textContent.startsWith("Raw attention ranks 'Lens' first"),
  "importance.pending": {
    pack: "what-if.pack",
    check: (el) => texts(el, "select.aw-method option").some((t) => t.includes("computing…")),
  },
  editable: (el) => el.querySelectorAll(".aw-remove").length === 3,
  feature_values: (el) =>
    texts(el, "select.aw-feature-field option").join() === "category,brand" &&
    [...el.querySelectorAll("select.aw-feature-value option")].some((o) => o.value === "tripods") &&
    el.querySelectorAll(".aw-feature-edit").length === 3,
  what_if: {
    pack: "what-if.pack",
    check: (el) =>
      !el.querySelector(".aw-what-if").hidden &&
      texts(el, ".aw-entered li").join() === "Cap" &&
      texts(el, ".aw-left li").join() === "SD card",
  },
  reasons: (el) =>
    texts(el, ".aw-rec-reason")[0] === "Because you bought <img src=x onerror=alert(1)>" &&
    el.querySelector(".aw-rec-reason em").textContent === "<img src=x onerror=alert(1)>" &&
    texts(el, ".aw-rec-reason")[1] === "Because you bought Lens and Tripod",
  counterfactual: (el) =>
    el.querySelector(".aw-cf-text").textContent.startsWith("without 'Lens', Camera bag drops from #1 to #3") &&
    !el.querySelector(".aw-cf-apply").hidden,
  warnings: (el) => texts(el, ".aw-warnings li").some((w) => w.includes("not finite numbers")),
  nonfinite: (el) => texts(el, ".aw-warnings li").length === readHeader(fixture("sample.pack")).warnings.length,
  timing: (el) => el.querySelector(".attnwidget").dataset.kernelMs === "12.5",
};
const NOT_SHOWN = new Set(["schema", "n_layers", "n_heads", "arrays"]); // the decoder's, or informational

describe("the pack header schema", () => {
  it("is met by every pack the kernel's encoder made", () => {
    const [, tiny] = decodeArchive(fixture("sample.archive")); // a 1-item, 1-head static export pack
    for (const bytes of [fixture("sample.pack"), fixture("what-if.pack"), tiny]) {
      const ok = validate(readHeader(bytes));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it("is broken by a renamed or mistyped key", () => {
    const header = readHeader(fixture("sample.pack"));
    const { recommendations, ...renamed } = header;
    expect(validate({ ...renamed, recommendation: recommendations })).toBe(false);
    expect(validate({ ...header, editable: "yes" })).toBe(false);
    expect(validate({ ...header, history: [{ id: "i1", title: "x", features: { brand: 3 } }] })).toBe(false);
  });

  it("names every key the hand-made test packs use", () => {
    const header = readHeader(
      makePack({
        n: 3,
        importance: { pending: ["occlusion"], nUsers: 3 },
        editable: true,
        whatIf: { original_history: [], original_recommendations: [], entered: [], left: [] },
      }),
    );
    const props = schema.properties;
    expect(Object.keys(header).filter((k) => !(k in props))).toEqual([]);
    expect(Object.keys(header.importance).filter((k) => !(k in props.importance.properties))).toEqual([]);
    expect(Object.keys(header.history[0]).filter((k) => !(k in schema.$defs.item.properties))).toEqual([]);
    expect(Object.keys(header.recommendations[0]).filter((k) => !(k in schema.$defs.scored.properties))).toEqual([]);
  });

  it("has a place in the widget for every key it lists", () => {
    const keys = [
      ...Object.keys(schema.properties),
      ...Object.keys(schema.properties.importance.properties).map((k) => `importance.${k}`),
    ].filter((k) => !NOT_SHOWN.has(k));
    expect(keys.filter((k) => !(k in SHOWS))).toEqual([]); // a new key needs a check here
    const failed = keys.filter((key) => {
      const { pack = "sample.pack", check } = typeof SHOWS[key] === "function" ? { check: SHOWS[key] } : SHOWS[key];
      return !check(pack === "sample.pack" ? sample() : mount({ payload: view(fixture(pack)) }).el);
    });
    expect(failed).toEqual([]);
  });
});
