// The admin namespace on a server using the MessagePack parser (argv[2], no auth): socket.io-client
// with socket.io-msgpack-parser acts as the UI (the UI's "parser" option) and as a user. The UI
// gets config and all_sockets, and the user's events both ways, binary included, decoded from
// MessagePack packets: event_received, event_sent for a direct emit and for a broadcast.
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { scenario } from "../lib/harness.mjs";
import { assertBytes, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  const client = (nsp) => {
    const socket = io(t.base + nsp, { forceNew: true, reconnection: false, parser: msgpackParser });
    t.defer(() => socket.close());
    return socket;
  };
  const seen = [];
  const waiting = [];
  const wait = (event, pred) => new Promise((resolve, reject) => {
    const found = seen.find(([e, ...a]) => e === event && pred(...a));
    if (found) return resolve(found.slice(1));
    const timer = setTimeout(() => reject(new Error(`no ${event}; got ${show(seen.map((s) => s[0]))}`)), 5_000);
    waiting.push({ event, pred, resolve: (a) => { clearTimeout(timer); resolve(a); } });
  });

  t.step("the UI connects with the MessagePack parser");
  const ui = client("/admin");
  ui.onAny((event, ...args) => {
    seen.push([event, ...args]);
    for (const w of waiting.filter((w) => w.event === event && w.pred(...args))) w.resolve(args);
  });
  await expectEvent(ui, "connect", { failOn: ["connect_error"] });
  const [config] = await wait("config", () => true);
  assert.ok(config.supportedFeatures.includes("ALL_EVENTS"));
  await wait("all_sockets", () => true);

  t.step("a user's events, decoded from MessagePack");
  const user = client("/");
  await expectEvent(user, "connect");
  await wait("socket_connected", (s) => s.id === user.id);
  assert.equal(await user.timeout(5_000).emitWithAck("hello", 41), "ok");
  const received = await wait("event_received", (n, i) => i === user.id);
  assert.deepEqual(received.slice(0, 3), ["/", user.id, ["hello", 41]]);
  const sent = await wait("event_sent", (n, i, args) => i === user.id && args[0] === "hi");
  assert.deepEqual(sent.slice(0, 3), ["/", user.id, ["hi", 42]]);
  user.emit("echo", Buffer.from([1, 2, 3]));
  const echoed = await wait("event_received", (n, i, args) => i === user.id && args[0] === "echo");
  assertBytes(echoed[2][1], [1, 2, 3], "binary in place");
  const other = client("/");
  await expectEvent(other, "connect");
  other.emit("shout"); // a broadcast to everyone but `other`
  await wait("event_sent", (n, i, args) => i === user.id && args[0] === "shouted");
});
