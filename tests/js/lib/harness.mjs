// Shared helpers for the Node.js test clients run by the Rust integration tests.
//
// A scenario script does:
//   import { scenario } from "../lib/harness.mjs";
//   await scenario(import.meta.url, async (t) => { ... });
// and is run as `node <script> <base-url>`. On success it prints `ok <name>` and
// exits 0; on a failed assertion, an error or the overall timeout it prints
// `FAIL <name>: ...` and exits 1.

import path from "node:path";
import { fileURLToPath } from "node:url";

export const OVERALL_TIMEOUT_MS = 15_000;
// after the body finished, how long the script may wait for its own sockets to close
const DRAIN_TIMEOUT_MS = 3_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for one `event` on an emitter (node EventEmitter, ws, or the
 * component-emitter used by engine.io-client). Resolves with the list of
 * arguments. Rejects after `ms`.
 */
export function waitEvent(emitter, event, ms, what = `'${event}' event`) {
  let listener;
  const p = new Promise((resolve) => {
    listener = (...args) => resolve(args);
    emitter.once(event, listener);
  });
  return withTimeout(p, ms, what).catch((err) => {
    if (typeof emitter.off === "function") emitter.off(event, listener);
    else if (typeof emitter.removeListener === "function") emitter.removeListener(event, listener);
    throw err;
  });
}

/** Normalises Buffer / ArrayBuffer / typed arrays to a Buffer (for byte comparison). */
export function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`expected binary data, got ${describe(data)}`);
}

export function isBinary(data) {
  return Buffer.isBuffer(data) || data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

/** Short printable description of a message (for failure output). */
export function describe(data) {
  if (typeof data === "string") {
    return data.length > 60 ? `string(${data.length}) ${JSON.stringify(data.slice(0, 60))}...` : `string ${JSON.stringify(data)}`;
  }
  if (isBinary(data)) {
    const b = toBuffer(data);
    return `${data.constructor?.name ?? "binary"}(${b.length}) <${b.subarray(0, 16).toString("hex")}${b.length > 16 ? "..." : ""}>`;
  }
  return `${typeof data} ${String(data)}`;
}

/** `${base}/engine.io/?<params>` */
export function eioUrl(base, params = {}) {
  const qs = new URLSearchParams(params).toString();
  return `${base}/engine.io/${qs ? `?${qs}` : ""}`;
}

/** Decodes an Engine.IO v4 polling payload (packets separated by \x1e). */
export function decodeV4Payload(body) {
  return body.split("\x1e").map((p) => {
    if (p.startsWith("b")) return { type: "4", data: Buffer.from(p.slice(1), "base64") };
    return { type: p[0], data: p.slice(1) };
  });
}

/** fetch() with a per-request timeout (so a hanging long-poll cannot hang the script). */
export async function fetchWithTimeout(url, init = {}, ms = 5_000, what = `${init.method ?? "GET"} ${url}`) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
  } catch (err) {
    if (err?.name === "TimeoutError") throw new Error(`timed out after ${ms} ms waiting for the response to ${what}`);
    throw err;
  }
}

/** Reads a JSON error body, failing clearly if it is not JSON. */
export async function readJson(response, what) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: expected a JSON body, got ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** Performs a v4 polling handshake with fetch; returns the parsed open packet. */
export async function pollingHandshake(base, headers = {}) {
  const res = await fetchWithTimeout(eioUrl(base, { EIO: "4", transport: "polling" }), { headers });
  const body = await res.text();
  if (res.status !== 200 || !body.startsWith("0{")) {
    throw new Error(`polling handshake failed: HTTP ${res.status} ${JSON.stringify(body.slice(0, 200))}`);
  }
  return JSON.parse(body.slice(1));
}

/** Thrown by a raw-session attempt whose result may be spoiled by the unanswered heartbeat. */
export class RetryAttempt extends Error {}

/**
 * Raw HTTP scenarios never answer the server's pings, so their session lives
 * only pingInterval + pingTimeout after the handshake (and a GET is answered at
 * once with a ping after pingInterval). On a loaded machine a scenario may run
 * past that. `withRawSession(t, fn)` performs a handshake and runs `fn(session)`;
 * `fn` throws `new RetryAttempt(why)` only when `session.elapsed()` shows the
 * heartbeat could explain what it saw, and gets a fresh session (3 attempts).
 * session: { sid, url, open (the open packet), elapsed() ms since the handshake request }
 */
export async function withRawSession(t, fn, { headers = {}, attempts = 3 } = {}) {
  for (let attempt = 1; ; attempt++) {
    const startedAt = Date.now();
    const open = await pollingHandshake(t.base, headers);
    const session = {
      open,
      sid: open.sid,
      url: eioUrl(t.base, { EIO: "4", transport: "polling", sid: open.sid }),
      elapsed: () => Date.now() - startedAt,
    };
    try {
      return await fn(session);
    } catch (err) {
      if (!(err instanceof RetryAttempt)) throw err;
      if (attempt >= attempts) throw new Error(`${err.message} (on each of ${attempts} attempts: machine too slow?)`);
      t.log(`attempt ${attempt} spoiled by the heartbeat (${err.message}), retrying with a new session`);
    }
  }
}

function parseBase(arg) {
  if (!arg) throw new Error("missing <base-url> argument (e.g. http://127.0.0.1:41234)");
  let url;
  try {
    url = new URL(arg);
  } catch {
    throw new Error(`invalid <base-url>: ${arg}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`<base-url> must be http(s): ${arg}`);
  return url.origin;
}

/** One readable failure text: assertion message, or error message + cause + where it was thrown. */
export function formatError(err) {
  if (!(err instanceof Error)) return String(err);
  if (err.code === "ERR_ASSERTION") return `assertion failed: ${err.message.trimEnd()}`;
  let text = `${err.name === "Error" ? "" : `${err.name}: `}${err.message}`;
  for (let c = err.cause, depth = 0; c && depth < 3; c = c.cause, depth++) {
    text += ` (cause: ${c.code ? `${c.code} ` : ""}${c.message ?? c})`;
  }
  const frame = (err.stack ?? "")
    .split("\n")
    .find((l) => /tests\/js\/(engine|lib|[^/]+\.mjs)/.test(l) && !l.includes("node_modules") && !l.includes("harness.mjs"));
  if (frame) text += `\n    ${frame.trim()}`;
  return text;
}

// resources that do not hold a connection open
const IGNORED_RESOURCES = new Set(["Timeout", "Immediate", "TTYWrap", "PipeWrap", "FSReqCallback", "SignalWrap"]);

function openConnections() {
  return process.getActiveResourcesInfo().filter((r) => !IGNORED_RESOURCES.has(r));
}

/**
 * Runs a scenario. `body(t)` receives:
 *   t.base    http base url (no trailing slash)      t.wsBase  same with ws(s)://
 *   t.name    scenario name                           t.step(s) label shown if the script fails
 *   t.defer(fn) register a cleanup (run in reverse order, also on failure)
 *   t.log(...)  diagnostic line on stderr
 */
export async function scenario(metaUrl, body) {
  const name = path.basename(fileURLToPath(metaUrl)).replace(/\.m?js$/, "");
  let currentStep = "start";
  const cleanups = [];

  const fail = (msg) => {
    process.stdout.write(`FAIL ${name} (step: ${currentStep}): ${msg}\n`);
    process.exit(1);
  };

  const onUncaught = (err) => fail(`uncaught: ${formatError(err)}`);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);

  const overall = setTimeout(() => fail(`overall timeout of ${OVERALL_TIMEOUT_MS / 1000} s exceeded`), OVERALL_TIMEOUT_MS);

  let base;
  try {
    base = parseBase(process.argv[2]);
  } catch (err) {
    fail(err.message);
  }
  const t = {
    name,
    base,
    wsBase: base.replace(/^http/, "ws"),
    step(s) {
      currentStep = s;
    },
    defer(fn) {
      cleanups.push(fn);
    },
    log(...args) {
      console.error(`[${name}]`, ...args);
    },
  };

  const runCleanups = async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (err) {
        t.log("cleanup error:", err?.message ?? err);
      }
    }
  };

  try {
    await body(t);
  } catch (err) {
    await withTimeout(runCleanups(), 1_000, "cleanup").catch(() => {});
    fail(formatError(err));
  }

  currentStep = "cleanup";
  await runCleanups();

  // everything the script opened must be closed: wait for the connections to go away
  currentStep = "closing connections";
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (openConnections().length && Date.now() < deadline) await sleep(20);
  const left = openConnections();
  if (left.length) fail(`connections still open ${DRAIN_TIMEOUT_MS} ms after the scenario ended: ${left.join(", ")}`);

  clearTimeout(overall);
  process.stdout.write(`ok ${name}\n`);
  process.exit(0);
}
