import { useId, useState } from "react";
import { MOST_BUY_NONE, categoryWords, money, mostBuyNone, percents, times } from "./format.js";
import { segmentColour } from "./colours.js";
import { Swatch } from "./Swatch.jsx";
import { Actions } from "./Actions.jsx";

const LOG2_LIMIT = 3; // the profile bar spans 1/8× to 8× the base median

/** A bar from the middle (1×, like the whole base) to the left (buys less) or the right (buys more), on a log scale. */
function RatioBar({ ratio, colour }) {
  const position = Math.max(-LOG2_LIMIT, Math.min(LOG2_LIMIT, Math.log2(ratio))) / LOG2_LIMIT; // -1..1
  const x = position < 0 ? 50 + 50 * position : 50;
  return (
    <svg className="bar ratio" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      <rect x="0" y="0" width="100" height="10" fill="#eef0f2" />
      <rect x={x} y="1" width={Math.abs(50 * position)} height="8" fill={colour} />
      <line x1="50" x2="50" y1="0" y2="10" stroke="#1b1f24" strokeWidth="0.8" />
    </svg>
  );
}

function ShareBars({ title, mix, colour }) {
  const entries = Object.entries(mix || {});
  const texts = percents(entries.map(([, share]) => share));
  return (
    <div className="mix">
      <h5>{title}</h5>
      <ul className="bars">
        {entries.map(([name, share], i) => (
          <li key={name}>
            <span className="bar-label">{name}</span>
            <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
              <rect x="0" y="0" width="100" height="10" fill="#eef0f2" />
              <rect x="0" y="0" width={100 * share} height="10" fill={colour} />
            </svg>
            <span className="bar-value">{texts[i]}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The profile in the order of the form's fields (JSON objects may arrive with their keys sorted). */
function orderedProfile(persona, features) {
  const order = features.map((f) => f.name);
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  return Object.entries(persona.profile).sort(([a], [b]) => rank(a) - rank(b));
}

function PersonaCard({ persona, fields }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const colour = segmentColour(persona.id);
  const features = fields ? fields.features : [];
  const unbought = Array.isArray(persona.most_buy_none) && persona.most_buy_none.length > 0;
  return (
    <li className="persona-card">
      <h3>
        <Swatch segment={persona.id} /> {persona.id}: {persona.name}
      </h3>
      {/* The description opens with the size and share ("216 customers (49% of the base)."), said once per card, as on
          the report's cards and in the answer, and in the API's description for its users. */}
      <p>{persona.description}</p>
      <button type="button" className="expander" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
        {open ? "Hide" : "Show"} spending profile and mix<span className="visually-hidden"> of {persona.name}</span>
      </button>
      <div id={panelId} className="persona-detail" hidden={!open}>
        <h4>Spending against the whole base</h4>
        <p className="hint">
          Median yearly spend of the segment; the bar runs left of the line when it buys less than the typical customer, right when more
          {unbought ? ", and is left out where most customers buy none, with nothing to compare with." : "."}
        </p>
        <table className="profile">
          <caption className="visually-hidden">Spending profile of {persona.name}</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col">Median spend</th>
              <th scope="col">Against the base</th>
            </tr>
          </thead>
          <tbody>
            {orderedProfile(persona, features).map(([name, ratio]) => (
              <tr key={name}>
                <th scope="row">{categoryWords(name, features)}</th>
                <td className="num">{persona.centre ? money(persona.centre[name]) : "–"}</td>
                <td>
                  {mostBuyNone(persona, name) ? (
                    <span className="no-ratio">{MOST_BUY_NONE}</span>
                  ) : (
                    <span className="ratio-cell">
                      <RatioBar ratio={ratio} colour={colour} />
                      <span className="bar-value">{times(ratio)}</span>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="mixes">
          <ShareBars title="Channel" mix={persona.channel_mix} colour={colour} />
          <ShareBars title="Region" mix={persona.region_mix} colour={colour} />
        </div>
        <Actions actions={persona.actions} />
      </div>
    </li>
  );
}

/** Section 2: every segment as a card that expands to its profile and its Channel and Region mix. */
export function Personas({ personas, fields }) {
  return (
    <section id="personas" aria-labelledby="personas-title" className="card-section">
      <h2 id="personas-title" tabIndex={-1}>The segments</h2>
      {personas.length === 0 ? (
        <p>Loading the segments…</p>
      ) : (
        <ul className="persona-grid">
          {personas.map((persona) => (
            <PersonaCard key={persona.id} persona={persona} fields={fields} />
          ))}
        </ul>
      )}
    </section>
  );
}
