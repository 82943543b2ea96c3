// searchIds: the static export's user search, ordered as the kernel's (attnwidget/data/search.py).
import { describe, expect, it } from "vitest";
import { searchIds } from "../src/user-search.js";

describe("searchIds", () => {
  const ids = ["u10", "bob", "U1", "xu1", "u2", "anna-u1"];

  it("puts ids starting with the query first, in sorted order, then those containing it", () => {
    expect(searchIds(ids, "u1")).toEqual({ users: ["U1", "u10", "xu1", "anna-u1"], more: false });
    expect(searchIds(ids, " AN ")).toEqual({ users: ["anna-u1"], more: false });
  });

  it("is plain text, bounded, and says when more match", () => {
    expect(searchIds(ids, "u", 2)).toEqual({ users: ["U1", "u10"], more: true });
    expect(searchIds(ids, "u", 6).more).toBe(false);
    expect(searchIds(ids, ".*").users).toEqual([]);
    expect(searchIds(ids, "   ")).toEqual({ users: [], more: false });
  });
});
