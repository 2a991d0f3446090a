// socket.io-client 4 (protocol v5): three clients, over WebSocket only, polling only and the
// default transports (polling, then the upgrade to WebSocket); each sends an auth payload and
// gets `welcome` with its own socket id and that payload.
import assert from "node:assert/strict";
import { scenario } from "../lib/harness.mjs";
import { clientV5, expectEvent, upgraded } from "../lib/sio.mjs";

const CASES = [
  { name: "websocket", transports: ["websocket"] },
  { name: "polling", transports: ["polling"] },
  { name: "default (upgrade)", transports: undefined },
];

await scenario(import.meta.url, async (t) => {
  t.step("connect the three clients with auth");
  const clients = CASES.map(({ name, transports }) => {
    const socket = clientV5(t, { ...(transports ? { transports } : {}), auth: { token: "abc" } });
    const welcome = expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"], what: `'welcome' (${name})` });
    const connected = expectEvent(socket, "connect", { failOn: ["connect_error"], what: `'connect' (${name})` });
    return { name, transports, socket, welcome, connected };
  });

  for (const { name, transports, socket, welcome, connected } of clients) {
    t.step(`${name}: connect and welcome`);
    await connected;
    assert.equal(socket.connected, true, `${name}: connected`);
    assert.ok(typeof socket.id === "string" && socket.id.length > 0, `${name}: socket.id is a non-empty string, got ${socket.id}`);
    const args = await welcome;
    assert.equal(args.length, 1, `${name}: 'welcome' has one argument`);
    const [payload] = args;
    assert.equal(payload?.id, socket.id, `${name}: welcome.id is the client's socket.id`);
    assert.deepEqual(payload.auth, { token: "abc" }, `${name}: welcome.auth is the auth payload`);

    if (transports) {
      assert.equal(socket.io.engine.transport.name, transports[0], `${name}: transport in use`);
    } else {
      t.step(`${name}: upgrade to websocket`);
      await upgraded(socket);
      assert.equal(socket.io.engine.transport.name, "websocket", `${name}: transport after the upgrade`);
      assert.equal(socket.connected, true, `${name}: still connected after the upgrade`);
    }
  }

  t.step("three distinct sockets on three engine connections");
  assert.equal(new Set(clients.map((c) => c.socket.id)).size, 3, "distinct socket ids");
  assert.equal(new Set(clients.map((c) => c.socket.io.engine.id)).size, 3, "distinct engine ids");
});
