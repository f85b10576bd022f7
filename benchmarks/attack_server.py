"""Hostile clients against a running ``kg serve`` on loopback: the figures of docs/server.md, "Limits".

    kg serve --port 7901 --quiet &                      # the server to attack (note its pid)
    python benchmarks/attack_server.py 7901 PID framing  # malformed framing; the server's peak RSS
    python benchmarks/attack_server.py 7901 PID fair     # an ASK during 8 slow queries (8 clients) / 3 (1 client)
    python benchmarks/attack_server.py 7901 PID loris 900          # 900 slow-header connections
    python benchmarks/attack_server.py 7901 PID unread 12 23       # 12 unread answers of 8*2**23 bytes

Bounded: a fixed number of connections and requests, each with a timeout; loopback only (the
"clients" are source addresses in 127.0.0.0/8). ``fair`` expects ``--timeout 20 --client-limit 16``.
"""
import http.client
import json
import socket
import sys
import threading
import time
from urllib.parse import urlencode

port = int(sys.argv[1]); pid = int(sys.argv[2]); what = sys.argv[3]
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
def status():
    d = dict(l.split(":",1) for l in open(f"/proc/{pid}/status"))
    return {"peak_MiB": int(d["VmHWM"].split()[0])//1024, "rss_MiB": int(d["VmRSS"].split()[0])//1024, "threads": int(d["Threads"])}
class Src(http.client.HTTPConnection):
    def __init__(self, src, timeout=60):
        super().__init__("127.0.0.1", port, timeout=timeout, source_address=(src, 0))
def get(src, q, timeout=60, **p):
    c = Src(src, timeout)
    t0 = time.monotonic()
    try:
        c.request("GET", "/sparql?" + urlencode({"query": q, **p}))
        r = c.getresponse(); r.read()
        return r.status, time.monotonic() - t0
    except Exception as e:
        return type(e).__name__, time.monotonic() - t0
    finally:
        c.close()
def fairness(srcs):
    out = []
    ts = [threading.Thread(target=lambda s=s: out.append(get(s, SLOW))) for s in srcs]
    for t in ts: t.start()
    time.sleep(1.5)
    st, sec = get("127.0.0.200", "ASK {}")
    print(f"  ASK from another client during {len(srcs)} slow queries from {len(set(srcs))} client(s): {st} in {sec:.2f} s", flush=True)
    for t in ts: t.join()
    print("  slow ones:", sorted(str(s) for s, _ in out))


def raw(data, send_more=0, close_write=False, wait=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    sent = 0
    try:
        chunk = b"x" * 65536
        while sent < send_more:
            s.sendall(chunk); sent += len(chunk)
    except OSError as e:
        pass
    if close_write:
        s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
            if b"\r\n\r\n" in out and len(out) > 2000: break
    except OSError as e:
        out += f" <{type(e).__name__}>".encode()
    s.close()
    line = out.split(b"\r\n",1)[0].decode("latin-1")
    return line or "(closed, no answer)", sent


if what == "framing":
    q = b"ASK{}"
    H = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
    cases = {
     "CL -1 + 150 MiB": (H + b"Content-Length: -1\r\n\r\n", 150*2**20),
     "chunk -1 + 150 MiB": (H + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n", 150*2**20),
     "two CLs 5/6": (H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nASK{}", 0),
     "CL 1_0": (H + b"Content-Length: 1_0\r\n\r\nASK{}     ", 0),
     "CL +5": (H + b"Content-Length: +5\r\n\r\nASK{}", 0),
     "CL ' 5 5'": (H + b"Content-Length: 5 5\r\n\r\nASK{}", 0),
     "space before colon": (H + b"Content-Length : 5\r\n\r\nASK{}", 0),
     "CL + TE": (H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nASK{}\r\n0\r\n\r\n", 0),
     "TE gzip": (H + b"Transfer-Encoding: gzip\r\n\r\n", 0),
     "header line 70 KiB": (b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nX-A: " + b"a"*70000 + b"\r\n\r\n", 0),
     "300 headers": (b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(300)) + b"\r\n", 0),
    }
    for name, (data, more) in cases.items():
        line, sent = raw(data, more)
        print(f"{name:22s} -> {line}   (client sent {sent/2**20:.0f} MiB extra)", flush=True)
    line, _ = raw(H + b"Content-Length: 100\r\n\r\nASK{}", close_write=True)
    print(f"{'short body (100/5)':22s} -> {line}")
    print("  server:", status())
    
elif what == "fair":
    fairness([f"127.0.0.{i}" for i in range(2, 10)])
    fairness(["127.0.0.20"] * 3)
elif what == "loris":
    n = int(sys.argv[4]); socks = []
    for i in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5); s.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n"); socks.append(s)
        except OSError as e:
            print("connect failed at", i, e); break
    time.sleep(1); print(f"  {len(socks)} slow-header connections open:", status(), flush=True)
    # drip a byte every second for 15 s
    for k in range(15):
        alive = 0
        for s in socks:
            try: s.send(b"X"); alive += 1
            except OSError: pass
        time.sleep(1)
    closed = 0; answers = {}
    for s in socks:
        s.setblocking(False)
        try:
            b = s.recv(200)
            closed += 1; key = b.split(b"\r\n",1)[0].decode() or "(closed)"; answers[key] = answers.get(key, 0) + 1
        except BlockingIOError: pass
        except OSError: closed += 1; answers["reset"] = answers.get("reset", 0) + 1
    print(f"  after 16 s of 1 byte/s: {closed} of {len(socks)} closed by the server {answers}; server:", status())
    st, sec = get("127.0.0.1", "ASK {}", timeout=30)
    print(f"  ASK now: {st} in {sec:.2f} s")
    for s in socks: s.close()
elif what == "unread":
    n = int(sys.argv[4]); k = int(sys.argv[5])
    q = 'SELECT (STRLEN(?z) AS ?n) ?z { BIND("xxxxxxxx" AS ?a0) ' + " ".join(f"BIND(CONCAT(?a{i},?a{i}) AS ?a{i+1})" for i in range(k)) + f" BIND(?a{k} AS ?z) }}"
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        body = q.encode()
        s.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        socks.append(s)
    time.sleep(12)
    heads = {}
    for s in socks:
        s.settimeout(5)
        try: h = s.recv(300).split(b"\r\n",1)[0].decode()
        except OSError as e: h = type(e).__name__
        heads[h] = heads.get(h, 0) + 1
    print(f"  {n} unread answers of 8*2^{k} = {8*2**k/1e6:.0f} MB: statuses {heads}; server:", status(), flush=True)
    for s in socks: s.close()
