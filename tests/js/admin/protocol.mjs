// The admin UI's protocol (@socket.io/admin-ui 0.5.1, lib/index.ts), socket.io-client 4 acting
// as the UI against three servers: argv[2] with basic auth (admin / changeit) and server id
// "main", argv[3] the same but readonly, argv[4] without auth in production mode.
// Checks the refusal, the login and its session, the session reload, config, all_sockets,
// server_stats, every live event's shape, and the commands emit, join, leave, _disconnect.
import assert from "node:assert/strict";
import { scenario, sleep } from "../lib/harness.mjs";
import { clientV5, expectEvent, expectNoEvent, show } from "../lib/sio.mjs";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const [readonlyBase, productionBase] = [process.argv[3], process.argv[4]];

/** Records every event a socket gets, to wait for one matching a predicate later. */
function recorder(socket) {
  const seen = [];
  const waiters = [];
  socket.onAny((event, ...args) => {
    seen.push([event, ...args]);
    for (const w of [...waiters]) if (w.test(event, args)) w.resolve(args);
  });
  return {
    seen,
    wait(event, pred = () => true, ms = 5_000) {
      const found = seen.find(([e, ...a]) => e === event && pred(...a));
      if (found) return Promise.resolve(found.slice(1));
      return new Promise((resolve, reject) => {
        const w = { test: (e, a) => e === event && pred(...a), resolve: (a) => { clearTimeout(timer); waiters.splice(waiters.indexOf(w), 1); resolve(a); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${event} matching in ${ms} ms; got ${show(seen.map((s) => s[0]))}`));
        }, ms);
        waiters.push(w);
      });
    },
  };
}

function assertSerializedSocket(s, id, nsp) {
  assert.deepEqual(Object.keys(s).sort(), ["clientId", "data", "handshake", "id", "nsp", "rooms", "transport"], `keys of ${show(s)}`);
  assert.equal(s.id, id);
  assert.equal(s.nsp, nsp);
  assert.equal(typeof s.clientId, "string");
  assert.equal(s.clientId.length, 12, "clientId: 12 characters of the engine id");
  assert.ok(["polling", "websocket"].includes(s.transport), `transport ${s.transport}`);
  assert.ok(!("_admin" in s.data), "data without _admin");
  assert.deepEqual(Object.keys(s.handshake).sort(), ["address", "headers", "issued", "query", "secure", "time", "url", "xdomain"]);
  assert.equal(typeof s.handshake.issued, "number");
  assert.equal(typeof s.handshake.headers, "object");
  assert.ok(s.handshake.url.startsWith("/socket.io/"), `url ${s.handshake.url}`);
  assert.ok(s.rooms.includes(id), "a socket is in its own room");
}

await scenario(import.meta.url, async (t) => {
  t.step("wrong password: invalid credentials");
  const refused = clientV5(t, { auth: { username: "admin", password: "wrong" } }, "/admin");
  const [err] = await expectEvent(refused, "connect_error", { failOn: ["connect"] });
  assert.equal(err.message, "invalid credentials");
  const stranger = clientV5(t, { auth: { username: "root", password: "changeit" } }, "/admin");
  assert.equal((await expectEvent(stranger, "connect_error", { failOn: ["connect"] }))[0].message, "invalid credentials");
  const nothing = clientV5(t, {}, "/admin");
  assert.equal((await expectEvent(nothing, "connect_error", { failOn: ["connect"] }))[0].message, "invalid credentials");

  t.step("login: session, config, all_sockets, server_stats");
  const early = clientV5(t, {}, "/"); // a socket already there when the UI logs in
  await expectEvent(early, "connect");
  const ui = clientV5(t, { auth: { username: "admin", password: "changeit" } }, "/admin");
  const rec = recorder(ui);
  await expectEvent(ui, "connect", { failOn: ["connect_error"] });
  const [sessionId] = await rec.wait("session");
  assert.match(sessionId, /^[0-9a-f]{16}$/, "session id: 8 random bytes in hex");
  const [config] = await rec.wait("config");
  assert.deepEqual(config, {
    supportedFeatures: ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"],
  });
  const [all] = await rec.wait("all_sockets");
  assert.ok(Array.isArray(all), "all_sockets: an array");
  const earlyOne = all.find((s) => s.id === early.id);
  assert.ok(earlyOne, `the early socket is listed: ${show(all.map((s) => s.id))}`);
  assertSerializedSocket(earlyOne, early.id, "/");
  assert.deepEqual(earlyOne.data, { user: "ann" }, "data set by the app");
  assert.ok(all.some((s) => s.id === ui.id && s.nsp === "/admin"), "the UI's own socket is listed");
  const [stats] = await rec.wait("server_stats");
  assert.deepEqual(Object.keys(stats).sort(), ["aggregatedEvents", "clientsCount", "hostname", "namespaces", "pid", "pollingClientsCount", "serverId", "uptime"]);
  assert.equal(stats.serverId, "main");
  assert.equal(typeof stats.hostname, "string");
  assert.equal(typeof stats.pid, "number");
  assert.equal(typeof stats.uptime, "number");
  assert.ok(stats.clientsCount >= 2, `clientsCount ${stats.clientsCount}`);
  assert.equal(typeof stats.pollingClientsCount, "number");
  assert.deepEqual(stats.namespaces.map((n) => n.name).sort(), ["/", "/admin"]);
  assert.ok(stats.namespaces.every((n) => typeof n.socketsCount === "number"));

  t.step("session reload: the session id logs in without a password");
  const reloaded = clientV5(t, { auth: { sessionId } }, "/admin");
  const reloadedRec = recorder(reloaded);
  await expectEvent(reloaded, "connect", { failOn: ["connect_error"] });
  await reloadedRec.wait("config");
  assert.ok(!reloadedRec.seen.some(([e]) => e === "session"), "no new session on a reload");
  reloaded.close();
  const forged = clientV5(t, { auth: { sessionId: "0123456789abcdef" } }, "/admin");
  assert.equal((await expectEvent(forged, "connect_error", { failOn: ["connect"] }))[0].message, "invalid credentials");

  t.step("socket_connected, room_joined, socket_updated (data)");
  const user = clientV5(t, { transports: ["polling", "websocket"] }, "/");
  await expectEvent(user, "connect");
  const [serialized, when] = await rec.wait("socket_connected", (s) => s.id === user.id);
  assertSerializedSocket(serialized, user.id, "/");
  assert.match(when, ISO, "dates travel as ISO strings");
  const [nsp, room, id, date] = await rec.wait("room_joined", (n, r) => r === user.id);
  assert.deepEqual([nsp, room, id], ["/", user.id, user.id]);
  assert.match(date, ISO);
  const [update] = await rec.wait("socket_updated", (u) => u.id === user.id && "data" in u);
  assert.deepEqual(update, { id: user.id, nsp: "/", data: { user: "ann" } });

  t.step("socket_updated (transport upgrade)");
  const [upgrade] = await rec.wait("socket_updated", (u) => u.id === user.id && "transport" in u);
  assert.deepEqual(upgrade, { id: user.id, nsp: "/", transport: "websocket" });

  t.step("event_received, event_sent");
  const answer = await user.timeout(5_000).emitWithAck("hello", 41);
  assert.equal(answer, "ok");
  const received = await rec.wait("event_received", (n, i) => i === user.id);
  assert.deepEqual(received.slice(0, 3), ["/", user.id, ["hello", 41]], "ack callback stripped");
  assert.match(received[3], ISO);
  const sent = await rec.wait("event_sent", (n, i, args) => i === user.id && args[0] === "hi");
  assert.deepEqual(sent.slice(0, 3), ["/", user.id, ["hi", 42]]);
  early.emit("shout"); // a broadcast: each recipient's event_sent
  await rec.wait("event_sent", (n, i, args) => i === user.id && args[0] === "shouted");
  assert.ok(!rec.seen.some(([e, n]) => (e === "event_sent" || e === "event_received") && n === "/admin"), "the admin namespace's own traffic is not reported");

  t.step("room_joined from the app, room_left");
  user.emit("join", "lobby");
  await rec.wait("room_joined", (n, r, i) => r === "lobby" && i === user.id);

  t.step("command emit");
  const got = expectEvent(user, "from-admin");
  ui.emit("emit", "/", user.id, "from-admin", 1, { two: 2 });
  assert.deepEqual(await got, [1, { two: 2 }]);

  t.step("commands join and leave (the UI's filter is the socket id)");
  ui.emit("join", "/", "vip", user.id);
  await rec.wait("room_joined", (n, r, i) => r === "vip" && i === user.id);
  ui.emit("leave", "/", "vip", user.id);
  await rec.wait("room_left", (n, r, i) => r === "vip" && i === user.id);

  t.step("command _disconnect");
  const userId = user.id; // the client forgets it once disconnected
  const gone = expectEvent(user, "disconnect");
  ui.emit("_disconnect", "/", false, userId);
  assert.equal((await gone)[0], "io server disconnect");
  const [dnsp, did, reason, ddate] = await rec.wait("socket_disconnected", (n, i) => i === userId);
  assert.deepEqual([dnsp, did, reason], ["/", userId, "server namespace disconnect"]);
  assert.match(ddate, ISO);
  await rec.wait("room_left", (n, r, i) => r === "lobby" && i === userId);

  t.step("aggregated events in server_stats");
  const [later] = await rec.wait("server_stats", (s) => s.aggregatedEvents.some((e) => e.type === "packetsIn"), 6_000);
  const types = new Set(later.aggregatedEvents.map((e) => e.type));
  for (const e of later.aggregatedEvents) {
    assert.equal(e.timestamp % 1000, 0, "timestamps floored to the second");
    assert.ok(e.count > 0);
    assert.ok(["rawConnection", "rawDisconnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"].includes(e.type), e.type);
  }
  assert.ok(types.has("packetsOut") && types.has("bytesIn") && types.has("bytesOut"), show([...types]));

  t.step("readonly: no commands");
  const ro = clientV5({ base: readonlyBase, defer: t.defer }, { auth: { username: "admin", password: "changeit" } }, "/admin");
  const roRec = recorder(ro);
  await expectEvent(ro, "connect", { failOn: ["connect_error"] });
  assert.deepEqual((await roRec.wait("config"))[0], { supportedFeatures: ["AGGREGATED_EVENTS", "ALL_EVENTS"] });
  const victim = clientV5({ base: readonlyBase, defer: t.defer }, {}, "/");
  await expectEvent(victim, "connect");
  await roRec.wait("socket_connected", (s) => s.id === victim.id);
  ro.emit("_disconnect", "/", false, victim.id);
  ro.emit("emit", "/", victim.id, "from-admin", 1);
  await expectNoEvent(victim, "disconnect", 500);
  assert.equal(victim.connected, true, "a readonly UI cannot disconnect");

  t.step("production: only config and server_stats");
  const prod = clientV5({ base: productionBase, defer: t.defer }, {}, "/admin");
  const prodRec = recorder(prod);
  await expectEvent(prod, "connect", { failOn: ["connect_error"] });
  assert.deepEqual((await prodRec.wait("config"))[0], {
    supportedFeatures: ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"],
  });
  await prodRec.wait("server_stats");
  const other = clientV5({ base: productionBase, defer: t.defer }, {}, "/");
  await expectEvent(other, "connect");
  await other.timeout(5_000).emitWithAck("hello", 1);
  await sleep(2_500);
  const names = new Set(prodRec.seen.map(([e]) => e));
  assert.deepEqual([...names].sort(), ["config", "server_stats"], `production events: ${show([...names])}`);
});
