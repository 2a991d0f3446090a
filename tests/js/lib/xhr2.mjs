// A minimal XMLHttpRequest (level 2) over node:http, enough for the polling
// transport of engine.io-client 3.5: responseType 'arraybuffer' (the response is
// then a Buffer, which is what the Node build of engine.io-parser 2 expects) and
// binary request bodies. One connection per request (no keep-alive).
import http from "node:http";
import https from "node:https";

export class NodeXhr2 {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = "";
    this.responseType = "";
    this.response = null;
    this.responseText = "";
    this.withCredentials = false;
    this.timeout = 0;
    this.onreadystatechange = null;
    this._headers = {};
    this._resHeaders = {};
    this._req = null;
    this._aborted = false;
  }

  open(method, url) {
    this._method = method;
    this._url = url;
    this._setState(1);
  }

  setDisableHeaderCheck() {}

  setRequestHeader(name, value) {
    this._headers[name] = value;
  }

  getResponseHeader(name) {
    const v = this._resHeaders[String(name).toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(", ") : String(v);
  }

  getAllResponseHeaders() {
    return Object.entries(this._resHeaders)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`)
      .join("\r\n");
  }

  send(data) {
    let body = null;
    if (data != null) {
      if (typeof data === "string") body = Buffer.from(data, "utf8");
      else if (Buffer.isBuffer(data)) body = data;
      else if (data instanceof ArrayBuffer) body = Buffer.from(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      else body = Buffer.from(String(data), "utf8");
    }
    const url = new URL(this._url);
    const headers = { ...this._headers };
    if (body) headers["Content-Length"] = String(body.length);
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.request(url, { method: this._method, headers, agent: false }, (res) => {
      if (this._aborted) return res.resume();
      this.status = res.statusCode;
      this.statusText = res.statusMessage;
      this._resHeaders = res.headers;
      this._setState(2); // HEADERS_RECEIVED: the caller may choose responseType here
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        if (this._aborted) return;
        const buf = Buffer.concat(chunks);
        if (this.responseType === "arraybuffer") {
          this.response = buf;
        } else {
          this.responseText = buf.toString("utf8");
          this.response = this.responseText;
        }
        this._setState(4);
      });
      res.on("error", () => this._fail());
    });
    req.on("error", () => this._fail());
    if (this.timeout) req.setTimeout(this.timeout, () => req.destroy(new Error("timeout")));
    this._req = req;
    req.end(body ?? undefined);
  }

  abort() {
    this._aborted = true;
    if (this._req) this._req.destroy();
  }

  _fail() {
    if (this._aborted || this.readyState === 4) return;
    this.status = 0;
    this._setState(4);
  }

  _setState(state) {
    this.readyState = state;
    if (typeof this.onreadystatechange === "function") this.onreadystatechange();
  }
}
