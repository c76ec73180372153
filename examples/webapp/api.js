// A tiny JSON API: /health, /api/items. Logs each request like an express logger would.
const listen = require("./listen");

const items = [{ id: 1, name: "brummer" }, { id: 2, name: "trio" }];
const started = Date.now();

listen((req, res) => {
  const t0 = process.hrtime.bigint();
  let status = 200;
  let body;
  if (req.url === "/health") body = { ok: true, uptime_ms: Date.now() - started };
  else if (req.url.startsWith("/api/items")) body = items;
  else { status = 404; body = { error: "not found" }; }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
  if (req.url !== "/health") {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`${req.method} ${req.url} ${status} ${ms.toFixed(1)}ms`);
  }
}, Number(process.env.PORT || 3001), (port) => {
  console.log(`API listening on http://127.0.0.1:${port}`);
});
