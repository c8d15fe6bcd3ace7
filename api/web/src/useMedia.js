import { useSyncExternalStore } from "react";

/** Whether the CSS media ``query`` matches now ("(max-width: 40rem)"), drawn again whenever that changes (a phone
 * turned, a window resized). */
export function useMedia(query) {
  return useSyncExternalStore(
    (changed) => {
      const list = window.matchMedia(query);
      list.addEventListener("change", changed);
      return () => list.removeEventListener("change", changed);
    },
    () => window.matchMedia(query).matches,
  );
}
