// The bench server contract (see bench/src/bin/loadgen.rs) with the Node socket.io server, default
// options except the port: `ack` is acknowledged with its arguments; `join` R joins room R and
// acknowledges; `fanout` M emits `tick` M times to every socket of `/`; `rooms` [R...] emits
// `tick` i to the i-th room.
const { createServer } = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);
const httpServer = createServer();
const io = new Server(httpServer);

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

httpServer.listen(port, "127.0.0.1");
