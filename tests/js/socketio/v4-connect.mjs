// socket.io-client 2.5 (Socket.IO protocol v4 over Engine.IO v3): clients over WebSocket only,
// polling only and the default transports (polling, then the upgrade) connect with a query,
// get `welcome` with an id, echo several arguments (nested, non-ASCII) and get an ack
// callback's arguments back.
import assert from "node:assert/strict";
import { scenario } from "../lib/harness.mjs";
import { clientV2, emitAck, expectEvent, show, upgraded } from "../lib/sio.mjs";

const CASES = [
  { name: "websocket", transports: ["websocket"] },
  { name: "polling", transports: ["polling"] },
  { name: "default (upgrade)", transports: undefined },
];
const ARGS = [1, "2", { 3: [true] }, "é€😀"];

await scenario(import.meta.url, async (t) => {
  for (const { name, transports } of CASES) {
    t.step(`${name}: connect with a query`);
    const socket = clientV2(t, { ...(transports ? { transports } : {}), query: { token: "abc" } });
    const welcomed = expectEvent(socket, "welcome", { failOn: ["error", "connect_error", "disconnect"], what: `'welcome' (${name})` });
    await expectEvent(socket, "connect", { failOn: ["error", "connect_error"], what: `'connect' (${name})` });
    assert.equal(socket.connected, true, "connected");
    const args = await welcomed;
    assert.equal(args.length, 1, `'welcome' has one argument, got ${show(args)}`);
    assert.ok(typeof args[0]?.id === "string" && args[0].id.length > 0, `welcome.id is a non-empty string, got ${show(args[0])}`);
    assert.ok(typeof socket.id === "string" && socket.id.length > 0, "socket.id is a non-empty string");
    if (transports) {
      assert.equal(socket.io.engine.transport.name, transports[0], "transport in use");
    } else {
      t.step(`${name}: upgrade to websocket`);
      await upgraded(socket);
      assert.equal(socket.io.engine.transport.name, "websocket", "transport after the upgrade");
    }

    t.step(`${name}: echo`);
    const echoed = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", ...ARGS);
    const got = await echoed;
    assert.deepEqual(got, ARGS, `echoed arguments, got ${show(got)}`);

    t.step(`${name}: ack callback`);
    const answer = await emitAck(socket, "ack", [1, "x", { y: [2, null] }]);
    assert.deepEqual(answer, [1, "x", { y: [2, null] }], `ack arguments, got ${show(answer)}`);
    socket.close();
  }
});
