// Numbers and words shown to staff.

const whole = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const twoDecimals = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** 12669 → "12,669". */
export const money = (value) => whole.format(value);
/** A file's size as people read it: 870,729 bytes → "871 KB", 2,902,269 → "2.9 MB", 10 MB and more in whole MB
 * (decimal units, as file managers show them). */
export function fileSize(bytes) {
  if (bytes < 1000) return `${whole.format(bytes)} bytes`;
  if (bytes < 999500) return `${whole.format(bytes / 1000)} KB`;
  const mb = bytes / 1e6;
  return mb < 9.95 ? `${mb.toFixed(1)} MB` : `${whole.format(mb)} MB`;
}

/** The text of a share rounded to ``points`` percent: a share strictly between 0 and 1 never reads "0%" or "100%". */
function percentText(share, points) {
  if (points <= 0 && share > 0) return "<1%";
  if (points >= 100 && share < 1) return ">99%";
  return `${whole.format(points)}%`;
}

/** 0.4213 → "42%"; 0.0004 → "<1%"; 0.9999998 → ">99%" (a model is never shown as certain when it is not). */
export const percent = (share) => percentText(share, Math.round(share * 100));

/**
 * The parts of one whole (shares that add up to 1) → their percent texts, which add up to 100: each share is rounded
 * down or up, and the points left over go to the largest remainders (ties: the larger share, then the earlier one).
 * Rounding each share on its own can show 63% + 27% + 11% = 101%. Shares that do not add up to 1 (within the half a
 * point that storing them to four decimals can cost) are rounded one by one.
 */
export function percents(shares) {
  const total = shares.reduce((sum, s) => sum + s, 0);
  if (shares.length === 0 || Math.abs(total - 1) > 0.005) return shares.map(percent);
  const points = shares.map((s) => Math.floor(s * 100));
  const order = shares
    .map((s, i) => ({ i, rest: s * 100 - points[i], s }))
    .sort((a, b) => b.rest - a.rest || b.s - a.s || a.i - b.i);
  const left = 100 - points.reduce((sum, p) => sum + p, 0);
  for (const { i } of order.slice(0, left)) points[i] += 1;
  return shares.map((s, i) => percentText(s, points[i]));
}
/** 2.104 → "2.10". */
export const decimal2 = (value) => twoDecimals.format(value);
/** 1.3536 → "1.35×": the one formatter of ratios on the page, two decimals with a half of the number's shortest text
 * rounded up (Intl.NumberFormat's rule: 1.005 → "1.01×"), as the pipeline's stages.names.times prints them in the
 * persona descriptions, ml/personas.md and the report (tests/ratios.json holds the cases both are tested on); a
 * persona's level is decided on that figure. A ratio above 0 that two decimals would print as 0 reads "<0.01×": a
 * customer who buys 5 a year of a category whose typical customer buys 3,627 does buy some. */
export function times(ratio) {
  const text = decimal2(ratio);
  return ratio > 0 && text === "0.00" ? "<0.01×" : `${text}×`;
}

/** What is said of a category most customers buy none of, in place of a ratio: the words of the pipeline's
 * descriptions and the report (``stages.names.MOST_BUY_NONE``). */
export const MOST_BUY_NONE = "most customers buy none";

/** Whether most customers buy none of a category (the persona's ``most_buy_none``: the whole base's median is under
 * 1), where the persona's ratio to the base is the segment's median amount, not a comparison, and is never shown. */
export const mostBuyNone = (persona, name) => Array.isArray(persona.most_buy_none) && persona.most_buy_none.includes(name);

/** The categories where the segment differs from the whole base (levels high or low), biggest difference first, and
 * those most customers buy none of after them, by the segment's median there: their "ratio" is that amount against a
 * floor of 1 (stages.personas.by_ratio), so a median of 854 would have come first as "854×". */
export function standouts(persona) {
  const none = (name) => mostBuyNone(persona, name);
  const size = (s) => (none(s.name) ? s.ratio : Math.abs(Math.log(s.ratio)));
  return Object.entries(persona.levels || {})
    .filter(([, level]) => level !== "typical")
    .map(([name, level]) => ({ name, level, ratio: persona.profile[name] }))
    .sort((a, b) => none(a.name) - none(b.name) || size(b) - size(a));
}

/** How the segment compares with the typical customer in a category, as the answer's list of standouts says it:
 * "the segment buys 2.00× the typical customer", or, where most customers buy none, the segment's median amount:
 * "the segment's median is 854 a year, where most customers buy none". */
export function segmentAgainstBase(persona, name) {
  if (!mostBuyNone(persona, name)) return `the segment buys ${times(persona.profile[name])} the typical customer`;
  const median = persona.centre && persona.centre[name];
  return typeof median === "number" && Number.isFinite(median)
    ? `the segment's median is ${money(median)} a year, where ${MOST_BUY_NONE}`
    : `${MOST_BUY_NONE}, unlike the segment`;
}

/**
 * How many of the segment's customers share this customer's Channel and Region (``input`` of the answer, in words),
 * which the segment is not found from: "Of the segment's customers, 63% share this customer's channel (Retail) and
 * 77% its region (Other)." The percents are the card's (:func:`percents` of the persona's mix); null when neither is
 * given.
 */
export function sharedLabels(persona, input) {
  const parts = [];
  for (const [key, mix, word] of [["Channel", persona.channel_mix, "channel"], ["Region", persona.region_mix, "region"]]) {
    const value = input && input[key];
    if (typeof value !== "string" || value === "" || !mix || typeof mix !== "object") continue;
    const names = Object.keys(mix);
    const at = names.indexOf(value);
    const share = at < 0 ? "none" : percents(names.map((n) => mix[n]))[at];
    parts.push(parts.length ? `${share} its ${word} (${value})` : `${share} share this customer's ${word} (${value})`);
  }
  return parts.length ? `Of the segment's customers, ${parts.join(" and ")}.` : null;
}

/** Decimal digits with an optional decimal point and exponent: what `Number()` reads, without its hex, octal,
 * binary and Infinity spellings. */
const PLAIN = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
/** Whole digits grouped in threes by commas (12,669) or spaces (12 669, also no-break and thin spaces), then an
 * optional decimal point: how the page itself and spreadsheets show amounts. */
const GROUPED = /^[+-]?\d{1,3}(?:(,)\d{3}(?:\1\d{3})*|([ \u00a0\u202f])\d{3}(?:\2\d{3})*)(\.\d+)?$/;

/**
 * An amount as staff type it → a number, or null when it is not one: "12669", "12,669", "12 669", "1e3",
 * "12669.50". A decimal comma ("1,5"), hexadecimal ("0x10") and anything else give null, so the page sends the
 * text as typed and the API names the field.
 */
export function parseAmount(text) {
  const t = text.trim();
  if (PLAIN.test(t)) return Number(t);
  if (GROUPED.test(t)) return Number(t.replace(/[, \u00a0\u202f]/g, ""));
  return null;
}

/** Digits grouped in threes by points (1.200, 12.669, 1.234.567): thousands as written in Portugal and much of Europe,
 * or a decimal point. One group reads as a decimal everywhere else on this page, the API and the data (1.200 is 1.2),
 * so staff typing a Portuguese amount would get a customer a thousand times smaller, without a word. */
const DOT_GROUPED = /^\+?[1-9]\d{0,2}(?:\.\d{3})+$/; // a negative one is refused as negative, as by the API

/** A currency sign or code before or after an amount, with the spaces next to it (stages.dataset.CURRENCY). */
const CURRENCY = /^(?:[€$£]|eur)\s*|\s*(?:[€$£]|eur)$/gi;

// The forms of stages.dataset.number_advice, which reads them the same way (tests/number_syntax.json, "advice").
const MISSING_MARK = /^(?:#?n\/?a|null|none|nil|-+|[\u2013\u2014]|\?)$/i;
const SPACE_GROUPED = /^[+-]?\d{1,3}([ \u00a0\u202f'’])\d{3}(?:\1\d{3})*(?:[.,]\d+)?$/;
const POINTS_AND_COMMA = /^[+-]?\d{1,3}(?:\.\d{3})+,\d+$/;
const COMMA_GROUPED = /^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/;
const DECIMAL_COMMA = /^[+-]?\d*,\d+$/;
const BRACKETED = /^\(\s*[^()]*\d[^()]*\)$/;
const PERCENTAGE = /^[^%]*\d[^%]*%$/;

/** What digits grouped in threes by ``separator`` could mean and what to write for each (one group), or the
 * thousands alone: "for 12,669, write 12669; for 12.669, write 12.6690". */
function readings(grouped, separator, write) {
  const thousands = Number(grouped.split(separator).join(""));
  if (grouped.split(separator).length > 2) return `for ${money(thousands)}, ${write} ${thousands}`;
  const plain = String(Number(grouped.replace(separator, ".")));
  const decimal = DOT_GROUPED.test(plain) ? `${plain}0` : plain;
  return `for ${money(thousands)}, ${write} ${thousands}; for ${plain}, ${write} ${decimal}`;
}

/**
 * What to write instead of ``text``, an amount that is no number, when it reads as an amount written the way
 * spreadsheets and people write them, to follow the words that refuse it (" (a decimal comma): write 12.5"), or null:
 * ``stages.dataset.number_advice``, which the API and the pipeline use, in ``write`` and ``empty``'s words.
 */
export function numberAdvice(text, write = "write", empty = "leave the cell empty") {
  let s = text.trim();
  if (MISSING_MARK.test(s)) return `: ${empty} when the amount is not known`;
  const notes = [];
  const bare = s.replace(CURRENCY, "");
  if (bare !== s && bare) {
    notes.push("a currency sign");
    s = bare;
  }
  if (PERCENTAGE.test(s)) return `: a percentage is not an amount; ${write} the yearly spending itself`;
  if (BRACKETED.test(s)) return ": an amount in brackets is a negative one; spending must be 0 or more";
  if (s.startsWith("-") && (PLAIN.test(s.slice(1)) || numberAdvice(s.slice(1), write, empty))) return ": a negative amount; spending must be 0 or more";
  const spaced = SPACE_GROUPED.exec(s);
  if (spaced) {
    notes.push(`thousands grouped by ${"'’".includes(spaced[1]) ? "apostrophes" : "spaces"}`);
    s = s.split(spaced[1]).join("");
  }
  if (POINTS_AND_COMMA.test(s)) {
    notes.push("thousands grouped by points", "a decimal comma");
    s = s.replace(/\./g, "").replace(",", ".");
  } else if (COMMA_GROUPED.test(s) && (s.includes(".") || s.split(",").length > 2)) {
    notes.push("thousands grouped by commas");
    s = s.replace(/,/g, "");
  } else if (COMMA_GROUPED.test(s) || DOT_GROUPED.test(s)) {
    const said = notes.length ? ` (${notes.join(", ")})` : "";
    return `${said}: ${readings(s.replace(/^\+/, ""), s.includes(",") ? "," : ".", write)}`;
  } else if (DECIMAL_COMMA.test(s)) {
    notes.push("a decimal comma");
    s = s.replace(",", ".");
  }
  if (!notes.length || !PLAIN.test(s)) return null;
  return ` (${notes.join(", ")}): ${write} ${s}`;
}

/** The words for an amount whose points may group thousands: what it could mean and what to type for each. */
function ambiguousAmount(text) {
  const thousands = Number(text.replace(/\./g, ""));
  const forThousands = `${thousands} or ${money(thousands)}`;
  const decimal = Number(text);
  if (Number.isNaN(decimal)) return `is not a number this page reads (a point is a decimal point here): for ${money(thousands)}, type ${forThousands}`;
  const plain = String(decimal); // 1.200 → "1.2"; 12.669 stays "12.669", still ambiguous, so "12.6690"
  const forDecimal = DOT_GROUPED.test(plain) ? `${plain}0` : plain;
  return `is ambiguous: ${money(thousands)} or ${plain}? For ${money(thousands)}, type ${forThousands}; for ${plain}, type ${forDecimal}`;
}

/** The least amount the API accepts (its OpenAPI ``minimum``; ``GET /api/fields`` publishes only the maximum). */
const MIN_SPEND = 0;

/** A text as the API quotes it in its messages (Python's repr, 40 characters at most): 'abc', "it's". */
function quoted(text) {
  const chars = [...text];
  const shown = chars.slice(0, 40).join("").replace(/\\/g, "\\\\");
  const quote = shown.includes("'") && !shown.includes('"') ? '"' : "'";
  return `${quote}${quote === "'" ? shown.replace(/'/g, "\\'") : shown}${quote}${chars.length > 40 ? "…" : ""}`;
}

/**
 * A number as the API writes it in its messages: Python's str, which uses an exponent from 1e+16 up and below 1e-04
 * (JavaScript's only from 1e21 and below 1e-6), with at least two exponent digits ("-1e-05", where String gives
 * "-0.00001" and toExponential "-1e-5"). Both write the shortest digits that read back as the same number.
 */
export function asApi(number) {
  const size = Math.abs(number);
  if (size === 0 || !Number.isFinite(number) || (size >= 1e-4 && size < 1e16)) return String(number);
  return number.toExponential().replace(/e([+-])(\d)$/, (_, sign, digit) => `e${sign}0${digit}`);
}

/**
 * The problem with one typed amount (``text``, trimmed; empty is left to be imputed) for ``field`` (an item of
 * ``GET /api/fields``), or null when the page may send it. The API's own rules, in its words, so that every field's
 * problem shows at once rather than some only after a round trip (the API still checks, and its 422 is shown):
 * - not a number (``abc``, ``0x10``, a decimal comma ``1,5``): the API refuses any text;
 * - below 0 or above ``max_allowed``; digits too long for a number ("1e400", 400 nines) read as Infinity, which JSON
 *   cannot carry (it would arrive as null), are said to be beyond the limit too, with the text as typed;
 * and the page's own:
 * - points that may group thousands ("1.200": 1,200 or 1.2?), which :data:`DOT_GROUPED` describes;
 * - an amount with a currency sign ("€1,200"), with the amount to type instead (the data and the API, whose number
 *   syntax the page shares, read plain amounts).
 */
export function amountProblem(text, field) {
  if (text === "") return null;
  const number = parseAmount(text);
  const bare = text.replace(CURRENCY, "");
  const max = field.max_allowed;
  if (number !== null && !Number.isFinite(number)) return number > 0 ? `must be at most ${money(max)} (got ${text})` : `must be ${MIN_SPEND} or more (got ${text})`;
  if (DOT_GROUPED.test(bare)) return ambiguousAmount(bare);
  if (bare !== text && parseAmount(bare) !== null) return `type the amount without the currency sign: ${bare}`;
  if (number === null) return `must be a number (yearly spending), not text ${quoted(text)}${numberAdvice(text, "type", "leave the field empty") ?? ""}`;
  if (number < MIN_SPEND) return `must be ${MIN_SPEND} or more (got ${asApi(number)})`;
  if (Number.isFinite(max) && number > max) return `must be at most ${money(max)} (got ${asApi(number)})`;
  return null;
}

/** The API's words for a category left out when the served model fills in none (``api.batch.NO_IMPUTE``), which the
 * page says under a blank field before sending, as the API's 422 would. */
export const NO_IMPUTE = "missing: give an amount (this service fills in no category left out; params data.impute is error)";

/** Whether the service fills in a category left blank: ``impute`` of ``GET /api/fields`` is {method: "median" or
 * "mean", values: the amount filled in per field name}; null (params data.impute is error), or anything else, is read
 * as no, so the page never promises to fill in what the API would refuse. */
export function fillsBlanks(impute) {
  return Boolean(impute && (impute.method === "median" || impute.method === "mean") && impute.values && typeof impute.values === "object");
}

/** How a blank is filled in: "filled in with the median of the training customers" (or the mean). */
const filledInWith = (impute) => `filled in with the ${impute.method} of the training customers`;

/** How the filled-in categories ``names`` were filled in, and the amount each became, from ``fields``
 * (``GET /api/fields``; without the method and amounts when it names none, as after the service changed model):
 * "filled in with the median of the training customers: Milk (3,627), Frozen food (1,526)". */
function filledInList(names, fields) {
  const impute = fields && fields.impute;
  const features = fields ? fields.features : [];
  const values = fillsBlanks(impute) ? impute.values : {};
  const list = names.map((n) => (typeof values[n] === "number" ? `${categoryWords(n, features)} (${money(values[n])})` : categoryWords(n, features)));
  return `${fillsBlanks(impute) ? filledInWith(impute) : "filled in"}: ${list.join(", ")}`;
}

/** The answer's note on the categories not given: "Not given, so filled in with the median of the training customers:
 * Milk (3,627)." */
export const filledInNote = (names, fields) => `Not given, so ${filledInList(names, fields)}.`;

/** A file's row with categories filled in: "Filled in with the median of the training customers: Milk (3,627)." */
export function filledInMark(names, fields) {
  const text = filledInList(names, fields);
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
}

/** This customer's figure in a category it did not give, where the answer quotes it: "3,627, filled in with the median". */
export function filledInFigure(amount, impute) {
  return `${money(amount)}, ${fillsBlanks(impute) ? `filled in with the ${impute.method}` : "filled in"}`;
}

/** The form's line on blanks: what a blank category becomes, or that blanks are not allowed. */
export function blankRule(impute) {
  return fillsBlanks(impute)
    ? `Yearly spending per category. A category left blank is ${filledInWith(impute)}.`
    : "Yearly spending per category. Blanks are not allowed: this service fills in no category, so type every one.";
}

/** A spending field's hint on leaving it blank (``name``: its field name): "Leave blank if unknown: filled in with
 * the mean, 12,000." or "Required: blanks are not allowed." */
export function blankHint(name, impute) {
  if (!fillsBlanks(impute) || typeof impute.values[name] !== "number") return "Required: blanks are not allowed.";
  return `Leave blank if unknown: filled in with the ${impute.method}, ${money(impute.values[name])}.`;
}

/** Amounts the page will not send (see :func:`amountProblem`), by field name → the message to show; a blank one too,
 * in the API's words, when ``blanksRefused`` (the service fills in none: not :func:`fillsBlanks`). */
export function unsendableAmounts(values, features, blanksRefused = false) {
  const problems = {};
  for (const field of features) {
    const text = (values[field.name] || "").trim();
    const problem = text === "" && blanksRefused ? NO_IMPUTE : amountProblem(text, field);
    if (problem) problems[field.name] = problem;
  }
  return problems;
}

/** Spending category name as the data set spells it → words ("Detergents_Paper" → "Detergents paper"). */
export const categoryWords = (name, fields) => {
  const field = fields && fields.find((f) => f.name === name);
  return field ? field.label : name.replace(/_/g, " ");
};

/** What the confidence figure is worth for a customer far from every segment (``atypical`` in the API's answer). */
const FAR_FROM_EVERY_SEGMENT = " But this customer is far from every segment, so the figure says little: check the amounts first.";

/** The confidence figure as a level: "high", "medium" or "low" (a mixture's probability has its own bands). An
 * ``atypical`` customer's is low whatever its value: it compares segments that all fit badly. */
export function confidenceLevel(confidence, mixture, atypical = false) {
  if (atypical) return "low";
  if (mixture) return confidence >= 0.9 ? "high" : confidence >= 0.6 ? "medium" : "low";
  return confidence >= 0.5 ? "high" : confidence >= 0.2 ? "medium" : "low"; // 1 − d(nearest) / d(second-nearest)
}

/** The segment an answer's customer is put in, as the atypical warning names it: a Gaussian mixture's answer (it has
 * ``probabilities``) gives the most probable segment, which need not be the nearest; the other models the nearest. */
export const segmentKind = (answer) => (Array.isArray(answer.probabilities) ? "the most probable segment" : "the nearest segment");

/** Plain-words reading of the model's confidence figure: {level (see confidenceLevel), text}; ``shown`` is its
 * percent text. */
export function confidenceWords(confidence, algorithm, segmentName, runnerUp, shown = percent(confidence), atypical = false) {
  const other = runnerUp ? `“${runnerUp}”` : "another segment";
  const level = confidenceLevel(confidence, algorithm === "gmm", atypical);
  if (algorithm === "gmm") {
    const lead = `The model gives a ${shown} chance that this customer belongs to “${segmentName}”.`;
    const tail = atypical ? FAR_FROM_EVERY_SEGMENT : level === "low" ? ` It could also be ${other}: treat the persona as a hint.` : "";
    return { level, text: lead + tail };
  }
  // Distance-based models: confidence = 1 − d(nearest centre) / d(second-nearest centre).
  const lead = `The centre of “${segmentName}” is ${shown} closer to this customer than the next one, ${other}.`;
  const tail = atypical ? FAR_FROM_EVERY_SEGMENT : {
    high: " The customer sits well inside the segment.",
    medium: " The customer is in the segment, but not deep inside it.",
    low: " The customer is on the border between the two: treat the persona as a hint.",
  }[level];
  return { level, text: lead + tail };
}

/** Whether a 2xx answer of ``POST /api/segment`` has what the page shows (a proxy or an older service might answer
 * 200 with something else): the page then says so instead of failing to draw the answer. */
export function isSegmentAnswer(answer) {
  const number = (v) => typeof v === "number" && Number.isFinite(v);
  const persona = answer && answer.persona;
  return Boolean(
    answer && Number.isInteger(answer.segment) && number(answer.confidence) && typeof answer.atypical === "boolean"
      && persona && typeof persona.name === "string" && typeof persona.description === "string" && Array.isArray(persona.actions)
      && persona.levels && typeof persona.levels === "object" && persona.profile && typeof persona.profile === "object"
      && Array.isArray(answer.distances) && answer.distances.length > 0
      && answer.distances.every((d) => d && Number.isInteger(d.segment) && typeof d.name === "string" && number(d.distance))
      && answer.position && number(answer.position.x) && number(answer.position.y)
      && (answer.probabilities == null || (Array.isArray(answer.probabilities) && answer.probabilities.every(number))),
  );
}

/** Whether a ``GET /api/pca`` answer has what the map draws: points and centres with finite coordinates and a
 * whole segment number. A map drawn from anything else puts dots at NaN without a word; the map throws instead,
 * and its error boundary says it could not be shown. */
export function isMapData(pca) {
  const number = (v) => typeof v === "number" && Number.isFinite(v);
  const place = (p) => p && number(p.x) && number(p.y) && Number.isInteger(p.segment);
  return Boolean(
    pca && Array.isArray(pca.points) && pca.points.every(place) && Array.isArray(pca.centres) && pca.centres.length > 0
      && pca.centres.every(place),
  );
}

/** What the page says about a file the API read in another encoding than UTF-8 (`encoding` of the batch answer, the
 * IANA name; `api.csvio.Decoder` decides it), or null for UTF-8: the staff member learns why accented names read
 * right, and that the download is UTF-8 whatever was sent. */
export function encodingNote(encoding) {
  if (!encoding || encoding === "UTF-8") return null;
  const source = encoding === "Windows-1252" ? ", as Excel saves CSV on Windows" : encoding === "UTF-16LE" ? ", as Excel saves Unicode Text" : "";
  return `Read as ${encoding} text${source}; the download is UTF-8.`;
}

/** The UTF-8 byte-order mark a download starts with: without it Excel on Windows opens a UTF-8 CSV as Windows-1252
 * ("JoÃ£o" for "João"); pandas, R and this service read the mark as what it is. */
export const SPREADSHEET_BOM = "\ufeff";
