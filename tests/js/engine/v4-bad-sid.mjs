// Unknown session id: polling GET and POST get 400 {"code":1,"message":"Session ID unknown"},
// a WebSocket upgrade gets an HTTP 400 response.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { scenario, withTimeout, eioUrl, fetchWithTimeout, readJson } from "../lib/harness.mjs";

const EXPECTED = { code: 1, message: "Session ID unknown" };

await scenario(import.meta.url, async (t) => {
  const url = eioUrl(t.base, { EIO: "4", transport: "polling", sid: "doesnotexist" });

  t.step("polling GET with an unknown sid");
  const get = await fetchWithTimeout(url, {}, 3_000);
  assert.equal(get.status, 400, "GET status");
  assert.deepEqual(await readJson(get, "GET"), EXPECTED, "GET body");

  t.step("polling POST with an unknown sid");
  const post = await fetchWithTimeout(url, { method: "POST", body: "4hello", headers: { "content-type": "text/plain;charset=UTF-8" } }, 3_000);
  assert.equal(post.status, 400, "POST status");
  assert.deepEqual(await readJson(post, "POST"), EXPECTED, "POST body");

  t.step("websocket with an unknown sid");
  const wsUrl = eioUrl(t.wsBase, { EIO: "4", transport: "websocket", sid: "doesnotexist" });
  const ws = new WebSocket(wsUrl);
  t.defer(() => ws.terminate());
  const status = await withTimeout(
    new Promise((resolve, reject) => {
      ws.on("unexpected-response", (req, res) => {
        res.resume();
        req.destroy();
        resolve(res.statusCode);
      });
      ws.on("open", () => reject(new Error("the WebSocket upgrade with an unknown sid was accepted")));
      ws.on("error", (err) => reject(new Error(`WebSocket error instead of an HTTP 400 response: ${err.message}`)));
    }),
    3_000,
    "the response to the WebSocket upgrade",
  );
  assert.equal(status, 400, "status of the refused upgrade");
});
