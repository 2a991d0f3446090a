// Debian's headless Chromium for the browser tests, started as this machine needs it: no
// sandbox (root), no GPU, and none of the background connections a closed network refuses.
// `CHROMIUM` names another binary.
import { chromium } from "playwright-core";

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}
