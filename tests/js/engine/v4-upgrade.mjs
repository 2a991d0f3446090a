// v4 client (engine.io-client 6), default transports (polling, then upgrade to
// websocket): 50 messages (text, non-ASCII text, binary) sent from the 'open'
// handler onwards, straddling the upgrade, are all echoed exactly once and in
// order; 'upgrade' fires with websocket.
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout, isBinary, toBuffer, describe } from "../lib/harness.mjs";
import { SocketV4, EIO_PATH, closeSocket, collectMessages, errorText } from "../lib/eio.mjs";

const COUNT = 50;
const SYNC = 20; // sent synchronously in the 'open' handler, the rest one per tick

// text, non-ASCII text and binary (Uint8Array) messages
function message(i) {
  if (i % 3 === 0) return `msg-${i}`;
  if (i % 3 === 1) return `é€😀-${i}`;
  return new Uint8Array([i, 0x00, 0xff, 0x1e]);
}

await scenario(import.meta.url, async (t) => {
  t.step("connect with default transports");
  const socket = new SocketV4(t.base, { path: EIO_PATH });
  t.defer(() => closeSocket(socket));
  const echoes = collectMessages(socket);
  const sentOn = [];
  const expected = Array.from({ length: COUNT }, (_, i) => message(i));

  const upgraded = new Promise((resolve) => socket.once("upgrade", (tr) => resolve(tr)));
  const opened = new Promise((resolve, reject) => {
    socket.once("error", (err) => reject(new Error(`socket error: ${errorText(err)}`)));
    socket.once("close", (reason) => reject(new Error(`socket closed before open: ${reason}`)));
    socket.once("open", () => {
      const send = (i) => {
        sentOn.push(socket.transport.name);
        socket.send(expected[i]);
      };
      for (let i = 0; i < SYNC; i++) send(i);
      let i = SYNC;
      const tick = () => {
        if (socket.readyState !== "open") return;
        send(i++);
        if (i < COUNT) setTimeout(tick, 1);
      };
      setTimeout(tick, 1);
      resolve();
    });
  });
  await withTimeout(opened, 5_000, "'open' event");
  assert.equal(socket.transport.name, "polling", "first transport");

  t.step("wait for the upgrade");
  const tr = await withTimeout(upgraded, 5_000, "'upgrade' event");
  assert.equal(tr?.name, "websocket", "'upgrade' event transport");

  t.step(`wait for ${COUNT} echoes`);
  await echoes.until(COUNT, 5_000);
  await sleep(300); // a duplicated echo would show up here
  const got = echoes.data;
  assert.equal(got.length, COUNT, "no duplicated echo");
  expected.forEach((m, i) => {
    if (typeof m === "string") {
      assert.equal(got[i], m, `echo #${i + 1} (in order, exactly once)`);
    } else {
      assert.ok(isBinary(got[i]), `echo #${i + 1} should be binary, got ${describe(got[i])}`);
      assert.deepEqual(toBuffer(got[i]), toBuffer(m), `echo #${i + 1} bytes`);
    }
  });
  assert.equal(socket.transport.name, "websocket", "transport at the end");

  const count = (arr, name) => arr.filter((x) => x === name).length;
  const recvOn = echoes.messages.map((m) => m.transport);
  t.log(
    `sent: ${count(sentOn, "polling")} while on polling, ${count(sentOn, "websocket")} after upgrade;`,
    `received: ${count(recvOn, "polling")} over polling, ${count(recvOn, "websocket")} over websocket`,
  );
});
