// socket.io-client 4 (protocol v5): one Manager, sockets on `/` and `/admin` multiplexed on one
// engine connection (both welcomes arrive through that engine); a socket on `/nope` is refused
// with "Invalid namespace" and the refusal leaves the other two connected.
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { scenario, sleep } from "../lib/harness.mjs";
import { emitAck, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: sockets on / and /admin through one Manager`);
    const manager = new Manager(t.base, { transports: [transport], reconnection: false });
    const main = manager.socket("/");
    const admin = manager.socket("/admin");
    const sockets = [main, admin];
    t.defer(() => sockets.forEach((s) => s.close()));
    const engine = manager.engine;
    assert.ok(engine, "the Manager opened its engine");
    let engineOpens = 0;
    manager.on("open", () => engineOpens++);
    const raw = [];
    engine.on("message", (data) => raw.push(data));
    const welcomed = expectEvent(main, "welcome", { failOn: ["connect_error", "disconnect"], what: "'welcome' on /" });
    const adminWelcomed = expectEvent(admin, "admin-welcome", { failOn: ["connect_error", "disconnect"], what: "'admin-welcome' on /admin" });
    const [welcome] = await welcomed;
    const adminArgs = await adminWelcomed;

    assert.equal(welcome.id, main.id, "welcome.id is the id of the / socket");
    assert.deepEqual(adminArgs, [admin.id], `'admin-welcome' carries the /admin socket's id, got ${show(adminArgs)}`);
    assert.ok(typeof admin.id === "string" && admin.id.length > 0, "the /admin socket has an id");
    assert.notEqual(main.id, admin.id, "the two namespaces give two socket ids");
    assert.equal(main.io.engine.id, admin.io.engine.id, "one engine id for both");
    assert.equal(engineOpens, 1, "the Manager opened one engine connection");
    const rawText = raw.filter((d) => typeof d === "string");
    assert.ok(rawText.some((d) => /^2\["welcome"/.test(d)), `'welcome' came through the engine: ${show(rawText)}`);
    assert.ok(rawText.some((d) => d.startsWith('2/admin,["admin-welcome"')), `'admin-welcome' came through the same engine: ${show(rawText)}`);

    t.step(`${transport}: /nope is refused`);
    const nope = manager.socket("/nope");
    sockets.push(nope);
    const [err] = await expectEvent(nope, "connect_error", { failOn: ["connect"] });
    assert.equal(err?.message, "Invalid namespace", `connect_error on /nope, got ${show(err)}`);
    assert.equal(nope.connected, false, "/nope is not connected");

    t.step(`${transport}: / and /admin still work after the refusal`);
    await sleep(100);
    assert.equal(main.connected && admin.connected, true, "/ and /admin still connected");
    assert.equal(manager.engine, engine, "same engine");
    assert.equal(engine.readyState, "open", "engine still open");
    const echoed = expectEvent(main, "echo", { failOn: ["disconnect"] });
    main.emit("echo", "after /nope");
    assert.deepEqual(await echoed, ["after /nope"]);
    assert.deepEqual(await emitAck(main, "ack", [transport]), [transport]);
    sockets.forEach((s) => s.close());
  }
});
