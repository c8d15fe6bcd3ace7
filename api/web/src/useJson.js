import { useEffect, useState } from "react";
import { getJson } from "./api.js";

/** GET `url` once, and again whenever `generation` changes: {data, error} (error is a sentence; both null while
 * loading the first time; the last data stays while it reloads). */
export function useJson(url, generation = 0) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    let live = true;
    getJson(url).then(
      (data) => live && setState({ data, error: null }),
      (error) => live && setState({ data: null, error: error.message }),
    );
    return () => {
      live = false;
    };
  }, [url, generation]);
  return state;
}
