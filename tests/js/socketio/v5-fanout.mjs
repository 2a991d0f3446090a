// 50 socket.io-client 4 clients connected at once (websocket and polling mixed); one asks the
// server for 20 broadcasts to the whole namespace; every client gets each of them exactly
// once, in order.
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { scenario, sleep, withTimeout } from "../lib/harness.mjs";

const CLIENTS = 50;
const TICKS = 20;

await scenario(import.meta.url, async (t) => {
  t.step("connect 50 clients");
  const clients = [];
  const received = [];
  for (let i = 0; i < CLIENTS; i++) {
    const transports = i % 5 === 0 ? ["polling"] : ["websocket"];
    const socket = io(t.base, { transports, forceNew: true, reconnection: false });
    t.defer(() => socket.close());
    const ticks = [];
    socket.on("tick", (n) => ticks.push(n));
    clients.push(socket);
    received.push(ticks);
  }
  await withTimeout(Promise.all(clients.map((s) => new Promise((r) => s.once("welcome", r)))), 10_000, "50 welcomes");

  t.step("20 broadcasts reach every client exactly once, in order");
  clients[0].emit("broadcast-ticks", TICKS);
  await withTimeout((async () => {
    while (received.some((ticks) => ticks.length < TICKS)) await sleep(20);
  })(), 10_000, "every tick at every client");
  await sleep(200); // duplicates, if any, would show up by now
  const expected = Array.from({ length: TICKS }, (_, i) => i);
  received.forEach((ticks, i) => assert.deepEqual(ticks, expected, `client ${i}`));
});
