// Where the map writes "This customer": beside the ring, on the side that keeps the words off the segment centres.

/** The places for the label beside a point, in map units, in order of preference: above or below (``align``: its
 * last line ``dy`` above, its first line ``dy`` below), right or left of it; then, where centres crowd round the
 * point on every side, farther out to the right or left, level with it. */
const PLACES = [
  { dx: 20, dy: -16, anchor: "start", align: "above" },
  { dx: -20, dy: -16, anchor: "end", align: "above" },
  { dx: 20, dy: 26, anchor: "start", align: "below" },
  { dx: -20, dy: 26, anchor: "end", align: "below" },
  { dx: 44, anchor: "start", align: "level" },
  { dx: -44, anchor: "end", align: "level" },
];

/** How the label is written and its size in map units, as Chromium draws it with its white outline: ``lines`` (one
 * under the other, ``leading`` apart, as 1.2em in the map), ``width`` (the widest), ``ascent`` above the first
 * baseline, ``descent`` below the last, and the radius of a centre's circle with its outline. ``wide``: the 14 px
 * type and 11-unit centres of a wide screen. ``narrow``: the 24 px type and 15-unit centres that app.css draws on a
 * phone (under ``NARROW``), where the map shrinks: there "This customer" on one line is 196 units wide, and placed
 * as if it were the wide screen's 112 it ran past the map's right edge, cut off; on two lines it is 131. */
export const LABEL_SIZES = {
  wide: { lines: ["This customer"], leading: 0, width: 112, ascent: 14, descent: 4, radius: 12 },
  narrow: { lines: ["This", "customer"], leading: 29, width: 131, ascent: 25, descent: 8, radius: 16 },
};
/** The media query under which app.css draws the map's type larger (keep the two in step). */
export const NARROW = "(max-width: 40rem)";

/** How far a point is outside a box {x0, x1, y0, y1}, along the farther axis (0 inside it): a centre's circle of
 * radius r, taken as the square around it, stays clear of the box when this is more than r. */
function distanceToBox(px, py, box) {
  const dx = Math.max(box.x0 - px, 0, px - box.x1);
  const dy = Math.max(box.y0 - py, 0, py - box.y1);
  return Math.max(dx, dy);
}

/**
 * The place for a label of one of :data:`LABEL_SIZES` (the wide one by default) beside the point (x, y): the first of
 * :data:`PLACES` that stays inside ``frame`` {x0, x1, y0, y1} and clears every centre (circles of ``radius`` around
 * ``centres`` [{x, y}]) by ``gap``; else the one that keeps farthest from the nearest centre, inside the frame if any
 * is. Returns {x, y, anchor} for an SVG <text> (y: its first baseline).
 */
export function labelPlace(x, y, centres, frame, { lines, leading, width, ascent, descent, radius, gap = 2 } = LABEL_SIZES.wide) {
  const below = (lines.length - 1) * leading; // from the first baseline to the last
  const scored = PLACES.map((p) => {
    const tx = x + p.dx;
    const ty = {
      above: y + p.dy - below,
      below: y + p.dy,
      level: y - (below + descent - ascent) / 2, // the middle of the box at the point's height
    }[p.align];
    const [x0, x1] = p.anchor === "start" ? [tx, tx + width] : [tx - width, tx];
    const box = { x0, x1, y0: ty - ascent, y1: ty + below + descent };
    const inside = box.x0 >= frame.x0 && box.x1 <= frame.x1 && box.y0 >= frame.y0 && box.y1 <= frame.y1;
    const clearance = Math.min(Infinity, ...centres.map((c) => distanceToBox(c.x, c.y, box) - radius));
    return { place: { x: tx, y: ty, anchor: p.anchor }, inside, clearance };
  });
  const good = scored.find((s) => s.inside && s.clearance >= gap);
  if (good) return good.place;
  const pool = scored.some((s) => s.inside) ? scored.filter((s) => s.inside) : scored;
  return pool.reduce((best, s) => (s.clearance > best.clearance ? s : best)).place;
}
