// socket.io-client 4 (protocol v5), over WebSocket only and over polling only: `echo` with
// buffers at the top level and nested in objects and arrays comes back with the same bytes at
// the same places (as binary, not as JSON); `binary` brings the server's own buffers.
import { scenario } from "../lib/harness.mjs";
import { binaryRoundTrips, clientV5 } from "../lib/sio.mjs";

await scenario(import.meta.url, (t) => binaryRoundTrips(t, clientV5, ["connect_error"]));
