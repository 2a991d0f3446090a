// The admin UI on a two-node cluster (examples/cluster_node with ADMIN=1, the classic Redis
// adapter): a socket.io-client connects to each node; the UI served by node A, logged in there,
// lists both servers (node-a, node-b, healthy) and both sockets, then disconnects the socket of
// node B through the adapter.
// Usage: node admin-cluster.mjs <node-a-url> <node-b-url> <screenshot-dir>
import assert from "node:assert/strict";
import { launchChromium } from "../lib/chromium.mjs";
import { io } from "socket.io-client";

const [a, b, shots = "target/browser"] = process.argv.slice(2);
const TIMEOUT = 10_000;
const overall = setTimeout(() => { console.log("FAIL admin-cluster: overall timeout"); process.exit(1); }, 90_000);

const connect = (base) => new Promise((resolve, reject) => {
  const socket = io(base, { forceNew: true, reconnection: false, transports: ["websocket"] });
  socket.once("connect", () => resolve(socket));
  socket.once("connect_error", reject);
});

const browser = await launchChromium();
let step = "start";
let page;
const clients = [];
const seeText = (text) => page.waitForFunction((t) => document.body.innerText.includes(t), text);
const noText = (text) => page.waitForFunction((t) => !document.body.innerText.includes(t), text);
try {
  step = "a client on each node";
  const onA = await connect(a);
  const onB = await connect(b);
  clients.push(onA, onB);
  const idB = onB.id;

  step = "the UI of node A logs in";
  page = await (await browser.newContext({ viewport: { width: 1300, height: 800 } })).newPage();
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(a + "/socket.io/admin/");
  await page.waitForSelector(".v-dialog--active");
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("changeit");
  await page.getByRole("button", { name: "Connect" }).click();
  await page.waitForSelector(".v-dialog--active", { state: "hidden" });

  step = "both servers";
  await page.goto(a + "/socket.io/admin/#/servers/");
  await seeText("node-a");
  await seeText("node-b");
  await page.waitForFunction(() => (document.body.innerText.match(/healthy/gi) ?? []).length >= 2);
  await page.screenshot({ path: `${shots}/admin-cluster-servers.png` });

  step = "the sockets of both nodes";
  await page.goto(a + "/socket.io/admin/#/sockets/");
  await seeText(onA.id);
  await seeText(idB);
  await page.screenshot({ path: `${shots}/admin-cluster-sockets.png` });

  step = "the UI on node A disconnects the socket of node B";
  const gone = new Promise((resolve) => onB.once("disconnect", resolve));
  await page.locator("tbody tr", { hasText: idB }).locator("td.text-end button").click();
  assert.equal(await Promise.race([gone, new Promise((r) => setTimeout(() => r("timeout"), TIMEOUT))]), "io server disconnect");
  await page.goto(a + "/socket.io/admin/#/sockets/");
  await seeText(onA.id);
  await noText(idB);
  await page.screenshot({ path: `${shots}/admin-cluster-disconnected.png` });

  console.log("ok admin-cluster");
} catch (err) {
  console.log(`FAIL admin-cluster (step: ${step}): ${err?.stack ?? err}`);
  if (page) await page.screenshot({ path: `${shots}/admin-cluster-failure.png` }).catch(() => {});
  process.exitCode = 1;
} finally {
  clearTimeout(overall);
  for (const c of clients) c.close();
  await browser.close();
}
