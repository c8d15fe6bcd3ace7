import { useEffect, useId, useRef, useState } from "react";
import { ApiError, postFile } from "./api.js";
import { SPREADSHEET_BOM, confidenceLevel, encodingNote, filledInMark, money, percent } from "./format.js";
import { Swatch } from "./Swatch.jsx";

const BATCH_URL = "api/segment/batch";
const MAX_DETAILS = 8; // problems listed under the file input when the whole file is refused
/** Rows shown in the table: a browser slows to a halt drawing 100,000 (the most a batch takes); the download has all. */
export const MAX_ROWS_SHOWN = 1000;

/** "customers.csv" → "customers-segments.csv". */
const resultName = (name) => `${name.replace(/\.[^.]*$/, "") || "customers"}-segments.csv`;

/** Save a Blob as a file through a temporary link (no new window, no other host). */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Counts({ batch, personas }) {
  const nameOf = (id) => (personas.find((p) => String(p.id) === String(id)) || { name: `Segment ${id}` }).name;
  return (
    <table className="counts">
      <caption>Customers per segment</caption>
      <thead>
        <tr>
          <th scope="col">Segment</th>
          <th scope="col">Customers</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(batch.counts).map(([id, count]) => (
          <tr key={id}>
            <th scope="row">
              <Swatch segment={Number(id)} /> {id}: {nameOf(id)}
            </th>
            <td className="num">{money(count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Rows({ batch, fields }) {
  // The file's first column not used to segment (a customer number, usually), shown beside the row number.
  const idName = batch.ignored_columns && batch.ignored_columns.length > 0 ? batch.ignored_columns[0] : null;
  const idCell = (r) => idName !== null && <td>{r.ignored ? r.ignored[0] : ""}</td>;
  const shown = batch.results.slice(0, MAX_ROWS_SHOWN);
  const hidden = batch.results.length - shown.length;
  const hiddenProblems = batch.results.slice(MAX_ROWS_SHOWN).filter((r) => !r.ok).length;
  return (
    <div className="rows-block">
      {hidden > 0 && (
        <p className="note rows-cut">
          Showing the first {money(shown.length)} of {money(batch.results.length)} rows; the download has every row
          {hiddenProblems > 0 ? `, including ${money(hiddenProblems)} more with a problem (see its error column).` : "."}
        </p>
      )}
      {/* The API counts rows from the first customer; a spreadsheet counts the header as its row 1. */}
      <p className="hint" id="batch-rows-hint">
        Row 1 is the first customer, on the line after the header (a spreadsheet's row 2, when the file has no blank lines).
      </p>
    <div className="table-scroll" role="region" aria-labelledby="batch-rows-caption" aria-describedby="batch-rows-hint" tabIndex={0}>
      <table className="rows">
        <caption id="batch-rows-caption">Result for each row of the file</caption>
        <thead>
          <tr>
            <th scope="col">Row</th>
            {idName !== null && <th scope="col">{idName}</th>}
            <th scope="col">Segment or problem</th>
            <th scope="col">Confidence</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) =>
            r.ok ? (
              <tr key={r.row}>
                <th scope="row" className="num">{r.row}</th>
                {idCell(r)}
                <td>
                  <Swatch segment={r.segment} /> {r.segment}: {r.persona_name}
                  {r.imputed && r.imputed.length > 0 && <span className="hint"> {filledInMark(r.imputed, fields)}</span>}
                  {r.atypical && <strong className="atypical-mark"> Unlike any segment: check the amounts.</strong>}
                </td>
                <td className="num">
                  {percent(r.confidence)} ({confidenceLevel(r.confidence, r.probabilities != null, r.atypical)})
                </td>
              </tr>
            ) : (
              <tr key={r.row} className="row-error">
                <th scope="row" className="num">{r.row}</th>
                {idCell(r)}
                <td colSpan={2}>
                  <span className="error-text">Not segmented: </span>
                  {r.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ")}
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
    </div>
  );
}

/** Put ``file`` back in a file input, which is empty whenever it is drawn anew; false where the browser cannot. */
function refill(input, file) {
  try {
    const list = new DataTransfer();
    list.items.add(file);
    input.files = list.files;
    return input.files.length === 1;
  } catch {
    return false;
  }
}

/** Section 3: upload a CSV file, see the segment or the problem of each row, download the results. The chosen
 * ``file`` (changed through ``onFile``) is kept by the caller, above this section's error boundary: a section that
 * failed to draw and is drawn again with Try again puts it back in its input (forgets it where the browser cannot,
 * so the form never sends a file it does not show); the results and the errors are not kept. */
export function Batch({ personas, fields, onModel, file, onFile }) {
  const inputId = useId();
  // The answer together with the file that produced it, so Download re-sends exactly that file.
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // The file currently chosen: an answer for any other file arrived too late and is dropped.
  const chosen = useRef(file);
  const fileInput = useRef(null);
  const summary = useRef(null);
  const batch = result && result.batch;
  // Focus follows the outcome (the button that had it is disabled while busy): the summary of a scored file, or
  // the file input that a refused file marks invalid.
  useEffect(() => {
    if (batch && summary.current) summary.current.focus();
  }, [batch]);
  useEffect(() => {
    if (error && !batch && fileInput.current) fileInput.current.focus();
  }, [error, batch]);
  useEffect(() => {
    const input = fileInput.current;
    if (file && input && input.files.length === 0 && !refill(input, file)) onFile(null);
  }, []); // once, when drawn: later choices come from the input itself

  function choose(next) {
    chosen.current = next;
    onFile(next);
    setResult(null);
    setError(null);
    setBusy(false);
  }

  async function submit(event) {
    event.preventDefault();
    if (!file) {
      setError({ message: "Choose a CSV file first.", details: [] });
      return;
    }
    const sent = file;
    setBusy(true);
    try {
      const answer = await postFile(BATCH_URL, sent);
      if (chosen.current !== sent) return;
      setResult({ file: sent, batch: answer });
      if (onModel) onModel(answer.model_version);
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (chosen.current !== sent) return;
      const details = e.errors.map((x) => [x.row != null ? `Row ${x.row}` : null, x.field, x.message].filter(Boolean).join(": "));
      setError({ message: e.message, details });
      setResult(null);
    } finally {
      if (chosen.current === sent) setBusy(false);
    }
  }

  async function download() {
    const sent = result.file;
    try {
      // a UTF-8 mark first, so that Excel (a double-click on the file) reads accented names right
      const answer = await postFile(`${BATCH_URL}?format=csv`, sent, true);
      saveBlob(new Blob([SPREADSHEET_BOM, answer], { type: "text/csv;charset=utf-8" }), resultName(sent.name));
      if (chosen.current === sent) setError(null); // a failed download's message, now out of date
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (chosen.current !== sent) return;
      setError({ message: `The results could not be downloaded: ${e.message}`, details: [] });
    }
  }

  return (
    <section id="batch" aria-labelledby="batch-title" className="card-section">
      <h2 id="batch-title" tabIndex={-1}>Score a file of customers</h2>
      <form onSubmit={submit} noValidate>
        <div className={error ? "field invalid" : "field"}>
          <label htmlFor={inputId}>CSV file, one customer per row</label>
          <input
            id={inputId}
            ref={fileInput}
            type="file"
            accept=".csv,text/csv"
            aria-describedby={error ? `${inputId}-hint ${inputId}-error` : `${inputId}-hint`}
            aria-invalid={error ? "true" : undefined}
            onChange={(event) => choose(event.target.files[0] || null)}
          />
          <p className="hint" id={`${inputId}-hint`}>
            A header row with the columns Fresh, Milk, Grocery, Frozen, Detergents_Paper, Delicassen (or Delicatessen), and optionally Channel and
            Region. Other columns, a customer number say, are not used, and the download carries them unchanged. Rows with a
            problem are listed; the others are still segmented.
          </p>
          {error && (
            <div className="field-error" id={`${inputId}-error`} role="alert">
              <p>{error.message}</p>
              {error.details.length > 0 && (
                <ul>
                  {error.details.slice(0, MAX_DETAILS).map((text) => (
                    <li key={text}>{text}</li>
                  ))}
                  {error.details.length > MAX_DETAILS && <li>…and {error.details.length - MAX_DETAILS} more.</li>}
                </ul>
              )}
            </div>
          )}
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Segmenting…" : "Segment the file"}
          </button>
        </div>
      </form>
      {batch && (
        // No live region round the results: the focus moves to the summary, which is read then, and a live region
        // would read out the table of rows as well.
        <div className="batch-result">
          <p className="summary" ref={summary} tabIndex={-1}>
            {money(batch.n_rows)} rows: {money(batch.n_ok)} segmented, {money(batch.n_errors)} with a problem.
          </p>
          {batch.ignored_columns && batch.ignored_columns.length > 0 && (
            <p className="note ignored-columns">
              Not used to segment, and copied to the download unchanged: {batch.ignored_columns.join(", ")}.
            </p>
          )}
          {encodingNote(batch.encoding) && <p className="note encoding">{encodingNote(batch.encoding)}</p>}
          <div className="actions">
            <button type="button" onClick={download}>
              Download the results (CSV)
            </button>
          </div>
          <div className="batch-grid">
            <Counts batch={batch} personas={personas} />
            <Rows batch={batch} fields={fields} />
          </div>
        </div>
      )}
    </section>
  );
}
