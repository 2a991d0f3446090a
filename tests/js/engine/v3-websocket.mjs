// v3 client (engine.io-client 3.5), WebSocket transport only: text, non-ASCII
// text and binary (Buffer and ArrayBuffer) are echoed in order.
import assert from "node:assert/strict";
import { scenario, sleep, isBinary, toBuffer } from "../lib/harness.mjs";
import { openSocket, collectMessages } from "../lib/eio.mjs";

await scenario(import.meta.url, async (t) => {
  t.step("connect over websocket");
  const socket = await openSocket(t, 3, { transports: ["websocket"] });
  assert.equal(socket.transport.name, "websocket", "transport after open");
  const upgrades = [];
  socket.on("upgrade", (tr) => upgrades.push(tr?.name));
  const echoes = collectMessages(socket);

  const buf = Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff]);
  const ab = new Uint8Array([0x04, 0x80, 0x0a, 0x1e]).buffer;
  const sent = ["hello", "é€😀", buf, ab, "bye"];

  t.step("send text, non-ASCII text, Buffer, ArrayBuffer, text");
  for (const m of sent) socket.send(m);
  await echoes.until(sent.length, 3_000);

  const got = echoes.data;
  assert.equal(got[0], "hello", "1st echo");
  assert.equal(got[1], "é€😀", "2nd echo (non-ASCII)");
  assert.ok(isBinary(got[2]), `3rd echo should be binary, got ${typeof got[2]}`);
  assert.deepEqual(toBuffer(got[2]), buf, "3rd echo bytes (Buffer)");
  assert.ok(isBinary(got[3]), `4th echo should be binary, got ${typeof got[3]}`);
  assert.deepEqual(toBuffer(got[3]), Buffer.from(ab), "4th echo bytes (ArrayBuffer)");
  assert.equal(got[4], "bye", "5th echo");

  t.step("no extra message");
  await sleep(200);
  assert.equal(echoes.messages.length, sent.length, "no duplicated echo");
  for (const m of echoes.messages) assert.equal(m.transport, "websocket", "transport while receiving");
  assert.deepEqual(upgrades, [], "no upgrade event");
});
