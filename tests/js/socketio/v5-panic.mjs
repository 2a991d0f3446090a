// socket.io-client 4 (protocol v5): a handler that panics on the server harms neither its own
// socket (the next `echo` on it is answered, it is not disconnected) nor another client that
// was connected before the panic.
import assert from "node:assert/strict";
import { scenario, sleep } from "../lib/harness.mjs";
import { clientV5, emitAck, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  t.step("connect two clients");
  const a = clientV5(t, { transports: ["websocket"] });
  const b = clientV5(t, { transports: ["polling"] });
  await Promise.all([a, b].map((s) => expectEvent(s, "welcome", { failOn: ["connect_error", "disconnect"] })));
  const disconnects = [];
  a.on("disconnect", (r) => disconnects.push(["a", r]));
  b.on("disconnect", (r) => disconnects.push(["b", r]));
  const ids = [a.id, b.id];

  for (let round = 1; round <= 2; round++) {
    t.step(`round ${round}: panic, then echo on the same socket`);
    const echoed = expectEvent(a, "echo", { failOn: ["disconnect"] });
    a.emit("panic");
    a.emit("echo", "still here", round);
    assert.deepEqual(await echoed, ["still here", round], "echo right after the panic");

    t.step(`round ${round}: the other client still echoes`);
    const echoedB = expectEvent(b, "echo", { failOn: ["disconnect"] });
    b.emit("echo", "me too", round);
    assert.deepEqual(await echoedB, ["me too", round]);
    assert.deepEqual(await emitAck(a, "ack", ["acks", round]), ["acks", round], "acks still work on the panicking socket");
  }

  t.step("nobody was disconnected");
  await sleep(200);
  assert.deepEqual(disconnects, [], `disconnections: ${show(disconnects)}`);
  assert.deepEqual([a.id, b.id], ids, "same sockets as before the panics");
  assert.equal(a.connected && b.connected, true);
});
