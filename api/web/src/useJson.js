import { useEffect, useState } from "react";
import { getJson } from "./api.js";

/** GET `url` once: {data, error} (error is a sentence; both null while loading). */
export function useJson(url) {
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
  }, [url]);
  return state;
}
