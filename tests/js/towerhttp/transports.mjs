// socket.io-client 4.x against an app wrapped in tower-http middlewares (tests/it/tower_http.rs):
// the same exchange over each way of connecting, which the middlewares must all leave working.
//   node transports.mjs <base-url> [compressed]
// For each of: the default transports (XHR long-polling, then the upgrade to WebSocket, waited
// for), WebSocket only, XHR long-polling only (Node's XMLHttpRequest sends no Accept-Encoding),
// and long-polling over fetch() (which sends `Accept-Encoding: gzip, deflate` and decodes):
// connect, get `welcome`, then `big` with N acknowledged with a string of N characters (UTF-8,
// several bytes each) and a `big` event carrying the same, compared character for character.
// With `compressed`, at least one fetch() response must have come gzip- or deflate-encoded.
// The server's contract: `welcome` on connection; `big` (N) acknowledged with bigString(N) and
// emitted back as event `big`; bigString(n) = "é€ socket.io " repeated and cut to n chars.
import assert from "node:assert/strict";
import { Fetch, NodeWebSocket, NodeXHR } from "engine.io-client";
import { scenario } from "../lib/harness.mjs";
import { clientV5, expectEvent, upgraded } from "../lib/sio.mjs";

const N = 20_000;
const bigString = (n) => "é€ socket.io ".repeat(Math.ceil(n / 13)).slice(0, n);

const encodings = [];
const originalFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const response = await originalFetch(...args);
  encodings.push(response.headers.get("content-encoding") ?? "none");
  return response;
};

await scenario(import.meta.url, async (t) => {
  const ways = [
    ["default (polling, then upgrade)", {}, "websocket"],
    ["websocket only", { transports: [NodeWebSocket] }, "websocket"],
    ["xhr polling only", { transports: [NodeXHR] }, "polling"],
    ["fetch polling only", { transports: [Fetch] }, "polling"],
  ];
  for (const [name, opts, transport] of ways) {
    t.step(`${name}: connect`);
    const socket = clientV5(t, opts);
    await expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"] });
    if (transport === "websocket") {
      t.step(`${name}: on websocket`);
      await upgraded(socket);
    }
    t.step(`${name}: a ${N}-character string both ways`);
    const event = expectEvent(socket, "big", { failOn: ["disconnect"] });
    const answer = await socket.timeout(5_000).emitWithAck("big", N);
    const [pushed] = await event;
    assert.equal(answer.length, N, `${name}: the ack's length`);
    assert.ok(answer === bigString(N), `${name}: the ack's text`);
    assert.ok(pushed === bigString(N), `${name}: the event's text`);
    assert.equal(socket.io.engine.transport.name, transport, `${name}: transport in use`);
    socket.close();
  }
  if (process.argv[3] === "compressed") {
    t.step("compressed fetch responses");
    assert.ok(
      encodings.some((e) => e === "gzip" || e === "deflate"),
      `a compressed fetch() response, got encodings ${JSON.stringify(encodings)}`,
    );
  }
});
