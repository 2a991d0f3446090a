// socket.io-client 4 (protocol v5), over WebSocket only and over polling only: `echo` with
// buffers at the top level and nested in objects and arrays comes back with the same bytes at
// the same places (as binary, not as JSON); `binary` brings the server's own buffers.
import assert from "node:assert/strict";
import { scenario } from "../lib/harness.mjs";
import { assertBytes, assertKeys, clientV5, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: connect`);
    const socket = clientV5(t, { transports: [transport] });
    await expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"] });

    t.step(`${transport}: echo with nested buffers`);
    const echoed = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", Buffer.from([1, 2, 3]), { a: Buffer.from([4]), b: [Buffer.from([5, 6])] }, "text");
    const args = await echoed;
    const what = `${transport}: echo ${show(args)}`;
    assert.equal(args.length, 3, `${what}: 3 arguments`);
    assertBytes(args[0], [1, 2, 3], `${what}: argument 0`);
    assertKeys(args[1], ["a", "b"], `${what}: argument 1`);
    assertBytes(args[1].a, [4], `${what}: argument 1 .a`);
    assert.ok(Array.isArray(args[1].b) && args[1].b.length === 1, `${what}: argument 1 .b is an array of one`);
    assertBytes(args[1].b[0], [5, 6], `${what}: argument 1 .b[0]`);
    assert.equal(args[2], "text", `${what}: argument 2`);

    t.step(`${transport}: the server's binary event`);
    const binary = expectEvent(socket, "binary", { failOn: ["disconnect"] });
    socket.emit("binary");
    const got = await binary;
    const what2 = `${transport}: binary ${show(got)}`;
    assert.equal(got.length, 2, `${what2}: 2 arguments`);
    assertBytes(got[0], [1, 2, 3], `${what2}: argument 0`);
    assertKeys(got[1], ["nested"], `${what2}: argument 1`);
    assertBytes(got[1].nested, [4, 5], `${what2}: argument 1 .nested`);

    t.step(`${transport}: still usable after binary packets`);
    const after = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", "after");
    assert.deepEqual(await after, ["after"]);
    assert.equal(socket.io.engine.transport.name, transport, `${transport}: transport in use`);
  }
});
