import { categoryWords, confidenceWords, decimal2, money, percent, times } from "./format.js";
import { segmentColour } from "./colours.js";
import { Swatch } from "./Swatch.jsx";
import { PcaMap } from "./PcaMap.jsx";
import { Actions } from "./Actions.jsx";

/** The categories where the segment differs from the whole base (levels high or low), biggest difference first. */
function standouts(persona) {
  return Object.entries(persona.levels || {})
    .filter(([, level]) => level !== "typical")
    .map(([name, level]) => ({ name, level, ratio: persona.profile[name] }))
    .sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
}

function Confidence({ answer, algorithm }) {
  const ranked = [...answer.distances].sort((a, b) => a.distance - b.distance);
  const runnerUp = ranked.find((d) => d.segment !== answer.segment);
  const words = confidenceWords(answer.confidence, algorithm, answer.persona.name, runnerUp && runnerUp.name);
  const width = Math.max(0, Math.min(1, answer.confidence)) * 100;
  return (
    <div className="confidence">
      <h4>How sure the model is</h4>
      <p className={`confidence-level ${words.level}`}>
        Confidence {percent(answer.confidence)} ({words.level})
      </p>
      <svg className="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
        <rect x="0" y="0" width="100" height="8" fill="#e4e7eb" />
        <rect x="0" y="0" width={width} height="8" fill="#1b1f24" />
      </svg>
      <p>{words.text}</p>
    </div>
  );
}

function Distances({ answer }) {
  const longest = Math.max(...answer.distances.map((d) => d.distance), 1e-9);
  return (
    <div className="distances">
      <h4 id="distances-title">Distance to each segment</h4>
      <p className="hint">Shorter is closer; the customer joins the closest segment.</p>
      <ul className="bars" aria-labelledby="distances-title">
        {answer.distances.map((d) => (
          <li key={d.segment} className={d.segment === answer.segment ? "nearest" : undefined}>
            <span className="bar-label">
              <Swatch segment={d.segment} /> {d.name}
              {d.segment === answer.segment && <strong> (nearest)</strong>}
            </span>
            <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
              <rect x="0" y="0" width={(100 * d.distance) / longest} height="10" fill={segmentColour(d.segment)} />
            </svg>
            <span className="bar-value">{decimal2(d.distance)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The answer for one customer: persona, why, how sure, distances, and where it sits on the map. */
export function Answer({ answer, fields, pca, personas, algorithm, ref }) {
  const persona = answer.persona;
  const apart = standouts(persona);
  const features = fields ? fields.features : [];
  return (
    <article className="answer" aria-labelledby="answer-title">
      <h3 id="answer-title" ref={ref} tabIndex={-1}>
        <Swatch segment={answer.segment} /> Segment {answer.segment}: {persona.name}
      </h3>
      <p>{persona.description}</p>
      {answer.imputed && answer.imputed.length > 0 && (
        <p className="note">
          Not given, so filled with the typical value from the data: {answer.imputed.map((n) => categoryWords(n, features)).join(", ")}.
        </p>
      )}
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
                  {times(s.ratio)} the typical customer
                  {answer.input && answer.input[s.name] != null && <> (this customer: {money(answer.input[s.name])})</>}
                </li>
              ))}
            </ul>
          )}
          <Actions actions={persona.actions} />
        </div>
        <div>
          <Confidence answer={answer} algorithm={algorithm} />
          <Distances answer={answer} />
        </div>
      </div>
      {pca && <PcaMap pca={pca} personas={personas} customer={{ ...answer.position, segment: answer.segment }} />}
    </article>
  );
}
