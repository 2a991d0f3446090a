// v3 heartbeat (client pings, server pongs), over websocket and over polling:
// - an idle client stays open for 1.5 s (the server answers its pings);
// - once the client stops sending pings, the server closes it within ~1.5 s.
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout } from "../lib/harness.mjs";
import { openSocket, watchClose } from "../lib/eio.mjs";

const STAY_MS = 1_500;
const CLOSE_WITHIN_MS = 1_500;

// closes reported by the client when the server ended the session
const SERVER_CLOSE = {
  websocket: ["transport close"],
  // over polling the server may answer the pending GET with a close packet
  // ('transport close') or drop the session (the next poll fails: 'transport error')
  polling: ["transport close", "transport error"],
};

/** Stops the v3 client's heartbeat: no more pings and no client-side ping timeout. */
function stopPinging(socket) {
  for (const m of ["setPing", "onHeartbeat", "ping"]) {
    assert.equal(typeof socket[m], "function", `engine.io-client 3.5 internals changed: no ${m}()`);
  }
  socket.ping = () => {};
  socket.setPing = () => {};
  socket.onHeartbeat = () => {};
  socket.off("heartbeat"); // the listener bound to the original onHeartbeat
  clearTimeout(socket.pingIntervalTimer);
  clearTimeout(socket.pingTimeoutTimer);
}

async function phase(t, transport) {
  const socket = await openSocket(t, 3, { transports: [transport] });
  const start = Date.now();
  const close = watchClose(socket, start);
  let pongs = 0;
  socket.on("pong", () => pongs++);

  await sleep(STAY_MS);
  assert.equal(close.reason, null, `${transport}: idle client closed after ${close.at} ms: ${close.reason}`);
  assert.equal(socket.readyState, "open", `${transport}: idle client state`);
  assert.ok(pongs >= 3, `${transport}: the server answered ${pongs} ping(s) in ${STAY_MS} ms, expected at least 3`);

  stopPinging(socket);
  const stoppedAt = Date.now();
  await withTimeout(close.closed, CLOSE_WITHIN_MS, `${transport}: server closing the client that stopped pinging (${CLOSE_WITHIN_MS} ms)`);
  const after = Date.now() - stoppedAt;
  assert.ok(
    SERVER_CLOSE[transport].includes(close.reason),
    `${transport}: close reason after the pings stopped should be one of ${JSON.stringify(SERVER_CLOSE[transport])}, got '${close.reason}' after ${after} ms`,
  );
  return { pongs, after, reason: close.reason };
}

await scenario(import.meta.url, async (t) => {
  t.step("websocket and polling clients: idle, then silent");
  const [ws, polling] = await Promise.all([phase(t, "websocket"), phase(t, "polling")]);
  t.log(`websocket: ${ws.pongs} pongs, closed ${ws.after} ms after the pings stopped (${ws.reason})`);
  t.log(`polling: ${polling.pongs} pongs, closed ${polling.after} ms after the pings stopped (${polling.reason})`);
});
