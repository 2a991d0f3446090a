// v4 client (engine.io-client 6), WebSocket transport only: text, binary and
// non-ASCII text are echoed in order; the transport never changes.
import assert from "node:assert/strict";
import { scenario, isBinary, toBuffer } from "../lib/harness.mjs";
import { openSocket, collectMessages } from "../lib/eio.mjs";

await scenario(import.meta.url, async (t) => {
  t.step("connect over websocket");
  const socket = await openSocket(t, 4, { transports: ["websocket"] });
  assert.equal(socket.transport.name, "websocket", "transport after open");
  const upgrades = [];
  socket.on("upgrade", (tr) => upgrades.push(tr?.name));

  const echoes = collectMessages(socket);
  const binary = new Uint8Array([0x01, 0x02, 0xff]);
  const unicode = "é€😀";

  t.step("send text, binary and non-ASCII text");
  socket.send("hello");
  socket.send(binary);
  socket.send(unicode);
  await echoes.until(3, 3_000);

  const [m1, m2, m3] = echoes.data;
  assert.equal(m1, "hello", "1st echo");
  assert.ok(isBinary(m2), `2nd echo should be binary, got ${typeof m2}`);
  assert.deepEqual(toBuffer(m2), Buffer.from(binary), "2nd echo bytes");
  assert.equal(m3, unicode, "3rd echo (non-ASCII)");
  for (const m of echoes.messages) assert.equal(m.transport, "websocket", "transport while receiving");

  t.step("no extra message");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(echoes.messages.length, 3, "exactly 3 echoes");
  assert.equal(socket.transport.name, "websocket", "transport at the end");
  assert.deepEqual(upgrades, [], "no upgrade event");
});
