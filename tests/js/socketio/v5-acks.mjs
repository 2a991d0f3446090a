// socket.io-client 4 (protocol v5): acknowledgements both ways. Client -> server: the ack
// callback gets exactly the emitted arguments; emitWithAck resolves with the single one.
// Server -> client: `ask` makes the server emit `question` with an ack request; the client's
// answer comes back in `answer`; a client that never answers gets `answer-error` ("timed out")
// after the server's 1 s timeout.
import assert from "node:assert/strict";
import { scenario, withTimeout } from "../lib/harness.mjs";
import { clientV5, emitAck, expectEvent, show } from "../lib/sio.mjs";

await scenario(import.meta.url, async (t) => {
  t.step("connect");
  const socket = clientV5(t, { transports: ["websocket"] });
  await expectEvent(socket, "welcome", { failOn: ["connect_error", "disconnect"] });

  t.step("ack callback with several arguments");
  const answer = await emitAck(socket, "ack", [1, "x", { y: 2 }]);
  assert.deepEqual(answer, [1, "x", { y: 2 }], `ack arguments, got ${show(answer)}`);

  t.step("emitWithAck with one argument");
  const solo = await withTimeout(socket.emitWithAck("ack", "solo"), 5_000, "emitWithAck('ack', 'solo')");
  assert.equal(solo, "solo");

  t.step("two acks in flight at once are told apart");
  const [first, second] = await Promise.all([emitAck(socket, "ack", ["first"]), emitAck(socket, "ack", ["second", 2])]);
  assert.deepEqual(first, ["first"]);
  assert.deepEqual(second, ["second", 2]);

  t.step("server -> client ack: the client's answer comes back");
  const questions = [];
  socket.on("question", (...args) => {
    const cb = args.pop();
    assert.equal(typeof cb, "function", `'question' should request an ack, last argument: ${show(cb)}`);
    questions.push(args);
    cb({ got: args });
  });
  const answered = expectEvent(socket, "answer", { failOn: ["answer-error", "disconnect"] });
  socket.emit("ask", "q", 7);
  const got = await answered;
  assert.deepEqual(questions, [["q", 7]], "'question' received once with the arguments of 'ask'");
  assert.deepEqual(got, [{ got: ["q", 7] }], `'answer', got ${show(got)}`);

  t.step("server -> client ack never answered: answer-error after the 1 s timeout");
  const silent = clientV5(t, { transports: ["websocket"] });
  await expectEvent(silent, "welcome", { failOn: ["connect_error", "disconnect"] });
  let asked = 0;
  silent.on("question", (...args) => {
    asked++;
    assert.equal(typeof args[args.length - 1], "function", "'question' should request an ack");
    // never calls back
  });
  const answers = [];
  silent.on("answer", (...args) => answers.push(args));
  const failed = expectEvent(silent, "answer-error", { ms: 2_500, failOn: ["disconnect"] });
  const askedAt = Date.now();
  silent.emit("ask", "q");
  const [error] = await failed;
  const elapsed = Date.now() - askedAt;
  assert.equal(asked, 1, "'question' received once");
  assert.equal(typeof error, "string", `answer-error carries a message, got ${show(error)}`);
  assert.match(error, /timed out/, "answer-error message");
  assert.ok(elapsed >= 950, `answer-error came after ${elapsed} ms, before the server's 1 s timeout`);
  // the first socket is unaffected
  assert.deepEqual(await emitAck(socket, "ack", ["still"]), ["still"]);
  assert.deepEqual(answers, [], "no 'answer' for a question the client never answered");
});
