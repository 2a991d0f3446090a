// v3 client (engine.io-client 3.5), default transports (polling, then upgrade to
// websocket): text, non-ASCII text and binary messages sent from the 'open'
// handler onwards, straddling the upgrade, are echoed exactly once and in order.
// (Under Node this client's polling phase uses base64 text payloads, b64=1.)
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout, isBinary, toBuffer, describe } from "../lib/harness.mjs";
import { createV3Socket, EIO_PATH, closeSocket, collectMessages, errorText } from "../lib/eio.mjs";

const COUNT = 30;
const SYNC = 10; // sent synchronously in the 'open' handler, the rest one per tick

function message(i) {
  switch (i % 3) {
    case 0:
      return `text-${i}`;
    case 1:
      return `é€😀-${i}`;
    default: {
      const b = Buffer.from([i, 0x00, 0xff, 0x1e, 0x3a]);
      return i % 2 ? b : new Uint8Array(b).buffer; // Buffer and ArrayBuffer
    }
  }
}

await scenario(import.meta.url, async (t) => {
  t.step("connect with default transports");
  const socket = createV3Socket(t.base, { path: EIO_PATH });
  t.defer(() => closeSocket(socket));
  const echoes = collectMessages(socket);
  const expected = Array.from({ length: COUNT }, (_, i) => message(i));
  const sentOn = [];

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
      assert.equal(got[i], m, `echo #${i + 1}`);
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
