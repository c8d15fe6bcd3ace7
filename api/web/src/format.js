// Numbers and words shown to staff.

const whole = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** 12669 → "12,669". */
export const money = (value) => whole.format(value);
/** 0.4213 → "42%". */
export const percent = (share) => `${whole.format(share * 100)}%`;
/** 1.3536 → "1.4×". */
export const times = (ratio) => `${oneDecimal.format(ratio)}×`;
/** 2.104 → "2.10". */
export const decimal2 = (value) => twoDecimals.format(value);

/** Spending category name as the data set spells it → words ("Detergents_Paper" → "Detergents paper"). */
export const categoryWords = (name, fields) => {
  const field = fields && fields.find((f) => f.name === name);
  return field ? field.label : name.replace(/_/g, " ");
};

/** Plain-words reading of the model's confidence figure: {level: "high"|"medium"|"low", text}. */
export function confidenceWords(confidence, algorithm, segmentName, runnerUp) {
  const other = runnerUp ? `“${runnerUp}”` : "another segment";
  if (algorithm === "gmm") {
    const level = confidence >= 0.9 ? "high" : confidence >= 0.6 ? "medium" : "low";
    const lead = `The model gives a ${percent(confidence)} chance that this customer belongs to “${segmentName}”.`;
    const tail = level === "low" ? ` It could also be ${other}: treat the persona as a hint.` : "";
    return { level, text: lead + tail };
  }
  // Distance-based models: confidence = 1 − d(nearest centre) / d(second-nearest centre).
  const level = confidence >= 0.5 ? "high" : confidence >= 0.2 ? "medium" : "low";
  const lead = `The centre of “${segmentName}” is ${percent(confidence)} closer to this customer than the next one, ${other}.`;
  const tail = {
    high: " The customer sits well inside the segment.",
    medium: " The customer is in the segment, but not deep inside it.",
    low: " The customer is on the border between the two: treat the persona as a hint.",
  }[level];
  return { level, text: lead + tail };
}
