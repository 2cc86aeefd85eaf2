# A minimal runtime-API peer for callgrind measurements, SCF or Lambda dialect
# (the bench runner's peer speaks SCF only).
# usage: peer.py scf|lambda PORT N READY_FILE -- serves N 1 KiB events, then
# leaves the N+1-th /next unanswered; with N = 0, leaves the first response
# unanswered. READY_FILE is created once the port listens.
import socket, sys
dialect, port, n, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ev = b'{"k":"' + b'a1' * 505 + b'"}' + b'x' * 4
ev = ev[:1024]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(4); open(ready, "w").close()
c, _ = s.accept()
buf = b""
def req():
    global buf
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d: sys.exit(0)
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = 0
    for l in head.split(b"\r\n")[1:]:
        k, v = l.split(b":", 1)
        if k.lower() == b"content-length": cl = int(v)
    while len(rest) < cl:
        rest += c.recv(65536)
    buf = rest[cl:]
    return head.split(b"\r\n")[0], rest[:cl]
served = 0
while True:
    line, body = req()
    if b"/next" in line:
        if served >= n and n > 0:
            import time; time.sleep(3600)
        served += 1
        if dialect == "scf":
            h = b"HTTP/1.1 200 OK\r\nrequest_id: 0123456789abcdef0123456789abcdef\r\nmemory_limit_in_mb: 128\r\ntime_limit_in_ms: 3000\r\nContent-Length: %d\r\n\r\n" % len(ev)
        else:
            h = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\nLambda-Runtime-Deadline-Ms: 1900000000000\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:f\r\nLambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700\r\nContent-Length: %d\r\n\r\n" % len(ev)
        c.sendall(h + ev)
    else:
        if n == 0 and b"/response" in line:
            import time; time.sleep(3600)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
