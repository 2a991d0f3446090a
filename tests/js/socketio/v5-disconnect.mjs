// socket.io-client 4 (protocol v5): disconnections. `disconnect-me` makes the server
// disconnect the socket (client reason "io server disconnect", server reason "server namespace
// disconnect"); socket.disconnect() on the client is seen by the server as "client namespace
// disconnect"; emitting the reserved `connect` event fails on the server with an error about
// reserved names. The server's reasons are read with the `reasons` ack (a list of every reason
// the server saw since it started, so the script compares counts before and after).
import assert from "node:assert/strict";
import { scenario, sleep } from "../lib/harness.mjs";
import { clientV5, emitAck, expectEvent, show } from "../lib/sio.mjs";

const count = (list, reason) => list.filter((r) => r === reason).length;

await scenario(import.meta.url, async (t) => {
  t.step("connect an observer");
  const observer = clientV5(t, { transports: ["websocket"] });
  await expectEvent(observer, "welcome", { failOn: ["connect_error", "disconnect"] });
  const laterConnects = []; // a `connect` event from the server would land here
  observer.on("connect", (...args) => laterConnects.push(args));
  const reasons = async () => {
    const answer = await emitAck(observer, "reasons");
    assert.equal(answer.length, 1, `'reasons' acknowledges with one argument, got ${show(answer)}`);
    assert.ok(Array.isArray(answer[0]) && answer[0].every((r) => typeof r === "string"), `'reasons' is a list of strings, got ${show(answer)}`);
    return answer[0];
  };
  // polls `reasons` until `reason` was seen more than `before` times (the server records the
  // reason in its disconnect handler, which may run a little after the client saw the effect)
  const waitReason = async (reason, before, what) => {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const list = await reasons();
      if (count(list, reason) > before) return list;
      if (Date.now() > deadline) assert.fail(`${what}: the server did not record "${reason}" (list: ${show(list)})`);
      await sleep(50);
    }
  };
  const baseline = await reasons();

  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: the server disconnects the socket`);
    const kicked = clientV5(t, { transports: [transport] });
    await expectEvent(kicked, "welcome", { failOn: ["connect_error", "disconnect"] });
    const before = count(await reasons(), "server namespace disconnect");
    const gone = expectEvent(kicked, "disconnect");
    kicked.emit("disconnect-me");
    const [reason] = await gone;
    assert.equal(reason, "io server disconnect", "client-side disconnect reason");
    assert.equal(kicked.connected, false, "disconnected");
    await waitReason("server namespace disconnect", before, `${transport}: after disconnect-me`);

    t.step(`${transport}: the client disconnects`);
    const leaving = clientV5(t, { transports: [transport] });
    await expectEvent(leaving, "welcome", { failOn: ["connect_error", "disconnect"] });
    const before2 = count(await reasons(), "client namespace disconnect");
    const left = expectEvent(leaving, "disconnect");
    leaving.disconnect();
    assert.equal((await left)[0], "io client disconnect", "client-side disconnect reason");
    await waitReason("client namespace disconnect", before2, `${transport}: after socket.disconnect()`);
  }

  t.step("the observer saw nothing of it");
  assert.equal(observer.connected, true, "the observer is still connected");
  const final = await reasons();
  assert.ok(final.length >= baseline.length + 4, `at least 4 new reasons, got ${show(final.slice(baseline.length))}`);

  t.step("emitting a reserved event name fails on the server");
  const answer = await emitAck(observer, "emit-reserved");
  assert.equal(answer.length, 1, `'emit-reserved' acknowledges with one argument, got ${show(answer)}`);
  assert.equal(typeof answer[0], "string", `the error message, got ${show(answer)}`);
  assert.match(answer[0], /reserved/, "the error says the name is reserved");
  const echoed = expectEvent(observer, "echo", { failOn: ["disconnect", "connect"] });
  observer.emit("echo", "fine");
  assert.deepEqual(await echoed, ["fine"], "the socket still works after the refused emit");
  assert.deepEqual(laterConnects, [], "no 'connect' reached the client");
});
