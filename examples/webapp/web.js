// A dev server in the style of Vite: prints its Local URL, serves a page, polls the API now and then.
const http = require("http");
const listen = require("./listen");

const t0 = Date.now();
listen((req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><title>webapp</title><h1>Hello from the brummer example</h1>");
  console.log(`${new Date().toLocaleTimeString()} [web] ${req.method} ${req.url}`);
}, Number(process.env.PORT || 5173), (port) => {
  console.log(`\n  \x1b[32m\x1b[1mDEV SERVER\x1b[22m v1.0.0\x1b[39m  ready in \x1b[1m${Date.now() - t0}\x1b[22m ms\n`);
  console.log(`  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m${port}\x1b[22m/\x1b[39m`);
  console.log(`  \x1b[32m➜\x1b[39m  \x1b[1mNetwork\x1b[22m: use --host to expose`);
});

const api = process.env.API_URL || "http://127.0.0.1:3001";
setInterval(() => {
  http.get(`${api}/api/items`, (res) => {
    res.resume();
    console.log(`[web] fetched ${api}/api/items -> ${res.statusCode}`);
  }).on("error", (err) => console.error(`[web] API unreachable: ${err.message}`));
}, 4000);
