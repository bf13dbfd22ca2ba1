"""Uploaded images: only PNG, JPEG or WebP; size-limited; decoded and re-encoded by Pillow
(which drops anything hidden in the file) and stored under a generated name."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 1024 * 1024
MAX_SIDE = 4096
ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


class ImageRejected(ValueError):
    """Why the upload was refused, in words for the person who uploaded it."""


@dataclass
class StoredImage:
    filename: str
    width: int
    height: int


def store_image(data: bytes, directory: Path, max_side: int = MAX_SIDE) -> StoredImage:
    """Validate, re-encode and save; returns the generated file name."""
    if len(data) > MAX_BYTES:
        raise ImageRejected("The image is larger than 1 MB. Choose a smaller file.")
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or head.startswith(b"<?xml") or b"<svg" in head:
        raise ImageRejected("SVG images are not accepted (they can contain scripts). "
                            "Upload a PNG, JPEG or WebP image.")  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image_format = image.format
            if image_format not in ALLOWED_FORMATS:
                raise ImageRejected("Upload a PNG, JPEG or WebP image.")
            width, height = image.size
            if width > max_side or height > max_side:
                raise ImageRejected(
                    f"The image is {width}×{height} pixels; at most {max_side} pixels a side."
                )
            image.load()  # decode fully: a truncated or forged file fails here
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # fmt: skip
        raise ImageRejected("This file is not a readable PNG, JPEG or WebP image.") from exc

    extension = ALLOWED_FORMATS[image_format]
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info
                              else "RGB")  # fmt: skip
    if extension == "jpg" and image.mode == "RGBA":
        image = image.convert("RGB")
    out = io.BytesIO()
    save_format = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[extension]
    image.save(out, save_format)  # a fresh encode: no metadata, no trailing payload
    directory.mkdir(parents=True, exist_ok=True)
    filename = f"{secrets.token_hex(16)}.{extension}"
    (directory / filename).write_bytes(out.getvalue())
    return StoredImage(filename, image.width, image.height)
