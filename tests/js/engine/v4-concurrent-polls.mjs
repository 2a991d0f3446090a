// Two concurrent long-polling GETs on one session: one gets 200 with body "1"
// (close packet), the other 400; the session is then closed (GET -> 400, code 1).
import assert from "node:assert/strict";
import { scenario, sleep, fetchWithTimeout, readJson, withRawSession, RetryAttempt } from "../lib/harness.mjs";

await scenario(import.meta.url, async (t) => {
  t.step("handshake, then two concurrent GETs");
  const { url } = await withRawSession(t, async (session) => {
    const { url, open } = session;
    const responses = await Promise.all([
      fetchWithTimeout(url, {}, 3_000, "1st concurrent GET"),
      sleep(5).then(() => fetchWithTimeout(`${url}&t=second`, {}, 3_000, "2nd concurrent GET")),
    ]);
    const results = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.text() })));
    const summary = JSON.stringify(results);
    // past pingInterval a ping is waiting: the 1st GET returns at once and the polls never overlap
    const pinged = results.some((r) => r.status === 200 && r.body.split("\x1e").includes("2"));
    if (pinged && session.elapsed() >= open.pingInterval) throw new RetryAttempt(`a ping answered a GET before the overlap: ${summary}`);
    // past pingInterval + pingTimeout the unanswered heartbeat may have closed the session
    const gone = results.every((r) => r.status === 400);
    if (gone && session.elapsed() >= open.pingInterval + open.pingTimeout) throw new RetryAttempt(`session gone before the GETs: ${summary}`);

    const ok = results.filter((r) => r.status === 200);
    const bad = results.filter((r) => r.status === 400);
    assert.equal(ok.length, 1, `exactly one GET should get 200: ${summary}`);
    assert.equal(bad.length, 1, `exactly one GET should get 400: ${summary}`);
    assert.equal(ok[0].body, "1", `the 200 response should carry only the close packet: ${summary}`);
    return session;
  });

  t.step("GET on the closed session");
  const after = await fetchWithTimeout(url, {}, 3_000);
  assert.equal(after.status, 400, "GET after the duplicate poll");
  const json = await readJson(after, "GET after the duplicate poll");
  assert.equal(json.code, 1, `error code (Session ID unknown): ${JSON.stringify(json)}`);
});
