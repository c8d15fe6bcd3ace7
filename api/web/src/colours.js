// Segment colours, the palette of stages/plots.py (Okabe–Ito), injected by build.mjs.
/* global __SEGMENT_COLOURS__ */
export const SEGMENT_COLOURS = __SEGMENT_COLOURS__;

/** Colour of a segment id (as stages.plots.colour). */
export const segmentColour = (segment) => SEGMENT_COLOURS[segment % SEGMENT_COLOURS.length];
