// Socket.IO client helpers for tests/js/socketio/*.mjs (socket.io-client 4.x for protocol v5,
// socket.io-client 2.5 for protocol v4), on top of harness.mjs.

import assert from "node:assert/strict";
import { io as ioV5 } from "socket.io-client";
import ioV2 from "socket.io-client-v2";
import { withTimeout, isBinary, toBuffer } from "./harness.mjs";

/** Printable rendering of event arguments: JSON, with binary shown as <Buffer 01 02>. */
export function show(value) {
  const seen = new Set();
  const render = (v) => {
    if (isBinary(v)) return `<${v.constructor?.name ?? "binary"} ${[...toBuffer(v)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}>`;
    if (v === undefined) return "undefined";
    if (v instanceof Error) return `Error(${JSON.stringify(v.message)}${v.data !== undefined ? `, data ${render(v.data)}` : ""})`;
    if (typeof v === "function") return "[function]";
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    if (seen.has(v)) return "[circular]";
    seen.add(v);
    const out = Array.isArray(v)
      ? `[${v.map(render).join(", ")}]`
      : `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${render(x)}`).join(", ")}}`;
    seen.delete(v);
    return out;
  };
  const text = render(value);
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

/**
 * Waits for one `event` on a socket (or manager/engine); resolves with its arguments.
 * Rejects after `ms`, or at once when one of the `failOn` events comes first (e.g.
 * "connect_error" or "disconnect" while waiting for "welcome"), naming what it got.
 */
export function expectEvent(emitter, event, { ms = 5_000, failOn = [], what = `'${event}'` } = {}) {
  return new Promise((resolve, reject) => {
    const listeners = [];
    const cleanup = () => {
      clearTimeout(timer);
      for (const [e, l] of listeners) emitter.off(e, l);
    };
    const on = (e, l) => {
      listeners.push([e, l]);
      emitter.on(e, l);
    };
    on(event, (...args) => {
      cleanup();
      resolve(args);
    });
    for (const bad of failOn) {
      on(bad, (...args) => {
        cleanup();
        reject(new Error(`got '${bad}' ${show(args)} while waiting for ${what}`));
      });
    }
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
  });
}

/** Fails if `event` fires on `emitter` within `ms`; resolves otherwise. */
export function expectNoEvent(emitter, event, ms, what = `'${event}'`) {
  return new Promise((resolve, reject) => {
    const listener = (...args) => {
      clearTimeout(timer);
      reject(new Error(`unexpected ${what}: ${show(args)}`));
    };
    emitter.once(event, listener);
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      resolve();
    }, ms);
  });
}

/** Emits `event` with `args` and an ack callback; resolves with the ack's arguments. */
export function emitAck(socket, event, args = [], ms = 5_000) {
  return withTimeout(
    new Promise((resolve) => socket.emit(event, ...args, (...answer) => resolve(answer))),
    ms,
    `the acknowledgement of '${event}'`,
  );
}

/**
 * Records every `event` on a socket (each entry: the argument list).
 * `until(n, ms)` resolves once n were received; rejects early on `disconnect`.
 */
export function collect(socket, event) {
  const got = [];
  let waiter = null;
  let disconnected = null;
  socket.on(event, (...args) => {
    got.push(args);
    if (waiter && got.length >= waiter.n) {
      const w = waiter;
      waiter = null;
      w.resolve();
    }
  });
  socket.on("disconnect", (reason) => {
    disconnected = reason;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.reject(new Error(`disconnected (${reason}) after ${got.length} '${event}' event(s)`));
    }
  });
  return {
    got,
    until(n, ms = 5_000, what = `${n} '${event}' event(s)`) {
      if (got.length >= n) return Promise.resolve();
      const p = new Promise((resolve, reject) => {
        if (disconnected) reject(new Error(`disconnected (${disconnected}) after ${got.length} '${event}' event(s)`));
        else waiter = { n, resolve, reject };
      });
      return withTimeout(p, ms, what).catch((err) => {
        waiter = null;
        const last = got.length ? `; last: ${show(got[got.length - 1])}` : "";
        throw new Error(`${err.message} (received ${got.length}${last})`);
      });
    },
  };
}

/** Asserts `value` is binary (Buffer / ArrayBuffer / typed array) holding exactly `bytes`. */
export function assertBytes(value, bytes, what) {
  assert.ok(isBinary(value), `${what}: expected binary data, got ${show(value)}`);
  assert.deepEqual([...toBuffer(value)], bytes, `${what}: bytes`);
}

/** Asserts a plain object has exactly the keys `keys` (in any order). */
export function assertKeys(value, keys, what) {
  assert.ok(value && typeof value === "object" && !Array.isArray(value) && !isBinary(value), `${what}: expected an object, got ${show(value)}`);
  assert.deepEqual(Object.keys(value).sort(), [...keys].sort(), `${what}: keys of ${show(value)}`);
}

/**
 * A socket.io-client 4 socket to `t.base + nsp`, isolated (forceNew) and without
 * reconnection unless `opts` says otherwise; closed by the scenario's cleanup.
 */
export function clientV5(t, opts = {}, nsp = "") {
  const socket = ioV5(t.base + nsp, { forceNew: true, reconnection: false, ...opts });
  t.defer(() => closeClient(socket));
  return socket;
}

/** A socket.io-client 2.5 socket, same defaults as clientV5. */
export function clientV2(t, opts = {}, nsp = "") {
  const socket = ioV2(t.base + nsp, { forceNew: true, reconnection: false, ...opts });
  t.defer(() => closeClient(socket));
  return socket;
}

/** Closes a socket and, through its Manager, the engine connection (when no other socket uses it). */
export function closeClient(socket) {
  socket.close();
}

/** Resolves once the socket's engine runs over WebSocket (waiting for the upgrade if needed). */
export async function upgraded(socket, ms = 5_000) {
  const engine = socket.io.engine;
  if (engine.transport?.name === "websocket") return;
  const [transport] = await expectEvent(engine, "upgrade", { ms, what: "the engine's 'upgrade' to websocket" });
  assert.equal(transport?.name, "websocket", "transport of the 'upgrade' event");
}

/**
 * The binary scenario shared by both client generations, over WebSocket only and polling only:
 * `echo` with buffers at the top level and nested in objects and arrays comes back with the
 * same bytes at the same places; `binary` brings the server's own buffers; the socket stays
 * usable. `makeClient(t, opts)` opens a client (clientV5 or clientV2); `connectFailures` are the
 * events that mean the connection failed.
 */
export async function binaryRoundTrips(t, makeClient, connectFailures) {
  for (const transport of ["websocket", "polling"]) {
    t.step(`${transport}: connect`);
    const socket = makeClient(t, { transports: [transport] });
    await expectEvent(socket, "welcome", { failOn: [...connectFailures, "disconnect"] });

    t.step(`${transport}: echo with nested buffers`);
    const echoed = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", Buffer.from([1, 2, 3]), { a: Buffer.from([4]), b: [Buffer.from([5, 6])] }, "text");
    const args = await echoed;
    const what = `${transport}: echo ${show(args)}`;
    assert.equal(args.length, 3, `${what}: 3 arguments`);
    assertBytes(args[0], [1, 2, 3], `${what}: argument 0`);
    assertKeys(args[1], ["a", "b"], `${what}: argument 1`);
    assertBytes(args[1].a, [4], `${what}: argument 1 .a`);
    assert.ok(Array.isArray(args[1].b) && args[1].b.length === 1, `${what}: argument 1 .b is an array of one`);
    assertBytes(args[1].b[0], [5, 6], `${what}: argument 1 .b[0]`);
    assert.equal(args[2], "text", `${what}: argument 2`);

    t.step(`${transport}: the server's binary event`);
    const binary = expectEvent(socket, "binary", { failOn: ["disconnect"] });
    socket.emit("binary");
    const got = await binary;
    const what2 = `${transport}: binary ${show(got)}`;
    assert.equal(got.length, 2, `${what2}: 2 arguments`);
    assertBytes(got[0], [1, 2, 3], `${what2}: argument 0`);
    assertKeys(got[1], ["nested"], `${what2}: argument 1`);
    assertBytes(got[1].nested, [4, 5], `${what2}: argument 1 .nested`);

    t.step(`${transport}: still usable after binary packets`);
    const after = expectEvent(socket, "echo", { failOn: ["disconnect"] });
    socket.emit("echo", "after");
    assert.deepEqual(await after, ["after"]);
    assert.equal(socket.io.engine.transport.name, transport, `${transport}: transport in use`);
    socket.close();
  }
}
