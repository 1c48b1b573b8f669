#!/usr/bin/env python3
"""hub_server.py ROOT PORTFILE LOGFILE: a stand-in for the Hugging Face Hub on
127.0.0.1, for tests/test_hub.c and tests/test_hub.sh.

Serves ROOT/OWNER/NAME/FILE at /OWNER/NAME/resolve/REVISION/FILE (any revision),
as the Hub does, GET and HEAD, with the Hub's metadata headers (what
huggingface_hub's get_hf_file_metadata reads):
  X-Repo-Commit  the commit: ROOT/OWNER/NAME/.commit when that file exists, else
                 the SHA-1 of the files' names and SHA-256s (so it changes with them)
  ETag           "git blob SHA-1" of a plain file
model.safetensors is an LFS file: it answers with a 302 to /lfs/OWNER/NAME/FILE
(the Hub's CDN) carrying X-Linked-Etag (its SHA-256) and X-Linked-Size. Range
requests ("bytes=N-") get 206 with Content-Range. Behaviour chosen by the name:
  */cut*      the first GET of model.safetensors sends the headers and half
              the body, then closes the connection
  */private*  401 unless "Authorization: Bearer sesame" is sent
  */*norange* Range headers are ignored (200 with the whole file)
  */corrupt*  the CDN's model.safetensors has one byte flipped (same size)
  */wrongsize* X-Linked-Size says 5 bytes more than the file has
  */offhost*  the 302 goes to http://localhost:PORT/lfs/... (another host name)
  */nometa*   no X-Repo-Commit (a plain file server, not a Hub)
Writes the chosen port (port 0 = any free one) to PORTFILE once listening, and
one line per request to LOGFILE: "METHOD PATH range=... auth=...".
Exits by itself after 120 seconds (or when killed), so a failed test cannot
leave it behind for long.
"""
import hashlib
import http.server
import os
import sys
import threading

ROOT, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
cut_done = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def log(self):
        with lock, open(LOGFILE, "a") as f:
            f.write("%s %s range=%s auth=%s\n" % (self.command, self.path, self.headers.get("Range", "-"),
                                                 self.headers.get("Authorization", "-")))

    def send_plain(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET(head=True)

    def commit(self, owner, name):
        d = os.path.join(ROOT, owner, name)
        fixed = os.path.join(d, ".commit")
        if os.path.isfile(fixed):
            return open(fixed).read().strip()
        h = hashlib.sha1()
        for f in sorted(os.listdir(d)):
            h.update(f.encode() + hashlib.sha256(open(os.path.join(d, f), "rb").read()).digest())
        return h.hexdigest()

    def do_GET(self, head=False):
        self.log()
        parts = self.path.split("/")
        # /owner/name/resolve/rev/file  or  /lfs/owner/name/file
        if len(parts) == 6 and parts[3] == "resolve":
            owner, name, fname, lfs = parts[1], parts[2], parts[5], False
        elif len(parts) == 5 and parts[1] == "lfs":
            owner, name, fname, lfs = parts[2], parts[3], parts[4], True
        else:
            return self.send_plain(404, b"no such path")
        if "private" in name and self.headers.get("Authorization") != "Bearer sesame":
            return self.send_plain(401, b"unauthorized")
        path = os.path.join(ROOT, owner, name, fname)
        if ".." in fname or not os.path.isfile(path):
            return self.send_plain(404, b"Entry not found")
        data = open(path, "rb").read()
        meta = {}
        if not lfs and "nometa" not in name:
            meta["X-Repo-Commit"] = self.commit(owner, name)
        if fname == "model.safetensors" and not lfs:
            self.send_response(302)
            loc = "/lfs/%s/%s/%s" % (owner, name, fname)
            if "offhost" in name:
                loc = "http://localhost:%d%s" % (self.server.server_address[1], loc)
            self.send_header("Location", loc)
            oid = hashlib.sha256(data).hexdigest()
            self.send_header("X-Linked-Etag", '"%s"' % oid)
            self.send_header("ETag", '"%s"' % oid)
            self.send_header("X-Linked-Size", str(len(data) + (5 if "wrongsize" in name else 0)))
            for k, v in meta.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if lfs and "corrupt" in name:
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        if not lfs:
            meta["ETag"] = '"%s"' % hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        start = 0
        rng = self.headers.get("Range")
        if rng and "norange" not in name:
            if not rng.startswith("bytes=") or not rng.endswith("-"):
                return self.send_plain(400, b"only bytes=N- ranges here")
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        for k, v in meta.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        key = (owner, name, fname)
        with lock:
            cut = "cut" in name and fname == "model.safetensors" and key not in cut_done
            if cut:
                cut_done.add(key)
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the cut connections reset by design; errors show up in the test's checks


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, PORTFILE)
    threading.Timer(120, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
