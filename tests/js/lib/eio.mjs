// Engine.IO client helpers: v4 = engine.io-client 6.x, v3 = engine.io-client 3.5.x.

import { createRequire } from "node:module";
import { Socket as SocketV4 } from "engine.io-client";
import { withTimeout, describe } from "./harness.mjs";
import { NodeXhr2 } from "./xhr2.mjs";

export { SocketV4 };

// engine.io-client 3.5 is CommonJS; it is loaded lazily so that useXhr2ForV3()
// can run before its polling transport probes for XHR2 support.
const require = createRequire(import.meta.url);
let v3Loaded = false;

/** require() a module of engine.io-client 3.5, e.g. requireV3("lib/transports/polling-xhr.js"). */
export function requireV3(sub = "") {
  v3Loaded = true;
  return require(sub ? `engine.io-client-v3/${sub}` : "engine.io-client-v3");
}

/**
 * Makes engine.io-client 3.5 use binary (XHR2) polling payloads, as it does in a
 * browser. Under Node it only has xmlhttprequest-ssl 1.x, which has no
 * responseType, so it falls back to base64 (b64=1). We give it a small
 * XMLHttpRequest over node:http with responseType 'arraybuffer' instead.
 * Must be called before any v3 module is loaded.
 */
export function useXhr2ForV3() {
  if (v3Loaded) throw new Error("useXhr2ForV3() must be called before engine.io-client 3.5 is loaded");
  const filename = require.resolve("engine.io-client-v3/lib/transports/xmlhttprequest.js");
  require.cache[filename] = { id: filename, filename, loaded: true, exports: NodeXhr2, children: [], paths: [] };
}

export function createV3Socket(...args) {
  const eio = requireV3();
  const Ctor = eio.Socket ?? eio;
  return new Ctor(...args);
}

export const EIO_PATH = "/engine.io/";

/** engine.io-client errors keep the transport's own error in `description`. */
export function errorText(err) {
  const d = err?.description;
  const inner = d?.message ?? d?.error?.message ?? (typeof d === "string" || typeof d === "number" ? String(d) : "");
  return `${err?.message ?? err}${inner ? ` (${inner})` : ""}`;
}

/**
 * Opens a socket and resolves once it emitted 'open'. Rejects on 'error' or
 * 'close' before that. The socket is closed by the scenario cleanup.
 */
export async function openSocket(t, version, opts = {}, ms = 5_000) {
  const opts2 = { path: EIO_PATH, ...opts };
  const socket = version === 3 ? createV3Socket(t.base, opts2) : new SocketV4(t.base, opts2);
  t.defer(() => closeSocket(socket));
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", (err) => reject(new Error(`socket error before open: ${errorText(err)}`)));
      socket.once("close", (reason) => reject(new Error(`socket closed before open: ${reason}`)));
    }),
    ms,
    `v${version} socket 'open' (transports ${JSON.stringify(opts.transports ?? "default")})`,
  );
  return socket;
}

/** Closes the socket (if not already closed) and waits for its 'close' event. */
export async function closeSocket(socket, ms = 2_000) {
  if (socket.readyState === "closed") return;
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.close();
  await withTimeout(closed, ms, "socket 'close' after close()").catch(() => {});
}

/**
 * Records every 'message' of `socket` with the transport it arrived on.
 * `until(n, ms, what)` resolves when at least n messages were received.
 */
export function collectMessages(socket) {
  const messages = [];
  let waiter = null;
  let closedWith = null;
  socket.once("close", (reason, description) => {
    closedWith = `${reason}${description?.message ? ` (${description.message})` : ""}`;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.reject(new Error(`socket closed while waiting: ${closedWith}`));
    }
  });
  socket.on("message", (data) => {
    messages.push({ data, transport: socket.transport?.name });
    if (waiter && messages.length >= waiter.n) {
      const w = waiter;
      waiter = null;
      w.resolve();
    }
  });
  return {
    messages,
    get data() {
      return messages.map((m) => m.data);
    },
    until(n, ms, what = `${n} echoed message(s)`) {
      if (messages.length >= n) return Promise.resolve();
      const p = new Promise((resolve, reject) => {
        if (closedWith) reject(new Error(`socket already closed: ${closedWith}`));
        else waiter = { n, resolve, reject };
      });
      return withTimeout(p, ms, what).catch((err) => {
        waiter = null;
        const got = messages.length;
        const last = got ? `; last: ${describe(messages[got - 1].data)}` : "";
        throw new Error(`${err.message} (received ${got}${last})`);
      });
    },
  };
}

/** Records 'close' events: resolves `closed` with { reason, at } (ms since `since`). */
export function watchClose(socket, since = Date.now()) {
  let resolveClose;
  const closed = new Promise((resolve) => {
    resolveClose = resolve;
  });
  const state = { closed, reason: null, at: null };
  socket.once("close", (reason, description) => {
    state.reason = reason;
    state.at = Date.now() - since;
    state.description = description;
    resolveClose(state);
  });
  return state;
}
