// Headless Chromium loads a page using the MessagePack bundle the server serves
// (`/socket.io/socket.io.msgpack.min.js`), connects to a server using the MessagePack parser,
// emits binary with an acknowledgement and receives the server's binary event.
// Usage: node msgpack.mjs <base-url> <transports|default>
import assert from "node:assert/strict";
import { launchChromium } from "../lib/chromium.mjs";

const [base, transports = "default"] = process.argv.slice(2);
const overall = setTimeout(() => { console.log("FAIL msgpack-browser: overall timeout"); process.exit(1); }, 60_000);

const browser = await launchChromium();
let step = "start";
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(10_000);
  step = "the page loads the served msgpack bundle";
  await page.goto(`${base}/`);
  await page.waitForFunction(() => typeof window.io === "function");

  step = "connect, emit binary with an ack, receive binary";
  const result = await page.evaluate(async (transports) => {
    const opts = transports === "default" ? {} : { transports: [transports] };
    const socket = window.io({ ...opts, auth: { name: "chromium" } });
    const welcome = await new Promise((resolve, reject) => {
      socket.once("welcome", resolve);
      socket.once("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
    });
    const answer = await new Promise((resolve) =>
      // ArrayBuffers: the browser build of notepack.io writes a typed array as an object of
      // its indices, an ArrayBuffer as `bin`.
      socket.emit("sum", new Uint8Array([1, 2, 3]).buffer, { more: new Uint8Array([4]).buffer }, resolve));
    const pushed = await new Promise((resolve) => {
      socket.once("bytes", (data, nested) => resolve([
        data instanceof ArrayBuffer, [...new Uint8Array(data)], [...new Uint8Array(nested.inner)],
      ]));
      socket.emit("send-bytes");
    });
    const transport = socket.io.engine.transport.name;
    socket.close();
    return { welcome, answer, pushed, transport };
  }, transports);
  assert.equal(result.welcome, "chromium", "the auth payload reached the server");
  assert.deepEqual(result.answer, { sum: 10, count: 2 }, "the server's acknowledgement");
  assert.deepEqual(result.pushed, [true, [9, 8], [7]], "the server's binary, an ArrayBuffer in place");
  if (transports !== "default") assert.equal(result.transport, transports);
  console.log(`ok msgpack-browser-${transports}`);
} catch (err) {
  console.log(`FAIL msgpack-browser (step: ${step}): ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  clearTimeout(overall);
  await browser.close();
}
