// Bundles the widget front end into attnwidget/static/ (widget.js, the anywidget module, and
// standalone-host.js, the host of a light static export, and standalone-explorer.js, that host
// with the widget bundled in: the explorer's own export) and copies the few AMD
// files the generic offline HTML export needs (require.js, the widget manager).
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
// CompareExplorer's module (attnwidget/widget/compare.py).
await build({
  entryPoints: [join(here, "src", "compare.js")],
  bundle: true,
  format: "esm",
  minify: true,
  define: { "define.amd": "false" },
  outfile: join(out, "compare.js"),
  logLevel: "warning",
});
// The page inlines this one as a <script type="module">: it only has to call boot().
await build({
  stdin: { contents: 'import { boot } from "./standalone-host.js";\nboot();\n', resolveDir: join(here, "src") },
  bundle: true,
  format: "esm",
  minify: true,
  outfile: join(out, "standalone-host.js"),
  logLevel: "warning",
});
// The explorer's own page: host and widget in one inline module (no Blob import to wait for).
await build({
  stdin: {
    contents:
      'import * as widget from "./widget.js";\nimport { boot } from "./standalone-host.js";\nboot(document, widget);\n',
    resolveDir: join(here, "src"),
  },
  bundle: true,
  format: "esm",
  minify: true,
  define: { "define.amd": "false" },
  outfile: join(out, "standalone-explorer.js"),
  logLevel: "warning",
});

const vendor = {
  "require.js": require.resolve("requirejs/require.js"),
  "embed-amd.js": require.resolve("@jupyter-widgets/html-manager/dist/embed-amd.js"),
};
for (const [name, src] of Object.entries(vendor)) copyFileSync(src, join(out, "vendor", name));
