// A Node node of a streams cluster for the Rust tests (tests/it/redis_streams.rs): one socket.io
// 4.8 server with @socket.io/redis-streams-adapter 0.3.1 and connection state recovery
// (maxDisconnectionDuration 30 s, middlewares skipped) on the given Redis.
//
//   node tests/js/redis/streams-node.mjs <redis url>
//
// It prints {"ready": {"port": <port>}} on stdout once it listens on 127.0.0.1.
// On connection a socket that was not recovered joins "room1" and gets the data {"node": true};
// every socket gets "hello" {"node": "node", "id": <id>, "recovered": <bool>}.
// Events (each answered through its acknowledgement):
//   "to_room" {room, event, args, binary?} -> io.to(room).emit(event, ...args) (with a Buffer of
//            the bytes `binary` appended when given), answered true;
//   "state"  -> [rooms sorted, data, recovered];
//   "fetch"  -> the ids of io.fetchSockets(), sorted (or {error});
//   "sse"    -> io.serverSideEmit("ping", "from node", cb): {error, answers};
//   "ask"    -> io.timeout(2000).emit("question", "from node", cb): {error, answers}.
// The server-side emit "question" is answered "answer to <first argument>".
// It exits when its standard input closes, or after 60 s.

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";

const [url] = process.argv.slice(2);
const print = (object) => process.stdout.write(JSON.stringify(object) + "\n");

const redis = createClient({ url });
redis.on("error", () => {});
await redis.connect();
const http = createServer();
const io = new Server(http, {
  adapter: createAdapter(redis),
  connectionStateRecovery: { maxDisconnectionDuration: 30_000, skipMiddlewares: true },
});
io.on("connection", (socket) => {
  if (!socket.recovered) {
    socket.join("room1");
    socket.data = { node: true };
  }
  socket.emit("hello", { node: "node", id: socket.id, recovered: socket.recovered });
  socket.on("to_room", ({ room, event, args, binary }, ack) => {
    const extra = binary ? [Buffer.from(binary)] : [];
    io.to(room).emit(event, ...args, ...extra);
    ack(true);
  });
  socket.on("state", (ack) => ack([[...socket.rooms].sort(), socket.data, socket.recovered]));
  socket.on("fetch", (ack) =>
    io.fetchSockets().then(
      (sockets) => ack(sockets.map((s) => s.id).sort()),
      (error) => ack({ error: error.message }),
    ),
  );
  socket.on("sse", (ack) =>
    io.serverSideEmit("ping", "from node", (error, answers) =>
      ack({ error: error ? error.message : null, answers }),
    ),
  );
  socket.on("ask", (ack) =>
    io.timeout(2000).emit("question", "from node", (error, answers) =>
      ack({ error: error ? error.message : null, answers }),
    ),
  );
});
io.on("question", (arg, cb) => cb(`answer to ${arg}`));
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
print({ ready: { port: http.address().port } });

const quit = () => {
  io.close();
  redis.quit().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000);
};
process.stdin.on("end", quit);
process.stdin.resume();
setTimeout(quit, 60_000);
