"""Uploaded images: PNG, JPEG or WebP only, ≤1 MB, ≤4096 px a side, re-encoded by Pillow and
stored under a generated name; SVG, pixel bombs and disguised files are refused."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from webapp.services.images import (
    MAX_BYTES,
    ImageRejected,
    is_generated_name,
    prepare_image,
    store_image,
)

GENERATED = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


def image_bytes(fmt: str, size=(40, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else None).save(out, fmt, **save)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A real 1×1 PNG whose IHDR is patched to claim another size (CRC recomputed)."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "x.png"),
        (b"\xef\xbb\xbf  <!-- a comment -->\n" + b" " * 600 + b"<svg></svg>", "x.webp"),
        (image_bytes("PNG"), "logo.svg"),  # named SVG: refused for what it claims to be
    ],
)
def test_svg_is_refused_with_a_clear_message(tmp_path, data, filename):
    """SVG (which can carry scripts) is refused, saying so, whatever the file is called."""
    with pytest.raises(ImageRejected, match="SVG images are not accepted"):
        store_image(data, tmp_path, filename=filename)
    assert not any(tmp_path.iterdir())


def test_oversize_file_is_refused(tmp_path):
    """More than 1 MB is refused before anything is decoded."""
    data = image_bytes("PNG") + b"\0" * MAX_BYTES
    with pytest.raises(ImageRejected, match="larger than 1 MB"):
        store_image(data, tmp_path)


def test_pixel_bomb_is_refused(tmp_path):
    """A small PNG declaring 50000×50000 pixels is refused from its header, never decoded."""
    bomb = png_declaring(50_000, 50_000)
    assert len(bomb) < 200
    with pytest.raises(ImageRejected, match="too many pixels"):
        store_image(bomb, tmp_path)
    assert not any(tmp_path.iterdir())


def test_more_than_4096_pixels_a_side_is_refused(tmp_path):
    """A long, thin image under Pillow's bomb limit still obeys the 4096-pixel side limit."""
    with pytest.raises(ImageRejected, match="5000×10 pixels; at most 4096"):
        store_image(png_declaring(5000, 10), tmp_path)


def test_favicon_limit_is_512_pixels_a_side(tmp_path):
    """The favicon's own, smaller side limit applies when asked for."""
    with pytest.raises(ImageRejected, match="at most 512 pixels a side"):
        prepare_image(image_bytes("PNG", size=(600, 600)), max_side=512)
    assert prepare_image(image_bytes("PNG", size=(512, 512)), max_side=512).width == 512


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00 this is a Windows program, not a picture",
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.7\n",
        image_bytes("PNG")[:60],  # truncated: header fine, pixels missing
        b"",
    ],
)
def test_non_images_named_png_are_refused(tmp_path, data):
    """Whatever the name says, a file that does not decode as an image is refused."""
    with pytest.raises(ImageRejected):
        store_image(data, tmp_path, filename="logo.png")
    assert not any(tmp_path.iterdir())


def test_other_image_formats_are_refused(tmp_path):
    """GIF, BMP and friends are images, but not accepted ones."""
    for fmt in ("GIF", "BMP", "TIFF"):
        with pytest.raises(ImageRejected, match="PNG, JPEG or WebP"):
            store_image(image_bytes(fmt), tmp_path, filename="logo.png")


@pytest.mark.parametrize(("fmt", "extension"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_real_images_are_re_encoded_under_a_generated_name(tmp_path, fmt, extension):
    """An accepted image is stored as a fresh encode (not the uploaded bytes) under a random
    name with the right extension, whatever the uploaded file was called."""
    upload = image_bytes(fmt, size=(64, 48)) + b"<script>alert(1)</script>"  # trailing payload
    stored = store_image(upload, tmp_path, filename="../../etc/passwd.png")
    assert GENERATED.match(stored.filename) and stored.filename.endswith("." + extension)
    assert is_generated_name(stored.filename)
    assert [p.name for p in tmp_path.iterdir()] == [stored.filename]
    saved = (tmp_path / stored.filename).read_bytes()
    assert saved != upload and b"<script>" not in saved
    with Image.open(io.BytesIO(saved)) as image:
        assert image.format == fmt and image.size == (64, 48)
    assert (stored.width, stored.height) == (64, 48)


def test_metadata_is_dropped(tmp_path):
    """Text chunks and EXIF in an upload do not survive the re-encode."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    png = image_bytes("PNG", pnginfo=info)
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    jpeg = image_bytes("JPEG", exif=exif.tobytes())
    for data in (png, jpeg):
        stored = store_image(data, tmp_path)
        saved = (tmp_path / stored.filename).read_bytes()
        assert b"alert(1)" not in saved and b"secret description" not in saved


def test_palette_and_transparent_images_are_accepted(tmp_path):
    """Palette and alpha images are converted, not refused (a JPEG never keeps alpha)."""
    palette = image_bytes("PNG", mode="P")
    rgba = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(rgba, "WEBP")
    for data in (palette, rgba.getvalue()):
        assert GENERATED.match(store_image(data, tmp_path).filename)


def test_media_route_serves_only_generated_names(app, client, tmp_path):
    """Stored images are served with nosniff; any other name is not found."""
    app.config["UPLOADS_DIR"] = str(tmp_path)
    stored = store_image(image_bytes("PNG"), tmp_path)
    (tmp_path / "notes.txt").write_text("private")
    with client.get(f"/media/{stored.filename}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_data() == (tmp_path / stored.filename).read_bytes()
    assert client.get("/media/notes.txt").status_code == 404
    assert client.get("/media/..%2f..%2fwebapp%2f__init__.py").status_code == 404
    assert client.get("/media/" + "0" * 32 + ".png").status_code == 404
