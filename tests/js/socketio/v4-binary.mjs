// socket.io-client 2.5 (Socket.IO protocol v4 over Engine.IO v3), over WebSocket only and
// polling only: `echo` with buffers at the top level and nested in objects and arrays comes
// back with the same bytes at the same places; `binary` brings the server's own buffers.
import { scenario } from "../lib/harness.mjs";
import { binaryRoundTrips, clientV2 } from "../lib/sio.mjs";

await scenario(import.meta.url, (t) => binaryRoundTrips(t, clientV2, ["error", "connect_error"]));
