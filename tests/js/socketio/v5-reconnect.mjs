// socket.io-client 4 (protocol v5) with reconnection on, over WebSocket only and polling only:
// `close-transport` makes the server close the whole connection; the client sees "transport
// close", reconnects on its own with a new engine connection and a new socket id, gets a new
// `welcome`, and echo works again.
import assert from "node:assert/strict";
import { scenario, sleep, withTimeout } from "../lib/harness.mjs";
import { clientV5, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: connect`);
    const socket = clientV5(t, { transports: [transport], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const welcomes = [];
    let secondWelcome;
    const gotSecondWelcome = new Promise((resolve) => (secondWelcome = resolve));
    socket.on("welcome", (w) => {
      welcomes.push(w);
      if (welcomes.length === 2) secondWelcome();
    });
    await expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"] });
    const firstId = socket.id;
    const firstEngine = socket.io.engine.id;
    assert.equal(welcomes[0]?.id, firstId);

    t.step(`${transport}: the server closes the connection`);
    const dropped = expectEvent(socket, "disconnect", { failOn: ["echo"] });
    socket.emit("close-transport");
    const [reason] = await dropped;
    assert.equal(reason, "transport close", "disconnect reason");
    assert.equal(socket.connected, false);

    t.step(`${transport}: automatic reconnection`);
    const reconnected = expectEvent(socket.io, "reconnect", { ms: 5_000, failOn: ["reconnect_failed"], what: "the Manager's 'reconnect'" });
    await expectEvent(socket, "connect", { ms: 5_000, what: "'connect' after the reconnection" });
    await reconnected;
    assert.equal(socket.connected, true);
    assert.ok(typeof socket.id === "string" && socket.id.length > 0, "socket id after reconnection");
    assert.notEqual(socket.id, firstId, "a new socket id after the reconnection");
    assert.notEqual(socket.io.engine.id, firstEngine, "a new engine connection");
    await withTimeout(gotSecondWelcome, 5_000, "a new 'welcome' after the reconnection");
    await sleep(100); // a third one would show up by now
    assert.equal(welcomes.length, 2, `two welcomes in all, got ${show(welcomes)}`);
    assert.equal(welcomes[1].id, socket.id, "the new welcome carries the new id");

    t.step(`${transport}: echo after the reconnection`);
    const echoed = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", "after reconnect", 2);
    assert.deepEqual(await echoed, ["after reconnect", 2]);
    assert.equal(socket.io.engine.transport.name, transport);
    socket.close();
  }
});
