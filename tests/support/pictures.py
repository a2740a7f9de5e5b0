"""Small real pictures for tests (a browser can show them), and bytes that only pretend."""
from __future__ import annotations

import struct
import zlib


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A valid PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def padded_png(size: int) -> bytes:
    """A PNG header followed by filler, ``size`` bytes long (for size limits)."""
    head = png()
    return head + b"\x00" * max(0, size - len(head))


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00" \
      b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
HTML_AS_PNG = b"<html><script>alert(1)</script></html>"  # named picture.png, claims image/png
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
