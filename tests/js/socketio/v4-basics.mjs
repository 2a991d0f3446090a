// socket.io-client 2.5 (Socket.IO protocol v4 over Engine.IO v3) against the contract server of
// tests/it/socketio_clients.rs: websocket, polling and upgrade; the socket id the client computes;
// echo with nested binary; acks; a refusal carrying data; namespaces.
import assert from "node:assert/strict";
import io from "socket.io-client-v2";
import { scenario, withTimeout } from "../lib/harness.mjs";

const once = (socket, event) => withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), 5_000, `'${event}'`);

await scenario(import.meta.url, async (t) => {
  for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
    const name = transports.join("+");
    t.step(`${name}: connect with a query`);
    const socket = io(t.base, { transports, query: { token: "abc" }, forceNew: true, reconnection: false });
    t.defer(() => socket.close());
    const [welcome] = await once(socket, "welcome");
    assert.equal(welcome.id, socket.id, "the server's socket id is the one the 2.x client computes");

    t.step(`${name}: echo with nested binary`);
    socket.emit("echo", 1, "2", { 3: [true] }, Buffer.from([1, 2, 3]), { n: Buffer.from([9]) }, "é€😀");
    const echoed = await once(socket, "echo");
    assert.deepEqual(echoed.slice(0, 3), [1, "2", { 3: [true] }]);
    assert.ok(Buffer.isBuffer(echoed[3]), "binary comes back as a Buffer");
    assert.deepEqual([...echoed[3]], [1, 2, 3]);
    assert.deepEqual([...echoed[4].n], [9]);
    assert.equal(echoed[5], "é€😀");

    t.step(`${name}: acknowledgements`);
    const answer = await withTimeout(new Promise((resolve) => socket.emit("ack", "x", 2, (...args) => resolve(args))), 5_000, "ack");
    assert.deepEqual(answer, ["x", 2]);
  }

  t.step("a middleware refusal reaches the client's error event with its data");
  const refused = io(t.base, { query: { token: "reject" }, forceNew: true, reconnection: false });
  t.defer(() => refused.close());
  assert.deepEqual((await once(refused, "error"))[0], { reason: "bad token" });

  t.step("namespaces");
  const admin = io(t.base + "/admin", { forceNew: true, reconnection: false });
  t.defer(() => admin.close());
  const [adminId] = await once(admin, "admin-welcome");
  assert.ok(typeof adminId === "string" && adminId.length > 0);
  const nope = io(t.base + "/nope", { forceNew: true, reconnection: false });
  t.defer(() => nope.close());
  assert.equal((await once(nope, "error"))[0], "Invalid namespace");
});
