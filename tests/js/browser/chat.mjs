// Two headless Chromium pages use the chat demo (examples/chat) for real: nickname refusal,
// messages, typing indicator, join/leave notices, delivery acks, a dropped connection that
// reconnects, and a reload. Usage: node chat.mjs <base-url> <transports|default> <screenshot-dir>
import assert from "node:assert/strict";
import { launchChromium } from "../lib/chromium.mjs";

const [base, transports = "default", shots = "target/browser"] = process.argv.slice(2);
const query = transports === "default" ? "" : `?transports=${transports}`;
const TIMEOUT = 10_000;
const overall = setTimeout(() => { console.log("FAIL chat: overall timeout"); process.exit(1); }, 60_000);

const browser = await launchChromium();
let step = "start";
const pages = [];
try {
  const open = async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(base + "/" + query);
    pages.push(page);
    return page;
  };
  const login = async (page, nick) => {
    await page.fill("#nick", nick);
    await page.click("#login-form button");
  };
  const connected = (page) => page.waitForSelector("#status.online");
  const seeText = (page, selector, text) =>
    page.waitForFunction(([sel, t]) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes(t)), [selector, text]);

  step = "alice logs in";
  const alice = await open();
  await login(alice, "alice");
  await connected(alice);
  await seeText(alice, "#me", "You are alice");

  step = "a taken nickname is refused with the server's message";
  const bob = await open();
  await login(bob, "alice");
  await seeText(bob, "#login-error", "taken");
  assert.equal(await bob.isVisible("#login"), true, "the login form stays open");

  step = "bob logs in; alice sees him join";
  await login(bob, "bob");
  await connected(bob);
  await seeText(alice, ".notice", "bob joined #general");

  step = "typing indicator";
  await alice.type("#text", "hel");
  await seeText(bob, "#typing", "alice is typing");

  step = "a message reaches the room and is acknowledged with the server time";
  await alice.fill("#text", "hello bob");
  await alice.click("#send-button");
  await seeText(bob, ".msg", "hello bob");
  await seeText(alice, ".msg.mine .meta", "✓");

  step = "rooms: bob moves to #rust, alice sees him leave, then follows";
  await bob.click('.room[data-room="rust"]');
  await seeText(alice, ".notice", "bob left #general");
  await alice.click('.room[data-room="rust"]');
  await seeText(bob, ".notice", "alice joined #rust");
  await bob.fill("#text", "welcome to #rust");
  await bob.click("#send-button");
  await seeText(alice, ".msg", "welcome to #rust");

  step = "a dropped connection reconnects, and the page says so";
  await bob.evaluate(() => window.chatSocket.io.engine.close());
  await seeText(alice, ".notice", "bob left #rust");
  await seeText(bob, ".notice", "Connection lost");
  await seeText(bob, ".notice", "Reconnected after");
  await connected(bob);

  step = "bob reloads the page and takes his nickname back at once (same tab)";
  await bob.reload();
  await login(bob, "bob");
  await connected(bob);
  await seeText(bob, "#me", "You are bob");
  const stats = await (await fetch(base + "/api/stats")).json();
  assert.deepEqual(stats.users, ["alice", "bob"], "one bob, the stale connection gone");

  step = "screenshots";
  await alice.screenshot({ path: `${shots}/chat-${transports}-alice.png` });
  await bob.screenshot({ path: `${shots}/chat-${transports}-bob.png` });
  console.log(`ok chat-${transports}`);
} catch (err) {
  console.log(`FAIL chat-${transports} (step: ${step}): ${err.message}`);
  for (const [i, page] of pages.entries()) {
    await page.screenshot({ path: `${shots}/chat-${transports}-failure-${i}.png` }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  clearTimeout(overall);
  await browser.close();
}
