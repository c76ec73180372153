// Pretends to be `tsc --watch`: a clean compile, then now and then a real-looking type error, then the fix.
const stamp = () => new Date().toLocaleTimeString("en-US", { hour12: true });
const log = (s) => process.stdout.write(s + "\n");

log(`[${stamp()}] Starting compilation in watch mode...\n`);
log(`[${stamp()}] Found 0 errors. Watching for file changes.\n`);

let broken = false;
function tick() {
  log(`[${stamp()}] File change detected. Starting incremental compilation...\n`);
  if (!broken) {
    log("src/components/Counter.tsx(14,7): error TS2322: Type 'string' is not assignable to type 'number'.");
    log(`[${stamp()}] Found 1 error. Watching for file changes.\n`);
  } else {
    log(`[${stamp()}] Found 0 errors. Watching for file changes.\n`);
  }
  broken = !broken;
}
setTimeout(tick, 2500);
setInterval(tick, 9000);
process.on("SIGTERM", () => process.exit(0));
