// @vitest-environment jsdom
// The light static page's host: its model object (anywidget's model interface over plain
// values), the base64 and state reading, and rendering the real widget through it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { boot, createModel, decodeBase64, PAGE, readState, renderWidget, sameValue } from "../src/standalone-host.js";
import widget from "../src/widget.js";
import "./harness.js"; // a 2D canvas context for jsdom
import { encodeArchive, makePack } from "./helpers.js";

const base64 = (bytes) => Buffer.from(bytes).toString("base64");

afterEach(() => {
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

describe("createModel", () => {
  it("gets what it was given and sets new values", () => {
    const model = createModel({ user: "u1", layer: 2 });
    expect(model.get("user")).toBe("u1");
    expect(model.get("layer")).toBe(2);
    expect(model.get("missing")).toBeUndefined();
    model.set("layer", 3);
    expect(model.get("layer")).toBe(3);
  });

  it("fires change:<name> with (model, value), then change, only when the value differs", () => {
    const model = createModel({ user: "u1", selection: [1, 2] });
    const calls = [];
    model.on("change:user", (m, value) => calls.push(["user", m === model, value]));
    model.on("change", () => calls.push(["any"]));
    model.set("user", "u1");
    model.set("selection", [1, 2]); // equal content: no event (Backbone compares deeply)
    expect(calls).toEqual([]);
    model.set("user", "u2");
    expect(calls).toEqual([["user", true, "u2"], ["any"]]);
    model.set("selection", [2]);
    expect(calls).toHaveLength(3);
  });

  it("compares bytes by content", () => {
    const a = new Uint8Array([1, 2, 3]);
    expect(sameValue(new DataView(a.buffer), new DataView(new Uint8Array([1, 2, 3]).buffer))).toBe(true);
    expect(sameValue(new DataView(a.buffer, 1), new Uint8Array([2, 3]))).toBe(true);
    expect(sameValue(new DataView(a.buffer), new Uint8Array([1, 2]))).toBe(false);
    expect(sameValue(new DataView(a.buffer), [1, 2, 3])).toBe(false);
    expect(sameValue({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue(Number.NaN, Number.NaN)).toBe(true);
    expect(sameValue(0, "0")).toBe(false);
  });

  it("on takes several events; off drops one callback, one event, or everything", () => {
    const model = createModel({ a: 0, b: 0 });
    const seen = [];
    const one = (_, v) => seen.push(`one:${v}`);
    const two = (_, v) => seen.push(`two:${v}`);
    model.on("change:a change:b", one);
    model.on("change:a", two);
    model.set("a", 1);
    model.set("b", 1);
    expect(seen).toEqual(["one:1", "two:1", "one:1"]);

    model.off("change:a", one);
    model.set("a", 2);
    model.set("b", 2);
    expect(seen.slice(3)).toEqual(["two:2", "one:2"]);

    model.off("change:b");
    model.set("b", 3);
    expect(seen).toHaveLength(5);

    model.on("change:b", one);
    model.off();
    model.set("a", 4);
    model.set("b", 4);
    expect(seen).toHaveLength(5);

    model.on("change:a", one);
    model.off(null, one); // a callback from every event
    model.set("a", 5);
    expect(seen).toHaveLength(5);
  });

  it("a callback that unsubscribes or sets during an event does not upset the others", () => {
    const model = createModel({ a: 0, b: 0 });
    const seen = [];
    const once = () => {
      seen.push("once");
      model.off("change:a", once);
      model.set("b", 1); // nested set: its events fire right away, as in Backbone
    };
    model.on("change:a", once);
    model.on("change:a", () => seen.push("second"));
    model.on("change:b", () => seen.push("b"));
    model.set("a", 1);
    model.set("a", 2);
    expect(seen).toEqual(["once", "b", "second", "second"]);
  });

  it("a throwing callback is reported and the next one still runs", () => {
    const reported = vi.fn();
    vi.stubGlobal("reportError", reported);
    const model = createModel({ a: 0 });
    const after = vi.fn();
    model.on("change:a", () => {
      throw new Error("boom");
    });
    model.on("change:a", after);
    model.set("a", 1);
    expect(reported).toHaveBeenCalledOnce();
    expect(reported.mock.calls[0][0].message).toBe("boom");
    expect(after).toHaveBeenCalledOnce();
    vi.unstubAllGlobals();
  });

  it("save_changes is a no-op; send drops the message with one warning; receive plays the kernel", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const model = createModel({ a: 1 });
    model.save_changes();
    model.send({ type: "search", query: "x" });
    model.send({ type: "search", query: "y" });
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0][0]).toMatch(/no kernel/);
    const got = [];
    model.on("msg:custom", (msg, buffers) => got.push([msg, buffers]));
    model.receive({ type: "hello" });
    expect(got).toEqual([[{ type: "hello" }, []]]);
    expect(model.get("a")).toBe(1);
  });
});

describe("page reading", () => {
  it("decodes base64 with Uint8Array.fromBase64 or, without it, atob", () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255);
    const text = base64(bytes);
    const had = Uint8Array.fromBase64;
    try {
      Uint8Array.fromBase64 = undefined;
      expect(Array.from(decodeBase64(text))).toEqual(Array.from(bytes));
      Uint8Array.fromBase64 = vi.fn(() => bytes);
      expect(decodeBase64(text)).toBe(bytes);
      expect(Uint8Array.fromBase64).toHaveBeenCalledWith(text);
    } finally {
      Uint8Array.fromBase64 = had;
    }
    expect(decodeBase64("").length).toBe(0);
  });

  it("reads the JSON state and each bytes trait as a DataView", () => {
    document.body.innerHTML = `
      <script type="application/json" id="${PAGE.state}">{"user":"\\u003c/script\\u003e","users":["a"]}</script>
      <script type="application/octet-stream" ${PAGE.buffer}="archive">${base64([1, 2, 3, 250])}</script>
      <script type="application/octet-stream" ${PAGE.buffer}="payload"></script>`;
    const state = readState(document);
    expect(state.user).toBe("</script>");
    expect(state.users).toEqual(["a"]);
    expect(state.archive).toBeInstanceOf(DataView);
    expect(Array.from(new Uint8Array(state.archive.buffer))).toEqual([1, 2, 3, 250]);
    expect(state.payload.byteLength).toBe(0);
  });
});

describe("rendering", () => {
  it("runs an object or a function default export, initialize first", async () => {
    const order = [];
    const definition = {
      initialize: ({ model }) => order.push(["initialize", model.get("x")]),
      render: ({ model, el, experimental }) => {
        order.push(["render", model.get("x"), el.id]);
        return experimental.invoke().catch((err) => order.push(["invoke", err.message]));
      },
    };
    const el = Object.assign(document.createElement("div"), { id: "v" });
    await renderWidget({ default: definition }, createModel({ x: 1 }), el);
    await renderWidget({ default: async () => definition }, createModel({ x: 2 }), el);
    expect(order).toEqual([
      ["initialize", 1],
      ["render", 1, "v"],
      ["invoke", "this page has no kernel"],
      ["initialize", 2],
      ["render", 2, "v"],
      ["invoke", "this page has no kernel"],
    ]);
    await expect(renderWidget({ default: {} }, createModel(), el)).rejects.toThrow(/render function/);
  });

  it("drives the real widget: archived users, switching from the user box", async () => {
    const archive = encodeArchive([makePack({ user: "a", n: 3 }), makePack({ user: "b", n: 4 })]);
    const model = createModel({
      user: "b",
      users: ["a", "b"],
      layer: 0,
      head: 0,
      layer_mode: "layer",
      head_mode: "head",
      payload: new DataView(new ArrayBuffer(0)),
      archive: new DataView(archive.buffer, archive.byteOffset, archive.byteLength),
      error: "",
      status: "",
      selection: [],
      history_edit: [],
      method: "",
    });
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = await renderWidget({ default: widget }, model, el);
    const box = el.querySelector("input.aw-user-input");
    const canvas = el.querySelector("canvas.aw-seq-heatmap");
    expect(box.value).toBe("b");
    const drawn = Number(canvas.dataset.drawCount);
    expect(drawn).toBeGreaterThan(0);

    box.value = "a";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.get("user")).toBe("a");
    expect(Number(canvas.dataset.drawCount)).toBeGreaterThan(drawn);
    expect(el.querySelector(".aw-error").hidden).toBe(true);

    model.set("head", 1); // a change from outside reaches the widget too
    expect(el.querySelector("input.aw-head-slider").value).toBe("1");
    cleanup();
  });

  it("boot renders a module bundled with it, with no aw-esm block to import", async () => {
    document.body.innerHTML = `<div id="${PAGE.view}"></div>
      <script type="application/json" id="${PAGE.state}">{"user": "u7"}</script>`;
    const module = { default: { render: ({ model, el }) => el.append(`shown: ${model.get("user")}`) } };
    const model = await boot(document, module);
    expect(model.get("user")).toBe("u7");
    expect(document.getElementById(PAGE.view).textContent).toBe("shown: u7");
  });

  it("boot shows a failure in the page instead of a blank one", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    document.body.innerHTML = `<div id="${PAGE.view}"></div>
      <script type="application/json" id="${PAGE.state}">{}</script>
      <script type="text/plain" id="${PAGE.esm}">export default {}</script>`;
    expect(await boot(document)).toBeNull();
    expect(document.getElementById(PAGE.view).textContent).toMatch(/could not show the explorer/);
  });
});
