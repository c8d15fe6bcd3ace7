// Every URL the page and its HTML use is relative to the page (node:test): `npm test`, run by `make test`.
// Served under a proxy's prefix (https://intranet.example/segmentation/), a URL from the host's root (/api/health,
// /static/app.js) would leave the prefix and reach another site or nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync, readdirSync } from "node:fs";

const src = new URL("../src/", import.meta.url);
const files = readdirSync(src).filter((name) => /\.(jsx?|html|css)$/.test(name));
const PAGE = "https://intranet.example/segmentation/";

/** [file, line number, text] of every URL written from the host's root: an attribute (href, src, action), a CSS
 * url(), or a string that names one of the app's own paths. */
function rootUrls(name) {
  const found = [];
  readFileSync(new URL(name, src), "utf8").split("\n").forEach((line, i) => {
    const patterns = [/\b(?:href|src|action)=\{?["'`]\/(?!\/)[^"'`]*/g, /url\(\s*["']?\/(?!\/)[^)]*/g, /(?<!=)["'`]\/(?:api|static|report)\b[^"'`]*/g];
    for (const pattern of patterns) for (const match of line.matchAll(pattern)) found.push(`${name}:${i + 1}: ${match[0]}`);
  });
  return found;
}

test("no URL in the page's sources starts at the host's root", () => {
  assert.ok(files.includes("index.html") && files.includes("App.jsx"), `sources not found in ${src}`);
  assert.deepEqual(files.flatMap(rootUrls), []);
});

test("the HTML's script, stylesheet, icon and links stay under the page's prefix", () => {
  const html = readFileSync(new URL("index.html", src), "utf8");
  const urls = [...html.matchAll(/\b(?:href|src)="([^"]*)"/g)].map((m) => m[1]);
  assert.ok(urls.length >= 4, `expected the icon, stylesheet, script and API link, found ${urls}`);
  for (const url of urls) assert.ok(new URL(url, PAGE).href.startsWith(PAGE), `${url} resolves to ${new URL(url, PAGE).href}`);
});
