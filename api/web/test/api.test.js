// What the page says when an answer is not the API's own JSON (node:test): `npm test`, run by `make test`.
// Behind a reverse proxy, the proxy answers some requests itself with an HTML page: nginx refuses a file over its
// client_max_body_size (1 MB unless set) with "413 Request Entity Too Large", and answers 502 or 504 when the service
// is down or slow. "Try again in a moment" is wrong advice for a file that is too large: it will be refused again.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ApiError, getJson, postFile, statusMessage } from "../src/api.js";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** fetch answering every request with ``status`` and nginx's HTML page. */
function proxyAnswers(status, statusText) {
  globalThis.fetch = async () =>
    new Response(`<html><head><title>${status} ${statusText}</title></head><body><center>nginx</center></body></html>`, {
      status,
      statusText,
      headers: { "Content-Type": "text/html" },
    });
}

test("a file a proxy refuses as too large is said to be too large, with its size and what to do", async () => {
  proxyAnswers(413, "Request Entity Too Large");
  const file = new File(["x".repeat(2902269)], "customers.csv", { type: "text/csv" });
  await assert.rejects(postFile("api/segment/batch", file), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 413);
    assert.match(error.message, /^The file \(2\.9 MB\) is larger than the server in front of the service lets through: it answered 413 Request Entity Too Large\./);
    assert.match(error.message, /Split it into smaller files/);
    assert.match(error.message, /client_max_body_size/);
    assert.doesNotMatch(error.message, /Try again in a moment/);
    return true;
  });
});

test("a file the proxy gave up waiting for is told to be split, not sent again as it is", async () => {
  proxyAnswers(504, "Gateway Timeout");
  const file = new File(["Fresh\n1\n"], "customers.csv", { type: "text/csv" });
  await assert.rejects(postFile("api/segment/batch", file), /took longer than the server in front of the service waits: it answered 504 Gateway Timeout\. Split it/);
});

test("a service down behind its proxy is told as such, and a retry is the advice", async () => {
  proxyAnswers(502, "Bad Gateway");
  await assert.rejects(getJson("api/fields"), (error) => {
    assert.equal(error.message, "The segmentation service did not answer through the server in front of it (502 Bad Gateway): it may be restarting or stopped. Try again in a moment; if it keeps happening, tell whoever runs the service.");
    return true;
  });
});

test("the API's own JSON error is shown as the API words it, whatever its status", async () => {
  globalThis.fetch = async () =>
    Response.json({ error: { status: 413, title: "Payload Too Large", message: "The batch has 100,001 rows; at most 100,000 are accepted per request.", errors: [] } }, { status: 413 });
  const file = new File(["Fresh\n1\n"], "customers.csv", { type: "text/csv" });
  await assert.rejects(postFile("api/segment/batch", file), { message: "The batch has 100,001 rows; at most 100,000 are accepted per request." });
});

test("other statuses keep the general sentence; HTTP/2's missing status text leaves no trailing space", () => {
  assert.equal(statusMessage(418, "I'm a teapot"), "The service answered 418 I'm a teapot instead of a result. Try again in a moment; if it keeps happening, tell whoever runs the service.");
  assert.match(statusMessage(413, ""), /^The request is larger than the server in front of the service lets through: it answered 413\. /);
});
