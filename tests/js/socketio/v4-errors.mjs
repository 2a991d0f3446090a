// socket.io-client 2.5 (Socket.IO protocol v4 over Engine.IO v3): a middleware refusal (query
// token=reject) reaches the client's `error` event with the refusal's data; a socket on an
// unknown namespace gets `error` "Invalid namespace"; neither connects. `/admin` connects and
// gets `admin-welcome`; `disconnect-me` ends in `disconnect` "io server disconnect".
import assert from "node:assert/strict";
import { scenario, sleep } from "../lib/harness.mjs";
import { clientV2, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: refused by the middleware`);
    const refused = clientV2(t, { transports: [transport], query: { token: "reject" } });
    const late = [];
    for (const e of ["connect", "welcome"]) refused.on(e, (...args) => late.push([e, ...args]));
    const errorArgs = await expectEvent(refused, "error", { failOn: ["connect", "welcome", "connect_error"] });
    assert.deepEqual(errorArgs, [{ reason: "bad token" }], `'error' carries the refusal's data, got ${show(errorArgs)}`);
    await sleep(200); // a late connect or welcome would show up by now
    assert.equal(refused.connected, false, "the refused socket is not connected");
    assert.deepEqual(late, [], `events after the refusal: ${show(late)}`);
    refused.close();

    t.step(`${transport}: unknown namespace`);
    const nope = clientV2(t, { transports: [transport] }, "/nope");
    const nopeConnects = [];
    nope.on("connect", () => nopeConnects.push("connect"));
    const nopeArgs = await expectEvent(nope, "error", { failOn: ["connect", "connect_error"] });
    assert.deepEqual(nopeArgs, ["Invalid namespace"], `'error' on /nope, got ${show(nopeArgs)}`);
    await sleep(200);
    assert.equal(nope.connected, false, "/nope is not connected");
    assert.deepEqual(nopeConnects, [], "no 'connect' on /nope");
    nope.close();

    t.step(`${transport}: /admin`);
    const admin = clientV2(t, { transports: [transport] }, "/admin");
    const adminArgs = await expectEvent(admin, "admin-welcome", { failOn: ["error", "connect_error", "disconnect"] });
    assert.equal(adminArgs.length, 1, `'admin-welcome' has one argument, got ${show(adminArgs)}`);
    assert.ok(typeof adminArgs[0] === "string" && adminArgs[0].length > 0, `'admin-welcome' carries a socket id, got ${show(adminArgs)}`);
    assert.equal(admin.connected, true, "/admin connected");
    admin.close();

    t.step(`${transport}: the server disconnects the socket`);
    const kicked = clientV2(t, { transports: [transport] });
    await expectEvent(kicked, "welcome", { failOn: ["error", "connect_error", "disconnect"] });
    const gone = expectEvent(kicked, "disconnect", { failOn: ["error"] });
    kicked.emit("disconnect-me");
    assert.deepEqual(await gone, ["io server disconnect"], "disconnect reason");
    assert.equal(kicked.connected, false, "disconnected");
    kicked.close();
  }
});
