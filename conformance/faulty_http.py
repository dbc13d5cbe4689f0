"""A small HTTP file server with range requests whose faults tests can switch on:
`slow` (sleeps before answering GETs), `truncate` (sends half the body it declares,
whole or range: a transfer cut short) and `gets_left` (after that many more GETs, every
GET fails with 500: an object store failing in the middle of a response)."""

import email.utils
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultyFileServer:
    def __init__(self, directory):
        self.directory = directory
        self.mode = "ok"
        self.gets_left = None
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _file(self):
                path = os.path.join(owner.directory, os.path.basename(self.path))
                return path if os.path.isfile(path) else None

            def _headers(self, path, length, status=200, extra=()):
                st = os.stat(path)
                self.send_response(status)
                self.send_header("Content-Length", str(length))
                self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
                self.send_header("ETag", f'"{st.st_size:x}-{int(st.st_mtime):x}"')
                self.send_header("Accept-Ranges", "bytes")
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()

            def do_HEAD(self):
                path = self._file()
                if not path:
                    self.send_error(404)
                    return
                self._headers(path, os.path.getsize(path))

            def do_GET(self):
                path = self._file()
                if not path:
                    self.send_error(404)
                    return
                if owner.mode == "slow":
                    time.sleep(30)
                with owner.lock:
                    failing = owner.gets_left is not None and owner.gets_left <= 0
                    if owner.gets_left is not None:
                        owner.gets_left -= 1
                if failing:
                    self.send_error(500)
                    return
                data = open(path, "rb").read()
                m = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if m:
                    start = int(m.group(1))
                    end = int(m.group(2)) if m.group(2) else len(data) - 1
                    body = data[start : end + 1]
                    self._headers(
                        path,
                        len(body),
                        206,
                        [("Content-Range", f"bytes {start}-{end}/{len(data)}")],
                    )
                else:
                    body = data
                    self._headers(path, len(body))
                if owner.mode == "truncate":
                    body = body[: len(body) // 2]
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if owner.mode == "truncate":
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
