import { Component } from "react";

/** True when the two lists differ in length or in any item (compared with Object.is, as React compares deps). */
const changed = (a = [], b = []) => a.length !== b.length || a.some((item, i) => !Object.is(item, b[i]));

/** The message in place of a part of the page that could not be drawn: which part, in words, and Try again. No error
 * text or stack: staff cannot act on them, and React has already logged the error to the console. */
function Broken({ what, onRetry }) {
  return (
    <div className="alert" role="alert">
      <p>
        <strong>{what} could not be shown:</strong> something went wrong while reading what the service sent. The rest of the
        page still works. Try again; if it keeps happening, tell whoever runs the service.
      </p>
      <p>
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </p>
    </div>
  );
}

/** Catches an error thrown while drawing `children`, so that only this part of the page is replaced by a message
 * (React would otherwise unmount the whole page). `what` names the part ("The segments"); with `id` and `title` the
 * message keeps the section's anchor and heading. Try again calls `onRetry` (which reloads the page's data) and the
 * part is drawn again once `resetKeys` change, i.e. with the reloaded data; without `onRetry` it is drawn again at
 * once. A part drawn again after Try again gets the focus on its heading (`${id}-title`, or the element whose id is
 * `focus`, for a part that is no section, focusable). React itself logs the caught error with console.error
 * (createRoot's default onCaughtError). */
export class ErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { failed: false, keys: props.resetKeys };
    this.retry = this.retry.bind(this);
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  static getDerivedStateFromProps(props, state) {
    if (!changed(props.resetKeys, state.keys)) return null;
    return { failed: false, keys: props.resetKeys };
  }

  retry() {
    // Drawn again with the same data, the part would fail the same way: wait for the data onRetry reloads.
    this.retried = true;
    if (this.props.onRetry) this.props.onRetry();
    else this.setState({ failed: false });
  }

  componentDidUpdate(_, before) {
    // Try again's button goes with the message: once the part is drawn again, focus its heading (the part draws it
    // with the same id, focusable), rather than leave a keyboard or screen reader user at the top of the page.
    if (!before.failed || this.state.failed || !this.retried) return;
    this.retried = false;
    const { id, focus = id && `${id}-title` } = this.props;
    const heading = focus && document.getElementById(focus);
    if (heading) heading.focus();
  }

  render() {
    const { children, what, id, title } = this.props;
    if (!this.state.failed) return children;
    const message = <Broken what={what} onRetry={this.retry} />;
    if (!id) return message;
    return (
      <section id={id} aria-labelledby={`${id}-title`} className="card-section">
        <h2 id={`${id}-title`} tabIndex={-1}>
          {title}
        </h2>
        {message}
      </section>
    );
  }
}
