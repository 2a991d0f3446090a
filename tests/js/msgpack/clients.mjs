// socket.io-client 4.8 with socket.io-msgpack-parser 3.0.2 against a server using the MessagePack
// parser (argv[2]), over WebSocket only and over polling only: connect with auth, events with
// every JSON type, nested binary both ways, acks both ways, a broadcast, namespaces, connect
// errors. Then clients with the wrong parser: the default parser against that server, and the
// MessagePack parser against a server using the default parser (argv[3]); each is disconnected
// without connecting, and the servers keep serving.
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { scenario, toBuffer } from "../lib/harness.mjs";
import { assertBytes, collect, emitAck, expectEvent, expectNoEvent, show } from "../lib/sio.mjs";

const defaultServer = process.argv[3];

function client(t, base, opts = {}, nsp = "") {
  const socket = io(base + nsp, { forceNew: true, reconnection: false, parser: msgpackParser, ...opts });
  t.defer(() => socket.close());
  return socket;
}

/** Every JSON type, nested; what comes back must be equal. */
const JSON_VALUES = [
  // (Not integral numbers past 2^64: notepack.io writes them as the low 64 bits of an integer.)
  null, true, false, 0, 1, -1, 127, 128, -33, 65536, 2 ** 32, 2 ** 40, -(2 ** 40), 1.5, -1e-7, 1.5e-300,
  "", "é😀", "x".repeat(300),
  [], [1, [2, [3]]], {}, { a: { b: [1, "x", null, false] }, "key with spaces": 2.25 },
];

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    const opts = { transports: [transport] };

    t.step(`${transport}: connect with auth`);
    const auth = { token: "t", n: 1, nested: { list: [1, 2] } };
    const socket = client(t, t.base, { ...opts, auth });
    const [welcome] = await expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"] });
    assert.equal(welcome.id, socket.id, "welcome carries the socket id");
    assert.deepEqual(welcome.auth, auth, "auth as sent");

    t.step(`${transport}: every JSON type`);
    const echoed = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", ...JSON_VALUES);
    assert.deepEqual(await echoed, JSON_VALUES, "echoed values");

    t.step(`${transport}: nested binary, client to server and back`);
    const echo2 = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", Buffer.from([1, 2, 3]), { a: Buffer.from([4]), b: [new Uint8Array([5, 6])] }, "text");
    const args = await echo2;
    assertBytes(args[0], [1, 2, 3], "argument 0");
    assertBytes(args[1].a, [4], "argument 1 .a");
    assertBytes(args[1].b[0], [5, 6], "argument 1 .b[0] (a Uint8Array: extension 0)");
    assert.equal(args[2], "text");

    t.step(`${transport}: the server's binary, and the binaries in order (Bin)`);
    const binary = expectEvent(socket, "binary", { failOn: ["disconnect"] });
    socket.emit("binary");
    const got = await binary;
    assertBytes(got[0], [1, 2, 3], "binary 0");
    assertBytes(got[1].nested, [4, 5], "binary 1 .nested");
    const [count] = await emitAck(socket, "count-binaries", [{ x: Buffer.from([1]) }, [Buffer.from([2]), Buffer.from([3, 4])]]);
    assert.deepEqual(count, [1, 1, 2], "Bin: the binaries' lengths in order");

    t.step(`${transport}: the server acknowledges`);
    const answer = await emitAck(socket, "ack", [1, "two", { three: Buffer.from([3]) }, null]);
    assert.equal(answer.length, 4, show(answer));
    assert.deepEqual(answer.slice(0, 2), [1, "two"]);
    assertBytes(answer[2].three, [3], "ack .three");
    assert.equal(answer[3], null);

    t.step(`${transport}: the client acknowledges`);
    socket.once("question", (q, callback) => {
      assert.equal(q, "what?");
      callback({ ok: Buffer.from([7]), n: 42 });
    });
    const [reply] = await (async () => {
      const p = expectEvent(socket, "answer", { failOn: ["answer-error", "disconnect"] });
      socket.emit("ask", "what?");
      return p;
    })();
    assertBytes(reply.ok, [7], "answer .ok");
    assert.equal(reply.n, 42);

    t.step(`${transport}: a broadcast reaches every client`);
    const other = client(t, t.base, opts);
    await expectEvent(other, "welcome", { failOn: ["connect_error", "disconnect"] });
    const mine = collect(socket, "tick");
    const theirs = collect(other, "tick");
    socket.emit("broadcast-ticks", 3);
    await mine.until(3);
    await theirs.until(3);
    for (const got of [mine.got, theirs.got]) {
      assert.deepEqual(got.map(([n, b]) => [n, [...toBuffer(b)]]), [[0, [0]], [1, [1]], [2, [2]]], "ticks");
    }
    other.close();

    t.step(`${transport}: namespaces`);
    const admin = client(t, t.base, opts, "/admin");
    const [adminId] = await expectEvent(admin, "admin-welcome", { failOn: ["connect_error", "disconnect"] });
    assert.equal(adminId, admin.id);
    const nowhere = client(t, t.base, opts, "/nowhere");
    const [invalid] = await expectEvent(nowhere, "connect_error", { failOn: ["connect"] });
    assert.equal(invalid.message, "Invalid namespace");

    t.step(`${transport}: a middleware's refusal`);
    const refused = client(t, t.base, { ...opts, auth: { token: "reject" } });
    const [error] = await expectEvent(refused, "connect_error", { failOn: ["connect"] });
    assert.equal(error.message, "rejected");
    assert.deepEqual(error.data, { reason: "bad token" });

    t.step(`${transport}: the server disconnects the socket`);
    const gone = expectEvent(socket, "disconnect");
    socket.emit("disconnect-me");
    assert.equal((await gone)[0], "io server disconnect");
  }

  for (const [what, base, parser] of [
    ["the default parser at the MessagePack server", t.base, undefined],
    ["the MessagePack parser at the default server", defaultServer, msgpackParser],
  ]) {
    t.step(`${what}: disconnected, never connected`);
    const wrong = io(base, { forceNew: true, reconnection: false, transports: ["websocket"], ...(parser ? { parser } : {}) });
    t.defer(() => wrong.close());
    const lost = expectEvent(wrong, "disconnect", { ms: 5_000, failOn: ["connect"] });
    await lost;
    await expectNoEvent(wrong, "connect", 200);
  }

  t.step("the server still serves");
  const after = client(t, t.base);
  await expectEvent(after, "welcome", { failOn: ["connect_error", "disconnect"] });
});
