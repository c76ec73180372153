"""Time ErrorScanner.feed on a log flood (not a test: run it by hand, numbers vary by machine).

    python scripts/microbench_errors.py

1. 1,000,000 ordinary lines (~57 bytes, no error) in batches of 1000: the cost every log flood pays.
   Goal: < 0.15 s in total on the 2-core reference machine.
2. The same flood with one Node stack trace every 10,000 lines (a realistic rate of errors).
3. Batches made of nothing but stack traces (Node, Python, Go): the worst case for the per-line path.
"""

from __future__ import annotations

import time

from brummer.logs.errors import ErrorScanner

BATCH = 1000
FLOOD = 1_000_000

NODE_TRACE = [
    "TypeError: Cannot read properties of undefined (reading 'port')",
    "    at start (/home/dev/app/server.js:3:22)",
    "    at Object.<anonymous> (/home/dev/app/server.js:6:1)",
    "    at Module._compile (node:internal/modules/cjs/loader:1521:14)",
    "    at Module.load (node:internal/modules/cjs/loader:1266:32)",
    "    at node:internal/main/run_main_module:28:49",
]
PYTHON_TRACE = [
    "Traceback (most recent call last):",
    '  File "/home/dev/app/app.py", line 12, in <module>',
    "    main()",
    '  File "/home/dev/app/app.py", line 10, in main',
    '    return settings["database_url"]',
    "KeyError: 'database_url'",
]
GO_TRACE = [
    "panic: runtime error: index out of range [5] with length 3",
    "",
    "goroutine 1 [running]:",
    "main.main()",
    "\t/home/dev/app/main.go:11 +0x65",
    "exit status 2",
]


def chatter(i: int) -> str:
    return f"{i:08d} GET /api/items?page={i % 7} 200 OK in {i % 50}ms lorem ipsum"


def run(label: str, batches: list[list[str]]) -> None:
    scanner = ErrorScanner()
    found = 0
    t0 = time.perf_counter()
    for batch in batches:
        found += len(scanner.feed(batch))
    found += len(scanner.flush())
    elapsed = time.perf_counter() - t0
    lines = sum(map(len, batches))
    print(f"{label:<44} {lines:>9,} lines {elapsed:8.3f} s  {elapsed / lines * 1e9:7.0f} ns/line  {found:>6} errors")


def main() -> None:
    lines = [chatter(i) for i in range(FLOOD)]
    print(f"mean line length {sum(map(len, lines)) / len(lines):.1f} bytes, batches of {BATCH}")
    flood = [lines[i : i + BATCH] for i in range(0, FLOOD, BATCH)]
    for _ in range(2):  # the second run is the one to read (warm caches)
        run("1M ordinary lines", flood)
    sprinkled = list(lines)
    for at in range(5_000, FLOOD, 10_000):
        sprinkled[at : at + 1] = [*NODE_TRACE, sprinkled[at]]
    run("1M lines + a Node trace every 10k lines", [sprinkled[i : i + BATCH] for i in range(0, len(sprinkled), BATCH)])
    traces = (NODE_TRACE + PYTHON_TRACE + GO_TRACE) * (100_000 // 18)
    run("only stack traces (Node, Python, Go)", [traces[i : i + BATCH] for i in range(0, len(traces), BATCH)])


if __name__ == "__main__":
    main()
