// Records the exact bytes that Node's Redis adapters and emitter publish, for the wire codec's
// fixtures (tests/fixtures/redis/, read by src/adapter/redis/wire.rs).
//
//   redis-server --port 6399 --save '' --appendonly no &
//   node tests/js/redis/capture.mjs redis://127.0.0.1:6399 tests/fixtures/redis
//
// Two socket.io 4.8 servers (A and B) share one Redis through @socket.io/redis-adapter 8.3, with
// socket.io-client clients on both; one operation after another runs on A (or on the emitter),
// and everything published meanwhile is written to <out>/<flavour>/<operation>.txt:
//
//   # what ran
//   meta <name> <value>      (server uids, socket ids, counts: what the test needs to check)
//   channel <channel>
//   hex <message bytes>
//   json <message text>      (only for JSON messages, for the reader)
//
// Flavours: classic (createAdapter), classic-specific (publishOnSpecificResponseChannel),
// sharded (createShardedAdapter, subscriptionMode "dynamic"), sharded-private ("dynamic-private"),
// emitter (@socket.io/redis-emitter 5.1 next to classic servers).

import { createServer } from "node:http";
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  console.error("usage: node capture.mjs <redis url> <output dir>");
  process.exit(2);
}
const SETTLE_MS = 300;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const versions = "socket.io 4.8.4, @socket.io/redis-adapter 8.3.0, @socket.io/redis-emitter 5.1.0, redis 4.7.1, notepack.io 3.0.1";

let closers = [];

async function closeAll() {
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch {}
  }
  closers = [];
  await sleep(100);
}

async function redisClient() {
  const client = createClient({ url });
  client.on("error", (err) => console.error("redis client error", err.message));
  await client.connect();
  closers.push(() => client.quit().catch(() => {}));
  return client;
}

/** A socket.io server with the adapter `make(pub, sub)` on a free port. */
async function server(name, make) {
  const pub = await redisClient();
  const sub = await redisClient();
  const http = createServer();
  const io = new Server(http, { adapter: make(pub, sub) });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const onConnection = (socket) => {
    const auth = socket.handshake.auth;
    socket.data = { name: auth.name, server: name };
    socket.join(auth.rooms || []);
  };
  io.on("connection", onConnection);
  io.of("/admin").on("connection", onConnection);
  // serverSideEmit listeners
  io.on("question", (arg, ack) => ack(`answer from ${name} to ${arg}`));
  io.on("hello-servers", () => {});
  closers.push(() => new Promise((resolve) => io.close(() => resolve())));
  return { name, io, pub, port: http.address().port, sockets: {} };
}

/** A client named `name` on `srv`, in `rooms`, that answers "ack-me". */
async function client(srv, name, rooms, nsp = "/") {
  const socket = ioc(`http://127.0.0.1:${srv.port}${nsp}`, {
    transports: ["websocket"],
    auth: { name, rooms },
  });
  socket.on("ack-me", (arg, ack) => ack({ from: name, got: arg }));
  await new Promise((resolve, reject) => {
    socket.on("connect", resolve);
    socket.on("connect_error", reject);
  });
  closers.push(() => socket.disconnect());
  srv.sockets[name] = socket.id;
  return socket;
}

/** Records every message on the recorder's subscriptions while `op` runs (and SETTLE_MS after). */
function recorder(sub) {
  let current = null;
  const listener = (message, channel) => {
    if (current) current.push({ channel: channel.toString(), message: Buffer.from(message) });
  };
  return {
    listener,
    async record(flavour, name, description, op, meta = {}) {
      current = [];
      const result = await op();
      await sleep(SETTLE_MS);
      const messages = current;
      current = null;
      const lines = [`# ${description}`, `# ${versions}`];
      for (const [key, value] of Object.entries({ ...meta, ...(result || {}) })) {
        lines.push(`meta ${key} ${value}`);
      }
      for (const { channel, message } of messages) {
        lines.push(`channel ${channel}`, `hex ${message.toString("hex")}`);
        if (message[0] === 0x7b) lines.push(`json ${message.toString()}`);
      }
      const dir = path.join(out, flavour);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${name}.txt`), lines.join("\n") + "\n");
      console.log(`${flavour}/${name}: ${messages.length} message(s)`);
      return messages;
    },
  };
}

/** The operations that every flavour runs on server A (B has the "remote" clients). */
async function operations(flavour, rec, A, B, meta) {
  const io = A.io;
  const r = (name, description, op) => rec.record(flavour, name, description, op, meta);
  await r("broadcast-all", 'io.emit("hello", "world")', () => {
    io.emit("hello", "world");
  });
  await r("broadcast-room", 'io.to("room1").emit("hello", 1, "two", { three: [3] })', () => {
    io.to("room1").emit("hello", 1, "two", { three: [3] });
  });
  await r(
    "broadcast-rooms-except",
    'io.to(["room1", "room2"]).except("room3").emit("hello")',
    () => {
      io.to(["room1", "room2"]).except("room3").emit("hello");
    },
  );
  await r("broadcast-flags", 'io.volatile.compress(false).emit("hello", "flags")', () => {
    io.volatile.compress(false).emit("hello", "flags");
  });
  await r("broadcast-local", 'io.local.emit("hello") (nothing published)', () => {
    io.local.emit("hello");
  });
  await r(
    "broadcast-from-socket",
    'socket.broadcast.emit("from-socket", "x") then socket.to("room1").emit("from-socket", "y"), socket a1 on A',
    () => {
      const socket = io.of("/").sockets.get(A.sockets.a1);
      socket.broadcast.emit("from-socket", "x");
      socket.to("room1").emit("from-socket", "y");
    },
  );
  await r(
    "broadcast-binary",
    'io.emit("bin", Buffer.from([1, 2, 3]), { nested: new Uint8Array([4, 5]), list: [Buffer.alloc(300, 7)] }, new ArrayBuffer(2))',
    () => {
      io.emit(
        "bin",
        Buffer.from([1, 2, 3]),
        { nested: new Uint8Array([4, 5]), list: [Buffer.alloc(300, 7)] },
        new ArrayBuffer(2),
      );
    },
  );
  await r(
    "broadcast-values",
    "io.emit with numbers, strings, undefined, Dates and large arrays and objects (notepack forms)",
    () => {
      const big = {};
      for (let i = 0; i < 16; i++) big[`k${i}`] = i;
      io.emit(
        "values",
        [0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2 ** 53],
        [-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -(2 ** 53)],
        [0.5, -1.25, 1e-7, 1.5e300, NaN, -0],
        ["", "a".repeat(31), "b".repeat(32), "c".repeat(255), "d".repeat(256), "é€😀"],
        [1, undefined, 2, null],
        { a: undefined, b: 1, c: null },
        [new Date(0), new Date(1700000000123), new Date(1700000000000)],
        Array.from({ length: 16 }, (_, i) => i),
        big,
        true,
        false,
      );
    },
  );
  await r("namespace", 'io.of("/admin").emit("hello", "admin"); io.of("/admin").to("r").emit("x")', () => {
    io.of("/admin").emit("hello", "admin");
    io.of("/admin").to("r").emit("x");
  });
  await r("fetch-sockets", "await io.fetchSockets()", async () => {
    const sockets = await io.fetchSockets();
    return { found: sockets.map((s) => s.id).sort().join(",") };
  });
  await r("fetch-sockets-rooms", 'await io.in("room1").except("room3").fetchSockets()', async () => {
    const sockets = await io.in("room1").except("room3").fetchSockets();
    return { found: sockets.map((s) => s.id).sort().join(",") };
  });
  await r("sockets-join", 'io.in("room1").socketsJoin(["room4", "room5"])', () => {
    io.in("room1").socketsJoin(["room4", "room5"]);
  });
  await r("sockets-leave", 'io.in("room4").socketsLeave("room4")', () => {
    io.in("room4").socketsLeave("room4");
  });
  await r("disconnect-sockets", 'io.in("nobody").except("room1").disconnectSockets(true)', () => {
    io.in("nobody").except("room1").disconnectSockets(true);
  });
  await r("disconnect-sockets-false", 'io.in("nobody").disconnectSockets()', () => {
    io.in("nobody").disconnectSockets();
  });
  await r("server-side-emit", 'io.serverSideEmit("hello-servers", "world", 1)', () => {
    io.serverSideEmit("hello-servers", "world", 1);
  });
  await r("server-side-emit-ack", 'await io.serverSideEmitWithAck("question", "q1")', async () => {
    const answers = await io.serverSideEmitWithAck("question", "q1");
    return { answers: JSON.stringify(answers) };
  });
  await r(
    "broadcast-ack",
    'await io.timeout(2000).emitWithAck("ack-me", "payload") (clients a1 on A, b1 b2 on B answer)',
    async () => {
      const answers = await io.timeout(2000).emitWithAck("ack-me", "payload");
      return { answers: answers.length };
    },
  );
  await r(
    "broadcast-ack-binary",
    'await io.to("room2").timeout(2000).emitWithAck("ack-me", Buffer.from([9])) (b2 answers)',
    async () => {
      const answers = await io.to("room2").timeout(2000).emitWithAck("ack-me", Buffer.from([9]));
      return { answers: answers.length };
    },
  );
  const remote = async () => (await io.fetchSockets()).find((s) => s.id === B.sockets.b1);
  const b1 = await remote();
  await r("remote-socket-emit", "remoteSocket.emit(\"direct\", 1), remote socket b1 on B", () => {
    b1.emit("direct", 1);
  });
  await r("remote-socket-join", 'remoteSocket.join("room6"); remoteSocket.leave("room6")', () => {
    b1.join("room6");
    b1.leave("room6");
  });
  await r(
    "remote-socket-emit-ack",
    'await remoteSocket.timeout(2000).emitWithAck("ack-me", "one")',
    async () => {
      const answer = await b1.timeout(2000).emitWithAck("ack-me", "one");
      return { answer: JSON.stringify(answer) };
    },
  );
}

/** Records the server count: `PUBSUB <command> <channel>` and the adapter's `serverCount()`. */
function serverCount(rec, flavour, A, [command, channel], meta, note = "") {
  return rec.record(flavour, "server-count", `PUBSUB ${command} ${channel} (no message${note})`, async () => {
    const reply = await A.pub.sendCommand(["PUBSUB", command, channel]);
    return { numsub: JSON.stringify(reply), serverCount: await A.io.of("/").adapter.serverCount() };
  }, meta);
}

/** Servers A and B with the adapter `make(pub, sub)`, their clients, and a recorder. */
async function cluster(make) {
  const A = await server("A", make);
  const B = await server("B", make);
  // the namespaces' adapters are all there once the clients are connected
  await client(A, "a1", ["room1"]);
  await client(B, "b1", ["room1", "room3"]);
  await client(B, "b2", ["room2"]);
  await client(B, "b3", [], "/admin");
  const sub = await redisClient();
  return { A, B, sub, rec: recorder(sub) };
}

async function classic(flavour, opts) {
  const { A, B, sub, rec } = await cluster((pub, sub) => createAdapter(pub, sub, opts));
  await sub.pSubscribe("*", rec.listener, true);
  const meta = {
    uidA: A.io.of("/").adapter.uid,
    uidB: B.io.of("/").adapter.uid,
    sidA1: A.sockets.a1,
    sidB1: B.sockets.b1,
    sidB2: B.sockets.b2,
  };
  await operations(flavour, rec, A, B, meta);
  if (flavour === "classic") {
    await rec.record(flavour, "all-rooms", "await io.of(\"/\").adapter.allRooms()", async () => {
      const rooms = await A.io.of("/").adapter.allRooms();
      return { rooms: [...rooms].sort().join(",") };
    }, meta);
    await serverCount(rec, flavour, A, ["NUMSUB", "socket.io-request#/#"], meta);
    const emitter = new Emitter(await redisClient());
    const r = (name, description, op) => rec.record("emitter", name, description, op, meta);
    await r("emit", 'emitter.emit("hello", "world")', () => {
      emitter.emit("hello", "world");
    });
    await r("emit-room-binary", 'emitter.to("room1").emit("bin", Buffer.from([1, 2]))', () => {
      emitter.to("room1").emit("bin", Buffer.from([1, 2]));
    });
    await r(
      "emit-flags",
      'emitter.to(["room1", "room2"]).except("room3").volatile.compress(false).emit("flags", 1)',
      () => {
        emitter.to(["room1", "room2"]).except("room3").volatile.compress(false).emit("flags", 1);
      },
    );
    await r("emit-namespace", 'emitter.of("admin").emit("hello", "admin")', () => {
      emitter.of("admin").emit("hello", "admin");
    });
    await r("sockets-join", 'emitter.socketsJoin("room7")', () => {
      emitter.socketsJoin("room7");
    });
    await r("sockets-leave", 'emitter.in("room1").socketsLeave(["room7"])', () => {
      emitter.in("room1").socketsLeave(["room7"]);
    });
    await r("disconnect-sockets", 'emitter.in("nobody").disconnectSockets(true)', () => {
      emitter.in("nobody").disconnectSockets(true);
    });
    await r("disconnect-sockets-default", "emitter.in(\"nobody\").disconnectSockets()", () => {
      emitter.in("nobody").disconnectSockets();
    });
    await r("server-side-emit", 'emitter.serverSideEmit("hello-servers", 1, "two")', () => {
      emitter.serverSideEmit("hello-servers", 1, "two");
    });
  }
  await sub.pUnsubscribe("*");
}

async function sharded(flavour, subscriptionMode) {
  const { A, B, sub, rec } = await cluster((pub, sub) =>
    createShardedAdapter(pub, sub, { subscriptionMode }),
  );
  const uidA = A.io.of("/").adapter.uid;
  const uidB = B.io.of("/").adapter.uid;
  const channels = [
    "socket.io#/#",
    `socket.io#/#${uidA}#`,
    `socket.io#/#${uidB}#`,
    "socket.io#/admin#",
    `socket.io#/admin#${A.io.of("/admin").adapter.uid}#`,
    `socket.io#/admin#${B.io.of("/admin").adapter.uid}#`,
    "socket.io#/admin#r#",
  ];
  for (const room of ["room1", "room2", "room3", "room4", "room5", "room6", "nobody"]) {
    channels.push(`socket.io#/#${room}#`);
  }
  for (const sid of Object.values({ ...A.sockets, ...B.sockets })) {
    channels.push(`socket.io#/#${sid}#`);
  }
  for (const channel of channels) {
    await sub.sSubscribe(channel, rec.listener, true);
  }
  // PUBSUB SHARDNUMSUB counts the recorder too: A must not wait for its answers
  for (const nsp of ["/", "/admin"]) {
    const adapter = A.io.of(nsp).adapter;
    const count = adapter.serverCount.bind(adapter);
    adapter.serverCount = async () => (await count()) - 1;
  }
  const meta = {
    uidA,
    uidB,
    sidA1: A.sockets.a1,
    sidB1: B.sockets.b1,
    sidB2: B.sockets.b2,
  };
  if (flavour === "sharded") {
    await operations(flavour, rec, A, B, meta);
    await serverCount(rec, flavour, A, ["SHARDNUMSUB", "socket.io#/#"], meta, "; the recorder is one of the subscribers");
  } else {
    const r = (name, description, op) => rec.record(flavour, name, description, op, meta);
    const b1 = (await A.io.fetchSockets()).find((s) => s.id === B.sockets.b1);
    await r("remote-socket-emit", 'remoteSocket.emit("direct", 1): its own channel in "dynamic-private"', () => {
      b1.emit("direct", 1);
    });
    await r("broadcast-room", 'io.to("room1").emit("hello")', () => {
      A.io.to("room1").emit("hello");
    });
  }
}

try {
  rmSync(out, { recursive: true, force: true });
  await classic("classic", {});
  await closeAll();
  await classic("classic-specific", { publishOnSpecificResponseChannel: true });
  await closeAll();
  await sharded("sharded", "dynamic");
  await closeAll();
  await sharded("sharded-private", "dynamic-private");
} catch (err) {
  console.error("FAIL capture:", err);
  process.exitCode = 1;
} finally {
  await closeAll();
  setTimeout(() => process.exit(process.exitCode ?? 0), 200);
}
