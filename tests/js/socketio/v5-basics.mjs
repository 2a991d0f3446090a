// socket.io-client 4 (protocol v5) against the contract server of tests/it/socketio_clients.rs:
// connection with auth, echo of several arguments, binary both ways, acks both ways, a
// middleware refusal with message and data, and a second namespace on the same connection.
import assert from "node:assert/strict";
import { io, Manager } from "socket.io-client";
import { scenario, withTimeout } from "../lib/harness.mjs";

const once = (socket, event) => withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), 5_000, `'${event}'`);

await scenario(import.meta.url, async (t) => {
  for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
    t.step(`${transports}: connect with auth`);
    const socket = io(t.base, { transports, auth: { token: "abc" }, reconnection: false, forceNew: true });
    t.defer(() => socket.close());
    const [welcome] = await once(socket, "welcome");
    assert.equal(welcome.id, socket.id);
    if (transports.length === 2) {
      // Default transports: wait for the upgrade, the rest runs over WebSocket.
      if (socket.io.engine.transport.name !== "websocket") await once(socket.io.engine, "upgrade");
      assert.equal(socket.io.engine.transport.name, "websocket");
    }
    assert.deepEqual(welcome.auth, { token: "abc" });

    t.step(`${transports}: echo keeps every argument`);
    socket.emit("echo", 1, "2", { 3: [true] }, null, "é€😀");
    assert.deepEqual(await once(socket, "echo"), [1, "2", { 3: [true] }, null, "é€😀"]);

    t.step(`${transports}: binary both ways, nested`);
    socket.emit("echo", Buffer.from([1, 2, 3]), { a: Buffer.from([4]) });
    const [bin, nested] = await once(socket, "echo");
    assert.deepEqual([...Buffer.from(bin)], [1, 2, 3]);
    assert.deepEqual([...Buffer.from(nested.a)], [4]);
    socket.emit("binary");
    const [b1, b2] = await once(socket, "binary");
    assert.deepEqual([...Buffer.from(b1)], [1, 2, 3]);
    assert.deepEqual([...Buffer.from(b2.nested)], [4, 5]);

    t.step(`${transports}: acknowledgements both ways`);
    const answer = await withTimeout(new Promise((resolve) => socket.emit("ack", 1, "x", (...args) => resolve(args))), 5_000, "ack");
    assert.deepEqual(answer, [1, "x"]);
    socket.once("question", (...args) => args.pop()({ got: args }));
    socket.emit("ask", "q", 7);
    assert.deepEqual(await once(socket, "answer"), [{ got: ["q", 7] }]);
  }

  t.step("a middleware refusal reaches connect_error with message and data");
  const refused = io(t.base, { auth: { token: "reject" }, reconnection: false, forceNew: true });
  t.defer(() => refused.close());
  const [err] = await once(refused, "connect_error");
  assert.equal(err.message, "rejected");
  assert.deepEqual(err.data, { reason: "bad token" });
  assert.equal(refused.connected, false);

  t.step("two namespaces multiplexed on one connection; unknown namespaces refused");
  const manager = new Manager(t.base, { reconnection: false });
  const main = manager.socket("/");
  const admin = manager.socket("/admin");
  const nope = manager.socket("/nope");
  t.defer(() => { main.close(); admin.close(); nope.close(); });
  // Listen to all three at once: their packets may come in one poll.
  const [welcomed, adminWelcomed, nopeRefused] = [once(main, "welcome"), once(admin, "admin-welcome"), once(nope, "connect_error")];
  await welcomed;
  const [adminId] = await adminWelcomed;
  assert.equal(adminId, admin.id);
  const [nopeErr] = await nopeRefused;
  assert.equal(nopeErr.message, "Invalid namespace");
  assert.equal(main.io.engine.id, admin.io.engine.id);
});
