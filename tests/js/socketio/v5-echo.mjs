// socket.io-client 4 (protocol v5), over WebSocket only and over polling only: `echo` with
// several arguments of every JSON kind (nested, null, non-ASCII) comes back identical; 100
// echoes emitted back-to-back come back in order, exactly once each.
import assert from "node:assert/strict";
import { scenario, sleep } from "../lib/harness.mjs";
import { clientV5, collect, expectEvent, show } from "../lib/sio.mjs";

const ARGS = [1, "2", { 3: [true] }, null, [1, [2, "x"]], "é€😀"];
const COUNT = 100;

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: connect`);
    const socket = clientV5(t, { transports: [transport] });
    await expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"] });
    const echoes = collect(socket, "echo");

    t.step(`${transport}: echo of ${show(ARGS)}`);
    socket.emit("echo", ...ARGS);
    await echoes.until(1);
    assert.deepEqual(echoes.got[0], ARGS, `${transport}: echoed arguments, got ${show(echoes.got[0])}`);

    t.step(`${transport}: ${COUNT} echoes back-to-back`);
    const expected = [];
    for (let i = 0; i < COUNT; i++) {
      const args = [i, `message ${i} é€😀`, { i, list: [i, null, true] }];
      expected.push(args);
      socket.emit("echo", ...args);
    }
    await echoes.until(1 + COUNT, 5_000);
    await sleep(200); // a duplicated echo would show up by now
    const got = echoes.got.slice(1);
    assert.equal(got.length, COUNT, `${transport}: exactly ${COUNT} echoes (no duplicate)`);
    got.forEach((args, i) => assert.deepEqual(args, expected[i], `${transport}: echo #${i} in order, got ${show(args)}`));
    assert.equal(socket.io.engine.transport.name, transport, `${transport}: transport in use`);
  }
});
