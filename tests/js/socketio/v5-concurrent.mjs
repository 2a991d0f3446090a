// socket.io-client 4 (protocol v5): 50 WebSocket clients connect at once; each emits 20
// echoes carrying its own index; each receives exactly its own 20 back, in order (no
// cross-talk between sockets, nothing lost or duplicated).
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout } from "../lib/harness.mjs";
import { clientV5, collect, expectEvent, show } from "../lib/sio.mjs";

const CLIENTS = 50;
const ECHOES = 20;

await scenario(import.meta.url, async (t) => {
  t.step(`connect ${CLIENTS} clients concurrently`);
  const clients = Array.from({ length: CLIENTS }, () => {
    const socket = clientV5(t, { transports: ["websocket"] });
    const welcome = expectEvent(socket, "welcome", { ms: 10_000, failOn: ["connect_error", "disconnect"] });
    return { socket, welcome, echoes: collect(socket, "echo") };
  });
  await withTimeout(Promise.all(clients.map((c) => c.welcome)), 10_000, `${CLIENTS} welcomes`);
  assert.equal(new Set(clients.map((c) => c.socket.id)).size, CLIENTS, "distinct socket ids");
  clients.forEach((c, i) => assert.equal(c.socket.connected, true, `client ${i} connected`));

  t.step(`each client emits ${ECHOES} echoes`);
  for (let k = 0; k < ECHOES; k++) {
    clients.forEach((c, i) => c.socket.emit("echo", i, k, `client ${i} message ${k}`));
  }
  await Promise.all(clients.map((c, i) => c.echoes.until(ECHOES, 10_000, `${ECHOES} echoes at client ${i}`)));
  await sleep(200); // stray or duplicated echoes would show up by now

  t.step("each got exactly its own echoes, in order");
  clients.forEach((c, i) => {
    const expected = Array.from({ length: ECHOES }, (_, k) => [i, k, `client ${i} message ${k}`]);
    assert.deepEqual(c.echoes.got, expected, `client ${i} echoes: ${show(c.echoes.got.slice(0, 3))}...`);
  });
});
