#!/usr/bin/python3
"""Fault-injecting HTTP proxy for the ioaa client tests.

usage: ioaa_fault_proxy.py UPSTREAM_PORT PORT_FILE
Listens on an ephemeral loopback port (written to PORT_FILE) and forwards to
127.0.0.1:UPSTREAM_PORT, except that the first chat-completions requests get,
in order: a 429 with an OpenAI-style error, a 200 whose body is not JSON, a
503, and a reply delayed past the client's timeout. Every later request is
forwarded. Counts are printed to stderr at exit (SIGTERM).
"""
import http.server, json, signal, sys, threading, time, urllib.request, urllib.error

UP = int(sys.argv[1])
faults = ["429", "malformed", "503", "slow"]
lock = threading.Lock()
count = {"requests": 0, "forwarded": 0}

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        try:
            self.wfile.write(b)
        except BrokenPipeError:
            pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            count["requests"] += 1
            fault = faults.pop(0) if faults else None
        if fault == "429":
            return self.send(429, json.dumps({"error": {"message": "rate limited", "type": "rate_limit"}}))
        if fault == "malformed":
            return self.send(200, "{\"choices\": [ this is not json")
        if fault == "503":
            return self.send(503, json.dumps({"error": {"message": "overloaded"}}))
        if fault == "slow":
            time.sleep(3)
            return self.send(504, "{}")
        req = urllib.request.Request(f"http://127.0.0.1:{UP}{self.path}", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                code, out = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            code, out = e.code, e.read().decode()
        with lock:
            count["forwarded"] += 1
        self.send(code, out)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[2], "w") as f:
    f.write(str(srv.server_address[1]))
def stop(*_):
    print(json.dumps(count), file=sys.stderr)
    threading.Thread(target=srv.shutdown).start()
signal.signal(signal.SIGTERM, stop)
srv.serve_forever()
