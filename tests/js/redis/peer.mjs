// A Node peer for the Rust tests of the Redis wire codec (tests/redis_wire.rs): one socket.io 4.8
// server with @socket.io/redis-adapter 8.3 on the given Redis, and one socket.io-client client
// on it, in the room "room1".
//
//   node tests/js/redis/peer.mjs <redis url> classic|sharded
//
// It prints one JSON object a line on stdout:
//   {"ready": {"uid": <adapter uid of "/">, "sid": <the client's id>}}
//   {"client": [event, ...args]}         every event the client receives (binary as {"$bin": base64})
//   {"serverSideEmit": [event, ...args]} the server-side emits "hello-servers" the server receives
// A server-side emit "broadcast-back" makes the server broadcast its arguments to the room
// "room9" (event "back"), so that the test reads what Node publishes for them.
// The client acknowledges every event that asks for it with {"got": <first argument>}; the server
// acknowledges the server-side emit "question" with "answer to <first argument>".
// It exits when its standard input closes, or after 30 s.

import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const [url, flavour] = process.argv.slice(2);
const print = (object) => process.stdout.write(JSON.stringify(object) + "\n");
const plain = (value) => {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $bin: Buffer.from(value).toString("base64") };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
};

const pub = createClient({ url });
const sub = pub.duplicate();
pub.on("error", () => {});
sub.on("error", () => {});
await Promise.all([pub.connect(), sub.connect()]);
const adapter = flavour === "sharded" ? createShardedAdapter(pub, sub) : createAdapter(pub, sub);
const http = createServer();
const io = new Server(http, { adapter });
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
io.on("connection", (socket) => {
  socket.data = { peer: "node" };
  socket.join("room1");
});
io.on("question", (arg, ack) => ack(`answer to ${arg}`));
io.on("hello-servers", (...args) => print({ serverSideEmit: ["hello-servers", ...args.map(plain)] }));
// sends the arguments back through the adapter, as a broadcast to the room "room9"
io.on("broadcast-back", (...args) => io.to("room9").emit("back", ...args));

const client = ioc(`http://127.0.0.1:${http.address().port}`, { transports: ["websocket"] });
client.onAny((event, ...args) => {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
  print({ client: [event, ...args.map(plain)] });
  if (ack) ack({ got: args[0] });
});
await new Promise((resolve) => client.on("connect", resolve));
// the room's subscription (sharded, "dynamic") is on its way: give it a moment
await new Promise((resolve) => setTimeout(resolve, 200));
print({ ready: { uid: io.of("/").adapter.uid, sid: client.id } });

const quit = () => {
  client.disconnect();
  io.close();
  Promise.allSettled([pub.quit(), sub.quit()]).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000);
};
process.stdin.on("end", quit);
process.stdin.resume();
setTimeout(quit, 30_000);
