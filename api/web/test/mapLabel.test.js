// Unit tests of where the map writes "This customer" (node:test): `npm test`, run by `make test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { labelPlace } from "../src/mapLabel.js";

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
  // inside the boxes above right, above left and below right; near, but not inside, the one below left
  const centres = [{ x: 250, y: 180 }, { x: 150, y: 180 }, { x: 250, y: 222 }, { x: 190, y: 240 }];
  const place = labelPlace(200, 200, centres, FRAME);
  assert.deepEqual(place, { x: 180, y: 226, anchor: "end" });
});
