"""How each kind of misbehaving fleet source answers (`b_<kind>` methods), mixed into
fleet_server.py's Server, which provides send/good/gone/watch_peer/head and the plan."""
import asyncio
import email.utils
import random
import socket
import struct
import time

from fleet_common import CHAIN_PREFIX, DRIP_BYTES_PER_S, LOOP_PREFIX


class Behaviours:
    async def b_good(self, r, w, f, headers, keep, head_only, host):
        return await self.good(w, f, headers, keep, head_only)

    async def b_wrong_content_type_ok(self, r, w, f, headers, keep, head_only, host):
        return await self.good(w, f, headers, keep, head_only, ctype="text/plain")

    async def b_slow_drip(self, r, w, f, headers, keep, head_only, host):
        w.write(self.head(200, [("Content-Type", f.ctype), ("Connection", "close")]))
        await w.drain()
        peer = self.watch_peer(r)
        try:
            i = 0
            while not peer.done() and not w.is_closing():
                w.write(f.data[i % len(f.data):i % len(f.data) + DRIP_BYTES_PER_S])
                await w.drain()
                i += DRIP_BYTES_PER_S
                await asyncio.wait([peer], timeout=1.0)
            self.gone(f.kind)
        except (ConnectionError, OSError):
            self.gone(f.kind)
        finally:
            peer.cancel()
        return False

    async def b_slow_headers(self, r, w, f, headers, keep, head_only, host):
        peer = self.watch_peer(r)
        try:
            done, _ = await asyncio.wait([peer], timeout=120)
            if done:
                self.gone(f.kind)
        finally:
            peer.cancel()
        return False

    async def b_http_500(self, r, w, f, headers, keep, head_only, host):
        body = b"<html><body><h1>500 Internal Server Error</h1></body></html>\n"
        return await self.send(w, 500, [("Content-Type", "text/html")], body, keep, head_only)

    async def b_http_503_retry_after(self, r, w, f, headers, keep, head_only, host):
        body = b"<html><body><h1>503 Service Unavailable</h1>maintenance</body></html>\n"
        hdrs = [("Content-Type", "text/html"), ("Retry-After", "120")]
        return await self.send(w, 503, hdrs, body, keep, head_only)

    async def b_http_429_retry_after(self, r, w, f, headers, keep, head_only, host):
        when = email.utils.formatdate(time.time() + 300, usegmt=True)
        body = b"Too many requests; slow down.\n"
        hdrs = [("Content-Type", "text/plain"), ("Retry-After", when)]
        return await self.send(w, 429, hdrs, body, keep, head_only)

    async def b_redirect_loop(self, r, w, f, headers, keep, head_only, host):
        loc = f"http://{host}{LOOP_PREFIX}{f.name}"
        return await self.send(w, 302, [("Location", loc)], b"", keep)

    async def b_redirect_chain_long(self, r, w, f, headers, keep, head_only, host):
        loc = f"http://{host}{CHAIN_PREFIX}1/{f.name}"
        return await self.send(w, 301, [("Location", loc)], b"", keep)

    async def b_garbage(self, r, w, f, headers, keep, head_only, host):
        rnd = random.Random(f"{self.seed}:{f.name}:garbage")
        body = bytes(rnd.getrandbits(8) for _ in range(8192))
        return await self.send(w, 200, [("Content-Type", "application/rss+xml")], body, keep, head_only)

    async def b_html_page(self, r, w, f, headers, keep, head_only, host):
        n = f.index
        body = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Outlet {n} - Home</title>"
            f"<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/rss/{n}.xml\"></head>\n"
            f"<body><header><h1>Outlet {n}</h1><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a>"
            "</nav></header><main><article><h2>Welcome to our new website</h2><p>Our feeds have "
            "moved.</p></article></main><footer>&copy; Outlet</footer></body></html>\n"
        ).encode()
        return await self.send(w, 200, [("Content-Type", "text/html; charset=utf-8")], body, keep,
                               head_only)

    async def b_truncated_xml(self, r, w, f, headers, keep, head_only, host):
        body = f.data[: len(f.data) // 2]
        hdrs = [("Content-Type", f.ctype), ("ETag", f.etag), ("Last-Modified", f.last_modified)]
        return await self.send(w, 200, hdrs, body, keep, head_only)

    async def b_http_404(self, r, w, f, headers, keep, head_only, host):
        return await self.send(w, 404, [("Content-Type", "text/html")],
                               b"<html><body>Not Found</body></html>\n", keep, head_only)

    async def b_http_410(self, r, w, f, headers, keep, head_only, host):
        return await self.send(w, 410, [("Content-Type", "text/html")],
                               b"<html><body>Gone: this feed was discontinued</body></html>\n",
                               keep, head_only)

    async def b_gzip_bomb(self, r, w, f, headers, keep, head_only, host):
        hdrs = [("Content-Type", f.ctype), ("Content-Encoding", "gzip"), ("Connection", "close"),
                ("Content-Length", str(len(self.bomb)))]
        w.write(self.head(200, hdrs))
        if head_only:
            await w.drain()
            return False
        step = 64 * 1024
        try:
            for i in range(0, len(self.bomb), step):
                if w.is_closing():
                    self.gone(f.kind)
                    break
                w.write(self.bomb[i:i + step])
                await w.drain()
        except (ConnectionError, OSError):
            self.gone(f.kind)
        return False

    async def b_huge_body(self, r, w, f, headers, keep, head_only, host):
        w.write(self.head(200, [("Content-Type", f.ctype), ("Connection", "close")]))
        await w.drain()
        if head_only:
            return False
        w.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            b"<title>Endless</title><link>http://" + host.encode() + b"/</link>"
            b"<description>never ends</description>\n"
        )
        sent = 0
        i = 0
        limit = 4 << 30  # stop at 4 GiB even if the client reads it all
        while sent < limit:
            block = []
            for _ in range(64):
                i += 1
                block.append(
                    f"<item><title>Endless item {i}</title><link>http://{host}/endless/{i}</link>"
                    f"<guid>endless-{f.name}-{i}</guid><description>Item {i} of a feed that "
                    "never ends. Lorem ipsum dolor sit amet.</description></item>\n"
                )
            chunk = "".join(block).encode()
            if w.is_closing():
                self.gone(f.kind)
                break
            try:
                w.write(chunk)
                await w.drain()
            except (ConnectionError, OSError):
                self.gone(f.kind)
                break
            sent += len(chunk)
        return False

    async def b_reset(self, r, w, f, headers, keep, head_only, host):
        sock = w.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        w.transport.abort()
        return False


