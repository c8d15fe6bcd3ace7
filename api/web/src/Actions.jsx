/** The suggested actions of a persona, as a titled list. */
export function Actions({ actions }) {
  return (
    <>
      <h4>Suggested actions</h4>
      <ul className="actions-list">
        {actions.map((action) => (
          <li key={action}>{action}</li>
        ))}
      </ul>
    </>
  );
}
