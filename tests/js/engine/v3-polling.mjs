// v3 client (engine.io-client 3.5), HTTP long-polling only. Text, non-ASCII text
// and binary (Buffer and ArrayBuffer) are echoed in order:
//  1. default client with XHR2 (as in a browser; see lib/xhr2.mjs): binary travels as XHR2 binary payloads (application/octet-stream)
//     in both directions;
//  2. forceBase64: true: every payload is text, binary travels base64-encoded (b4...).
import assert from "node:assert/strict";
import { scenario, sleep, isBinary, toBuffer, describe } from "../lib/harness.mjs";
import { openSocket, collectMessages, closeSocket, useXhr2ForV3, requireV3 } from "../lib/eio.mjs";

// as in a browser: XHR2, so binary can travel in binary polling payloads
useXhr2ForV3();
const XHR = requireV3("lib/transports/polling-xhr.js");

// record every polling payload that goes over the wire
const wire = { out: [], in: [] };
const { doWrite, onData } = XHR.prototype;
XHR.prototype.doWrite = function (data, fn) {
  wire.out.push(data);
  return doWrite.call(this, data, fn);
};
XHR.prototype.onData = function (data) {
  wire.in.push(data);
  return onData.call(this, data);
};

const buf = Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff]);
const ab = new Uint8Array([0x04, 0x80, 0x0a, 0x3a, 0x1e]).buffer;
const SENT = ["hello", "é€😀", buf, ab, "bye:", "€"];

async function roundTrip(t, label, opts) {
  wire.out.length = 0;
  wire.in.length = 0;
  t.step(`${label}: connect over polling`);
  const socket = await openSocket(t, 3, { transports: ["polling"], ...opts });
  assert.equal(socket.transport.name, "polling", `${label}: transport after open`);
  const echoes = collectMessages(socket);

  t.step(`${label}: send text, non-ASCII text, Buffer, ArrayBuffer`);
  for (const m of SENT) socket.send(m);
  await echoes.until(SENT.length, 4_000);
  await sleep(200);

  const got = echoes.data;
  assert.equal(got.length, SENT.length, `${label}: no duplicated echo`);
  SENT.forEach((m, i) => {
    if (typeof m === "string") {
      assert.equal(got[i], m, `${label}: echo #${i + 1}`);
    } else {
      assert.ok(isBinary(got[i]), `${label}: echo #${i + 1} should be binary, got ${describe(got[i])}`);
      assert.deepEqual(toBuffer(got[i]), toBuffer(m), `${label}: echo #${i + 1} bytes`);
    }
  });
  for (const m of echoes.messages) assert.equal(m.transport, "polling", `${label}: transport while receiving`);
  const result = { supportsBinary: socket.transport.supportsBinary, out: [...wire.out], in: [...wire.in] };
  await closeSocket(socket);
  return result;
}

await scenario(import.meta.url, async (t) => {
  // 1. XHR2 binary payloads
  const xhr2 = await roundTrip(t, "XHR2 binary", {});
  t.step("XHR2 binary: wire format");
  assert.equal(xhr2.supportsBinary, true, "the default polling transport should use binary payloads");
  assert.ok(xhr2.out.some(isBinary), "at least one POST body should be a binary payload");
  assert.ok(xhr2.in.some(isBinary), `at least one GET response should be a binary payload; got ${xhr2.in.map(describe).join(" | ")}`);

  // 2. base64 in text payloads
  const b64 = await roundTrip(t, "forceBase64", { forceBase64: true });
  t.step("forceBase64: wire format");
  assert.equal(b64.supportsBinary, false, "forceBase64 transport should not use binary payloads");
  assert.ok(b64.out.every((d) => typeof d === "string"), "every POST body should be text");
  assert.ok(b64.in.every((d) => typeof d === "string"), `every GET response should be text; got ${b64.in.map(describe).join(" | ")}`);
  assert.ok(b64.out.some((d) => /:b4/.test(d)), "binary should be sent base64-encoded (b4...)");
  assert.ok(b64.in.some((d) => /:b4/.test(d)), `binary should be received base64-encoded (b4...); got ${b64.in.map(describe).join(" | ")}`);
});
