// maxPayload = 100000 bytes:
// - websocket: a 150,000-char message makes the server close the connection;
// - polling (raw HTTP): a 150,000-byte POST body gets HTTP 413 and the session is
//   closed (a following GET on the sid gets 400).
import assert from "node:assert/strict";
import { scenario, withTimeout, fetchWithTimeout, withRawSession, RetryAttempt } from "../lib/harness.mjs";
import { openSocket, watchClose, collectMessages } from "../lib/eio.mjs";
import WebSocket from "ws";

const BIG = 150_000;

await scenario(import.meta.url, async (t) => {
  t.step("websocket: connect");
  const socket = await openSocket(t, 4, { transports: ["websocket"] });
  const echoes = collectMessages(socket);
  const close = watchClose(socket);

  t.step("websocket: send a 150,000-char message");
  socket.send("x".repeat(BIG));
  await withTimeout(close.closed, 3_000, "'close' after sending an oversized websocket message");
  assert.ok(
    close.reason === "transport close" || close.reason === "transport error",
    `close reason should show the server closed the connection, got '${close.reason}'`,
  );
  assert.equal(echoes.messages.length, 0, "the oversized message must not be echoed");

  t.step("websocket (raw): the server closes with code 1009 (message too big)");
  const raw = new WebSocket(`${t.wsBase}/engine.io/?EIO=4&transport=websocket`);
  t.defer(() => raw.terminate());
  const [open] = await withTimeout(new Promise((resolve) => raw.once("message", (...a) => resolve(a))), 3_000, "open packet");
  assert.ok(String(open).startsWith("0{"), "first frame is the open packet");
  const closed = new Promise((resolve) => raw.once("close", (code) => resolve(code)));
  raw.send("4" + "z".repeat(BIG));
  assert.equal(await withTimeout(closed, 3_000, "raw close"), 1009, "close code");

  t.step("polling: handshake, then POST a 150,000-byte body");
  const { url } = await withRawSession(t, async (session) => {
    const { url, open } = session;
    assert.equal(open.maxPayload, 100000, "maxPayload in the open packet");
    const body = "4" + "y".repeat(BIG - 1);
    assert.equal(Buffer.byteLength(body), BIG);
    const post = await fetchWithTimeout(url, { method: "POST", body, headers: { "content-type": "text/plain;charset=UTF-8" } });
    await post.arrayBuffer();
    if (post.status === 400 && session.elapsed() >= open.pingInterval + open.pingTimeout) {
      throw new RetryAttempt(`session gone before the POST (${session.elapsed()} ms after the handshake)`);
    }
    assert.equal(post.status, 413, "status of the oversized POST");
    return session;
  });

  t.step("polling: GET on the sid after the 413");
  const get = await fetchWithTimeout(url, {}, 3_000);
  const getBody = await get.text();
  assert.equal(get.status, 400, `GET after the 413 should find the session closed; got body ${JSON.stringify(getBody.slice(0, 100))}`);
});
