// socket.io-client 4 against the contract server of tests/it/socketio_clients.rs: reconnection
// after the server drops the transport, a panicking handler that harms nobody, a server-side
// ack that times out, and the disconnect reasons on both sides.
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { scenario, withTimeout } from "../lib/harness.mjs";

const once = (socket, event, ms = 5_000) => withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), ms, `'${event}'`);
const ask = (socket, event, ...args) => withTimeout(new Promise((resolve) => socket.emit(event, ...args, (...answer) => resolve(answer))), 5_000, `ack of '${event}'`);

await scenario(import.meta.url, async (t) => {
  for (const transports of [["websocket"], ["polling"]]) {
    t.step(`${transports}: the server drops the transport, the client reconnects`);
    const socket = io(t.base, { transports, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    t.defer(() => socket.close());
    await once(socket, "welcome");
    const firstId = socket.id;
    const dropped = once(socket, "disconnect");
    socket.emit("close-transport");
    assert.equal((await dropped)[0], "transport close");
    const [welcome] = await once(socket, "welcome");
    assert.notEqual(socket.id, firstId, "a new socket after reconnection");
    assert.equal(welcome.id, socket.id);
    socket.emit("echo", "after reconnect");
    assert.deepEqual(await once(socket, "echo"), ["after reconnect"]);
  }

  t.step("a panicking handler harms neither its socket nor another client");
  const a = io(t.base, { forceNew: true, reconnection: false });
  const b = io(t.base, { forceNew: true, reconnection: false, transports: ["websocket"] });
  t.defer(() => { a.close(); b.close(); });
  await Promise.all([once(a, "welcome"), once(b, "welcome")]);
  a.emit("panic");
  a.emit("echo", "still here");
  assert.deepEqual(await once(a, "echo"), ["still here"]);
  b.emit("echo", "me too");
  assert.deepEqual(await once(b, "echo"), ["me too"]);

  t.step("a server-side acknowledgement times out when the client never answers");
  a.on("question", () => { /* never calls back */ });
  a.emit("ask", "q");
  const [error] = await once(a, "answer-error", 4_000);
  assert.match(error, /timed out/);

  t.step("disconnect reasons, client side and server side");
  const c = io(t.base, { forceNew: true, reconnection: false });
  t.defer(() => c.close());
  await once(c, "welcome");
  const gone = once(c, "disconnect");
  c.emit("disconnect-me");
  assert.equal((await gone)[0], "io server disconnect");
  b.disconnect();
  await new Promise((r) => setTimeout(r, 100));
  const [reasons] = await ask(a, "reasons");
  assert.ok(reasons.includes("server namespace disconnect"), JSON.stringify(reasons));
  assert.ok(reasons.includes("client namespace disconnect"), JSON.stringify(reasons));
  // The connections the server closed (close-transport) end as "forced close" on its side.
  assert.ok(reasons.includes("forced close"), JSON.stringify(reasons));
  assert.match((await ask(a, "emit-reserved"))[0], /reserved/);
});
