// Encodes values with @msgpack/msgpack 2.8, the MessagePack of @socket.io/redis-streams-adapter,
// for the Rust tests of the codec's `Dialect::MsgpackJs` (tests/it/redis_streams.rs).
//
//   node tests/js/redis/msgpack-js.mjs '<JSON array of values>'
//
// In the values, {"$bin": [bytes]} stands for a Buffer of those bytes and {"$num": "<text>"} for
// Number(text) (a number JSON.parse would not read as the test means it). Prints a JSON array:
// the hexadecimal of each value's encoding.

import { encode } from "@msgpack/msgpack";

const revive = (value) => {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    if (Array.isArray(value.$bin)) return Buffer.from(value.$bin);
    if (typeof value.$num === "string") return Number(value.$num);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
};

const values = JSON.parse(process.argv[2]).map(revive);
process.stdout.write(JSON.stringify(values.map((v) => Buffer.from(encode(v)).toString("hex"))) + "\n");
