import { useEffect, useId, useRef, useState } from "react";
import { ApiError, postJson } from "./api.js";
import { blankHint, blankRule, fillsBlanks, isSegmentAnswer, money, parseAmount, unsendableAmounts } from "./format.js";
import { Answer } from "./Answer.jsx";

/** What staff typed → the request body: blanks left out (the API fills them in), amounts as numbers (see parseAmount). */
function requestBody(values, channel, region) {
  const body = {};
  for (const [name, raw] of Object.entries(values)) {
    const text = raw.trim();
    if (text === "") continue;
    const number = parseAmount(text);
    body[name] = number ?? text; // the API names the field when it is not a number
  }
  if (channel) body.Channel = channel;
  if (region) body.Region = region;
  return body;
}

/** The summary line for errors under some of the form's fields (``names``, each a key of ``labels``), naming them by
 * their labels ("Detergents and paper"). */
function checkFields(names, labels) {
  return `The customer's data is not valid: check ${names.map((n) => labels[n]).join(", ")}.`;
}

/** Error messages per field name, and the summary: one line naming the form's fields by their labels (or the API's
 * sentence when it names none of them), then whatever names no field of the form. */
function splitErrors(error, labels) {
  const byField = {};
  const other = [];
  for (const e of error.errors || []) {
    if (e.field && Object.hasOwn(labels, e.field)) byField[e.field] = byField[e.field] ? `${byField[e.field]} ${e.message}` : e.message;
    else other.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  const names = Object.keys(byField);
  return { byField, general: [names.length > 0 ? checkFields(names, labels) : error.message, ...other] };
}

/** The errors once the field ``name`` has been changed: its message goes (it was for what had been typed, and an
 * aria-invalid left on a corrected amount tells a screen reader it is still wrong), and the summary, which is first
 * whenever fields have errors, names only the fields still to check, or goes with the last of them. */
function withoutField(errors, name, labels) {
  if (!Object.hasOwn(errors.byField, name)) return errors;
  const byField = { ...errors.byField };
  delete byField[name];
  const names = Object.keys(byField);
  const rest = errors.general.slice(1);
  return { byField, general: names.length > 0 ? [checkFields(names, labels), ...rest] : rest };
}

function SpendInput({ field, impute, value, error, onChange }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  return (
    <div className={error ? "field invalid" : "field"}>
      <label htmlFor={id}>
        {field.label} <span className="unit">({field.unit})</span>
      </label>
      <input
        id={id}
        name={field.name}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={value}
        placeholder={fillsBlanks(impute) && typeof impute.values[field.name] === "number" ? money(impute.values[field.name]) : undefined}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${errorId} ${hintId}` : hintId}
        onChange={(event) => onChange(field.name, event.target.value)}
      />
      <p className="hint" id={hintId}>
        Typical {money(field.p5)} to {money(field.p95)}, median {money(field.median)}. {blankHint(field.name, impute)}
      </p>
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** Channel or Region: the segment is found from the spending alone (the labels were never fitted on), so the hint says
 * so, and the answer says how many of the segment share the one chosen. */
function LabelSelect({ name, label, options, value, error, onChange }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  return (
    <div className={error ? "field invalid" : "field"}>
      <label htmlFor={id}>
        {label} <span className="unit">(optional)</span>
      </label>
      <select
        id={id}
        name={name}
        value={value}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${errorId} ${hintId}` : hintId}
        onChange={(event) => onChange(event.target.value)}
      >
        <option value="">Not known</option>
        {Object.entries(options || {}).map(([code, words]) => (
          <option key={code} value={words}>
            {words}
          </option>
        ))}
      </select>
      <p className="hint" id={hintId}>
        Not used to find the segment; the answer says how many of its customers share it.
      </p>
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** An empty form: the amounts typed, by field name, and the Channel and Region chosen ("" for not known). */
export const EMPTY_DRAFT = { values: {}, channel: "", region: "" };

/** Section 1: the form for one customer, and the answer under it. What is typed (``draft``, see EMPTY_DRAFT, changed
 * through ``onDraft`` as a state setter) is kept by the caller, above this section's error boundary, so a section
 * that failed to draw and is drawn again with Try again still holds it; the answer and the errors are not kept. */
export function SegmentOne({ fields, personas, pca, algorithm, onModel, onReload, draft, onDraft }) {
  const features = fields ? fields.features : [];
  const names = features.map((f) => f.name);
  const labels = { ...Object.fromEntries(features.map((f) => [f.name, f.label])), Channel: "Channel", Region: "Region" };
  const { values, channel, region } = draft;
  const [errors, setErrors] = useState({ byField: {}, general: [] });
  const [answer, setAnswer] = useState(null);
  const [busy, setBusy] = useState(false);
  // Set when the amounts change after a request was sent: the answer shown is for the amounts as they were.
  const [stale, setStale] = useState(false);
  const formRef = useRef(null);
  const answerRef = useRef(null);
  const focusAfter = useRef(null);

  useEffect(() => {
    if (focusAfter.current === "answer" && answerRef.current) answerRef.current.focus();
    if (focusAfter.current === "error" && formRef.current) {
      const target = formRef.current.querySelector('[aria-invalid="true"]') || formRef.current.querySelector(".form-error");
      if (target) target.focus();
    }
    focusAfter.current = null;
  });

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    const full = Object.fromEntries(names.map((n) => [n, values[n] || ""]));
    setStale(false);
    const unsendable = unsendableAmounts(full, features, !fillsBlanks(fields.impute));
    const nothing = names.every((n) => full[n].trim() === "");
    if (nothing || Object.keys(unsendable).length > 0) {
      setErrors(nothing
        ? { byField: {}, general: ["Type the customer's yearly spending in at least one category: the segment is found from the spending."] }
        : { byField: unsendable, general: [checkFields(Object.keys(unsendable), labels)] });
      setAnswer(null);
      focusAfter.current = "error";
      setBusy(false);
      return;
    }
    try {
      const result = await postJson("api/segment", requestBody(full, channel, region));
      if (!isSegmentAnswer(result)) {
        throw new ApiError(200, "The service answered with something this page cannot read. Nothing you typed is lost: try again, or tell whoever runs the service.");
      }
      setErrors({ byField: {}, general: [] });
      setAnswer(result);
      if (onModel) onModel(result.model_version);
      focusAfter.current = "answer";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setErrors(splitErrors(error, labels));
      setAnswer(null);
      focusAfter.current = "error";
    } finally {
      setBusy(false);
    }
  }

  function clear() {
    onDraft(EMPTY_DRAFT);
    setErrors({ byField: {}, general: [] });
    setAnswer(null);
    setStale(false);
  }

  const change = (name, value) => {
    onDraft((old) => ({ ...old, values: { ...old.values, [name]: value } }));
    setErrors((old) => withoutField(old, name, labels));
    setStale(true);
  };
  const choose = (key) => (value) => {
    onDraft((old) => ({ ...old, [key]: value }));
    setErrors((old) => withoutField(old, key === "channel" ? "Channel" : "Region", labels));
    setStale(true);
  };

  return (
    <section id="segment" aria-labelledby="segment-title" className="card-section">
      <h2 id="segment-title" tabIndex={-1}>Segment a customer</h2>
      {!fields ? (
        <p>Loading the form…</p>
      ) : (
        <form ref={formRef} onSubmit={submit} noValidate aria-describedby="segment-intro">
          <p id="segment-intro" className="hint">
            {blankRule(fields.impute)}
          </p>
          {errors.general.length > 0 && (
            <div className="form-error" role="alert" tabIndex={-1}>
              {errors.general.map((text) => (
                <p key={text}>{text}</p>
              ))}
            </div>
          )}
          <div className="field-grid">
            {features.map((field) => (
              <SpendInput key={field.name} field={field} impute={fields.impute} value={values[field.name] || ""} error={errors.byField[field.name]} onChange={change} />
            ))}
            <LabelSelect name="Channel" label="Channel" options={fields.channel} value={channel} error={errors.byField.Channel} onChange={choose("channel")} />
            <LabelSelect name="Region" label="Region" options={fields.region} value={region} error={errors.byField.Region} onChange={choose("region")} />
          </div>
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Segmenting…" : "Find the segment"}
            </button>
            <button type="button" onClick={clear}>
              Clear
            </button>
          </div>
          <p className="visually-hidden" role="status">
            {busy ? "Finding the segment…" : ""}
          </p>
        </form>
      )}
      {/* A live region always in the page, whose text comes and goes: screen readers often say nothing of one that
          is inserted with its text. */}
      <div role="status">
        {answer && stale && (
          <p className="note stale-note">
            The details have changed since this answer was given: press “Find the segment” for an answer to them.
          </p>
        )}
      </div>
      {answer && <Answer ref={answerRef} answer={answer} fields={fields} pca={pca} personas={personas} algorithm={algorithm} onReload={onReload} />}
    </section>
  );
}
