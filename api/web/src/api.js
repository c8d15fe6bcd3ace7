// Calls to the segmentation API (same origin). Every failure becomes an ApiError carrying the API's error body.
// Every URL the page uses is relative to the page's own ("api/segment", "static/app.js", "report/"), never from the
// host's root, so the page works at / and under any prefix a reverse proxy serves it at (/segmentation/).

import { fileSize } from "./format.js";

/** An answer other than 2xx, or no answer: `message` is a sentence for people, `errors` names fields and rows. */
export class ApiError extends Error {
  constructor(status, message, errors = []) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

/** How long the page waits for an answer before saying so: a hung server must not leave the form locked. */
const TIMEOUT_MS = { json: 15000, file: 120000 };

/**
 * The sentence for an answer that is not the API's own JSON error: a page of the proxy in front of the service (nginx's
 * "413 Request Entity Too Large" for a file over its client_max_body_size, 1 MB unless set; a 502 or 504 when the
 * service is down or slow), worded by its status. ``fileBytes`` is the size of the file sent, if one was.
 */
export function statusMessage(status, statusText, fileBytes = null) {
  const line = `${status} ${statusText || ""}`.trim(); // HTTP/2 has no status text
  const file = fileBytes != null;
  if (status === 413) {
    return file
      ? `The file (${fileSize(fileBytes)}) is larger than the server in front of the service lets through: it answered ${line}. Split it into smaller files and send each one, or ask whoever runs the service to let larger files through (with nginx, client_max_body_size).`
      : `The request is larger than the server in front of the service lets through: it answered ${line}. Tell whoever runs the service.`;
  }
  if (status === 504 && file) {
    return `The file took longer than the server in front of the service waits: it answered ${line}. Split it into smaller files and send each one, or ask whoever runs the service to wait longer (with nginx, proxy_read_timeout).`;
  }
  if (status === 502 || status === 503 || status === 504) {
    return `The segmentation service did not answer through the server in front of it (${line}): it may be restarting or stopped. Try again in a moment; if it keeps happening, tell whoever runs the service.`;
  }
  return `The service answered ${line} instead of a result. Try again in a moment; if it keeps happening, tell whoever runs the service.`;
}

async function send(url, options, timeoutMs = TIMEOUT_MS.json, fileBytes = null) {
  // The wait is for the answer to start (its status line); reading a long answer is not cut off.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  let response;
  try {
    response = await fetch(url, { ...options, signal: controller.signal });
  } catch {
    if (timedOut) {
      throw new ApiError(0, `The segmentation service did not answer within ${timeoutMs / 1000} seconds. Nothing you typed is lost: try again, or tell whoever runs the service.`);
    }
    throw new ApiError(0, "The segmentation service did not answer. Check that it is running, then try again.");
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) return response;
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not the API's JSON error (a proxy's page, say): fall back to the status line below.
  }
  const error = body && body.error;
  const message = (error && error.message) || statusMessage(response.status, response.statusText, fileBytes);
  throw new ApiError(response.status, message, (error && error.errors) || []);
}

/** The body of a 2xx answer as JSON; an ApiError when it is not JSON. */
async function readJson(response) {
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, "The service answered with something that is not JSON. Try again, or tell whoever runs it.");
  }
}

/** GET a JSON document. */
export async function getJson(url) {
  return readJson(await send(url, { headers: { Accept: "application/json" } }));
}

/** POST a JSON body, read a JSON answer. */
export async function postJson(url, body) {
  const response = await send(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  return readJson(response);
}

/** POST a file as multipart field "file"; the answer as JSON, or as a Blob when `asCsv`. */
export async function postFile(url, file, asCsv = false) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await send(url, { method: "POST", body: form, headers: { Accept: asCsv ? "text/csv" : "application/json" } }, TIMEOUT_MS.file, file.size);
  return asCsv ? response.blob() : readJson(response);
}
