// socket.io-client 4 (protocol v5): the middleware of `/` refuses auth {token: "reject"}; the
// client gets connect_error with the message and the data of the refusal and stays
// disconnected (no connect, no welcome); a client with another token connects.
import assert from "node:assert/strict";
import { scenario, sleep } from "../lib/harness.mjs";
import { clientV5, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: refused by the middleware`);
    const refused = clientV5(t, { transports: [transport], auth: { token: "reject" } });
    const events = [];
    for (const e of ["connect", "welcome", "disconnect"]) refused.on(e, (...args) => events.push([e, ...args]));
    const [err] = await expectEvent(refused, "connect_error", { failOn: ["connect", "welcome"] });
    assert.ok(err instanceof Error, `connect_error carries an Error, got ${show(err)}`);
    assert.equal(err.message, "rejected", "connect_error message");
    assert.deepEqual(err.data, { reason: "bad token" }, `connect_error data, got ${show(err.data)}`);
    await sleep(300); // a late connect or welcome would show up by now
    assert.equal(refused.connected, false, "the refused socket is not connected");
    assert.equal(refused.id, undefined, "the refused socket has no id");
    assert.deepEqual(events, [], `events after the refusal: ${show(events)}`);

    t.step(`${transport}: another token is accepted`);
    const accepted = clientV5(t, { transports: [transport], auth: { token: "fine" } });
    const [welcome] = await expectEvent(accepted, "welcome", { failOn: ["connect_error", "disconnect"] });
    assert.equal(accepted.connected, true);
    assert.equal(welcome.id, accepted.id);
    assert.deepEqual(welcome.auth, { token: "fine" });
  }
});
