// @vitest-environment jsdom
// The user box searches users in the kernel (live) or among the archive's users (static
// export) and shows a bounded list of ids as text; the slider runs over a window of users.
import { afterEach, describe, expect, it, vi } from "vitest";
import { USER_SEARCH_DELAY_MS } from "../src/user-search.js";
import { mount, view } from "./harness.js";
import { encodeArchive, makePack } from "./helpers.js";

const IMG = "<img src=x onerror=alert(1)>";
const enter = (node) => node.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
const results = (el) => [...el.querySelectorAll(".aw-user-result")].map((b) => b.textContent);

function typer(box) {
  return (text) => {
    box.value = text;
    box.dispatchEvent(new Event("input"));
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("user search", () => {
  it("asks the kernel after a pause, shows its answer as text and picks with Enter", () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const box = el.querySelector("input.aw-user-input");
    const type = typer(box);
    box.focus();
    type("u");
    type("u0");
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS - 1);
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(model.sent).toEqual([{ type: "search_users", query: "u0" }]);
    expect(el.querySelector(".aw-user-note").textContent).toBe("searching…");

    type("u00");
    model.emit("msg:custom", { type: "user_results", query: "u0", users: ["stale"], more: false });
    expect(results(el)).toEqual([]); // the answer to an older query
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    model.emit("msg:custom", { type: "user_results", query: "u00", users: [IMG, "u007", "u00"], more: true });
    expect(results(el)).toEqual([IMG, "u007", "u00"]);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector(".aw-user-note").textContent).toBe("The first 3 matches: type more to narrow them.");
    expect(box.getAttribute("aria-expanded")).toBe("true");

    enter(box); // the exact match wins over the first one
    expect(model.state.user).toBe("u00");
    expect(results(el)).toEqual([]);
    expect(el.querySelector(".aw-user-found").hidden).toBe(true);
  });

  it("picks the first match, a clicked one, or the typed id when no answer came yet", () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const box = el.querySelector("input.aw-user-input");
    const type = typer(box);
    type("ann");
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    model.emit("msg:custom", { type: "user_results", query: "ann", users: ["anna", "hannah"], more: false });
    enter(box);
    expect(model.state.user).toBe("anna");

    type("han");
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    model.emit("msg:custom", { type: "user_results", query: "han", users: ["hannah", "shan"], more: false });
    el.querySelectorAll(".aw-user-result")[1].click();
    expect(model.state.user).toBe("shan");

    type("zed");
    enter(box); // before any answer: the kernel decides whether "zed" is a user
    expect(model.state.user).toBe("zed");
    type("nobody");
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    model.emit("msg:custom", { type: "user_results", query: "nobody", users: [], more: false });
    expect(el.querySelector(".aw-user-note").textContent).toBe("No user matches 'nobody'.");
  });

  it("moves through the matches with the arrow keys; Escape puts the shown user back", () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const box = el.querySelector("input.aw-user-input");
    box.focus();
    typer(box)("u");
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    model.emit("msg:custom", { type: "user_results", query: "u", users: ["u1", "u2", "u3"], more: false });
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    const buttons = [...el.querySelectorAll(".aw-user-result")];
    expect(document.activeElement).toBe(buttons[0]);
    buttons[0].dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(document.activeElement).toBe(buttons[1]);
    buttons[1].dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(document.activeElement).toBe(box);
    expect(box.value).toBe("u1");
    expect(results(el)).toEqual([]);
    expect(model.state.user).toBe("u1");
  });

  it("searches a static export's users in the page, with no kernel", () => {
    vi.useFakeTimers();
    const packs = ["ann", "bob", "hannah"].map((user) => makePack({ user, n: 3 }));
    const { el, model } = mount({
      user: "ann",
      payload: new DataView(new ArrayBuffer(0)),
      archive: view(encodeArchive(packs)),
    });
    const box = el.querySelector("input.aw-user-input");
    typer(box)("AN");
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    expect(model.sent).toEqual([]);
    expect(results(el)).toEqual(["ann", "hannah"]);
    el.querySelectorAll(".aw-user-result")[1].click();
    expect(model.state.user).toBe("hannah");
    expect(el.querySelector(".aw-control .aw-value").textContent).toBe("3 of 3");
  });
});

describe("user window", () => {
  it("runs the slider over the window and moves it with ‹ ›", () => {
    const ids = Array.from({ length: 100 }, (_, i) => `u${i + 1000}`);
    const { el, model } = mount({ user: "u1005", user_window: ids, user_window_start: 1000, n_users: 1_000_000 });
    const slider = el.querySelector("input.aw-user-slider");
    const value = el.querySelector(".aw-control .aw-value");
    expect([slider.max, slider.value]).toEqual(["99", "5"]);
    expect(value.textContent).toBe("1,006 of 1,000,000");
    const [earlier, later] = el.querySelectorAll("button.aw-user-page");
    expect([earlier.hidden, earlier.disabled, later.disabled]).toEqual([false, false, false]);
    later.click();
    expect(model.state.user_window_start).toBe(1100);
    // the kernel answers with the next window: the shown user is not in it
    model.set(
      "user_window",
      Array.from({ length: 100 }, (_, i) => `u${i + 1100}`),
    );
    expect(value.textContent).toBe("1,101–1,200 of 1,000,000");
    slider.value = "3";
    slider.dispatchEvent(new Event("input"));
    expect(el.querySelector("input.aw-user-input").value).toBe("u1103");
    slider.dispatchEvent(new Event("change"));
    expect(model.state.user).toBe("u1103");
    model.set("user_window_start", 0);
    expect(earlier.disabled).toBe(true);
  });

  it("hides ‹ › when every user fits in the window", () => {
    const { el } = mount();
    const pages = [...el.querySelectorAll("button.aw-user-page")];
    expect(pages.map((b) => b.hidden)).toEqual([true, true]);
  });
});

describe("item search (what-if)", () => {
  it("says when the kernel found more items than it sent", () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const input = el.querySelector(".aw-add-input");
    input.value = "lens";
    input.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(USER_SEARCH_DELAY_MS);
    expect(model.sent).toEqual([{ type: "search", query: "lens" }]);
    const items = [{ id: "i1", title: IMG }];
    model.emit("msg:custom", { type: "search_results", query: "lens", items, more: true });
    expect(el.querySelector(".aw-search-note").textContent).toBe("The first 1 matches: type more to narrow them.");
    expect(el.querySelector(".aw-result-title").textContent).toBe(IMG);
    expect(el.querySelector("img")).toBeNull();
  });
});
