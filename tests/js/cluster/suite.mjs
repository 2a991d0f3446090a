// Cluster scenarios, run with official socket.io-client 4.8 clients against nodes that follow the
// cluster-node contract (shared docs: cluster-node.md): `examples/cluster_node.rs` and its Node
// twin `node.mjs`, all on one Redis.
//
//   node tests/js/cluster/suite.mjs <scenario>[,<scenario>...|all] <node url> [<node url>...]
//
// Clients are spread over the nodes (client k on node k mod n); every check that crosses nodes
// crosses them both ways. Each scenario prints `ok <scenario>` or `FAIL <scenario> (step: ...):
// <what>` on stdout and runs at most a few seconds; several scenarios (or `all`) run one after
// the other, each with its own clients; the exit code is 0 when every one passed.
//
// Environment:
//   ADAPTER    redis (default) | sharded | memory: what the nodes run (memory: one node, no Redis;
//              the server count expected is then 1)
//   REDIS_URL  the nodes' Redis, for the scenarios that talk to Redis themselves (emitter,
//              emitter_requests, timeouts, restart)
// An event sent without an ack may carry one extra last argument, the recovery offset (Node adds
// it with connection state recovery on): the checks ignore it.
// A node whose NODE_ID starts with `rust` is held to the contract's promise that a `join` is
// acknowledged once room emits reach the socket; with ADAPTER=sharded the suite waits a moment
// after the joins of other nodes (Node acknowledges before its room subscription is active).
//
// Scenarios (`all` runs every one but those marked *):
//   hello              hello {node, id, recovered} from every node and namespace; deny refused
//   to_room            room emits from every node, binary args, exactly once, in order, members only
//   broadcast          socket.broadcast from every node: all but the sender, exactly once, in order
//   emit_all           namespace-wide emits from every node reach every client once
//   emit_local         a local emit stays on its node
//   fetch              fetchSockets of the namespace and of a room from every node; data, rooms
//   sockets_join       socketsJoin of a socket and of a room on another node, seen by a room emit
//   sockets_leave      socketsLeave, likewise
//   disconnect_sockets disconnectSockets(true) of sockets (WebSocket, polling) and of a room on
//                      other nodes: each client gets "io server disconnect", as from Node
//   server_side_emit   serverSideEmit with an answer from every other node
//   ask_room           room emits with acks from clients of every node; the timeout error
//   server_count       every node counts every node
//   namespaces         /chat and / do not see each other's emits, rooms and sockets
//   emitter            @socket.io/redis-emitter room, namespace-wide and /chat emits (classic only)
//   emitter_requests   the emitter's socketsJoin, socketsLeave, disconnectSockets (classic only)
//   timeouts *         a subscriber that never answers: serverSideEmit and fetch time out (~5 s)
//   restart *          broadcasts cross; prints `restart-ready`, waits for a `go` line on stdin
//                      (the caller restarts Redis in between), then broadcasts, room emits, fetch
//                      and server count work again within seconds and no client was disconnected

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { createClient } from "redis";
import msgpackParser from "socket.io-msgpack-parser";
import { Emitter } from "@socket.io/redis-emitter";
import { sleep, withTimeout, formatError, isBinary, toBuffer } from "../lib/harness.mjs";
import { show } from "../lib/sio.mjs";

const ADAPTER = process.env.ADAPTER || "redis";
const REDIS_URL = process.env.REDIS_URL;
/** After this, no more copies of a message are expected (exactly-once checks). */
const SETTLE_MS = 300;
/** What `sockets_join` and friends may take to be applied on every node. */
const APPLY_MS = 300;
/** The wait after Node nodes acknowledged joins with the sharded adapter. */
const JOIN_GRACE_MS = 250;
/** The bound of one acknowledgement from a node. */
const ACK_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Helpers

const rand = () => randomBytes(4).toString("hex");
const codeUnitOrder = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** JSON-like rendering where binary becomes {$bin: hex}, for deep comparisons with clear output. */
function plain(value) {
  if (isBinary(value)) return { $bin: toBuffer(value).toString("hex") };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * The arguments of a received event without the connection-state-recovery offset: with recovery
 * on, an event sent without an ack may carry one extra last argument (a string, or null).
 */
function withoutOffset(args, expectedLength) {
  if (args.length === expectedLength + 1) {
    const last = args[args.length - 1];
    if (last === null || typeof last === "string") return args.slice(0, -1);
  }
  return args;
}

/** Asserts that `got` (received arguments) are `expected`, binary as binary, offset allowed. */
function assertArgs(got, expected, what) {
  const args = withoutOffset(got, expected.length);
  assert.deepEqual(plain(args), plain(expected), `${what}: got ${show(got)}, expected ${show(expected)}`);
  expected.forEach((value, i) => {
    if (isBinary(value)) assert.ok(Buffer.isBuffer(args[i]), `${what}: argument ${i} is not a Buffer: ${show(args[i])}`);
  });
}

/** Polls `condition` every 10 ms; throws (with `what()`) after `ms`. */
async function waitFor(condition, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (condition()) return;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`);
    }
    await sleep(10);
  }
}

/** Asserts a sorted-by-JSON-text list (the contract's order for answer lists). */
function assertSortedByJson(list, what) {
  const texts = list.map((x) => JSON.stringify(x));
  const sorted = [...texts].sort(codeUnitOrder);
  assert.deepEqual(texts, sorted, `${what}: not sorted by JSON text: ${show(list)}`);
}

/** Canonical JSON (keys sorted), to compare answers whatever key order a node used. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object" && !isBinary(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(plain(value));
}

function assertSameAnswers(got, expected, what) {
  assert.deepEqual(got.map(canonical).sort(), expected.map(canonical).sort(), `${what}: answers ${show(got)}, expected (any order) ${show(expected)}`);
}

/** One connected client: its events (in order), its disconnections, its node's hello. */
class Client {
  constructor(ctx, socket, node, nsp, name) {
    this.ctx = ctx;
    this.socket = socket;
    this.node = node;
    this.nsp = nsp;
    this.name = name;
    this.events = [];
    this.disconnects = [];
    this.hello = null;
    socket.onAny((event, ...args) => this.events.push({ event, args }));
    socket.on("disconnect", (reason) => {
      this.disconnects.push(reason);
      this.transportAtDisconnect = socket.io.engine?.transport?.name;
    });
  }

  get id() {
    return this.socket.id;
  }

  /** The node id this client's node announced. */
  get nodeId() {
    return this.hello?.node;
  }

  toString() {
    return `${this.name} (node ${this.node} ${this.ctx.urls[this.node]}${this.nsp === "/" ? "" : ` ${this.nsp}`})`;
  }

  /** Argument lists of every `event` received so far. */
  got(event) {
    return this.events.filter((e) => e.event === event).map((e) => e.args);
  }

  /** Emits `event` with `args` and an ack; resolves with the first answer argument. */
  ask(event, ...args) {
    const answer = new Promise((resolve) => this.socket.emit(event, ...args, (first) => resolve(first)));
    return withTimeout(answer, ACK_MS + 3_000, `the answer to '${event}' ${show(args)} from ${this}`);
  }

  /** `ask` that expects `true`. */
  async do(event, ...args) {
    const answer = await this.ask(event, ...args);
    assert.equal(answer, true, `'${event}' ${show(args)} from ${this} answered ${show(answer)}`);
  }
}

function makeContext(name, urls) {
  const ctx = {
    name,
    urls,
    n: urls.length,
    clients: [],
    cleanups: [],
    currentStep: "start",
    step(s) {
      ctx.currentStep = s;
    },
    defer(fn) {
      ctx.cleanups.push(fn);
    },
    log(...args) {
      console.error(`[${name}]`, ...args);
    },
    /** Connects a client to node `node` (index) and waits for its hello. */
    async connect(node, { nsp = "/", name: label, auth, expectHello = true, transports } = {}) {
      const url = urls[node % urls.length] + (nsp === "/" ? "" : nsp);
      // Unless told: half the clients start with polling and upgrade, half use WebSocket only.
      transports ??= ctx.clients.length % 2 ? ["websocket"] : ["polling", "websocket"];
      const parser = process.env.PARSER === "msgpack" ? { parser: msgpackParser } : {};
      const socket = io(url, { forceNew: true, reconnection: false, transports, ...parser, ...(auth ? { auth } : {}) });
      const client = new Client(ctx, socket, node % urls.length, nsp, label ?? `client${ctx.clients.length}`);
      ctx.clients.push(client);
      ctx.defer(() => socket.close());
      if (!expectHello) return client;
      const hello = new Promise((resolve, reject) => {
        socket.once("hello", (h) => resolve(h));
        socket.once("connect_error", (err) => reject(new Error(`${client}: connect_error ${err.message}`)));
        socket.once("disconnect", (reason) => reject(new Error(`${client}: disconnected (${reason}) before hello`)));
      });
      client.hello = await withTimeout(hello, 5_000, `the hello of ${client}`);
      return client;
    },
    /** Connects `perNode` clients to every node; returns them node by node. */
    async connectEach(perNode = 1, opts = {}) {
      const list = [];
      for (let node = 0; node < urls.length; node++) {
        for (let k = 0; k < perNode; k++) list.push(ctx.connect(node, { ...opts, name: `${opts.name ?? "c"}${node}.${k}` }));
      }
      return Promise.all(list);
    },
    /** Makes `clients` join `room`; waits for Node's sharded subscriptions when needed. */
    async join(clients, room) {
      await Promise.all(clients.map((c) => c.do("join", room)));
      if (ADAPTER === "sharded" && clients.some((c) => !String(c.nodeId).startsWith("rust"))) await sleep(JOIN_GRACE_MS);
    },
  };
  return ctx;
}

/** Waits until every client in `clients` got `count` `event`s, then SETTLE_MS for extra copies. */
async function waitCounts(clients, event, count, ms = 5_000) {
  await waitFor(
    () => clients.every((c) => c.got(event).length >= count),
    ms,
    () => `${count} '${event}' on every client; got ${clients.map((c) => `${c}: ${c.got(event).length}`).join(", ")}`,
  );
  await sleep(SETTLE_MS);
  for (const c of clients) {
    assert.equal(c.got(event).length, count, `${c} got ${c.got(event).length} '${event}' instead of ${count}: ${show(c.got(event))}`);
  }
}

/** Asserts that each of `clients` was disconnected once, by the server ("io server disconnect"). */
function assertServerDisconnected(clients) {
  const wrong = clients.filter((c) => c.disconnects.length !== 1 || c.disconnects[0] !== "io server disconnect");
  assert.deepEqual(
    wrong.map((c) => `${c} over ${c.transportAtDisconnect}: ${c.disconnects.join(", ")}`),
    [],
    `disconnect reasons other than ["io server disconnect"]`,
  );
}

function assertNone(clients, event) {
  for (const c of clients) assert.equal(c.got(event).length, 0, `${c} should not get '${event}', got ${show(c.got(event))}`);
}

function assertConnected(clients) {
  for (const c of clients) {
    assert.deepEqual(c.disconnects, [], `${c} was disconnected: ${c.disconnects.join(", ")}`);
    assert.ok(c.socket.connected, `${c} is not connected`);
  }
}

const expectedServerCount = (ctx) => (ADAPTER === "memory" ? 1 : ctx.n);

function requireRedis(what) {
  if (!REDIS_URL) throw new Error(`${what} needs REDIS_URL (the nodes' Redis)`);
}

async function redisClient(ctx) {
  const client = createClient({ url: REDIS_URL });
  client.on("error", (err) => ctx.log(`redis: ${err.message}`));
  await client.connect();
  ctx.defer(() => client.disconnect().catch(() => {}));
  return client;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const scenarios = {};

scenarios.hello = async (ctx) => {
  ctx.step("hello from every node and namespace");
  const ids = new Set();
  for (const nsp of ["/", "/chat"]) {
    const clients = await ctx.connectEach(2, { nsp });
    for (const c of clients) {
      assert.deepEqual(Object.keys(c.hello).sort(), ["id", "node", "recovered"], `${c}: hello ${show(c.hello)}`);
      assert.equal(typeof c.hello.node, "string", `${c}: hello.node is a string: ${show(c.hello)}`);
      assert.equal(c.hello.id, c.id, `${c}: hello.id is the socket id`);
      assert.equal(c.hello.recovered, false, `${c}: hello.recovered`);
      assert.ok(!ids.has(c.id), `${c}: socket id ${c.id} given twice`);
      ids.add(c.id);
      const twin = clients.find((o) => o.node === c.node && o !== c);
      assert.equal(c.hello.node, twin.hello.node, `${c} and ${twin} are on the same node`);
      assert.equal(c.got("hello").length, 1, `${c}: one hello`);
    }
    const nodeIds = new Set(clients.map((c) => c.hello.node));
    assert.equal(nodeIds.size, ctx.n, `every node has its own NODE_ID: ${show([...nodeIds])}`);
  }

  ctx.step("a deny auth is refused with 'denied' on every node and namespace");
  for (const nsp of ["/", "/chat"]) {
    for (let node = 0; node < ctx.n; node++) {
      const c = await ctx.connect(node, { nsp, auth: { deny: true }, expectHello: false, name: `denied${node}` });
      const [err] = await withTimeout(
        new Promise((resolve, reject) => {
          c.socket.once("connect_error", (e) => resolve([e]));
          c.socket.once("connect", () => reject(new Error(`${c}: connected despite deny`)));
        }),
        5_000,
        `the connect_error of ${c}`,
      );
      assert.equal(err.message, "denied", `${c}: connect_error message`);
      await sleep(50);
      assert.equal(c.got("hello").length, 0, `${c}: no hello`);
      const allowed = await ctx.connect(node, { nsp, auth: { deny: false, other: 1 }, name: `allowed${node}` });
      assert.equal(allowed.hello.id, allowed.id, `${allowed}: hello`);
    }
  }
};

scenarios.to_room = async (ctx) => {
  const room = `room-${rand()}`;
  const lone = `lone-${rand()}`;
  ctx.step("clients on every node, members and not");
  const members = await ctx.connectEach(2, { name: "member" });
  const others = await ctx.connectEach(1, { name: "other" });
  await ctx.join(members, room);
  const last = members.filter((c) => c.node === ctx.n - 1);
  await ctx.join([last[0]], lone);

  ctx.step("room emits with binary from a member on every node");
  const messages = [];
  const sends = [];
  for (let node = 0; node < ctx.n; node++) {
    const sender = members.find((c) => c.node === node);
    for (let seq = 0; seq < 3; seq++) {
      const args = [`from ${node}`, seq, Buffer.from([node, seq, 0xff, 0]), { nested: Buffer.from([7, 8]), list: [1, Buffer.from([9])], s: "é" }];
      messages.push({ node, seq, args });
      sends.push(sender.do("to_room", { room, event: "tr", args }));
    }
  }
  await Promise.all(sends);
  await waitCounts(members, "tr", messages.length);
  assertNone(others, "tr");
  for (const c of members) {
    const got = c.got("tr");
    for (let node = 0; node < ctx.n; node++) {
      const fromNode = got.filter((args) => args[0] === `from ${node}`);
      const expected = messages.filter((m) => m.node === node);
      assert.equal(fromNode.length, expected.length, `${c}: messages from node ${node}: ${show(got)}`);
      fromNode.forEach((args, i) => assertArgs(args, expected[i].args, `${c}: message ${i} from node ${node} (in order)`));
    }
  }

  ctx.step("a room whose only member is on the last node, from every node");
  for (let node = 0; node < ctx.n; node++) {
    await others[node].do("to_room", { room: lone, event: "lone", args: [node, Buffer.from([node])] });
  }
  await waitCounts([last[0]], "lone", ctx.n);
  // In order per sender only: the emits of different nodes may cross.
  const loneGot = [...last[0].got("lone")].sort((a, b) => a[0] - b[0]);
  loneGot.forEach((args, i) => assertArgs(args, [i, Buffer.from([i])], `${last[0]}: lone emit from node ${i}`));
  assertNone([...members.filter((c) => c !== last[0]), ...others], "lone");

  ctx.step("a room without members");
  await others[0].do("to_room", { room: `empty-${rand()}`, event: "nobody", args: [1] });
  await sleep(SETTLE_MS);
  assertNone([...members, ...others], "nobody");
};

scenarios.broadcast = async (ctx) => {
  const K = 10;
  ctx.step("senders and listeners on every node");
  const senders = await ctx.connectEach(1, { name: "sender" });
  const listeners = await ctx.connectEach(1, { name: "listener" });
  const everyone = [...senders, ...listeners];

  ctx.step(`${K} broadcasts from each sender, sent at once`);
  const argsOf = (i, seq) => (seq % 3 === 0 ? [`s${i}`, seq, Buffer.from([i, seq])] : [`s${i}`, seq, { text: `m${seq}` }]);
  const sends = [];
  for (let seq = 0; seq < K; seq++) {
    senders.forEach((s, i) => sends.push(s.do("broadcast", { event: "bc", args: argsOf(i, seq) })));
  }
  await Promise.all(sends);

  ctx.step("every client but the sender got each broadcast once, in order");
  for (const c of everyone) {
    const expected = senders.filter((s) => s !== c).length * K;
    await waitFor(
      () => c.got("bc").length >= expected,
      5_000,
      () => `${expected} broadcasts on ${c}; got ${c.got("bc").length}: ${show(c.got("bc").map((a) => a.slice(0, 2)))}`,
    );
  }
  await sleep(SETTLE_MS);
  for (const c of everyone) {
    const got = c.got("bc");
    senders.forEach((s, i) => {
      const fromS = got.filter((args) => args[0] === `s${i}`);
      if (s === c) {
        assert.equal(fromS.length, 0, `${c} got its own broadcasts: ${show(fromS)}`);
        return;
      }
      assert.deepEqual(
        fromS.map((args) => args[1]),
        [...Array(K).keys()],
        `${c}: sequence numbers of the broadcasts of ${s}`,
      );
      fromS.forEach((args, seq) => assertArgs(args, argsOf(i, seq), `${c}: broadcast ${seq} of ${s}`));
    });
    assert.equal(got.length, (senders.length - (senders.includes(c) ? 1 : 0)) * K, `${c}: broadcasts in all`);
  }
};

scenarios.emit_all = async (ctx) => {
  ctx.step("clients on every node");
  const clients = await ctx.connectEach(2, { name: "c" });
  const senders = clients.filter((c, i) => i % 2 === 0);
  ctx.step("a namespace-wide emit from every node");
  for (const [i, s] of senders.entries()) await s.do("emit_all", { event: "ea", args: [i, Buffer.from([i]), { from: s.name }] });
  await waitCounts(clients, "ea", senders.length);
  for (const c of clients) {
    const got = c.got("ea").sort((a, b) => a[0] - b[0]);
    senders.forEach((s, i) => assertArgs(got[i], [i, Buffer.from([i]), { from: s.name }], `${c}: emit of ${s}`));
  }
};

scenarios.emit_local = async (ctx) => {
  ctx.step("clients on every node");
  const clients = await ctx.connectEach(2, { name: "c" });
  for (let node = 0; node < ctx.n; node++) {
    ctx.step(`a local emit on node ${node}`);
    const event = `local${node}`;
    const sender = clients.find((c) => c.node === node);
    await sender.do("emit_local", { event, args: [node, Buffer.from([node])] });
    const here = clients.filter((c) => c.node === node);
    await waitCounts(here, event, 1);
    for (const c of here) assertArgs(c.got(event)[0], [node, Buffer.from([node])], `${c}: local emit`);
    assertNone(
      clients.filter((c) => c.node !== node),
      event,
    );
  }
};

scenarios.fetch = async (ctx) => {
  // Mixed case: code-unit order puts upper case first.
  const room = `Zroom-${rand()}`;
  const second = `aroom-${rand()}`;
  ctx.step("clients on every node, with data and rooms, and without");
  const withData = await ctx.connectEach(1, { name: "data" });
  const plainOnes = await ctx.connectEach(1, { name: "plain" });
  await Promise.all(
    withData.map((c, i) => c.do("set_data", { name: c.name, n: i, list: [1, "two", { three: 3 }], nested: { ok: true } })),
  );
  await ctx.join(withData, room);
  await ctx.join(withData, second);
  const expectedOf = (c) => {
    if (withData.includes(c)) {
      const i = withData.indexOf(c);
      return {
        id: c.id,
        rooms: [c.id, room, second].sort(codeUnitOrder),
        data: { name: c.name, n: i, list: [1, "two", { three: 3 }], nested: { ok: true } },
      };
    }
    return { id: c.id, rooms: [c.id], data: {} };
  };
  const checkEntry = (entry, c, what) => {
    assert.deepEqual(Object.keys(entry).sort(), ["data", "id", "rooms"], `${what}: keys of ${show(entry)}`);
    assert.deepEqual(entry, expectedOf(c), `${what}: the entry of ${c}`);
  };
  const ours = [...withData, ...plainOnes];

  for (const asker of plainOnes) {
    ctx.step(`the whole namespace from ${asker}`);
    const all = await asker.ask("fetch", { room: null });
    assert.ok(Array.isArray(all), `fetch from ${asker}: a list, got ${show(all)}`);
    const ids = all.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort(codeUnitOrder), `fetch from ${asker}: sorted by id: ${show(ids)}`);
    assert.equal(new Set(ids).size, ids.length, `fetch from ${asker}: an id twice: ${show(ids)}`);
    for (const entry of all) {
      assert.deepEqual(entry.rooms, [...entry.rooms].sort(codeUnitOrder), `fetch from ${asker}: rooms sorted: ${show(entry)}`);
    }
    for (const c of ours) {
      const entry = all.find((e) => e.id === c.id);
      assert.ok(entry, `fetch from ${asker}: ${c} (${c.id}) missing from ${show(ids)}`);
      checkEntry(entry, c, `fetch from ${asker}`);
    }

    ctx.step(`a room from ${asker}`);
    const inRoom = await asker.ask("fetch", { room });
    assert.ok(Array.isArray(inRoom), `fetch of the room from ${asker}: a list, got ${show(inRoom)}`);
    const expected = [...withData].sort((a, b) => codeUnitOrder(a.id, b.id));
    assert.deepEqual(
      inRoom.map((e) => e.id),
      expected.map((c) => c.id),
      `fetch of the room from ${asker}: the members, sorted by id`,
    );
    inRoom.forEach((entry, i) => checkEntry(entry, expected[i], `fetch of the room from ${asker}`));

    ctx.step(`a socket of another node by its id, from ${asker}`);
    const target = withData.find((c) => c.node !== asker.node) ?? withData[0];
    const one = await asker.ask("fetch", { room: target.id });
    assert.ok(Array.isArray(one) && one.length === 1, `fetch of ${target} by id from ${asker}: ${show(one)}`);
    checkEntry(one[0], target, `fetch of ${target} by id from ${asker}`);

    ctx.step(`an empty room from ${asker}`);
    assert.deepEqual(await asker.ask("fetch", { room: `empty-${rand()}` }), [], `fetch of an empty room from ${asker}`);
  }

  ctx.step("data changed later is seen from every node");
  await withData[0].do("set_data", { changed: true });
  for (const asker of plainOnes) {
    const one = await asker.ask("fetch", { room: withData[0].id });
    assert.deepEqual(one?.[0]?.data, { changed: true }, `fetch from ${asker} after set_data: ${show(one)}`);
  }

  ctx.step("a client that left is gone from every node's fetch");
  const leaving = plainOnes[plainOnes.length - 1];
  const leftId = leaving.id;
  leaving.socket.close();
  await sleep(APPLY_MS);
  for (const asker of withData) {
    const all = await asker.ask("fetch", { room: null });
    assert.ok(!all.some((e) => e.id === leftId), `fetch from ${asker}: ${leftId} still listed after its disconnection`);
  }
};

scenarios.sockets_join = async (ctx) => {
  const group = `group-${rand()}`;
  ctx.step("clients on every node; one group spanning the nodes");
  const clients = await ctx.connectEach(1, { name: "x" });
  const bystanders = await ctx.connectEach(1, { name: "bystander" });
  await ctx.join(clients, group);

  ctx.step("socketsJoin of a socket of the next node");
  const joined = clients.map(() => `joined-${rand()}`);
  for (const [i, c] of clients.entries()) {
    const target = clients[(i + 1) % ctx.n];
    await c.do("sockets_join", { target: target.id, room: joined[i] });
  }
  await sleep(APPLY_MS);
  for (const [i, c] of clients.entries()) {
    // Emitted from the node of the asker and from the target's node.
    await c.do("to_room", { room: joined[i], event: "sj", args: [i, "asker"] });
    await clients[(i + 1) % ctx.n].do("to_room", { room: joined[i], event: "sj", args: [i, "target"] });
  }
  for (const [i, c] of clients.entries()) {
    const target = clients[(i + 1) % ctx.n];
    await waitFor(() => target.got("sj").filter((a) => a[0] === i).length >= 2, 3_000, () => `${target} to get the emits to the room it was made to join by ${c}: ${show(target.got("sj"))}`);
  }
  await sleep(SETTLE_MS);
  for (const [i] of clients.entries()) {
    const target = clients[(i + 1) % ctx.n];
    assert.equal(target.got("sj").filter((a) => a[0] === i).length, 2, `${target}: emits to ${joined[i]}: ${show(target.got("sj"))}`);
  }
  if (ctx.n > 1) {
    for (const [i, c] of clients.entries()) {
      assert.ok(!c.got("sj").some((a) => a[0] === i), `${c} joined its own room ${joined[i]}: ${show(c.got("sj"))}`);
    }
  }
  assertNone(bystanders, "sj");

  ctx.step("socketsJoin of a room spanning the nodes, from every node");
  const shared = clients.map(() => `shared-${rand()}`);
  for (const [i, asker] of bystanders.entries()) await asker.do("sockets_join", { target: group, room: shared[i] });
  await sleep(APPLY_MS);
  for (const [i] of bystanders.entries()) {
    const from = bystanders[(i + 1) % ctx.n];
    await from.do("to_room", { room: shared[i], event: "sg", args: [i] });
  }
  await waitCounts(clients, "sg", bystanders.length);
  assertNone(bystanders, "sg");

  ctx.step("fetch sees the rooms on every node");
  for (const asker of bystanders) {
    const all = await asker.ask("fetch", { room: group });
    for (const [i, c] of clients.entries()) {
      const entry = all.find?.((e) => e.id === c.id);
      assert.ok(entry, `fetch of ${group} from ${asker}: ${c} missing: ${show(all)}`);
      const byJoin = joined.filter((_, j) => clients[(j + 1) % ctx.n] === c);
      assert.deepEqual(entry.rooms, [c.id, group, ...byJoin, ...shared].sort(codeUnitOrder), `fetch from ${asker}: rooms of ${c} (${i})`);
    }
  }
};

scenarios.sockets_leave = async (ctx) => {
  const room = `leave-${rand()}`;
  const group = `group-${rand()}`;
  ctx.step("clients on every node, all in one room");
  const stay = await ctx.connectEach(1, { name: "stay" });
  const go = await ctx.connectEach(1, { name: "go" });
  const grouped = await ctx.connectEach(1, { name: "grouped" });
  await ctx.join([...stay, ...go, ...grouped], room);
  await ctx.join(grouped, group);

  ctx.step("socketsLeave of a socket of the next node, from every node");
  for (const [i, asker] of stay.entries()) {
    const target = go[(i + 1) % ctx.n];
    await asker.do("sockets_leave", { target: target.id, room });
  }
  ctx.step("socketsLeave of a room spanning the nodes");
  await stay[ctx.n - 1].do("sockets_leave", { target: group, room });
  await sleep(APPLY_MS);

  ctx.step("room emits from every node reach only those that stayed");
  for (const [i, s] of stay.entries()) await s.do("to_room", { room, event: "lv", args: [i] });
  await waitCounts(stay, "lv", stay.length);
  assertNone([...go, ...grouped], "lv");

  ctx.step("fetch agrees");
  const all = await stay[0].ask("fetch", { room });
  assert.deepEqual(
    all.map((e) => e.id),
    stay.map((c) => c.id).sort(codeUnitOrder),
    `fetch of ${room} from ${stay[0]}: ${show(all)}`,
  );
};

scenarios.disconnect_sockets = async (ctx) => {
  const room = `doomed-${rand()}`;
  ctx.step("victims and witnesses on every node");
  const witnesses = await ctx.connectEach(1, { name: "witness" });
  const victims = await ctx.connectEach(1, { name: "victim" });
  const pollingVictims = await ctx.connectEach(1, { name: "polling-victim", transports: ["polling"] });
  const doomed = await ctx.connectEach(1, { name: "doomed" });
  await ctx.join(doomed, room);
  await ctx.join(witnesses, `safe-${rand()}`);

  ctx.step("disconnectSockets of a socket of the next node, from every node");
  for (const [i, w] of witnesses.entries()) {
    await w.do("disconnect_sockets", { target: victims[(i + 1) % ctx.n].id });
    await w.do("disconnect_sockets", { target: pollingVictims[(i + 1) % ctx.n].id });
  }
  await waitFor(
    () => [...victims, ...pollingVictims].every((v) => v.disconnects.length > 0),
    3_000,
    () => `every victim disconnected: ${[...victims, ...pollingVictims].map((v) => `${v}: ${v.disconnects.join(",") || "connected"}`).join("; ")}`,
  );

  ctx.step("disconnectSockets of a room spanning the nodes");
  await witnesses[ctx.n - 1].do("disconnect_sockets", { target: room });
  await waitFor(
    () => doomed.every((v) => v.disconnects.length > 0),
    3_000,
    () => `every member of the room disconnected: ${doomed.map((v) => `${v}: ${v.disconnects.join(",") || "connected"}`).join("; ")}`,
  );
  await sleep(SETTLE_MS);
  assertConnected(witnesses);

  ctx.step("each disconnected client was told by its server (reason 'io server disconnect')");
  assertServerDisconnected([...victims, ...pollingVictims, ...doomed]);

  ctx.step("the disconnected are gone from every node's fetch");
  const gone = new Set([...victims, ...pollingVictims, ...doomed].map((c) => c.hello.id));
  for (const w of witnesses) {
    const all = await w.ask("fetch", { room: null });
    const still = all.filter((e) => gone.has(e.id));
    assert.deepEqual(still, [], `fetch from ${w}: disconnected sockets still listed`);
    for (const other of witnesses) assert.ok(all.some((e) => e.id === other.id), `fetch from ${w}: ${other} missing`);
  }
};

scenarios.server_side_emit = async (ctx) => {
  for (const nsp of ["/", "/chat"]) {
    ctx.step(`serverSideEmit from every node (${nsp})`);
    const clients = await ctx.connectEach(1, { nsp, name: `sse${nsp === "/" ? "" : "-chat"}` });
    const nodeIds = clients.map((c) => c.nodeId);
    const replies = await Promise.all(clients.map((c, i) => c.ask("server_side_emit", { args: ["ping", i, { k: [nsp] }] })));
    replies.forEach((reply, i) => {
      const what = `server_side_emit from ${clients[i]}`;
      assert.deepEqual(Object.keys(reply ?? {}).sort(), ["answers", "error"], `${what}: ${show(reply)}`);
      assert.equal(reply.error, null, `${what}: error in ${show(reply)}`);
      const expected = nodeIds.filter((_, j) => j !== i).map((node) => ({ node, args: ["ping", i, { k: [nsp] }] }));
      assertSameAnswers(reply.answers, expected, what);
      assertSortedByJson(reply.answers, what);
    });
  }
};

scenarios.ask_room = async (ctx) => {
  const room = `ask-${rand()}`;
  ctx.step("answering members on every node, and a non-member");
  const members = await ctx.connectEach(2, { name: "member" });
  const outsider = await ctx.connect(0, { name: "outsider" });
  for (const c of [...members, outsider]) c.socket.on("question", (q, ack) => ack({ by: c.name, q }));
  await ctx.join(members, room);

  for (let node = 0; node < ctx.n; node++) {
    ctx.step(`every member answers, asked from node ${node}`);
    const asker = members.find((c) => c.node === node);
    const question = `q${node}`;
    const reply = await asker.ask("ask_room", { room, question, timeout: 3_000 });
    const what = `ask_room from ${asker}`;
    assert.deepEqual(Object.keys(reply ?? {}).sort(), ["answers", "error"], `${what}: ${show(reply)}`);
    assert.equal(reply.error, null, `${what}: error in ${show(reply)}`);
    assertSameAnswers(reply.answers, members.map((c) => ({ by: c.name, q: question })), what);
    assertSortedByJson(reply.answers, what);
    for (const c of members) assert.equal(c.got("question").filter((a) => a[0] === question).length, 1, `${c}: asked once`);
    assert.equal(outsider.got("question").length, 0, `${outsider} was asked`);
  }

  ctx.step("a member on the last node does not answer");
  const silent = await ctx.connect(ctx.n - 1, { name: "silent" });
  await ctx.join([silent], room);
  for (let node = 0; node < ctx.n; node++) {
    const asker = members.find((c) => c.node === node);
    const question = `late${node}`;
    const started = Date.now();
    const reply = await asker.ask("ask_room", { room, question, timeout: 600 });
    const elapsed = Date.now() - started;
    const what = `ask_room with a silent member from ${asker}`;
    assert.deepEqual(Object.keys(reply ?? {}).sort(), ["answers", "error"], `${what}: ${show(reply)}`);
    assert.equal(reply.error, "operation has timed out", `${what}: error in ${show(reply)}`);
    assertSameAnswers(reply.answers, members.map((c) => ({ by: c.name, q: question })), what);
    assertSortedByJson(reply.answers, what);
    assert.ok(elapsed >= 500 && elapsed < 3_000, `${what}: answered after ${elapsed} ms (timeout 600 ms)`);
    assert.equal(silent.got("question").filter((a) => a[0] === question).length, 1, `${silent} was asked once`);
  }
};

scenarios.server_count = async (ctx) => {
  for (const nsp of ["/", "/chat"]) {
    ctx.step(`server count from every node (${nsp})`);
    const clients = await ctx.connectEach(1, { nsp, name: "count" });
    for (const c of clients) {
      assert.equal(await c.ask("server_count"), expectedServerCount(ctx), `server_count from ${c}`);
    }
  }
};

scenarios.namespaces = async (ctx) => {
  const room = `same-${rand()}`;
  ctx.step("clients of / and /chat on every node, in rooms of the same name");
  const main = await ctx.connectEach(1, { name: "main" });
  const chat = await ctx.connectEach(2, { nsp: "/chat", name: "chat" });
  await ctx.join(main, room);
  await ctx.join(chat, room);
  const chatSenders = chat.filter((c, i) => i % 2 === 0);

  ctx.step("room emits stay in their namespace, from every node");
  for (const [i, s] of chatSenders.entries()) await s.do("to_room", { room, event: "room", args: ["chat", i] });
  for (const [i, s] of main.entries()) await s.do("to_room", { room, event: "room", args: ["main", i] });
  await waitCounts(chat, "room", chatSenders.length);
  await waitCounts(main, "room", main.length);
  for (const c of chat) assert.ok(c.got("room").every((a) => a[0] === "chat"), `${c}: ${show(c.got("room"))}`);
  for (const c of main) assert.ok(c.got("room").every((a) => a[0] === "main"), `${c}: ${show(c.got("room"))}`);

  ctx.step("namespace-wide emits and broadcasts stay in their namespace");
  for (const s of chatSenders) await s.do("emit_all", { event: "all", args: ["chat"] });
  for (const s of chatSenders) await s.do("broadcast", { event: "bc", args: ["chat", s.name] });
  await main[0].do("emit_all", { event: "all", args: ["main"] });
  await waitCounts(chat, "all", chatSenders.length);
  await waitCounts(main, "all", 1);
  for (const c of chat) assert.equal(c.got("bc").length, chatSenders.filter((s) => s !== c).length, `${c}: broadcasts ${show(c.got("bc"))}`);
  assertNone(main, "bc");
  for (const c of chat) assert.ok(c.got("all").every((a) => a[0] === "chat"), `${c}: ${show(c.got("all"))}`);
  for (const c of main) assert.deepEqual(withoutOffset(c.got("all")[0], 1), ["main"], `${c}: ${show(c.got("all"))}`);

  ctx.step("fetch lists the sockets of its namespace only, from every node");
  const mainIds = new Set(main.map((c) => c.id));
  for (const asker of chat.filter((c, i) => i % 2 === 1)) {
    const inRoom = await asker.ask("fetch", { room });
    assert.deepEqual(
      inRoom.map((e) => e.id),
      chat.map((c) => c.id).sort(codeUnitOrder),
      `fetch of ${room} in /chat from ${asker}`,
    );
    const all = await asker.ask("fetch", { room: null });
    assert.ok(!all.some((e) => mainIds.has(e.id)), `fetch of /chat from ${asker} lists sockets of /: ${show(all)}`);
  }
  for (const asker of main) {
    const inRoom = await asker.ask("fetch", { room });
    assert.deepEqual(
      inRoom.map((e) => e.id),
      main.map((c) => c.id).sort(codeUnitOrder),
      `fetch of ${room} in / from ${asker}`,
    );
  }
};

/** An emitter of the nodes' Redis, closed with the scenario. */
async function emitterOf(ctx) {
  requireRedis("the emitter");
  if (ADAPTER !== "redis") throw new Error(`the emitter works with ADAPTER=redis only (ADAPTER=${ADAPTER})`);
  return new Emitter(await redisClient(ctx));
}

scenarios.emitter = async (ctx) => {
  const room = `em-${rand()}`;
  const emitter = await emitterOf(ctx);
  ctx.step("clients of / and /chat on every node");
  const members = await ctx.connectEach(1, { name: "member" });
  const others = await ctx.connectEach(1, { name: "other" });
  const chat = await ctx.connectEach(1, { nsp: "/chat", name: "chat" });
  await ctx.join(members, room);
  await ctx.join(chat, room);
  const everyoneInMain = [...members, ...others];

  ctx.step("an emit to a room, with binary");
  const roomArgs = ["to the room", Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) }];
  emitter.to(room).emit("em-room", ...roomArgs);
  await waitCounts(members, "em-room", 1);
  for (const c of members) assertArgs(c.got("em-room")[0], roomArgs, `${c}: the emitter's room emit`);
  assertNone([...others, ...chat], "em-room");

  ctx.step("a namespace-wide emit");
  emitter.emit("em-all", "everyone", Buffer.from([5]));
  await waitCounts(everyoneInMain, "em-all", 1);
  for (const c of everyoneInMain) assertArgs(c.got("em-all")[0], ["everyone", Buffer.from([5])], `${c}: the emitter's emit`);
  assertNone(chat, "em-all");

  ctx.step("an emit to a room except another, and several emits in order");
  const except = `ex-${rand()}`;
  await ctx.join([members[0]], except);
  emitter.to(room).except(except).emit("em-except", 1);
  for (let seq = 0; seq < 5; seq++) emitter.emit("em-seq", seq);
  await waitCounts(members.slice(1), "em-except", 1);
  assertNone([members[0], ...others, ...chat], "em-except");
  await waitCounts(everyoneInMain, "em-seq", 5);
  for (const c of everyoneInMain) {
    assert.deepEqual(c.got("em-seq").map((a) => a[0]), [0, 1, 2, 3, 4], `${c}: the emitter's emits in order`);
  }

  ctx.step("the /chat namespace");
  emitter.of("/chat").emit("em-chat", "chat");
  emitter.of("/chat").to(room).emit("em-chat-room", "chat room");
  await waitCounts(chat, "em-chat", 1);
  await waitCounts(chat, "em-chat-room", 1);
  assertNone(everyoneInMain, "em-chat");
  assertNone(everyoneInMain, "em-chat-room");
};

scenarios.emitter_requests = async (ctx) => {
  const room = `emr-${rand()}`;
  const added = `added-${rand()}`;
  const emitter = await emitterOf(ctx);
  ctx.step("clients on every node");
  const members = await ctx.connectEach(1, { name: "member" });
  const others = await ctx.connectEach(1, { name: "other" });
  const victims = await ctx.connectEach(1, { name: "victim" });
  await ctx.join(members, room);

  ctx.step("the emitter's socketsJoin, then a room emit from every node");
  emitter.in(room).socketsJoin(added);
  await sleep(APPLY_MS);
  for (const [i, c] of others.entries()) await c.do("to_room", { room: added, event: "added", args: [i] });
  await waitCounts(members, "added", others.length);
  assertNone([...others, ...victims], "added");

  ctx.step("the emitter's socketsLeave");
  emitter.in(members[0].id).socketsLeave(added);
  await sleep(APPLY_MS);
  await others[0].do("to_room", { room: added, event: "after-leave", args: [] });
  await waitCounts(members.slice(1), "after-leave", 1);
  assertNone([members[0]], "after-leave");

  ctx.step("the emitter's disconnectSockets of a socket on every node");
  for (const v of victims) emitter.in(v.id).disconnectSockets(true);
  await waitFor(() => victims.every((v) => v.disconnects.length > 0), 3_000, () => `every victim disconnected: ${victims.map((v) => `${v}: ${v.disconnects.join(",") || "connected"}`).join("; ")}`);
  assertServerDisconnected(victims);
  await sleep(SETTLE_MS);
  assertConnected([...members, ...others]);
};

scenarios.timeouts = async (ctx) => {
  requireRedis("timeouts");
  if (ADAPTER === "memory") throw new Error("timeouts needs a Redis adapter");
  ctx.step("a subscriber that never answers");
  const mute = await redisClient(ctx);
  const clients = await ctx.connectEach(1, { name: "asker" });
  if (ADAPTER === "sharded") await mute.sSubscribe("socket.io#/#", () => {});
  else await mute.subscribe("socket.io-request#/#", () => {});

  ctx.step("the server count counts it");
  for (const c of clients) assert.equal(await c.ask("server_count"), ctx.n + 1, `server_count from ${c} with a mute subscriber`);

  ctx.step("serverSideEmit and fetch from every node time out after about 5 s");
  const started = Date.now();
  const [sse, fetched] = await Promise.all([
    Promise.all(clients.map((c) => c.ask("server_side_emit", { args: ["t"] }))),
    Promise.all(clients.map((c) => c.ask("fetch", { room: null }))),
  ]);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 4_500 && elapsed < 7_500, `the timeouts took ${elapsed} ms (requests timeout 5,000 ms)`);
  sse.forEach((reply, i) => {
    const what = `server_side_emit from ${clients[i]} with a mute subscriber`;
    assert.deepEqual(Object.keys(reply ?? {}).sort(), ["answers", "error"], `${what}: ${show(reply)}`);
    const expected = clients.filter((_, j) => j !== i).map((c) => ({ node: c.nodeId, args: ["t"] }));
    assert.equal(typeof reply.error, "string", `${what}: error in ${show(reply)}`);
    assert.match(reply.error, new RegExp(`^timeout reached: only ${ctx.n - 1} responses received out of ${ctx.n}$`), `${what}: error`);
    assertSameAnswers(reply.answers, expected, what);
  });
  fetched.forEach((reply, i) => {
    const what = `fetch from ${clients[i]} with a mute subscriber`;
    assert.ok(reply && !Array.isArray(reply), `${what}: an {error}, got ${show(reply)}`);
    assert.deepEqual(Object.keys(reply), ["error"], `${what}: ${show(reply)}`);
    assert.match(reply.error, /time/i, `${what}: error`);
  });
};

scenarios.restart = async (ctx) => {
  const room = `restart-${rand()}`;
  ctx.step("clients on every node");
  const senders = await ctx.connectEach(1, { name: "sender" });
  const listeners = await ctx.connectEach(1, { name: "listener" });
  const everyone = [...senders, ...listeners];
  await ctx.join(listeners, room);

  ctx.step("broadcasts cross before the restart");
  for (const [i, s] of senders.entries()) await s.do("broadcast", { event: "before", args: [i] });
  for (const c of everyone) await waitCounts([c], "before", senders.filter((s) => s !== c).length);

  ctx.step("waiting for `go` on stdin (the caller restarts Redis)");
  const lines = createInterface({ input: process.stdin });
  const go = new Promise((resolve) => lines.on("line", (line) => line.trim() === "go" && resolve()));
  process.stdout.write("restart-ready\n");
  await withTimeout(go, 30_000, "`go` on stdin");
  lines.close();
  process.stdin.pause();
  process.stdin.destroy();
  const restartedAt = Date.now();

  ctx.step("broadcasts cross again (probes every 250 ms)");
  const crossed = () =>
    everyone.every((c) => senders.every((s, i) => s === c || c.got("probe").some((a) => a[0] === i)));
  for (let k = 0; !crossed(); k++) {
    if (Date.now() - restartedAt > 10_000) {
      const missing = everyone.flatMap((c) => senders.filter((s, i) => s !== c && !c.got("probe").some((a) => a[0] === i)).map((s) => `${s} -> ${c}`));
      throw new Error(`broadcasts do not cross 10 s after Redis came back: missing ${missing.join(", ")}`);
    }
    senders.forEach((s, i) => s.socket.emit("broadcast", { event: "probe", args: [i, k] }, () => {}));
    await sleep(250);
  }
  ctx.log(`broadcasts crossed again ${Date.now() - restartedAt} ms after Redis came back`);

  ctx.step("exactly once, in order, after the restart");
  const K = 5;
  const sends = [];
  for (let seq = 0; seq < K; seq++) senders.forEach((s, i) => sends.push(s.do("broadcast", { event: "after", args: [i, seq] })));
  await Promise.all(sends);
  for (const c of everyone) await waitCounts([c], "after", senders.filter((s) => s !== c).length * K);
  for (const c of everyone) {
    senders.forEach((s, i) => {
      if (s === c) return;
      assert.deepEqual(c.got("after").filter((a) => a[0] === i).map((a) => a[1]), [...Array(K).keys()], `${c}: broadcasts of ${s} after the restart`);
    });
  }

  ctx.step("room emits, fetch and server count after the restart");
  for (const [i, s] of senders.entries()) await s.do("to_room", { room, event: "room-after", args: [i] });
  await waitCounts(listeners, "room-after", senders.length);
  for (const s of senders) {
    const inRoom = await s.ask("fetch", { room });
    assert.deepEqual(
      Array.isArray(inRoom) ? inRoom.map((e) => e.id) : inRoom,
      listeners.map((c) => c.id).sort(codeUnitOrder),
      `fetch of the room from ${s} after the restart`,
    );
    assert.equal(await s.ask("server_count"), ctx.n, `server_count from ${s} after the restart`);
  }

  ctx.step("no client was disconnected");
  assertConnected(everyone);
};

// ---------------------------------------------------------------------------------------------
// Runner

const BOUNDS_MS = { timeouts: 15_000, restart: 45_000 };
const DEFAULT_BOUND_MS = 12_000;
const NOT_IN_ALL = new Set(["timeouts", "restart"]);

async function runScenario(name, urls) {
  const ctx = makeContext(name, urls);
  const started = Date.now();
  const bound = BOUNDS_MS[name] ?? DEFAULT_BOUND_MS;
  let timer;
  const overall = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario bound of ${bound / 1000} s exceeded`)), bound);
  });
  const body = scenarios[name](ctx);
  body.catch(() => {}); // reported through the race below
  let failure = null;
  try {
    await Promise.race([body, overall]);
  } catch (err) {
    failure = err;
  } finally {
    clearTimeout(timer);
  }
  const step = ctx.currentStep;
  while (ctx.cleanups.length) {
    try {
      await ctx.cleanups.pop()();
    } catch (err) {
      ctx.log("cleanup error:", err?.message ?? err);
    }
  }
  if (failure) {
    process.stdout.write(`FAIL ${name} (step: ${step}): ${formatError(failure)}\n`);
    return false;
  }
  ctx.log(`passed in ${Date.now() - started} ms`);
  process.stdout.write(`ok ${name}\n`);
  return true;
}

function usage(message) {
  process.stdout.write(
    `FAIL usage: ${message}\n  node suite.mjs <scenario>[,<scenario>...|all] <node url>...\n  scenarios: ${Object.keys(scenarios).join(", ")}\n`,
  );
  process.exit(1);
}

const [spec, ...urlArgs] = process.argv.slice(2);
if (!spec) usage("no scenario");
const names = spec === "all" ? Object.keys(scenarios).filter((s) => !NOT_IN_ALL.has(s) && !(ADAPTER !== "redis" && s.startsWith("emitter"))) : spec.split(",");
for (const name of names) if (!scenarios[name]) usage(`unknown scenario ${name}`);
if (!urlArgs.length) usage("no node url");
const urls = urlArgs.map((u) => {
  try {
    return new URL(u).origin;
  } catch {
    return usage(`not a url: ${u}`);
  }
});

process.on("unhandledRejection", (err) => console.error("unhandled rejection:", formatError(err)));
let failed = 0;
for (const name of names) {
  if (!(await runScenario(name, urls))) failed++;
  // Let the nodes see the scenario's clients go before the next one starts.
  await sleep(100);
}
process.exit(failed ? 1 : 0);
