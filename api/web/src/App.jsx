import { useEffect, useRef, useState } from "react";
import { useJson } from "./useJson.js";
import { EMPTY_DRAFT, SegmentOne } from "./SegmentOne.jsx";
import { Personas } from "./Personas.jsx";
import { Batch } from "./Batch.jsx";
import { ErrorBoundary } from "./ErrorBoundary.jsx";

/** The staff page: segment one customer, explore the segments, score a CSV file. */
export function App() {
  // Bumped when an answer comes from another model than the page shows (the server was restarted with new
  // artifacts): the footer, the segments and the map are fetched again.
  const [generation, setGeneration] = useState(0);
  const [switched, setSwitched] = useState(null);
  // What staff typed and the file they chose, kept here, above the sections' error boundaries: a section that failed
  // to draw and is drawn again with Try again gets them back.
  const [draft, setDraft] = useState(EMPTY_DRAFT);
  const [file, setFile] = useState(null);
  const health = useJson("api/health", generation);
  const fields = useJson("api/fields", generation);
  const clusters = useJson("api/clusters", generation);
  const pca = useJson("api/pca", generation);
  const shown = health.data ? health.data.model_version : null;
  function seenModel(version) {
    if (shown && version && version !== shown && version !== switched) {
      setSwitched(version);
      setGeneration((g) => g + 1);
    }
  }
  const reload = () => setGeneration((g) => g + 1);
  // The segments' list is drawn by three sections and the map legend: one that is not a list is a load error, said
  // once, and every part that names segments goes on without them (a number stands in for a name).
  const segmentsReadable = !clusters.data || Array.isArray(clusters.data.personas);
  const loadErrors = [health, fields, clusters, pca].map((s) => s.error).filter(Boolean);
  if (!segmentsReadable) loadErrors.push("The segments came in a shape this page cannot read.");
  // The section each failed load draws, in page order (the map is in the first; the footer's model version has none).
  const failedSections = [
    (fields.error || pca.error) && "segment",
    (clusters.error || !segmentsReadable) && "personas",
  ].filter(Boolean);
  // Try again's button goes with the alert once everything has loaded: then focus the heading of the first section
  // it brought back (the first section, where the alert was, when only the footer failed), rather than leave a
  // keyboard or screen reader user on the page's body. Set when Try again is pressed, to the sections to reload.
  const retried = useRef(null);
  function retry() {
    retried.current = failedSections;
    reload();
  }
  useEffect(() => {
    if (!retried.current || loadErrors.length > 0) return;
    const [first = "segment"] = retried.current;
    retried.current = null;
    const lost = !document.activeElement || document.activeElement === document.body; // not if staff moved on meanwhile
    const heading = document.getElementById(`${first}-title`);
    if (lost && heading) heading.focus();
  });
  const reportAvailable = Boolean(fields.data && fields.data.report_available);
  const personas = clusters.data && segmentsReadable ? clusters.data.personas : [];
  const algorithm = health.data ? health.data.algorithm : null;

  return (
    <>
      <a className="skip-link" href="#main">Skip to the content</a>
      <header className="site-header">
        <div className="wrap">
          <h1>Customer segments</h1>
          <p className="lede">Type a customer’s yearly spending to see which segment it belongs to and what to offer it.</p>
          <nav aria-label="Sections">
            <ul>
              <li><a href="#segment">Segment a customer</a></li>
              <li><a href="#personas">The segments</a></li>
              <li><a href="#batch">Score a file</a></li>
              {reportAvailable && <li><a href="report/">Full report</a></li>}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" className="wrap">
        {loadErrors.length > 0 && (
          <div className="alert" role="alert">
            <p>Part of the page could not be loaded: {[...new Set(loadErrors)].join(" ")}</p>
            <p>
              <button type="button" onClick={retry}>
                Try again
              </button>
            </p>
          </div>
        )}
        {/* Always in the page, empty until the model changes: a live region inserted with its text is often not
            announced. */}
        <div role="status">
          {switched && (
            <div className="alert">
              <p>
                The service now answers with another model (version <code>{switched.slice(0, 12)}</code>): the segments, the map
                and the model version below have been reloaded. Results shown before came from the previous model.
              </p>
            </div>
          )}
        </div>
        {/* A section that failed to draw is drawn again when the data it draws from is loaded again (each load gives
            new objects, or null on failure): its Try again reloads them. */}
        <ErrorBoundary id="segment" title="Segment a customer" what="The form to segment a customer" onRetry={reload} resetKeys={[fields.data, clusters.data, pca.data, health.data]}>
          <SegmentOne fields={fields.data} personas={personas} pca={pca.data} algorithm={algorithm} onModel={seenModel} onReload={reload} draft={draft} onDraft={setDraft} />
        </ErrorBoundary>
        <ErrorBoundary id="personas" title="The segments" what="The segments" onRetry={reload} resetKeys={[fields.data, clusters.data]}>
          <Personas personas={personas} fields={fields.data} />
        </ErrorBoundary>
        <ErrorBoundary id="batch" title="Score a file of customers" what="The form to score a file" onRetry={reload} resetKeys={[fields.data, clusters.data]}>
          <Batch personas={personas} fields={fields.data} onModel={seenModel} file={file} onFile={setFile} />
        </ErrorBoundary>
      </main>
      <footer className="site-footer">
        <div className="wrap">
          <p>
            {health.data ? (
              <>
                Model version <code title={health.data.model_version}>{health.data.model_version.slice(0, 12)}</code>{" "}
                ({health.data.algorithm_name || health.data.algorithm}, {health.data.k} segments).
              </>
            ) : (
              "Model version: loading…"
            )}{" "}
            {reportAvailable ? (
              <a href="report/">Read the full report</a>
            ) : (
              fields.data && <span>The report has not been built on this server.</span>
            )}{" "}
            <a href="api/openapi.json">API description (OpenAPI)</a>
          </p>
        </div>
      </footer>
    </>
  );
}
