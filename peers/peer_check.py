"""The server's guarantees, as clients this project did not write see them.

- gRPC C-core (the `grpcio` Python package) speaking native gRPC over HTTP/2;
- raw gRPC-Web over HTTP/1.1 from Python's standard library (`http.client`
  and a bare socket), as a browser's fetch would send it.

Each check asserts what the client got *and* what the server's `/metrics`
shows at both tiers. The server is shared with other test suites, so checks
compare counters before and after, and run one at a time.

Usage: python peer_check.py http://127.0.0.1:27080
"""

import http.client
import socket
import struct
import sys
import time
import unittest
import urllib.parse
import urllib.request

import grpc

BASE = sys.argv.pop(1) if len(sys.argv) > 1 else "http://127.0.0.1:27080"
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port
TIERS = ("frontend", "backend")


# --- protobuf, by hand: the demo's messages are tiny -----------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value) if value else b""


def field_str(number, value):
    data = value.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data if data else b""


def hello(name, delay_ms):
    return field_str(1, name) + field_varint(2, delay_ms)


def watch(topic, interval_ms, limit=0):
    return field_str(1, topic) + field_varint(2, interval_ms) + field_varint(3, limit)


def compute(n):
    return field_varint(1, n)


def grpc_web_frame(message):
    return struct.pack(">BI", 0, len(message)) + message


# --- the server's metrics ---------------------------------------------------

def scrape():
    with urllib.request.urlopen(BASE + "/metrics", timeout=5) as r:
        return r.read().decode()


def value(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, v = line.rpartition(" ")
        metric, _, rest = series.partition("{")
        if metric == name and all(f'{k}="{val}"' in rest for k, val in labels.items()):
            total += float(v)
    return total


def counts(method):
    text = scrape()
    out = {}
    for tier in TIERS:
        at = {"tier": tier, "grpc_method": method}
        out[tier] = {
            "started": value(text, "grpc_server_started_total", **at),
            "in_flight": value(text, "grpc_server_in_flight", **at),
            "Canceled": value(text, "grpc_server_handled_total", grpc_code="Canceled", **at),
            "DeadlineExceeded": value(text, "grpc_server_handled_total", grpc_code="DeadlineExceeded", **at),
        }
    return out


def eventually(within, what, check):
    """Polls `check` (returning (ok, seen)) until ok or `within` seconds pass."""
    start = time.monotonic()
    while True:
        ok, seen = check()
        if ok:
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise AssertionError(f"{what}: not within {within}s; saw {seen}")
        time.sleep(0.002)


class ServerAsSeenByPeers(unittest.TestCase):
    def setUp(self):
        self.channel = grpc.insecure_channel(f"{HOST}:{PORT}")

    def tearDown(self):
        self.channel.close()

    def unary(self, path):
        return self.channel.unary_unary(path)

    def wait_backend_busy(self, method, before):
        eventually(5, "the backend starts the call", lambda: (
            counts(method)["backend"]["in_flight"] > before["backend"]["in_flight"], counts(method)))

    def assert_both_tiers_counted(self, method, before, code, within):
        def check():
            now = counts(method)
            ok = all(
                now[t][code] == before[t][code] + 1 and now[t]["in_flight"] == before[t]["in_flight"]
                for t in TIERS
            )
            return ok, now
        eventually(within, f"both tiers count {code} and stop", check)

    # --- gRPC C-core over HTTP/2 -------------------------------------------

    def test_core_deadline(self):
        grpc.channel_ready_future(self.channel).result(timeout=5)  # the connection's setup is not the deadline's
        before = counts("SayHello")
        start = time.monotonic()
        with self.assertRaises(grpc.RpcError) as err:
            self.unary("/demo.v1.Greeter/SayHello")(hello("peer", 3000), timeout=0.2)
        took = time.monotonic() - start
        self.assertEqual(err.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(took, 0.25)
        self.assert_both_tiers_counted("SayHello", before, "DeadlineExceeded", 0.1)

    def test_core_cancel_unary(self):
        before = counts("SayHello")
        future = self.unary("/demo.v1.Greeter/SayHello").future(hello("peer", 3000))
        self.wait_backend_busy("SayHello", before)
        future.cancel()
        self.assert_both_tiers_counted("SayHello", before, "Canceled", 0.1)

    def test_core_cancel_stream_after_three(self):
        before = counts("Watch")
        stream = self.channel.unary_stream("/demo.v1.Updates/Watch")(watch("peer", 20))
        for _ in range(3):
            self.assertTrue(next(stream))
        stream.cancel()
        self.assert_both_tiers_counted("Watch", before, "Canceled", 0.1)

    def test_core_cancel_compute(self):
        before = counts("Compute")
        future = self.unary("/demo.v1.Work/Compute").future(compute(10**12))
        self.wait_backend_busy("Compute", before)
        future.cancel()
        self.assert_both_tiers_counted("Compute", before, "Canceled", 0.1)

    # --- raw gRPC-Web over HTTP/1.1 ----------------------------------------

    def grpc_web(self, path, message, headers=(), timed=None):
        """One call on a connection of its own. With `timed` (a list), appends the seconds from
        the request's last byte sent to the response's head: the server's part, without the
        connection's setup (which a loaded machine can stretch past a deadline's slack)."""
        conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
        conn.connect()
        conn.request("POST", path, body=grpc_web_frame(message), headers={
            "content-type": "application/grpc-web+proto", "x-grpc-web": "1", **dict(headers)})
        sent = time.monotonic()
        response = conn.getresponse()
        if timed is not None:
            timed.append(time.monotonic() - sent)
        body = response.read()
        conn.close()
        return response, body

    def test_web_deadline(self):
        before = counts("SayHello")
        timed = []
        response, _ = self.grpc_web("/demo.v1.Greeter/SayHello", hello("web", 3000), {"grpc-timeout": "200m"}, timed)
        self.assertEqual(response.getheader("grpc-status"), "4")
        # The server's clock starts when the request arrives, just after `sent`: not early, and
        # within the 50 ms the server promises (docs/tonic-server.md).
        self.assertGreater(timed[0], 0.19)
        self.assertLess(timed[0], 0.25)
        self.assert_both_tiers_counted("SayHello", before, "DeadlineExceeded", 0.1)

    def test_web_malformed_timeouts(self):
        started = value(scrape(), "grpc_server_started_total")
        for bad in ("abc", "12x4", "123456789m", ""):
            response, _ = self.grpc_web("/demo.v1.Greeter/SayHello", hello("web", 0), {"grpc-timeout": bad})
            self.assertEqual(response.getheader("grpc-status"), "3", bad)
            self.assertIn("grpc-timeout", urllib.parse.unquote(response.getheader("grpc-message")), bad)
        self.assertEqual(value(scrape(), "grpc_server_started_total"), started)

    def test_web_socket_closed_mid_call(self):
        before = counts("SayHello")
        sock = socket.create_connection((HOST, PORT))
        body = grpc_web_frame(hello("web", 3000))
        sock.sendall(
            f"POST /demo.v1.Greeter/SayHello HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
            f"Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.wait_backend_busy("SayHello", before)
        sock.close()
        self.assert_both_tiers_counted("SayHello", before, "Canceled", 0.1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
