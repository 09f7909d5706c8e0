#!/usr/bin/env python3
"""An HTTP server for the Linux network tests, on 127.0.0.1 (which a guest
on user networking reaches as 10.0.2.2): GET /file sends SIZE bytes of a
fixed pattern, POST /up answers with the MD5 and length of what it received,
base64-decoded (busybox wget posts text: it stops at a NUL byte). Writes
its port to PORTFILE once listening; one line per request on stdout.
Usage: http_server.py PORTFILE SIZE [ADDR] (default 127.0.0.1)"""
import base64
import hashlib
import http.server
import os
import sys

SIZE = int(sys.argv[2])
DATA = bytes((i * 7 + (i >> 10)) & 255 for i in range(SIZE))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)

    def reply(self, body):
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != '/file':
            self.send_error(404)
            return
        self.reply(DATA)

    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = base64.b64decode(self.rfile.read(n))
        self.reply(('%s %d\n' % (hashlib.md5(body).hexdigest(),
                                 len(body))).encode())


srv = http.server.HTTPServer((sys.argv[3] if len(sys.argv) > 3
                              else '127.0.0.1', 0), Handler)
port = sys.argv[1]
with open(port + '.tmp', 'w') as f:
    f.write('%d\n' % srv.server_address[1])
os.rename(port + '.tmp', port)
print('md5 %s' % hashlib.md5(DATA).hexdigest(), flush=True)
srv.serve_forever()
