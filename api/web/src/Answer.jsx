import { categoryWords, confidenceWords, decimal2, filledInFigure, filledInNote, money, mostBuyNone, percent, percents, segmentAgainstBase, segmentKind, sharedLabels, standouts, times } from "./format.js";
import { segmentColour } from "./colours.js";
import { Swatch } from "./Swatch.jsx";
import { PcaMap } from "./PcaMap.jsx";
import { Actions } from "./Actions.jsx";
import { ErrorBoundary } from "./ErrorBoundary.jsx";

/** This customer's amount in a category and, when given, how it compares with the typical customer (the median of
 * ``GET /api/fields``, the base the persona's figures are against): "1,338, 1.39×"; a filled-in amount was not
 * given, so it says how it was filled in instead. In a category most customers buy none of, the amount alone: a ratio
 * to a median under 1 would be the amount again. ``features`` and ``impute`` are those of ``GET /api/fields``. */
function customerFigure(answer, name, features, impute) {
  const amount = answer.input[name];
  if (answer.imputed && answer.imputed.includes(name)) return filledInFigure(amount, impute);
  const field = features.find((f) => f.name === name);
  return field && field.median > 0 && !mostBuyNone(answer.persona, name) ? `${money(amount)}, ${times(amount / field.median)}` : money(amount);
}

/** The runner-up: the second most probable segment of a mixture, else the nearest centre after the customer's own. */
function runnerUp(answer) {
  if (answer.probabilities) {
    const byProbability = answer.distances
      .filter((d) => d.segment !== answer.segment)
      .sort((a, b) => answer.probabilities[b.segment] - answer.probabilities[a.segment]);
    return byProbability[0];
  }
  const ranked = [...answer.distances].sort((a, b) => a.distance - b.distance);
  return ranked.find((d) => d.segment !== answer.segment);
}

/** The confidence as a percent text; a mixture's is its segment's probability, shown as in the probability bars. */
function confidenceText(answer) {
  return answer.probabilities ? percents(answer.probabilities)[answer.segment] : percent(answer.confidence);
}

function Confidence({ answer, algorithm }) {
  const other = runnerUp(answer);
  const shown = confidenceText(answer);
  const words = confidenceWords(answer.confidence, answer.probabilities ? "gmm" : algorithm, answer.persona.name, other && other.name, shown, answer.atypical);
  const width = Math.max(0, Math.min(1, answer.confidence)) * 100;
  return (
    <div className="confidence">
      <h4>How sure the model is</h4>
      <p className={`confidence-level ${words.level}`}>
        Confidence {shown} ({words.level})
      </p>
      <svg className="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
        <rect x="0" y="0" width="100" height="8" fill="#e4e7eb" />
        <rect x="0" y="0" width={width} height="8" fill="#1b1f24" />
      </svg>
      <p>{words.text}</p>
    </div>
  );
}

/** One bar per segment: ``rows`` are {segment, name, value, text, mark}; bars are scaled to ``top``. */
function SegmentBars({ id, title, hint, rows, top, highlight }) {
  return (
    <div className={id}>
      <h4 id={`${id}-title`}>{title}</h4>
      <p className="hint">{hint}</p>
      <ul className="bars" aria-labelledby={`${id}-title`}>
        {rows.map((r) => (
          <li key={r.segment} className={r.segment === highlight ? "assigned" : undefined}>
            <span className="bar-label">
              <Swatch segment={r.segment} /> {r.name}
              {r.mark && <strong> ({r.mark})</strong>}
            </span>
            <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
              <rect x="0" y="0" width={(100 * r.value) / top} height="10" fill={segmentColour(r.segment)} />
            </svg>
            <span className="bar-value">{r.text}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Distances({ answer }) {
  const longest = Math.max(...answer.distances.map((d) => d.distance), 1e-9);
  const nearest = answer.distances.reduce((best, d) => (d.distance < best.distance ? d : best)).segment;
  const mixture = answer.probabilities != null;
  const hint = mixture
    ? "Distance from the customer to each segment's centre. The mixture model also weighs how large and how spread out each segment is, so the most probable segment need not be the nearest."
    : "Shorter is closer; the customer joins the closest segment.";
  const rows = answer.distances.map((d) => ({
    segment: d.segment,
    name: d.name,
    value: d.distance,
    text: decimal2(d.distance),
    mark: d.segment === nearest ? "nearest" : null,
  }));
  return <SegmentBars id="distances" title="Distance to each segment" hint={hint} rows={rows} top={longest} highlight={answer.segment} />;
}

function Probabilities({ answer }) {
  const texts = percents(answer.probabilities);
  const rows = answer.distances.map((d) => ({
    segment: d.segment,
    name: d.name,
    value: answer.probabilities[d.segment],
    text: texts[d.segment],
    mark: d.segment === answer.segment ? "most probable" : null,
  }));
  const hint = "The mixture model's probability that the customer belongs to each segment; it joins the most probable one.";
  return <SegmentBars id="probabilities" title="Probability of each segment" hint={hint} rows={rows} top={1} highlight={answer.segment} />;
}

/** The answer for one customer: persona, why, how sure, distances, and where it sits on the map. */
export function Answer({ answer, fields, pca, personas, algorithm, onReload, ref }) {
  const persona = answer.persona;
  const apart = standouts(persona);
  const features = fields ? fields.features : [];
  // The mixes are the card's (GET /api/clusters): the answer's persona has no Channel or Region mix.
  const card = personas.find((p) => p.id === answer.segment);
  const shared = card ? sharedLabels(card, answer.input) : null;
  return (
    <article className="answer" aria-labelledby="answer-title">
      <h3 id="answer-title" ref={ref} tabIndex={-1}>
        <Swatch segment={answer.segment} /> Segment {answer.segment}: {persona.name}
      </h3>
      {answer.atypical && (
        <div className="alert atypical">
          <p>
            <strong>This customer is unlike the customers the segments were built from.</strong> Its spending is farther from every
            segment's centre than that of 99 in 100 of them, so “{persona.name}” is only {segmentKind(answer)}, not a good fit. Check the
            amounts (a digit too many or too few, or thousands typed as units) before acting on it.
          </p>
        </div>
      )}
      <p>{persona.description}</p>
      {answer.imputed && answer.imputed.length > 0 && (
        <p className="note">
          {filledInNote(answer.imputed, fields)}
        </p>
      )}
      {shared && <p className="shared-labels">{shared}</p>}
      <div className="answer-grid">
        <div>
          <h4>What sets this segment apart</h4>
          {apart.length === 0 ? (
            <p>It spends close to the typical customer in every category.</p>
          ) : (
            <ul className="standouts">
              {apart.map((s) => (
                <li key={s.name}>
                  <span className={`level ${s.level}`}>{s.level === "high" ? "High" : "Low"}</span> {categoryWords(s.name, features)}:{" "}
                  {segmentAgainstBase(persona, s.name)}
                  {answer.input && answer.input[s.name] != null && (
                    <> (this customer: {customerFigure(answer, s.name, features, fields && fields.impute)})</>
                  )}
                </li>
              ))}
            </ul>
          )}
          <Actions actions={persona.actions} />
        </div>
        <div>
          <Confidence answer={answer} algorithm={algorithm} />
          {answer.probabilities && <Probabilities answer={answer} />}
          <Distances answer={answer} />
        </div>
      </div>
      {pca && (
        // A map that cannot be drawn (GET /api/pca in an unexpected shape) must not take the answer and the form with it.
        <ErrorBoundary what="The map of customers" focus="map-heading" onRetry={onReload} resetKeys={[pca, answer]}>
          <PcaMap pca={pca} personas={personas} customer={{ ...answer.position, segment: answer.segment }} />
        </ErrorBoundary>
      )}
    </article>
  );
}
