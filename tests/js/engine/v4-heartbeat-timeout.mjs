// v4 heartbeat (server pings, client pongs), over websocket:
// - a client that stops answering pings is closed by the server ('transport close'
//   on the client) within ~1.5 s;
// - a client that answers stays connected for at least 1.5 s (several ping cycles).
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout } from "../lib/harness.mjs";
import { openSocket, watchClose } from "../lib/eio.mjs";

const STAY_MS = 1_500;
const CLOSE_WITHIN_MS = 1_500;

await scenario(import.meta.url, async (t) => {
  t.step("connect two websocket clients");
  const [alive, mute] = await Promise.all([
    openSocket(t, 4, { transports: ["websocket"] }),
    openSocket(t, 4, { transports: ["websocket"] }),
  ]);

  // the mute client drops every 'pong' it would send
  assert.equal(typeof mute._sendPacket, "function", "engine.io-client internals changed: no _sendPacket()");
  const droppedPongs = [];
  const originalSend = mute._sendPacket.bind(mute);
  mute._sendPacket = (type, ...rest) => {
    if (type === "pong") {
      droppedPongs.push(Date.now());
      return;
    }
    return originalSend(type, ...rest);
  };
  const start = Date.now();
  const muteClose = watchClose(mute, start);
  const aliveClose = watchClose(alive, start);
  let alivePings = 0;
  alive.on("ping", () => alivePings++);

  t.step("client that stops answering pings gets closed by the server");
  await withTimeout(muteClose.closed, CLOSE_WITHIN_MS, `'close' of the client that does not answer pings (${CLOSE_WITHIN_MS} ms)`);
  assert.ok(droppedPongs.length >= 1, "the server sent at least one ping before closing");
  assert.equal(
    muteClose.reason,
    "transport close",
    `close reason of the non-answering client (after ${muteClose.at} ms; 'ping timeout' would mean the server never closed it)`,
  );
  t.log(`non-answering client closed after ${muteClose.at} ms, ${droppedPongs.length} pong(s) dropped`);

  t.step("client that answers pings stays connected");
  const remaining = STAY_MS - (Date.now() - start);
  if (remaining > 0) await sleep(remaining);
  assert.equal(aliveClose.reason, null, `answering client closed after ${aliveClose.at} ms: ${aliveClose.reason}`);
  assert.equal(alive.readyState, "open", "answering client state");
  assert.ok(alivePings >= 3, `answering client received ${alivePings} ping(s) in ${STAY_MS} ms, expected at least 3`);
  t.log(`answering client: ${alivePings} pings in ${Date.now() - start} ms`);
});
