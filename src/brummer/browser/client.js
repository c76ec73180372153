/* brummer's page telemetry (injected by brummer's dev proxy): reports this page's errors to brummer over a
   same-origin WebSocket, and runs brummer's commands (reload, navigate, eval when the user allowed it).
   It never throws into the page, and it does nothing visible when brummer is not there. */
(function () {
  "use strict";
  if (window.__brummer) return;
  var B = (window.__brummer = { v: 1 });
  var TEXT = 2000, STACK = 8000, QUEUE = 100, RATE = 10, BURST = 50;
  var queue = [], ws = null, delay = 500, dropped = 0, tokens = BURST, last = Date.now(), busy = false, left = 0;
  var OrigWS = window.WebSocket, origFetch = window.fetch, XHR = window.XMLHttpRequest;
  var load = Math.random().toString(36).slice(2, 10);
  var tab = "";
  try {
    tab = sessionStorage.getItem("__brummer_tab") || "";
    if (!tab) sessionStorage.setItem("__brummer_tab", (tab = Math.random().toString(36).slice(2, 12)));
  } catch (e) {
    tab = load;
  }

  function clip(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n) + "…[" + s.length + " chars]" : s;
  }

  // Any value as JSON-safe data: bounded in depth, width and total length; cycles, DOM nodes, errors and getters
  // that throw are described, never followed.
  function safe(v, room) {
    left = room;
    return ser(v, 0, []);
  }
  function ser(v, depth, seen) {
    if (left <= 0) return "…";
    left -= 8;
    if (v === null || typeof v === "boolean") return v;
    if (typeof v === "number") return isFinite(v) ? v : String(v);
    if (typeof v === "string") {
      left -= Math.min(v.length, TEXT);
      return clip(v, TEXT);
    }
    if (typeof v === "undefined") return "undefined";
    if (typeof v === "bigint" || typeof v === "symbol") return String(v);
    if (typeof v === "function") return "[function " + (v.name || "anonymous") + "]";
    if (seen.indexOf(v) >= 0) return "[circular]";
    if (v instanceof Error) return { name: v.name, message: clip(v.message, TEXT), stack: clip(v.stack || "", STACK) };
    if (typeof Node !== "undefined" && v instanceof Node) {
      var el = v.nodeType === 1 ? v : null;
      return el ? "<" + el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + ">" : "[" + v.nodeName + "]";
    }
    if (depth > 3) return Array.isArray(v) ? "[array]" : "[object]";
    seen = seen.concat([v]);
    var out, keys, i;
    if (Array.isArray(v)) {
      out = [];
      for (i = 0; i < v.length && i < 20; i++) out.push(ser(v[i], depth + 1, seen));
      if (v.length > 20) out.push("…" + (v.length - 20) + " more");
      return out;
    }
    out = {};
    try {
      keys = Object.keys(v);
    } catch (e) {
      return "[unreadable]";
    }
    for (i = 0; i < keys.length && i < 20; i++) {
      try {
        out[keys[i]] = ser(v[keys[i]], depth + 1, seen);
      } catch (e) {
        out[keys[i]] = "[unreadable]";
      }
    }
    if (keys.length > 20) out["…"] = keys.length - 20 + " more";
    return out;
  }

  function text(args) {
    var parts = [];
    for (var i = 0; i < args.length && i < 20; i++) {
      var a = args[i];
      parts.push(typeof a === "string" ? a : JSON.stringify(safe(a, TEXT)));
    }
    return clip(parts.join(" "), TEXT);
  }

  function ownStack() {
    var lines = String(new Error().stack || "").split("\n");
    return lines.filter(function (l) { return l.indexOf("/__brummer__/") < 0 && l !== "Error"; }).join("\n");
  }

  function flush() {
    if (!ws || ws.readyState !== 1) return;
    if (dropped) {
      ws.send(JSON.stringify({ t: "dropped", n: dropped }));
      dropped = 0;
    }
    while (queue.length) ws.send(queue.shift());
  }

  function report(msg) {
    if (busy) return;
    busy = true;
    try {
      var now = Date.now();
      tokens = Math.min(BURST, tokens + ((now - last) / 1000) * RATE);
      last = now;
      if (tokens < 1 || queue.length >= QUEUE) {
        dropped++;
        return;
      }
      tokens--;
      var data = JSON.stringify(msg);
      if (data.length > 60000) {
        dropped++;
        return;
      }
      queue.push(data);
      flush();
    } catch (e) {
      /* never into the page */
    } finally {
      busy = false;
    }
  }
  B.report = report;

  function errorReport(kind, err, extra) {
    var msg = extra || {};
    msg.t = kind;
    if (err instanceof Error || (err && typeof err === "object" && "message" in err)) {
      msg.name = String(err.name || "Error");
      msg.message = clip(err.message, TEXT);
      msg.stack = clip(err.stack || "", STACK);
    } else if (msg.message === undefined) {
      msg.message = typeof err === "string" ? clip(err, TEXT) : clip(JSON.stringify(safe(err, TEXT)), TEXT);
    }
    report(msg);
  }

  ["error", "warn"].forEach(function (level) {
    var orig = console[level];
    if (typeof orig !== "function") return;
    console[level] = function () {
      if (!busy) report({ t: "console", level: level, text: text(arguments), stack: clip(ownStack(), STACK) });
      return orig.apply(this, arguments);
    };
  });

  window.addEventListener("error", function (e) {
    if (e.target && e.target !== window) return; // a resource that failed to load (its request is recorded)
    errorReport("error", e.error, { message: clip(e.message || "", TEXT), file: e.filename, line: e.lineno, col: e.colno });
  });
  window.addEventListener("unhandledrejection", function (e) {
    errorReport("rejection", e.reason, {});
  });

  function failed(via, method, url, status, error) {
    report({ t: "network", via: via, method: String(method).toUpperCase(), url: clip(url, 2000), status: status, message: error });
  }
  if (typeof origFetch === "function") {
    window.fetch = function (input, init) {
      var method = (init && init.method) || (input && input.method) || "GET";
      var url = String((input && input.url) || input);
      var p = origFetch.apply(this, arguments);
      try {
        p.then(
          function (r) { if (r.status >= 500) failed("fetch", method, r.url || url, r.status, ""); },
          function (err) { if (!err || err.name !== "AbortError") failed("fetch", method, url, 0, String(err)); }
        );
      } catch (e) { /* never into the page */ }
      return p;
    };
  }
  if (XHR && XHR.prototype) {
    var open = XHR.prototype.open, send = XHR.prototype.send;
    XHR.prototype.open = function (method, url) {
      this.__brummer = { method: method, url: String(url), aborted: false };
      return open.apply(this, arguments);
    };
    XHR.prototype.send = function () {
      var x = this, info = x.__brummer;
      if (info) {
        x.addEventListener("abort", function () { info.aborted = true; });
        x.addEventListener("loadend", function () {
          if (x.status >= 500 || (x.status === 0 && !info.aborted)) failed("xhr", info.method, info.url, x.status, "");
        });
      }
      return send.apply(this, arguments);
    };
  }

  // The bundler's own socket: Vite's error overlay and HMR updates travel on it (subprotocol vite-hmr).
  function watchVite(socket) {
    socket.addEventListener("message", function (ev) {
      var data = ev.data;
      if (typeof data !== "string" || data.length > 1e6) return;
      if (data.indexOf('"error"') < 0 && data.indexOf('"update"') < 0) return;
      var p;
      try { p = JSON.parse(data); } catch (e) { return; }
      if (p.type === "error" && p.err) {
        var loc = p.err.loc || {};
        report({ t: "overlay", message: clip(p.err.message || "", TEXT), stack: clip(p.err.stack || "", STACK),
                 plugin: p.err.plugin, file: loc.file || p.err.id, line: loc.line, col: loc.column, frame: clip(p.err.frame || "", 2000) });
      } else if (p.type === "update" && p.updates) {
        report({ t: "hmr", paths: p.updates.slice(0, 20).map(function (u) { return u.path; }) });
      }
    });
  }
  if (typeof OrigWS === "function") {
    var Wrapped = function (url, protocols) {
      var s = arguments.length > 1 ? new OrigWS(url, protocols) : new OrigWS(url);
      try {
        if (protocols === "vite-hmr" || (Array.isArray(protocols) && protocols.indexOf("vite-hmr") >= 0)) watchVite(s);
      } catch (e) { /* never into the page */ }
      return s;
    };
    Wrapped.prototype = OrigWS.prototype;
    ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { Wrapped[k] = OrigWS[k]; });
    window.WebSocket = Wrapped;
  }

  function timing() {
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    var msg = { t: "timing", title: clip(document.title, 300) };
    if (nav) {
      msg.ttfb = nav.responseStart - nav.startTime;
      msg.dcl = nav.domContentLoadedEventEnd - nav.startTime;
      msg.load = nav.loadEventEnd - nav.startTime;
    }
    report(msg);
  }
  if (document.readyState === "complete") setTimeout(timing, 0);
  else window.addEventListener("load", function () { setTimeout(timing, 0); });

  function reply(id, ok, value, error) {
    var data = JSON.stringify({ t: "reply", id: id, ok: ok, value: value, error: error });
    if (data.length > 60000) data = JSON.stringify({ t: "reply", id: id, ok: false, error: "the result is too large" });
    if (ws && ws.readyState === 1) ws.send(data);
  }
  function command(ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.cmd === "reload") {
      reply(m.id, true);
      setTimeout(function () { location.reload(); }, 0);
    } else if (m.cmd === "navigate") {
      var target = new URL(m.url, location.href);
      if (target.origin !== location.origin) return reply(m.id, false, null, "not this page's origin");
      reply(m.id, true, target.href);
      setTimeout(function () { location.assign(target.href); }, 0);
    } else if (m.cmd === "eval") {
      var result;
      try {
        result = (0, eval)(m.expression);
      } catch (err) {
        return reply(m.id, false, null, clip(String(err && err.stack || err), TEXT));
      }
      Promise.resolve(result).then(
        function (v) { reply(m.id, true, safe(v, 40000)); },
        function (err) { reply(m.id, false, null, clip(String(err && err.stack || err), TEXT)); }
      );
    }
  }

  function connect() {
    try {
      ws = new OrigWS((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/__brummer__/ws");
    } catch (e) {
      ws = null;
      return retry();
    }
    ws.onopen = function () {
      delay = 500;
      ws.send(JSON.stringify({ t: "hello", tab: tab, load: load, url: location.href, title: document.title }));
      flush();
    };
    ws.onmessage = command;
    ws.onclose = function () { ws = null; retry(); };
  }
  function retry() {
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  }
  connect();
})();
