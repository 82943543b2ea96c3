// Bundles the widget front end into attnwidget/static/ and copies the few
// AMD files the offline HTML export needs (require.js, the widget manager).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "attnwidget", "static");
const require = createRequire(import.meta.url);

mkdirSync(join(out, "vendor"), { recursive: true });
await build({
  entryPoints: [join(here, "src", "widget.js")],
  bundle: true,
  format: "esm",
  minify: true,
  define: { "define.amd": "false" },
  outfile: join(out, "widget.js"),
  logLevel: "warning",
});

const vendor = {
  "require.js": require.resolve("requirejs/require.js"),
  "embed-amd.js": require.resolve("@jupyter-widgets/html-manager/dist/embed-amd.js"),
};
for (const [name, src] of Object.entries(vendor)) copyFileSync(src, join(out, "vendor", name));
