// Where the map writes "This customer": beside the ring, on the side that keeps the words off the segment centres.

/** The label's box, in map units, for the four places beside a point: above or below, right or left of it. */
const PLACES = [
  { dx: 20, dy: -16, anchor: "start" },
  { dx: -20, dy: -16, anchor: "end" },
  { dx: 20, dy: 26, anchor: "start" },
  { dx: -20, dy: 26, anchor: "end" },
];

/** How far a point is outside a box {x0, x1, y0, y1}, along the farther axis (0 inside it): a centre's circle of
 * radius r, taken as the square around it, stays clear of the box when this is more than r. */
function distanceToBox(px, py, box) {
  const dx = Math.max(box.x0 - px, 0, px - box.x1);
  const dy = Math.max(box.y0 - py, 0, py - box.y1);
  return Math.max(dx, dy);
}

/**
 * The place for a label ``width`` wide, ``ascent`` above and ``descent`` below its baseline (as Chromium draws the
 * page's "This customer": 112 × 17 map units with its white outline) beside the point (x, y): the first of
 * :data:`PLACES` that stays inside ``frame`` {x0, x1, y0, y1} and clears every centre (circles of ``radius`` around
 * ``centres`` [{x, y}]) by ``gap``; else the one that keeps farthest from the nearest centre, inside the frame if any
 * is. Returns {x, y, anchor} for an SVG <text>.
 */
export function labelPlace(x, y, centres, frame, { width = 112, ascent = 14, descent = 4, radius = 12, gap = 2 } = {}) {
  const scored = PLACES.map((p) => {
    const tx = x + p.dx;
    const ty = y + p.dy;
    const [x0, x1] = p.anchor === "start" ? [tx, tx + width] : [tx - width, tx];
    const box = { x0, x1, y0: ty - ascent, y1: ty + descent };
    const inside = box.x0 >= frame.x0 && box.x1 <= frame.x1 && box.y0 >= frame.y0 && box.y1 <= frame.y1;
    const clearance = Math.min(Infinity, ...centres.map((c) => distanceToBox(c.x, c.y, box) - radius));
    return { place: { x: tx, y: ty, anchor: p.anchor }, inside, clearance };
  });
  const good = scored.find((s) => s.inside && s.clearance >= gap);
  if (good) return good.place;
  const pool = scored.some((s) => s.inside) ? scored.filter((s) => s.inside) : scored;
  return pool.reduce((best, s) => (s.clearance > best.clearance ? s : best)).place;
}
