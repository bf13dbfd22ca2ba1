"""A real SMTP server on localhost for tests: it accepts every message and keeps it, so that
a test reads exactly what the app sent (headers, body, attachments) over a real connection."""

from __future__ import annotations

import email
import socketserver
import threading
from email.message import Message
from email.policy import default


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    self.server.messages.append(
                        email.message_from_string("\n".join(lines), policy=default)
                    )
                    data_mode, lines = False, []
                    self.reply("250 queued")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            command = line.split(" ", 1)[0].upper()
            if command in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif command in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 ok")
            elif command == "DATA":
                data_mode = True
                self.reply("354 go on")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[Message] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> SmtpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
