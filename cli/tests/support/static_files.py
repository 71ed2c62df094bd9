#!/usr/bin/env python3
"""A plain static file server for the plugin installer's tests: Python's own
`http.server` serving a directory, over HTTP, or over HTTPS with a certificate for
127.0.0.1 signed by a test CA (made with openssl, as tests/standins/workato.py makes
its own). Not a stand-in for any service: it serves the files a test wrote, as a
network mirror or a registry serves its documents, and logs every request path to
stderr.

Usage: static_files.py PORT ROOT [CERT_DIR]. With CERT_DIR, serves HTTPS and writes
the CA to CERT_DIR/ca.pem (give it as SSL_CERT_FILE). With REQUIRED_TOKEN in the
environment, a request without `Authorization: Bearer REQUIRED_TOKEN` is answered 401
(a private registry). Prints "ready" once listening.
"""

import functools
import os
import ssl
import subprocess
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


def make_certificates(directory):
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


class Handler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    def do_GET(self):
        token = os.environ.get("REQUIRED_TOKEN")
        if token and self.headers.get("Authorization") != "Bearer " + token:
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Bearer")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    handler = functools.partial(Handler, directory=root)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    if len(sys.argv) > 3:
        cert, key = make_certificates(sys.argv[3])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
