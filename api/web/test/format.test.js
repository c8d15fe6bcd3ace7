// Unit tests of the page's number formatting (node:test, no dependencies): `npm test`, run by `make test`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { MOST_BUY_NONE, NO_IMPUTE, SPREADSHEET_BOM, amountProblem, asApi, blankHint, blankRule, confidenceLevel, confidenceWords, encodingNote, fileSize, filledInFigure, segmentKind, filledInMark, filledInNote, fillsBlanks, isMapData, money, mostBuyNone, numberAdvice, parseAmount, percent, percents, segmentAgainstBase, sharedLabels, standouts, times, unsendableAmounts } from "../src/format.js";

/** The points a text stands for: "<1%" is a share rounded to 0 points, ">99%" one rounded to 100. */
const points = (texts) => texts.map((t) => ({ "<1%": 0, ">99%": 100 })[t] ?? Number(t.replace("%", "")));

test("fileSize reads as file managers show sizes", () => {
  assert.equal(fileSize(512), "512 bytes");
  assert.equal(fileSize(870729), "871 KB");
  assert.equal(fileSize(999499), "999 KB");
  assert.equal(fileSize(999500), "1.0 MB");
  assert.equal(fileSize(2902269), "2.9 MB");
  assert.equal(fileSize(64 * 1024 * 1024), "67 MB");
});

test("percent rounds a share to whole points", () => {
  assert.equal(percent(0.4213), "42%");
  assert.equal(percent(0.425), "43%");
  assert.equal(percent(0), "0%");
  assert.equal(percent(1), "100%");
});

test("percent never shows a share strictly between 0 and 1 as 0% or 100%", () => {
  assert.equal(percent(0.9999998), ">99%");
  assert.equal(percent(0.996), ">99%");
  assert.equal(percent(0.994), "99%");
  assert.equal(percent(0.004), "<1%");
  assert.equal(percent(0.005), "1%");
});

test("percents of the parts of a whole add up to 100 where rounding each would not", () => {
  const shares = [0.626, 0.266, 0.108]; // rounded one by one: 63 + 27 + 11 = 101
  assert.equal(shares.map(percent).join(" "), "63% 27% 11%");
  const texts = percents(shares);
  assert.equal(points(texts).reduce((a, b) => a + b, 0), 100);
  assert.deepEqual(texts, ["63%", "26%", "11%"]); // the two .6 remainders tie: the larger share keeps its point
  assert.deepEqual(percents([1 / 3, 1 / 3, 1 / 3]), ["34%", "33%", "33%"]); // full tie: the first one
  assert.deepEqual(percents([0.494, 0.494, 0.012]), ["50%", "49%", "1%"]); // 49 + 49 + 1 = 99 one by one
});

test("each of the percents is its share rounded down or up", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let n = 1; n <= 8; n += 1) {
    for (let round = 0; round < 200; round += 1) {
      const raw = Array.from({ length: n }, () => random() ** 3);
      const total = raw.reduce((a, b) => a + b, 0);
      const shares = raw.map((r) => r / total);
      const shown = points(percents(shares));
      assert.equal(shown.reduce((a, b) => a + b, 0), 100, `shares ${shares}`);
      shares.forEach((s, i) => assert.ok(Math.abs(shown[i] - 100 * s) < 1, `share ${s} shown as ${shown[i]}`));
    }
  }
});

test("percents gives the texts of the table it shares with the pipeline's stages.names.percents", () => {
  // tests/percents.json: the pipeline words a persona's share and channel mix by the same rule, so the
  // page's cards and the descriptions they show never disagree (tests/test_names.py checks the Python side)
  const table = JSON.parse(readFileSync(new URL("../../../tests/percents.json", import.meta.url), "utf8"));
  assert.ok(table.cases.length > 200);
  for (const { shares, texts } of table.cases) assert.deepEqual(percents(shares), texts, `shares ${shares}`);
});

test("money gives the texts of the table it shares with the pipeline's stages.names.whole", () => {
  // tests/amounts.json: a persona's description and the report round an amount as the page does (a half away from
  // zero: 816.5 → "817"), so a card and the description under it never disagree (tests/test_names.py: Python side)
  const table = JSON.parse(readFileSync(new URL("../../../tests/amounts.json", import.meta.url), "utf8"));
  assert.ok(table.cases.length > 200);
  for (const [value, text] of table.cases) assert.equal(money(value), text, `value ${value}`);
});

test("standouts put a category most customers buy none of after those with a ratio, never first for its floored one", () => {
  // its profile is the segment's median against a floor of 1: "854×" came first, above a real 0.20× and 1.79×
  const persona = {
    levels: { Fresh: "high", Milk: "low", Frozen: "high", Grocery: "typical" },
    profile: { Fresh: 1.79, Milk: 0.2, Frozen: 854, Grocery: 1 },
    most_buy_none: ["Frozen"],
  };
  assert.deepEqual(standouts(persona).map((s) => s.name), ["Milk", "Fresh", "Frozen"]);
  assert.deepEqual(standouts({ ...persona, most_buy_none: [] }).map((s) => s.name), ["Frozen", "Milk", "Fresh"]);
});

test("times gives the texts of the table it shares with the pipeline's stages.names.times", () => {
  // tests/ratios.json: a persona's description and ml/personas.md print a ratio as the page's card and answer do
  // (a description printed "0.6704×" beside the card's "0.67×"); tests/test_names.py checks the Python side
  const table = JSON.parse(readFileSync(new URL("../../../tests/ratios.json", import.meta.url), "utf8"));
  assert.ok(table.cases.length > 200);
  for (const [ratio, text] of table.cases) assert.equal(times(ratio), text, `ratio ${ratio}`);
});

test("percents keep a tiny part visible and an almost certain one short of certain", () => {
  assert.deepEqual(percents([0.9999998, 0.0000001, 0.0000001]), [">99%", "<1%", "<1%"]);
  assert.deepEqual(percents([1, 0, 0]), ["100%", "0%", "0%"]);
});

test("percents of shares stored to four decimals still add up to 100", () => {
  const shares = [0.1916, 0.1262, 0.6821]; // adds up to 0.9999
  assert.equal(points(percents(shares)).reduce((a, b) => a + b, 0), 100);
});

test("percents of shares that are not parts of one whole are rounded one by one", () => {
  assert.deepEqual(percents([0.626, 0.266]), ["63%", "27%"]);
  assert.deepEqual(percents([]), []);
});

test("the confidence words use the percent text they are given", () => {
  const words = confidenceWords(0.626, "gmm", "Cafés", "Shops", "62%");
  assert.equal(words.level, "medium");
  assert.match(words.text, /a 62% chance that this customer belongs to “Cafés”/);
  assert.match(confidenceWords(0.9999998, "gmm", "Cafés", null).text, /a >99% chance/);
  assert.match(confidenceWords(0.1, "kmeans", "Cafés", "Shops").text, /10% closer .* “Shops”\. .*border/);
});

test("parseAmount reads amounts as the page shows them and as spreadsheets write them", () => {
  for (const [text, value] of [
    ["12669", 12669], [" 12669 ", 12669], ["12669.5", 12669.5], [".5", 0.5], ["5.", 5], ["1e3", 1000], ["-5", -5], ["0", 0],
    ["12,669", 12669], ["1,234,567", 1234567], ["12,669.25", 12669.25], ["12 669", 12669], ["1\u00a0234\u00a0567", 1234567], ["12\u202f669", 12669],
  ]) {
    assert.equal(parseAmount(text), value, JSON.stringify(text));
  }
});

test("parseAmount leaves what is not plainly an amount to the API", () => {
  for (const text of ["0x10", "0b11", "0o7", "Infinity", "NaN", "1,5", "12,66", "1,2345", "12,669 000", "1 2", "12,669,", "1.2.3", "abc", "12669€", "", "e3", "--5"]) {
    assert.equal(parseAmount(text), null, JSON.stringify(text));
  }
});

// The syntax the pipeline and the API's CSV cells share (stages.dataset.parse_number); grouped digits are the page's own.
const syntax = JSON.parse(readFileSync(new URL("../../../tests/number_syntax.json", import.meta.url), "utf8"));

test("parseAmount reads a number as the pipeline and the API do, and grouped digits besides", () => {
  for (const [text, value] of [...syntax.numbers, ...syntax.page_only]) assert.equal(parseAmount(text), value, JSON.stringify(text));
  for (const text of syntax.refused) assert.equal(parseAmount(text), null, JSON.stringify(text));
  // points that may group thousands: the pipeline and the API refuse them in a file; the page asks before sending
  const fresh = [{ name: "Fresh", max_allowed: 10000000 }];
  assert.equal(amountProblem("-1.200", fresh[0]), "must be 0 or more (got -1.2)"); // negative whichever was meant, as the API says
  for (const text of syntax.ambiguous) assert.match(unsendableAmounts({ Fresh: text }, fresh).Fresh ?? "", /^is (ambiguous|not a number)/, JSON.stringify(text));
  for (const text of syntax.not_finite) {
    const number = parseAmount(text);
    assert.ok(number === null || !Number.isFinite(number), JSON.stringify(text));
  }
});

test("an amount too long for a number is stopped on the page with the API's words, not sent as null", () => {
  const features = [{ name: "Fresh", max_allowed: 10000000 }, { name: "Milk", max_allowed: 10000000 }, { name: "Frozen", max_allowed: 10000000 }];
  assert.equal(parseAmount("1e400"), Infinity);
  assert.deepEqual(unsendableAmounts({ Fresh: " 1e400 ", Milk: "9".repeat(320), Frozen: "-1e400" }, features), {
    Fresh: "must be at most 10,000,000 (got 1e400)",
    Milk: `must be at most 10,000,000 (got ${"9".repeat(320)})`,
    Frozen: "must be 0 or more (got -1e400)",
  });
  assert.deepEqual(unsendableAmounts({ Fresh: "12,669", Milk: "" }, features), {});
});

test("the API's rules for an amount are checked on the page, in the API's words, every field at once", () => {
  const features = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"].map((name) => ({ name, max_allowed: 10000000 }));
  // the messages as POST /api/segment words them for the same values (api/schemas.py _message)
  assert.deepEqual(unsendableAmounts({ Fresh: "abc", Milk: "-5", Grocery: "20,000,000", Frozen: "1.200", Detergents_Paper: "0x10", Delicassen: "12669" }, features), {
    Fresh: "must be a number (yearly spending), not text 'abc'",
    Milk: "must be 0 or more (got -5)",
    Grocery: "must be at most 10,000,000 (got 20000000)",
    Frozen: "is ambiguous: 1,200 or 1.2? For 1,200, type 1200 or 1,200; for 1.2, type 1.2",
    Detergents_Paper: "must be a number (yearly spending), not text '0x10'",
  });
  const fresh = features[0];
  assert.equal(amountProblem("-0.5", fresh), "must be 0 or more (got -0.5)");
  assert.equal(amountProblem("12345678.5", fresh), "must be at most 10,000,000 (got 12345678.5)");
  assert.equal(amountProblem("1e17", fresh), "must be at most 10,000,000 (got 1e+17)");
  assert.equal(amountProblem("1,5", fresh), "must be a number (yearly spending), not text '1,5' (a decimal comma): type 1.5");
  // quoted as the API quotes text (Python's repr, 40 characters at most)
  assert.equal(amountProblem("it's", fresh), `must be a number (yearly spending), not text "it's"`);
  assert.equal(amountProblem('a"b', fresh), `must be a number (yearly spending), not text 'a"b'`);
  assert.equal(amountProblem("back\\slash", fresh), "must be a number (yearly spending), not text 'back\\\\slash'");
  assert.equal(amountProblem("x".repeat(50), fresh), `must be a number (yearly spending), not text '${"x".repeat(40)}'…`);
  // the limits themselves are accepted; blank is left to be imputed; without a published maximum, the API decides
  for (const text of ["0", "-0", "10000000", "10,000,000", ""]) assert.equal(amountProblem(text, fresh), null, text);
  assert.equal(amountProblem("20000000", { name: "Fresh" }), null);
});

test("asApi writes a number as Python's str does, so the page's messages quote amounts as the API's do", () => {
  // each pair: the number, then how the API writes it: Python 3's str() of the float, a whole one without its ".0"
  const python = [[-0.00001, "-1e-05"], [-0.0001, "-0.0001"], [-1.5e-7, "-1.5e-07"], [-1e-100, "-1e-100"],
    [-0.000123456, "-0.000123456"], [-0.5, "-0.5"], [-5, "-5"], [12345678.5, "12345678.5"], [1.5e16, "1.5e+16"],
    [1e16, "1e+16"], [1.2345e20, "1.2345e+20"], [1e21, "1e+21"], [123456789012345680, "1.2345678901234568e+17"],
    [9999999999999998, "9999999999999998"]];
  for (const [number, text] of python) assert.equal(asApi(number), text, String(number));
  assert.equal(amountProblem("-0.00001", { name: "Fresh", max_allowed: 10000000 }), "must be 0 or more (got -1e-05)");
});

test("a category most customers buy none of reads as the segment's median, never as a ratio", () => {
  // A base median of 0 counts as 1, so the segment's "ratio" is its median: it read "buys 854.00× the typical customer".
  const persona = {
    profile: { Milk: 2, Frozen: 854 }, centre: { Milk: 9536, Frozen: 853.5 }, most_buy_none: ["Frozen"],
  };
  assert.equal(segmentAgainstBase(persona, "Milk"), "the segment buys 2.00× the typical customer");
  assert.equal(segmentAgainstBase(persona, "Frozen"), "the segment's median is 854 a year, where most customers buy none");
  assert.ok(!segmentAgainstBase(persona, "Frozen").includes("×"));
  assert.equal(mostBuyNone(persona, "Frozen"), true);
  assert.equal(mostBuyNone(persona, "Milk"), false);
  assert.equal(mostBuyNone({ profile: {}, centre: {} }, "Frozen"), false); // a persona without the list: every category compared
  assert.equal(segmentAgainstBase({ ...persona, centre: undefined }, "Frozen"), "most customers buy none, unlike the segment");
  assert.equal(MOST_BUY_NONE, "most customers buy none");
});

test("times shows a ratio with two decimals, so a ratio just under a threshold does not print as on it", () => {
  assert.equal(times(0.657), "0.66×");
  assert.equal(times(1.3536), "1.35×");
  assert.equal(times(2), "2.00×");
});

test("times never prints a ratio above 0 as 0.00×", () => {
  assert.equal(times(5 / 3627), "<0.01×");
  assert.equal(times(0.004999), "<0.01×");
  assert.equal(times(0.005), "0.01×");
  assert.equal(times(0), "0.00×");
});

test("points that may group thousands are stopped on the page with both readings, not read as a decimal", () => {
  const features = ["Fresh", "Milk", "Grocery", "Frozen", "Delicassen"].map((name) => ({ name, max_allowed: 10000000 }));
  // parseAmount itself keeps the one syntax of the data and the API (1.200 is 1.2); the page will not send it
  assert.equal(parseAmount("1.200"), 1.2);
  assert.deepEqual(unsendableAmounts({ Fresh: "1.200", Milk: "12.669", Grocery: "1.234.567", Frozen: " 5.000 " }, features), {
    Fresh: "is ambiguous: 1,200 or 1.2? For 1,200, type 1200 or 1,200; for 1.2, type 1.2",
    Milk: "is ambiguous: 12,669 or 12.669? For 12,669, type 12669 or 12,669; for 12.669, type 12.6690",
    Grocery: "is not a number this page reads (a point is a decimal point here): for 1,234,567, type 1234567 or 1,234,567",
    Frozen: "is ambiguous: 5,000 or 5? For 5,000, type 5000 or 5,000; for 5, type 5",
  });
  // what each message offers is read as meant, and is not ambiguous itself
  for (const [text, value] of [["1200", 1200], ["1,200", 1200], ["1.2", 1.2], ["12.6690", 12.669], ["1,234,567", 1234567]]) {
    assert.equal(parseAmount(text), value);
    assert.deepEqual(unsendableAmounts({ Fresh: text }, features), {});
  }
  // a decimal that cannot be thousands, a leading zero, commas: sent as typed
  assert.deepEqual(unsendableAmounts({ Fresh: "12.5", Milk: "0.500", Grocery: "1200.000", Frozen: "12,669.250" }, features), {});
});

test("a customer far from every segment gets a low reading whatever its confidence figure", () => {
  const near = confidenceWords(0.9, "kmeans", "Cafés", "Shops");
  assert.equal(near.level, "high");
  const far = confidenceWords(0.9, "kmeans", "Cafés", "Shops", "90%", true);
  assert.deepEqual(far, {
    level: "low",
    text: "The centre of “Cafés” is 90% closer to this customer than the next one, “Shops”. But this customer is far from every segment, so the figure says little: check the amounts first.",
  });
  const mixture = confidenceWords(0.999, "gmm", "Cafés", "Shops", ">99%", true);
  assert.equal(mixture.level, "low");
  assert.match(mixture.text, /^The model gives a >99% chance that this customer belongs to “Cafés”\. But this customer is far from every segment/);
});

test("an amount with a currency sign is stopped with the amount to type instead", () => {
  const features = ["Fresh", "Milk", "Grocery", "Frozen", "Delicassen"].map((name) => ({ name, max_allowed: 10000000 }));
  assert.deepEqual(unsendableAmounts({ Fresh: "€1,200", Milk: "1200 €", Grocery: "$12669.50", Frozen: "£ 5" }, features), {
    Fresh: "type the amount without the currency sign: 1,200",
    Milk: "type the amount without the currency sign: 1200",
    Grocery: "type the amount without the currency sign: 12669.50",
    Frozen: "type the amount without the currency sign: 5",
  });
  // an ambiguous amount behind the sign is asked about; text with a sign is no number, as the API would say
  assert.deepEqual(unsendableAmounts({ Fresh: "€1.200", Milk: "€abc", Grocery: "€" }, features), {
    Fresh: "is ambiguous: 1,200 or 1.2? For 1,200, type 1200 or 1,200; for 1.2, type 1.2",
    Milk: "must be a number (yearly spending), not text '€abc'",
    Grocery: "must be a number (yearly spending), not text '€'",
  });
});

test("an amount written another way is told what to type, as the API and the pipeline say what to write", () => {
  // stages.dataset.number_advice on the same cases (tests/api/test_number_syntax.py)
  for (const [text, advice] of syntax.advice) assert.equal(numberAdvice(text), advice, JSON.stringify(text));
  const features = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"].map((name) => ({ name, max_allowed: 10000000 }));
  // in the form's words; what the page reads (12,669, 12 669) or asks about (1.200) is not advice
  assert.deepEqual(unsendableAmounts({ Fresh: "12.669,50", Milk: "n/a", Grocery: "€12,5", Frozen: "12%", Detergents_Paper: "12,669", Delicassen: "12'669" }, features), {
    Fresh: "must be a number (yearly spending), not text '12.669,50' (thousands grouped by points, a decimal comma): type 12669.50",
    Milk: "must be a number (yearly spending), not text 'n/a': leave the field empty when the amount is not known",
    Grocery: "must be a number (yearly spending), not text '€12,5' (a currency sign, a decimal comma): type 12.5",
    Frozen: "must be a number (yearly spending), not text '12%': a percentage is not an amount; type the yearly spending itself",
    Delicassen: `must be a number (yearly spending), not text "12'669" (thousands grouped by apostrophes): type 12669`,
  });
});

test("the confidence level has a mixture's bands and is low for an atypical customer", () => {
  assert.deepEqual([0.5, 0.2, 0.19].map((c) => confidenceLevel(c, false)), ["high", "medium", "low"]);
  assert.deepEqual([0.9, 0.6, 0.59].map((c) => confidenceLevel(c, true)), ["high", "medium", "low"]);
  assert.equal(confidenceLevel(0.99, false, true), "low");
  assert.equal(confidenceWords(0.55, "kmeans", "A", "B").level, confidenceLevel(0.55, false));
});

test("isMapData takes a map with finite coordinates and refuses one the map could only draw at NaN", () => {
  const map = {
    points: [{ x: 1.4, y: -0.3, segment: 1, clustered: true }, { x: -2, y: 0, segment: 0 }],
    centres: [{ segment: 0, x: -1.3, y: 0.08 }, { segment: 1, x: 1.36, y: 0.85 }],
  };
  assert.equal(isMapData(map), true);
  assert.equal(isMapData({ ...map, points: [] }), true); // a model without points still has its centres
  for (const bad of [
    null,
    {},
    { ...map, points: undefined },
    { ...map, points: [{ segment: 0 }] },
    { ...map, points: [{ x: "1", y: 0, segment: 0 }] },
    { ...map, points: [{ x: 1, y: null, segment: 0 }] },
    { ...map, centres: [] },
    { ...map, centres: [{ x: 0, y: 0, segment: 0.5 }] },
    { ...map, centres: [{ x: Infinity, y: 0, segment: 0 }] },
  ]) {
    assert.equal(isMapData(bad), false, JSON.stringify(bad));
  }
});

test("sharedLabels says how many of the segment share the customer's Channel and Region, in the card's percents", () => {
  const persona = { channel_mix: { Horeca: 0.3741, Retail: 0.6259 }, region_mix: { Lisbon: 0.1583, Oporto: 0.0719, Other: 0.7698 } };
  assert.equal(sharedLabels(persona, { Channel: "Retail", Region: "Other" }), "Of the segment's customers, 63% share this customer's channel (Retail) and 77% its region (Other).");
  assert.equal(sharedLabels(persona, { Channel: null, Region: "Oporto" }), "Of the segment's customers, 7% share this customer's region (Oporto).");
  assert.equal(sharedLabels(persona, { Channel: "Horeca", Region: null }), "Of the segment's customers, 37% share this customer's channel (Horeca).");
  assert.equal(sharedLabels(persona, { Channel: null, Region: null }), null);
  assert.equal(sharedLabels({ channel_mix: { Horeca: 1 } }, { Channel: "Retail" }), "Of the segment's customers, none share this customer's channel (Retail).");
  assert.equal(sharedLabels({ channel_mix: { Horeca: 0.996, Retail: 0.004 } }, { Channel: "Retail" }), "Of the segment's customers, <1% share this customer's channel (Retail).");
});

test("a blank is said to be filled in with the statistic the service uses, the median or the mean, and its amount", () => {
  const features = [{ name: "Milk", label: "Milk" }, { name: "Frozen", label: "Frozen food" }];
  const median = { method: "median", values: { Milk: 3627, Frozen: 1526 } };
  const mean = { method: "mean", values: { Milk: 5796.27, Frozen: 3071.93 } };
  assert.equal(filledInNote(["Milk", "Frozen"], { features, impute: median }),
    "Not given, so filled in with the median of the training customers: Milk (3,627), Frozen food (1,526).");
  assert.equal(filledInNote(["Frozen"], { features, impute: mean }), "Not given, so filled in with the mean of the training customers: Frozen food (3,072).");
  assert.equal(filledInMark(["Milk"], { features, impute: mean }), "Filled in with the mean of the training customers: Milk (5,796).");
  assert.equal(filledInFigure(3627, median), "3,627, filled in with the median");
  assert.equal(filledInFigure(5796.27, mean), "5,796, filled in with the mean");
  assert.equal(blankRule(median), "Yearly spending per category. A category left blank is filled in with the median of the training customers.");
  assert.equal(blankRule(mean), "Yearly spending per category. A category left blank is filled in with the mean of the training customers.");
  // the field's hint gives the amount a blank becomes: under mean, not the median it shows beside it
  assert.equal(blankHint("Milk", median), "Leave blank if unknown: filled in with the median, 3,627.");
  assert.equal(blankHint("Milk", mean), "Leave blank if unknown: filled in with the mean, 5,796.");
  // a file's row or an answer from a model that no longer fills in (the service restarted): no method, no amount
  assert.equal(filledInMark(["Milk"], { features, impute: null }), "Filled in: Milk.");
  assert.equal(filledInMark(["Milk"], null), "Filled in: Milk.");
});

test("where the service fills in no blank, the form says blanks are not allowed and a blank is an error in the API's words", () => {
  const features = ["Fresh", "Milk"].map((name) => ({ name, max_allowed: 10000000 }));
  for (const impute of [null, undefined, {}, { method: "error", values: null }, { method: "median" }]) assert.equal(fillsBlanks(impute), false, JSON.stringify(impute));
  assert.equal(fillsBlanks({ method: "median", values: {} }), true);
  assert.equal(blankRule(null), "Yearly spending per category. Blanks are not allowed: this service fills in no category, so type every one.");
  assert.equal(blankHint("Milk", null), "Required: blanks are not allowed.");
  // api.batch.NO_IMPUTE, the API's 422 message for a category left out (tests/browser compares it with the API's)
  assert.equal(NO_IMPUTE, "missing: give an amount (this service fills in no category left out; params data.impute is error)");
  assert.deepEqual(unsendableAmounts({ Fresh: "12669", Milk: " " }, features, true), { Milk: NO_IMPUTE });
  assert.deepEqual(unsendableAmounts({ Fresh: "abc" }, features, true), { Fresh: "must be a number (yearly spending), not text 'abc'", Milk: NO_IMPUTE });
  assert.deepEqual(unsendableAmounts({ Fresh: "12669", Milk: " " }, features, false), {});
});

test("a file read in another encoding than UTF-8 is said to be, with the API's names; UTF-8 says nothing", () => {
  assert.equal(encodingNote("Windows-1252"), "Read as Windows-1252 text, as Excel saves CSV on Windows; the download is UTF-8.");
  assert.equal(encodingNote("UTF-16LE"), "Read as UTF-16LE text, as Excel saves Unicode Text; the download is UTF-8.");
  // big-endian: no claim of how it was told (a byte-order mark, or its first characters without one)
  assert.equal(encodingNote("UTF-16BE"), "Read as UTF-16BE text; the download is UTF-8.");
  assert.equal(encodingNote("UTF-8"), null);
  assert.equal(encodingNote(undefined), null); // an answer from before the field
  // the mark Excel needs is UTF-8's, three bytes, as a Blob of the string writes it
  assert.deepEqual([...new TextEncoder().encode(SPREADSHEET_BOM)], [0xef, 0xbb, 0xbf]);
});

test("an atypical customer's segment is named as the model gives it: a mixture's most probable, else the nearest", () => {
  assert.equal(segmentKind({ probabilities: [0.1, 0.9] }), "the most probable segment");
  assert.equal(segmentKind({ probabilities: null }), "the nearest segment");
  assert.equal(segmentKind({}), "the nearest segment");
});
