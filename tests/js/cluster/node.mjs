// The Node reference node of the cluster contract (shared docs: cluster-node.md), the twin of
// `examples/cluster_node.rs`: socket.io 4.8 with @socket.io/redis-adapter 8.3 on node-redis 4.
//
//   PORT=4001 REDIS_URL=redis://127.0.0.1:6379 ADAPTER=redis NODE_ID=a node tests/js/cluster/node.mjs
//
// Environment: PORT (3000), REDIS_URL (redis://127.0.0.1:6379), ADAPTER = redis (createAdapter,
// the default) | sharded (createShardedAdapter, subscription mode "dynamic") | memory (no Redis),
// NODE_ID (the port). Prints `listening <port>` once it accepts connections and its subscriptions
// are active. Namespaces `/` and `/chat` behave the same; the events and their answers are the
// contract's (see suite.mjs for what is checked). Exits on SIGTERM / SIGINT, or when Redis cannot
// be reached at start.

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import msgpackParser from "socket.io-msgpack-parser";

const PORT = Number(process.env.PORT || 3000);
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const ADAPTER = process.env.ADAPTER || "redis";
const NODE_ID = process.env.NODE_ID || String(PORT);
const REQUESTS_TIMEOUT = 5_000;
const NAMESPACES = ["/", "/chat"];

/** `list` sorted by the JSON text of its items (code-unit order). */
function sortedByJson(list) {
  return (list ?? [])
    .map((item) => [JSON.stringify(item), item])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, item]) => item);
}

const codeUnitOrder = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const callable = (ack) => (typeof ack === "function" ? ack : () => {});
const within = (nsp, room) => (room === null || room === undefined ? nsp : nsp.in(room));

let redisClients = [];
let adapter;
if (ADAPTER === "redis" || ADAPTER === "sharded") {
  const pub = createClient({ url: REDIS_URL });
  const sub = pub.duplicate();
  // A lost Redis is reported and retried by node-redis; never fatal.
  for (const [name, client] of [["pub", pub], ["sub", sub]]) {
    client.on("error", (err) => console.error(`[node ${NODE_ID}] redis ${name}: ${err.message}`));
  }
  await Promise.all([pub.connect(), sub.connect()]);
  redisClients = [pub, sub];
  adapter =
    ADAPTER === "sharded"
      ? createShardedAdapter(pub, sub, { channelPrefix: "socket.io", subscriptionMode: "dynamic" })
      : createAdapter(pub, sub, { key: "socket.io", requestsTimeout: REQUESTS_TIMEOUT });
} else if (ADAPTER !== "memory") {
  console.error(`ADAPTER=${ADAPTER} is not supported (redis, sharded, memory)`);
  process.exit(2);
}

const http = createServer();
const io = new Server(http, {
  cors: { origin: true, credentials: true },
  connectionStateRecovery: { maxDisconnectionDuration: 30_000, skipMiddlewares: true },
  ...(adapter ? { adapter } : {}),
  ...(process.env.PARSER === "msgpack" ? { parser: msgpackParser } : {}),
});

function setUp(nsp) {
  nsp.use((socket, next) => {
    if (socket.handshake.auth?.deny === true) next(new Error("denied"));
    else next();
  });

  nsp.on("connection", (socket) => {
    socket.emit("hello", { node: NODE_ID, id: socket.id, recovered: socket.recovered });

    socket.on("join", async (room, ack) => {
      await socket.join(room);
      callable(ack)(true);
    });
    socket.on("leave", async (room, ack) => {
      await socket.leave(room);
      callable(ack)(true);
    });
    socket.on("set_data", (data, ack) => {
      socket.data = data;
      callable(ack)(true);
    });
    socket.on("to_room", ({ room, event, args = [] } = {}, ack) => {
      within(nsp, room).emit(event, ...args);
      callable(ack)(true);
    });
    socket.on("broadcast", ({ event, args = [] } = {}, ack) => {
      socket.broadcast.emit(event, ...args);
      callable(ack)(true);
    });
    socket.on("emit_all", ({ event, args = [] } = {}, ack) => {
      nsp.emit(event, ...args);
      callable(ack)(true);
    });
    socket.on("emit_local", ({ event, args = [] } = {}, ack) => {
      nsp.local.emit(event, ...args);
      callable(ack)(true);
    });
    socket.on("fetch", async ({ room = null } = {}, ack) => {
      let reply;
      try {
        const sockets = await within(nsp, room).fetchSockets();
        reply = sockets
          .map((s) => ({ id: s.id, rooms: [...s.rooms].sort(codeUnitOrder), data: s.data }))
          .sort((a, b) => codeUnitOrder(a.id, b.id));
      } catch (err) {
        reply = { error: err?.message ?? String(err) };
      }
      callable(ack)(reply);
    });
    socket.on("sockets_join", ({ target = null, room } = {}, ack) => {
      within(nsp, target).socketsJoin(room);
      callable(ack)(true);
    });
    socket.on("sockets_leave", ({ target = null, room } = {}, ack) => {
      within(nsp, target).socketsLeave(room);
      callable(ack)(true);
    });
    socket.on("disconnect_sockets", ({ target = null } = {}, ack) => {
      // Answered first: the asking socket may be among the disconnected.
      callable(ack)(true);
      within(nsp, target).disconnectSockets(true);
    });
    socket.on("server_side_emit", ({ args = [] } = {}, ack) => {
      const answer = callable(ack);
      if (!adapter) {
        // The in-memory adapter has no other node to ask (and would never call back).
        answer({ error: null, answers: [] });
        return;
      }
      nsp.serverSideEmit("sse", ...args, (err, responses) => {
        answer({ error: err ? err.message : null, answers: sortedByJson(responses) });
      });
    });
    socket.on("ask_room", ({ room, question, timeout } = {}, ack) => {
      const answer = callable(ack);
      within(nsp, room)
        .timeout(timeout)
        .emit("question", question, (err, responses) => {
          answer({ error: err ? err.message : null, answers: sortedByJson(responses) });
        });
    });
    socket.on("server_count", async (ack) => {
      callable(ack)(await nsp.adapter.serverCount());
    });
  });

  // A server-side emit from another node (or an emitter, which asks no answer).
  nsp.on("sse", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack({ node: NODE_ID, args });
  });
}

for (const name of NAMESPACES) setUp(io.of(name));

// The adapters subscribed in their constructors without waiting: one more subscription on the same
// connection, answered after theirs, says they are active.
if (redisClients.length) {
  const sub = redisClients[1];
  const probe = `cluster-node-ready#${NODE_ID}#${process.pid}`;
  if (ADAPTER === "sharded") {
    await sub.sSubscribe(probe, () => {});
    await sub.sUnsubscribe(probe);
  } else {
    await sub.subscribe(probe, () => {});
    await sub.unsubscribe(probe);
  }
}

await new Promise((resolve, reject) => {
  http.once("error", reject);
  http.listen(PORT, "127.0.0.1", resolve);
});
process.stdout.write(`listening ${PORT}\n`);

const quit = () => {
  io.close();
  Promise.allSettled(redisClients.map((c) => c.disconnect())).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000).unref();
};
process.on("SIGTERM", quit);
process.on("SIGINT", quit);
