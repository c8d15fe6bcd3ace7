// Unit tests of where the map writes "This customer" (node:test): `npm test`, run by `make test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { LABEL_SIZES, NARROW, labelPlace } from "../src/mapLabel.js";

const FRAME = { x0: 44, x1: 624, y0: 16, y1: 376 };

test("the label goes above and to the right when nothing is in the way", () => {
  assert.deepEqual(labelPlace(200, 200, [{ x: 500, y: 300 }], FRAME), { x: 220, y: 184, anchor: "start" });
});

test("a segment centre where the label would go sends it to another side", () => {
  // centre 0 just above and right of the customer, under the default label (the staff page's row-1 case)
  const place = labelPlace(200, 200, [{ x: 260, y: 178 }], FRAME);
  assert.notDeepEqual(place, { x: 220, y: 184, anchor: "start" });
  assert.deepEqual(place, { x: 180, y: 184, anchor: "end" });
});

test("near the right edge the label is written to the left, inside the frame", () => {
  assert.deepEqual(labelPlace(600, 200, [], FRAME), { x: 580, y: 184, anchor: "end" });
  assert.deepEqual(labelPlace(600, 20, [], FRAME), { x: 580, y: 46, anchor: "end" }); // and below, at the top edge
});

test("with centres on every side the label keeps farthest from the nearest one", () => {
  // inside the boxes above right, above left and below right; the box below left reaches 2 units into a centre's
  // circle, those farther out, level with the point, 1 unit (the right one comes first)
  const centres = [{ x: 250, y: 180 }, { x: 150, y: 180 }, { x: 250, y: 222 }, { x: 190, y: 240 }];
  const place = labelPlace(200, 200, centres, FRAME);
  assert.deepEqual(place, { x: 244, y: 205, anchor: "start" });
});

test("on a phone the two-line label keeps inside the frame, its last line where a single one would be", () => {
  assert.deepEqual(labelPlace(490, 200, [], FRAME), { x: 510, y: 184, anchor: "start" }); // 510 + 112 < 624
  // 510 + 131 > 624: to the left, the first line a line higher so that the last one sits above the point
  assert.deepEqual(labelPlace(490, 200, [], FRAME, LABEL_SIZES.narrow), { x: 470, y: 155, anchor: "end" });
  // the staff page's row-1 customer at phone width: the one line ran out of the map on the right; two lines fit there
  const centres = [{ x: 323, y: 176 }, { x: 454, y: 149 }, { x: 446, y: 236 }];
  const place = labelPlace(457, 191, centres, FRAME, LABEL_SIZES.narrow);
  assert.equal(place.anchor, "start");
  assert.ok(place.x + LABEL_SIZES.narrow.width <= FRAME.x1);
});

test("app.css draws the larger map type under the media query the label is placed for", () => {
  const css = readFileSync(new URL("../src/app.css", import.meta.url), "utf8");
  const narrow = css.slice(css.indexOf(`@media ${NARROW} {`));
  assert.ok(narrow.length < css.length, `no @media ${NARROW} block in app.css`);
  assert.match(narrow, /\.customer-label \{ font-size: 24px; \}/);
  assert.match(narrow, /\.map-svg \.centre circle \{ r: 15px; \}/);
});

test("where centres crowd round the point on every side, the label goes farther out, level with it", () => {
  // the staff page's row-6 customer at phone width: every place beside the ring touches a centre
  const centres = [{ x: 323, y: 176 }, { x: 454, y: 149 }, { x: 446, y: 236 }];
  assert.deepEqual(labelPlace(431, 175, centres, FRAME, LABEL_SIZES.narrow), { x: 475, y: 169, anchor: "start" });
});
