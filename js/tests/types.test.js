// src/types.js mirrors the contract key for key: each header typedef has the properties of its
// part of attnwidget/widget/pack_header.schema.json (optional exactly where the schema does not
// require them), and Traits has every synced trait of attnwidget/widget/explorer.py. tsc then
// checks the views against these typedefs (npm run typecheck).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const typesText = readFileSync(join(import.meta.dirname, "..", "src", "types.js"), "utf8");
const schema = JSON.parse(readFileSync(join(root, "attnwidget", "widget", "pack_header.schema.json"), "utf8"));

/** name -> {key: optional?} of each `@typedef {object} Name` block's `@property` tags. */
function typedefs(text) {
  const out = {};
  for (const block of text.match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
    const name = block.match(/@typedef \{object\} (\w+)/)?.[1];
    if (!name) continue;
    out[name] = {};
    // the type may hold nested braces ({Record<string, {a: b}>}): the name follows the last "} "
    for (const [, key] of block.matchAll(/@property \{.*\} (\[?\w+\]?)/g)) {
      out[name][key.replace(/[[\]]/g, "")] = key.startsWith("[");
    }
  }
  return out;
}

/** {key: optional?} of a schema object (the non-null branch of a oneOf). */
function schemaKeys(part) {
  const object = part.oneOf ? part.oneOf.find((p) => p.type === "object" || p.$ref) : part;
  const resolved = object.$ref ? schema.$defs[object.$ref.split("/").pop()] : object;
  const required = new Set(resolved.required ?? []);
  return Object.fromEntries(Object.keys(resolved.properties).map((k) => [k, !required.has(k)]));
}

const defs = typedefs(typesText);
const props = schema.properties;

describe("src/types.js", () => {
  it.each([
    ["PackHeader", schema],
    ["Importance", props.importance],
    ["WhatIf", props.what_if],
    ["Truncated", props.truncated],
    ["Timing", props.timing],
    ["ScoredItem", props.target],
    ["HistoryItem", schema.$defs.item],
    ["NamedItem", schema.$defs.named],
    ["ArraySpec", schema.$defs.array],
    ["NonFinite", props.nonfinite.additionalProperties],
    ["AgreementFigures", schema.$defs.agreement.additionalProperties],
  ])("%s has the schema's keys, optional where the schema does not require them", (name, part) => {
    expect(defs[name]).toEqual(schemaKeys(part));
  });

  it("Traits lists every synced trait of the explorer", () => {
    const explorer = readFileSync(join(root, "attnwidget", "widget", "explorer.py"), "utf8");
    const synced = [...explorer.matchAll(/^ {4}(\w+) = .*\.tag\(sync=True\)/gm)].map((m) => m[1]);
    expect(synced.length).toBeGreaterThan(10);
    expect(Object.keys(defs.Traits).sort()).toEqual(synced.sort());
  });
});
