// Listen on PORT, or on any free port if that one is taken (so the demo never fails on a busy machine).
const http = require("http");

module.exports = function listen(handler, preferred, onListening) {
  const server = http.createServer(handler);
  server.once("error", (err) => {
    if (err.code !== "EADDRINUSE") throw err;
    console.error(`port ${preferred} is in use, picking a free one`);
    server.listen(0, "127.0.0.1", () => onListening(server.address().port));
  });
  server.listen(preferred, "127.0.0.1", () => onListening(server.address().port));
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
      console.log(`${sig} received, closing the server`);
      server.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 500).unref();
    });
  }
  return server;
};
