import { segmentColour } from "./colours.js";
import { isMapData, percent } from "./format.js";
import { LABEL_SIZES, NARROW, labelPlace } from "./mapLabel.js";
import { useMedia } from "./useMedia.js";
import { Swatch } from "./Swatch.jsx";

const WIDTH = 640;
const HEIGHT = 420;
const PAD = { left: 44, right: 16, top: 16, bottom: 44 };

/** Linear map of [lo, hi] onto [a, b], with a little margin so dots don't touch the frame. */
function scale(lo, hi, a, b) {
  const margin = (hi - lo) * 0.04 || 1;
  const l = lo - margin;
  const h = hi + margin;
  return (v) => a + ((v - l) / (h - l)) * (b - a);
}

/** All customers on the report's PCA map, faint and coloured by segment, the segment centres, and this customer. */
export function PcaMap({ pca, personas, customer }) {
  const narrow = useMedia(NARROW);
  if (!isMapData(pca)) throw new Error("GET /api/pca answered map data in a shape the page cannot draw");
  const xs = [...pca.points.map((p) => p.x), ...pca.centres.map((c) => c.x), customer.x];
  const ys = [...pca.points.map((p) => p.y), ...pca.centres.map((c) => c.y), customer.y];
  const sx = scale(Math.min(...xs), Math.max(...xs), PAD.left, WIDTH - PAD.right);
  const sy = scale(Math.min(...ys), Math.max(...ys), HEIGHT - PAD.bottom, PAD.top);
  const variance = pca.explained_variance || [];
  const kept = variance.length >= 2 ? variance[0] + variance[1] : null;
  const meaning = pca.axis_meaning || {};
  const nameOf = (segment) => (personas.find((p) => p.id === segment) || { name: `Segment ${segment}` }).name;
  const cx = sx(customer.x);
  const cy = sy(customer.y);
  const frame = { x0: PAD.left, x1: WIDTH - PAD.right, y0: PAD.top, y1: HEIGHT - PAD.bottom };
  const size = LABEL_SIZES[narrow ? "narrow" : "wide"];
  const label = labelPlace(cx, cy, pca.centres.map((c) => ({ x: sx(c.x), y: sy(c.y) })), frame, size);

  return (
    <figure className="map">
      <figcaption id="map-title">
        <h4 id="map-heading" tabIndex={-1}>Where this customer sits among all {pca.points.length} customers</h4>
        <p className="hint">
          Each faint dot is a customer, placed by its spending pattern (what each direction means is said under the map). Customers close together buy alike
          {kept != null ? `; the map keeps ${percent(kept)} of the differences between customers, so a few who differ in other ways sit close too.` : "."}
        </p>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="map-svg-title map-svg-desc" className="map-svg">
        <title id="map-svg-title">Map of customers by segment</title>
        <desc id="map-svg-desc">
          {`Dots are customers coloured by segment; numbered circles are the segment centres. This customer, in segment ${customer.segment} (${nameOf(customer.segment)}), is the ringed point.`}
        </desc>
        <rect x={PAD.left} y={PAD.top} width={WIDTH - PAD.left - PAD.right} height={HEIGHT - PAD.top - PAD.bottom} fill="#fff" stroke="#9aa3ad" />
        <line x1={sx(0)} x2={sx(0)} y1={PAD.top} y2={HEIGHT - PAD.bottom} stroke="#d5d9de" />
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={sy(0)} y2={sy(0)} stroke="#d5d9de" />
        <text x={(PAD.left + WIDTH - PAD.right) / 2} y={HEIGHT - 12} textAnchor="middle" className="axis-label">
          further right →
        </text>
        <text x={26} y={(PAD.top + HEIGHT - PAD.bottom) / 2} textAnchor="middle" className="axis-label" transform={`rotate(-90 26 ${(PAD.top + HEIGHT - PAD.bottom) / 2})`}>
          further up →
        </text>
        <g aria-hidden="true">
          {pca.points.map((p, i) => (
            <circle
              key={i}
              cx={sx(p.x)}
              cy={sy(p.y)}
              r="3"
              fill={p.clustered === false ? "none" : segmentColour(p.segment)}
              fillOpacity="0.35"
              stroke={segmentColour(p.segment)}
              strokeOpacity={p.clustered === false ? 0.8 : 0}
            />
          ))}
          {pca.centres.map((c) => (
            <g key={c.segment} className="centre">
              <circle cx={sx(c.x)} cy={sy(c.y)} r="11" fill={segmentColour(c.segment)} stroke="#1b1f24" strokeWidth="2" />
              <text x={sx(c.x)} y={sy(c.y) + 4} textAnchor="middle" className="centre-label">
                {c.segment}
              </text>
            </g>
          ))}
          <g className="customer">
            <circle cx={cx} cy={cy} r="14" fill="none" stroke="#fff" strokeWidth="6" />
            <circle cx={cx} cy={cy} r="14" fill="none" stroke="#1b1f24" strokeWidth="3" />
            <circle cx={cx} cy={cy} r="5" fill={segmentColour(customer.segment)} stroke="#1b1f24" strokeWidth="1.5" />
            <text x={label.x} y={label.y} textAnchor={label.anchor} className="customer-label">
              {size.lines.map((line, i) => (
                <tspan key={line} x={label.x} dy={i === 0 ? 0 : "1.2em"}>
                  {line}
                </tspan>
              ))}
            </text>
          </g>
        </g>
      </svg>
      {(meaning.x || meaning.y) && (
        <p className="map-axes">
          {meaning.x && <span>Further right: {meaning.x}.</span>} {meaning.y && <span>Further up: {meaning.y}.</span>}
        </p>
      )}
      <ul className="legend" aria-label="Map legend">
        {personas.map((p) => (
          <li key={p.id}>
            <Swatch segment={p.id} /> {p.id}: {p.name}
          </li>
        ))}
        <li>
          <svg className="swatch" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <circle cx="8" cy="8" r="6" fill="none" stroke="#1b1f24" strokeWidth="2.5" />
          </svg>{" "}
          This customer
        </li>
        {pca.points.some((p) => p.clustered === false) && (
          <li>
            <svg className="swatch" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <circle cx="8" cy="8" r="4" fill="none" stroke="#4a5361" strokeWidth="1.5" />
            </svg>{" "}
            Hollow: unusual customer left out when the segments were built
          </li>
        )}
      </ul>
    </figure>
  );
}
