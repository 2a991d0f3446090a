// CORS preflight from an allowed origin: OPTIONS -> 204 (or 200) with
// Access-Control-Allow-Origin and Access-Control-Allow-Methods containing POST
// (and GET); the real POST from that origin carries Access-Control-Allow-Origin too.
import assert from "node:assert/strict";
import { scenario, fetchWithTimeout, withRawSession, RetryAttempt } from "../lib/harness.mjs";

const ALLOWED = "http://allowed.test";
const TEXT = { Origin: ALLOWED, "content-type": "text/plain;charset=UTF-8" };

function methodsOf(header) {
  return (header ?? "").split(",").map((m) => m.trim().toUpperCase()).filter(Boolean);
}

await scenario(import.meta.url, async (t) => {
  t.step("handshake from the allowed origin");
  await withRawSession(
    t,
    async (session) => {
      const { url, open } = session;

      t.step("preflight OPTIONS");
      const pre = await fetchWithTimeout(
        url,
        {
          method: "OPTIONS",
          headers: {
            Origin: ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
          },
        },
        3_000,
      );
      await pre.arrayBuffer();
      assert.ok(pre.status === 204 || pre.status === 200, `preflight status should be 204 or 200, got ${pre.status}`);
      assert.equal(pre.headers.get("access-control-allow-origin"), ALLOWED, "preflight Access-Control-Allow-Origin");
      const methods = methodsOf(pre.headers.get("access-control-allow-methods"));
      assert.ok(methods.includes("POST"), `Access-Control-Allow-Methods should include POST: ${JSON.stringify(methods)}`);
      assert.ok(methods.includes("GET"), `Access-Control-Allow-Methods should include GET: ${JSON.stringify(methods)}`);

      t.step("real POST from the allowed origin");
      const post = await fetchWithTimeout(url, { method: "POST", body: "4hello", headers: TEXT }, 3_000);
      const text = await post.text();
      if (post.status === 400 && session.elapsed() >= open.pingInterval + open.pingTimeout) {
        throw new RetryAttempt(`session gone before the POST (${session.elapsed()} ms after the handshake)`);
      }
      assert.equal(post.status, 200, `POST status (body ${JSON.stringify(text.slice(0, 100))})`);
      assert.equal(text, "ok", "POST body");
      assert.equal(post.headers.get("access-control-allow-origin"), ALLOWED, "POST Access-Control-Allow-Origin");

      t.step("close the session");
      const close = await fetchWithTimeout(url, { method: "POST", body: "1", headers: TEXT }, 3_000);
      await close.arrayBuffer();
    },
    { headers: { Origin: ALLOWED } },
  );
});
