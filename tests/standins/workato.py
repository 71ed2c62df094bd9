#!/usr/bin/env python3
"""A stand-in for the few Workato API endpoints the `workato_folder` kind of
terraform-provider-workato uses, for tests only.

This is a fake, written here for Infra's tests: no Workato server runs on a test
machine. It keeps folders in memory and answers the requests the plugin was seen to
send (docs: /work/shared/SERVICES.md), nothing else; what it answers is what the plugin
accepts, not a model of Workato's behaviour beyond that.

Usage: workato.py PORT DIR TOKEN. Serves HTTPS on 127.0.0.1:PORT with a certificate
for 127.0.0.1 signed by a test CA it writes to DIR/ca.pem (give it to the plugin with
SSL_CERT_FILE); prints "ready" once listening. Requests need
`Authorization: Bearer TOKEN` (else 401).

Endpoints: `GET /api/folders?parent_id=ID&page=N&per_page=N` (a folder's children),
`POST /api/folders {"name", "parent_id"}`, `PUT /api/folders/ID {"name"}`,
`DELETE /api/folders/ID`. Test controls under `/__standin/` (no token needed):
`POST rename {"id", "name"}` (a change made outside Infra), `GET requests` (every
request seen, as "METHOD PATH" lines, controls excluded), `GET requests.json` (the same
as a JSON list of {"method", "path", "body"}), `POST clock {"now"}` (every timestamp
from then on is NOW, so two runs make equal objects), `POST hold {"name"}` (a
`POST /api/folders` creating a folder of that name waits, not yet created, until
`POST release`, which drops its connection unanswered), `GET held` ("yes" once a
request waits, else "no").
"""

import json
import os
import ssl
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATE = {"next_id": 5000, "folders": {}, "requests": [], "clock": None, "hold": None, "held": False}
RELEASE = threading.Event()
TOKEN = ""


def now():
    if STATE["clock"]:
        return STATE["clock"]
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make_certificates(directory):
    """A test CA and a server certificate for 127.0.0.1 it signs, with openssl."""
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(directory, "server.ext")
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=Infra test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return cert, key


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def handle_any(self, method):
        url = urlparse(self.path)
        body = self.body()
        if url.path.startswith("/__standin/"):
            return self.control(method, url.path[len("/__standin/"):], body)
        with LOCK:
            STATE["requests"].append({"method": method, "path": self.path, "body": body})
            hold = STATE["hold"] is not None and method == "POST" and body.get("name") == STATE["hold"]
            if hold:
                STATE["held"] = True
        if hold:
            # Held until the test releases it; then the connection closes unanswered.
            RELEASE.wait()
            self.close_connection = True
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"message": "Unauthorized"})
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        with LOCK:
            folders = STATE["folders"]
            if parts == ["api", "folders"] and method == "GET":
                parent = query.get("parent_id", [None])[0]
                page = int(query.get("page", ["1"])[0])
                per_page = int(query.get("per_page", ["100"])[0])
                children = [f for f in folders.values() if parent is None or str(f["parent_id"]) == parent]
                return self.answer(200, children[(page - 1) * per_page:page * per_page])
            if parts == ["api", "folders"] and method == "POST":
                STATE["next_id"] += 1
                folder = {
                    "id": STATE["next_id"],
                    "name": body.get("name", ""),
                    "parent_id": int(body["parent_id"]) if body.get("parent_id") else None,
                    "is_project": False,
                    "project_id": None,
                    "created_at": now(),
                    "updated_at": now(),
                }
                folders[folder["id"]] = folder
                return self.answer(200, folder)
            if len(parts) == 3 and parts[:2] == ["api", "folders"] and parts[2].isdigit():
                folder = folders.get(int(parts[2]))
                if folder is None:
                    return self.answer(404, {"message": "Not found"})
                if method == "GET":
                    return self.answer(200, folder)
                if method in ("PUT", "PATCH"):
                    for field in ("name",):
                        if field in body:
                            folder[field] = body[field]
                    if body.get("parent_id"):
                        folder["parent_id"] = int(body["parent_id"])
                    folder["updated_at"] = now()
                    return self.answer(200, folder)
                if method == "DELETE":
                    del folders[folder["id"]]
                    return self.answer(200, {"success": True})
        return self.answer(404, {"message": f"the stand-in does not serve {method} {url.path}"})

    def control(self, method, name, body):
        with LOCK:
            if name in ("requests", "requests.json"):
                seen = STATE["requests"]
                if name == "requests":
                    data = "\n".join(f"{r['method']} {r['path']}" for r in seen).encode()
                else:
                    data = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if name == "rename":
                folder = STATE["folders"].get(int(body["id"]))
                if folder is None:
                    return self.answer(404, {"message": "Not found"})
                folder["name"] = body["name"]
                folder["updated_at"] = now()
                return self.answer(200, folder)
            if name == "clock":
                STATE["clock"] = body["now"]
                return self.answer(200, {})
            if name == "hold":
                STATE["hold"] = body["name"]
                return self.answer(200, {})
            if name == "held":
                return self.answer(200, "yes" if STATE["held"] else "no")
            if name == "release":
                STATE["hold"] = None
                RELEASE.set()
                return self.answer(200, {})
        return self.answer(404, {"message": "no such control"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


def main():
    global TOKEN
    port, directory, TOKEN = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    cert, key = make_certificates(directory)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
