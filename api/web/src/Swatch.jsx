import { segmentColour } from "./colours.js";

/** A small square in a segment's colour, beside its name (decorative: the name says it). */
export function Swatch({ segment }) {
  return (
    <svg className="swatch" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">
      <rect x="0.5" y="0.5" width="13" height="13" rx="3" fill={segmentColour(segment)} stroke="#1b1f24" strokeOpacity="0.35" />
    </svg>
  );
}
