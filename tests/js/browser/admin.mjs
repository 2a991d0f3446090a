// The official admin UI (@socket.io/admin-ui 0.5.1, served by our layer under /socket.io/admin/)
// in headless Chromium against the chat example with the admin installed.
// Usage: node admin.mjs <dev-base-url> <production-base-url> <screenshot-dir>
// Development server: a wrong password is refused ("Invalid credentials"); the right one logs in
// and a reload logs in again with the session id; the chat's sockets, rooms and events show up;
// the UI disconnects a chat socket, which goes offline in the chat and from the UI's list.
// Production server: the UI shows the server and its statistics, and no socket.
import assert from "node:assert/strict";
import { launchChromium } from "../lib/chromium.mjs";

const [dev, prod, shots = "target/browser"] = process.argv.slice(2);
const TIMEOUT = 10_000;
const overall = setTimeout(() => { console.log("FAIL admin-ui: overall timeout"); process.exit(1); }, 100_000);

const browser = await launchChromium();
let step = "start";
const pages = [];
const newPage = async () => {
  const context = await browser.newContext({ viewport: { width: 1300, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  pages.push(page);
  return page;
};
const shot = (page, name) => page.screenshot({ path: `${shots}/admin-${name}.png` });
const seeText = (page, text, timeout = TIMEOUT) =>
  page.waitForFunction((t) => document.body.innerText.includes(t), text, { timeout });
// Case-insensitive: CSS upper-cases some labels, and innerText shows them so.
const seeWord = (page, text, timeout = TIMEOUT) =>
  page.waitForFunction((t) => document.body.innerText.toLowerCase().includes(t.toLowerCase()), text, { timeout });
const noText = (page, text, timeout = TIMEOUT) =>
  page.waitForFunction((t) => !document.body.innerText.includes(t), text, { timeout });

/** Counts the admin namespace's refusals the page received (polling bodies and WebSocket frames). */
function refusals(page) {
  const seen = { count: 0 };
  const check = (text) => { if (typeof text === "string" && text.includes("invalid credentials")) seen.count++; };
  page.on("response", async (r) => { if (r.url().includes("/socket.io/?")) check(await r.text().catch(() => "")); });
  page.on("websocket", (ws) => ws.on("framereceived", (f) => check(f.payload)));
  return seen;
}

async function chatUser(base, nick) {
  const page = await newPage();
  await page.goto(base + "/");
  await page.fill("#nick", nick);
  await page.click("#login-form button");
  await page.waitForSelector("#status.online");
  const id = await page.evaluate(() => window.chatSocket.id);
  return { page, id };
}

async function login(page, password) {
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Connect" }).click();
}

try {
  step = "a chat user on the development server";
  const alice = await chatUser(dev, "alice");

  step = "the UI served by the layer; a wrong password is refused";
  const ui = await newPage();
  const refused = refusals(ui);
  await ui.goto(dev + "/socket.io/admin/");
  await ui.waitForSelector(".v-dialog--active");
  const serverUrl = await ui.getByLabel("Server URL").inputValue();
  assert.equal(serverUrl, new URL(dev).origin, "the served UI points at its own server");
  const before = refused.count;
  await login(ui, "wrong");
  await ui.waitForFunction(() => true); // let the click go out
  for (let i = 0; i < 50 && refused.count === before; i++) await ui.waitForTimeout(100);
  assert.ok(refused.count > before, "the server refused the wrong password with 'invalid credentials'");
  await seeText(ui, "Invalid credentials");
  assert.equal(await ui.isVisible(".v-dialog--active"), true, "the login dialog stays open");
  await shot(ui, "refused");

  step = "the right password logs in";
  await login(ui, "changeit");
  await ui.waitForSelector(".v-dialog--active", { state: "hidden" });
  // The `session` event follows the CONNECT answer (as with Node, whose client delivers events
  // after `connect`): wait for the UI to store it, then check it.
  await ui.waitForFunction(() => localStorage.getItem("session_id") !== null).catch(() => {});
  const sessionId = await ui.evaluate(() => localStorage.getItem("session_id"));
  assert.match(sessionId ?? "", /^[0-9a-f]{16}$/, "the session id is kept for reloads");
  // The dashboard fills in with the first server_stats (namespaces and their sockets), once the
  // login dialog has faded out.
  await seeText(ui, "/admin");
  await ui.waitForSelector(".v-dialog", { state: "hidden" });
  await shot(ui, "dashboard");

  step = "a reload logs in with the session id";
  await ui.reload();
  await ui.waitForTimeout(1500);
  assert.equal(await ui.isVisible(".v-dialog--active"), false, "no login dialog after a reload");

  step = "the chat's sockets";
  const bob = await chatUser(dev, "bob");
  await ui.goto(dev + "/socket.io/admin/#/sockets/");
  await seeText(ui, alice.id);
  await seeText(ui, bob.id);
  // The chat example hands axum's peer address to the layer: the IP column is filled.
  await seeText(ui, "127.0.0.1");
  await shot(ui, "sockets");

  step = "the chat's rooms";
  await ui.goto(dev + "/socket.io/admin/#/rooms/");
  await seeText(ui, "general");
  await shot(ui, "rooms");

  step = "the chat's events";
  await ui.goto(dev + "/socket.io/admin/#/events/");
  await alice.page.fill("#text", "hello from alice");
  await alice.page.click("#send-button");
  await seeText(ui, "message");
  await shot(ui, "events");

  step = "the servers page";
  await ui.goto(dev + "/socket.io/admin/#/servers/");
  await seeText(ui, "chat-dev");
  await seeWord(ui, "Healthy");

  step = "the UI disconnects bob";
  await ui.goto(dev + "/socket.io/admin/#/sockets/");
  await seeText(ui, bob.id);
  const row = ui.locator("tbody tr", { hasText: bob.id });
  await row.locator("td.text-end button").click();
  await bob.page.waitForSelector("#status:not(.online)");
  await ui.goto(dev + "/socket.io/admin/#/sockets/");
  await seeText(ui, alice.id);
  await noText(ui, bob.id);
  assert.equal(await alice.page.isVisible("#status.online"), true, "alice is still online");
  await shot(ui, "disconnected");

  step = "production mode: only the server's statistics";
  const carol = await chatUser(prod, "carol");
  const prodUi = await newPage();
  await prodUi.goto(prod + "/socket.io/admin/");
  await prodUi.waitForSelector(".v-dialog--active");
  await login(prodUi, "changeit");
  await prodUi.waitForSelector(".v-dialog--active", { state: "hidden" });
  await prodUi.goto(prod + "/socket.io/admin/#/servers/");
  await seeText(prodUi, "chat-prod");
  await seeWord(prodUi, "Healthy");
  await shot(prodUi, "production-servers");
  await prodUi.goto(prod + "/socket.io/admin/#/sockets/");
  await prodUi.waitForTimeout(2500); // two server_stats later
  assert.equal(await prodUi.evaluate((id) => document.body.innerText.includes(id), carol.id), false,
    "no socket is listed in production mode");
  await shot(prodUi, "production-sockets");

  console.log("ok admin-ui");
} catch (err) {
  console.log(`FAIL admin-ui (step: ${step}): ${err?.stack ?? err}`);
  for (const [i, page] of pages.entries()) await page.screenshot({ path: `${shots}/admin-failure-${i}.png` }).catch(() => {});
  process.exitCode = 1;
} finally {
  clearTimeout(overall);
  await browser.close();
}
