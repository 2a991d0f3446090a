// socket.io-client 4 against a server with connection state recovery on (tests/it/recovery.rs),
// which emits `tick` 0, 1, 2... to everyone every 20 ms. The client's engine connection is cut
// (`socket.io.engine.close()`), it reconnects on its own and recovers: the same socket id,
// `socket.recovered` true, and every tick it missed, in order, none twice. Twice in a row, over
// WebSocket and over polling.
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout } from "../lib/harness.mjs";
import { clientV5, expectEvent } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: connect`);
    const socket = clientV5(t, { transports: [transport], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const ticks = [];
    socket.on("tick", (n, offset) => {
      assert.equal(typeof offset, "string", "each stored event carries its offset");
      ticks.push(n);
    });
    await expectEvent(socket, "connect", { failOn: ["connect_error"] });
    const id = socket.id;
    assert.equal(socket.recovered, false);

    for (const round of [1, 2]) {
      await withTimeout((async () => { while (ticks.length < 5 * round) await sleep(10); })(), 5_000, "ticks");
      t.step(`${transport}: cut ${round}`);
      const reconnected = expectEvent(socket, "connect", { ms: 5_000, what: "'connect' after the cut" });
      socket.io.engine.close();
      await reconnected;
      assert.equal(socket.id, id, "the same socket id");
      assert.equal(socket.recovered, true, "recovered");
      await sleep(150);
    }

    t.step(`${transport}: no tick lost, none twice`);
    for (let i = 1; i < ticks.length; i++) {
      assert.equal(ticks[i], ticks[i - 1] + 1, `tick ${ticks[i - 1]} then ${ticks[i]}`);
    }
    socket.close();
  }
});
