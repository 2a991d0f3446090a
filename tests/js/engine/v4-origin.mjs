// Origin allow-list (only http://allowed.test):
// - WebSocket: Origin evil -> HTTP 403; Origin allowed -> opens, first frame is the open packet;
// - polling handshake: Origin evil -> 403 {"code":4,"message":"Forbidden"};
//   Origin allowed -> 200 with Access-Control-Allow-Origin: http://allowed.test.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { scenario, withTimeout, eioUrl, fetchWithTimeout, readJson } from "../lib/harness.mjs";

const ALLOWED = "http://allowed.test";
const EVIL = "http://evil.test";

function wsAttempt(t, origin) {
  const ws = new WebSocket(eioUrl(t.wsBase, { EIO: "4", transport: "websocket" }), { headers: { Origin: origin } });
  t.defer(() => {
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) {
      const closed = new Promise((resolve) => ws.once("close", resolve));
      ws.close();
      return withTimeout(closed, 2_000, "WebSocket close").catch(() => ws.terminate());
    }
  });
  return ws;
}

await scenario(import.meta.url, async (t) => {
  t.step("websocket with a forbidden Origin");
  const evil = wsAttempt(t, EVIL);
  const status = await withTimeout(
    new Promise((resolve, reject) => {
      evil.on("unexpected-response", (req, res) => {
        res.resume();
        req.destroy();
        resolve(res.statusCode);
      });
      evil.on("open", () => reject(new Error(`the WebSocket upgrade with Origin ${EVIL} was accepted`)));
      evil.on("error", (err) => reject(new Error(`WebSocket error instead of an HTTP 403 response: ${err.message}`)));
    }),
    3_000,
    "the response to the forbidden WebSocket upgrade",
  );
  assert.equal(status, 403, "status of the forbidden WebSocket upgrade");

  t.step("websocket with an allowed Origin");
  const good = wsAttempt(t, ALLOWED);
  const first = await withTimeout(
    new Promise((resolve, reject) => {
      good.once("message", (data, isBinary) => resolve(isBinary ? data : data.toString()));
      good.on("unexpected-response", (req, res) => {
        res.resume();
        reject(new Error(`WebSocket upgrade with Origin ${ALLOWED} refused: HTTP ${res.statusCode}`));
      });
      good.on("error", (err) => reject(new Error(`WebSocket error: ${err.message}`)));
    }),
    3_000,
    "the open packet on the allowed WebSocket",
  );
  assert.equal(typeof first, "string", "open packet is a text frame");
  assert.ok(first.startsWith("0{"), `first frame should be the open packet, got ${JSON.stringify(first.slice(0, 80))}`);
  const open = JSON.parse(first.slice(1));
  assert.equal(typeof open.sid, "string", "sid in the open packet");

  t.step("polling handshake with a forbidden Origin");
  const handshake = eioUrl(t.base, { EIO: "4", transport: "polling" });
  const refused = await fetchWithTimeout(handshake, { headers: { Origin: EVIL } }, 3_000);
  assert.equal(refused.status, 403, "status of the forbidden polling handshake");
  assert.deepEqual(await readJson(refused, "forbidden handshake"), { code: 4, message: "Forbidden" }, "body of the forbidden handshake");

  t.step("polling handshake with an allowed Origin");
  const accepted = await fetchWithTimeout(handshake, { headers: { Origin: ALLOWED } }, 3_000);
  const body = await accepted.text();
  assert.equal(accepted.status, 200, `status of the allowed handshake (body ${JSON.stringify(body.slice(0, 100))})`);
  assert.ok(body.startsWith("0{"), `allowed handshake body should be an open packet: ${JSON.stringify(body.slice(0, 100))}`);
  assert.equal(accepted.headers.get("access-control-allow-origin"), ALLOWED, "Access-Control-Allow-Origin");

  t.step("close the allowed polling session");
  const { sid } = JSON.parse(body.slice(1));
  const close = await fetchWithTimeout(
    eioUrl(t.base, { EIO: "4", transport: "polling", sid }),
    { method: "POST", body: "1", headers: { Origin: ALLOWED, "content-type": "text/plain;charset=UTF-8" } },
    3_000,
  );
  await close.arrayBuffer(); // (the session may already have expired: we never answered its pings)
});
