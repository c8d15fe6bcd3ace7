// Builds the staff page into ../static/: app.js and app.css (esbuild), index.html and favicon.svg (copied).
// The segment colours are read from stages/plots.py (SEGMENT_COLOURS), so the page and the report share one palette.
// Prints the gzip size of what a browser downloads and fails when it passes BUDGET_GZIP_BYTES.
import { build } from "esbuild";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "..", "static");
const plotsPy = join(here, "..", "..", "stages", "plots.py");
const BUDGET_GZIP_BYTES = 100 * 1024;

/** The SEGMENT_COLOURS list of stages/plots.py, as an array of "#rrggbb" strings. */
async function segmentColours() {
  const source = await readFile(plotsPy, "utf8");
  const match = source.match(/^SEGMENT_COLOURS\s*=\s*\[([^\]]*)\]/m);
  const colours = match ? [...match[1].matchAll(/"(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]) : [];
  if (colours.length === 0) {
    throw new Error(`${plotsPy}: no SEGMENT_COLOURS = ["#rrggbb", ...] list found; the page takes its palette from there`);
  }
  return colours;
}

await mkdir(outdir, { recursive: true });
await build({
  entryPoints: { app: join(here, "src", "main.jsx") },
  outdir,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  legalComments: "eof",
  logLevel: "warning",
  define: {
    "process.env.NODE_ENV": '"production"',
    __SEGMENT_COLOURS__: JSON.stringify(await segmentColours()),
  },
});
for (const file of ["index.html", "favicon.svg"]) {
  await copyFile(join(here, "src", file), join(outdir, file));
}

let total = 0;
for (const file of ["index.html", "app.js", "app.css", "favicon.svg"]) {
  const bytes = await readFile(join(outdir, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`${file.padEnd(12)} ${(bytes.length / 1024).toFixed(1).padStart(7)} KB  ${(gz / 1024).toFixed(1).padStart(6)} KB gzip`);
}
console.log(`${"total".padEnd(12)} ${"".padStart(10)} ${(total / 1024).toFixed(1).padStart(9)} KB gzip (budget ${BUDGET_GZIP_BYTES / 1024} KB)`);
if (total > BUDGET_GZIP_BYTES) {
  console.error(`the staff page is ${total} bytes gzipped, over its budget of ${BUDGET_GZIP_BYTES}`);
  process.exit(1);
}
