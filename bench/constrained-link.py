"""A constrained link for bench/resilience.bench.ts: a TCP relay whose socket toward the gateway
has a small receive buffer (SO_RCVBUF, which Node cannot set) and which moves gateway->client
at most RATE bytes/s. Usage: constrained-link.py <gateway port> <bytes/s> <rcvbuf bytes>.
Prints the port it listens on, serves one client, exits when either side closes."""
import socket, sys, threading, time

target, rate, rcvbuf = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
client, _ = server.accept()
upstream = socket.socket()
upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
upstream.connect(("127.0.0.1", target))
for s in (client, upstream):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, rcvbuf)

def requests():
    try:
        while (data := client.recv(65536)):
            upstream.sendall(data)
    except OSError:
        pass
    for s in (client, upstream):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass

threading.Thread(target=requests, daemon=True).start()
started, sent = time.monotonic(), 0
try:
    while (data := upstream.recv(16384)):
        client.sendall(data)
        sent += len(data)
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
except OSError:
    pass
