// Connects the official socket.io-client 4 to a running example and checks what it does.
// Usage: node smoke.mjs <base-url> <hello|auth|state> [http-path expected-body-substring]
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const [base, mode, path, expected] = process.argv.slice(2);
const overall = setTimeout(() => { console.log(`FAIL ${mode}: overall timeout`); process.exit(1); }, 15_000);
const sockets = [];
const connect = (opts = {}) => {
  const socket = io(base, { reconnection: false, forceNew: true, ...opts });
  sockets.push(socket);
  return socket;
};
const connected = (socket) => new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("connect_error", reject);
});

try {
  if (mode === "hello") {
    for (const transports of [["websocket"], ["polling"]]) {
      const socket = connect({ transports });
      await connected(socket);
      assert.equal(await socket.timeout(3000).emitWithAck("hello", "tester"), "Hello, tester!");
    }
  } else if (mode === "auth") {
    const anonymous = connect();
    await assert.rejects(connected(anonymous), /not authenticated/);
    const wrong = connect({ auth: { token: "guess" } });
    const err = await connected(wrong).then(() => null, (e) => e);
    assert.equal(err?.message, "invalid token");
    assert.deepEqual(err?.data, { retry: false });
    const byPayload = connect({ auth: { token: "letmein" } });
    await connected(byPayload);
    assert.equal(await byPayload.timeout(3000).emitWithAck("hello"), "Hello, ada!");
    const byCookie = connect({ transports: ["websocket"], extraHeaders: { cookie: "theme=dark; session=letmein" } });
    await connected(byCookie);
    assert.equal(await byCookie.timeout(3000).emitWithAck("hello"), "Hello, ada!");
  } else if (mode === "state") {
    const a = connect(), b = connect();
    await Promise.all([connected(a), connected(b)]);
    assert.equal(await a.timeout(3000).emitWithAck("visit"), 1);
    assert.equal(await b.timeout(3000).emitWithAck("visit"), 2);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  if (path) {
    const response = await fetch(base + path);
    const body = await response.text();
    assert.equal(response.status, 200, `GET ${path}`);
    assert.ok(body.includes(expected), `GET ${path}: ${JSON.stringify(body)} should contain ${JSON.stringify(expected)}`);
  }
  console.log(`ok ${mode}`);
} catch (err) {
  console.log(`FAIL ${mode}: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  clearTimeout(overall);
  for (const socket of sockets) socket.close();
}
