// v4 client (engine.io-client 6), HTTP long-polling only: text, binary and
// non-ASCII text are echoed in order, then 200 messages sent back-to-back.
import assert from "node:assert/strict";
import { scenario, isBinary, toBuffer, sleep } from "../lib/harness.mjs";
import { openSocket, collectMessages } from "../lib/eio.mjs";

const BURST = 200;

await scenario(import.meta.url, async (t) => {
  t.step("connect over polling");
  const socket = await openSocket(t, 4, { transports: ["polling"] });
  assert.equal(socket.transport.name, "polling", "transport after open");
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

  t.step(`send ${BURST} messages back-to-back`);
  const burst = Array.from({ length: BURST }, (_, i) => `m${i}`);
  for (const m of burst) socket.send(m);
  await echoes.until(3 + BURST, 8_000, `${BURST} echoes of the burst`);
  assert.deepEqual(echoes.data.slice(3), burst, "burst echoed in order");

  t.step("no extra message");
  await sleep(200);
  assert.equal(echoes.messages.length, 3 + BURST, "no duplicated echo");
  for (const m of echoes.messages) assert.equal(m.transport, "polling", "transport while receiving");
  assert.equal(socket.transport.name, "polling", "transport at the end");
  assert.deepEqual(upgrades, [], "no upgrade event");
});
