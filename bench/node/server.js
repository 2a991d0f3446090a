// The bench server contract (see bench/src/bin/loadgen.rs) with the Node socket.io server, default
// options except the port: `ack` is acknowledged with its arguments; `join` R joins room R and
// acknowledges; `fanout` M emits `tick` M times to every socket of `/`; `rooms` [R...] emits
// `tick` i to the i-th room.
//
// ADAPTER=redis (with REDIS_URL, default redis://127.0.0.1:6379) makes it one node of a cluster on
// @socket.io/redis-adapter 8.3 (createAdapter, default options) over two `redis` 4 clients, as
// its README sets it up: the cluster scenarios. Without it, the in-memory adapter.
//
// PARSER=msgpack gives the server socket.io-msgpack-parser 3.0.2 (`new Server({ parser })`, as its
// README sets it up); without it (or PARSER=default), the default parser.
const { createServer } = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);
const httpServer = createServer();
const parser = process.env.PARSER || "default";
if (parser !== "default" && parser !== "msgpack") {
  throw new Error(`PARSER=${parser}: default or msgpack`);
}
const io = new Server(
  httpServer,
  parser === "msgpack" ? { parser: require("socket.io-msgpack-parser") } : {},
);

io.on("connection", (socket) => {
  socket.on("ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack();
  });
  socket.on("fanout", (count) => {
    for (let i = 0; i < count; i++) io.emit("tick", i);
  });
  socket.on("rooms", (rooms) => {
    rooms.forEach((room, i) => io.to(room).emit("tick", i));
  });
});

async function main() {
  const adapter = process.env.ADAPTER || "memory";
  if (adapter === "redis") {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pubClient = createClient({ url: process.env.REDIS_URL || "redis://127.0.0.1:6379" });
    const subClient = pubClient.duplicate();
    await Promise.all([pubClient.connect(), subClient.connect()]);
    io.adapter(createAdapter(pubClient, subClient));
    // The adapter's subscriptions are sent first on the same connection: once this one is
    // confirmed, they are too, and the node hears the other one before it accepts clients.
    await subClient.subscribe("bench-ready", () => {});
  } else if (adapter !== "memory") {
    throw new Error(`ADAPTER=${adapter}: redis or memory`);
  }
  httpServer.listen(port, "127.0.0.1");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
