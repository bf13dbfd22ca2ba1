"""Uploaded images: only PNG, JPEG or WebP; size-limited; decoded and re-encoded by Pillow
(which drops anything hidden in the file) and stored under a generated name.

Checking and storing are separate steps so that a form with two uploads can check both
before writing either: nothing is saved when any field is wrong."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 1024 * 1024
MAX_SIDE = 4096
ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
SAVE_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
SVG_MESSAGE = (
    "SVG images are not accepted (they can contain scripts). Upload a PNG, JPEG or WebP image."
)
UNREADABLE_MESSAGE = "This file is not a readable PNG, JPEG or WebP image."


class ImageRejected(ValueError):
    """Why the upload was refused, in words for the person who uploaded it."""


@dataclass(frozen=True)
class PreparedImage:
    """A checked image, re-encoded in memory and not yet written anywhere."""

    data: bytes
    extension: str
    width: int
    height: int


@dataclass
class StoredImage:
    filename: str
    width: int
    height: int


def _looks_like_svg(data: bytes, filename: str) -> bool:
    if filename.lower().rsplit(".", 1)[-1] in ("svg", "svgz"):
        return True
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    # Markup, not an image: an SVG if it says so anywhere (comments may come before <svg).
    return text.startswith(b"<") and b"<svg" in text


def prepare_image(data: bytes, max_side: int = MAX_SIDE, filename: str = "") -> PreparedImage:
    """Check an upload and re-encode it; raises ImageRejected with the reason."""
    if not data:
        raise ImageRejected("The file is empty. Choose a PNG, JPEG or WebP image.")
    if len(data) > MAX_BYTES:
        raise ImageRejected("The image is larger than 1 MB. Choose a smaller file.")
    if _looks_like_svg(data, filename):
        raise ImageRejected(SVG_MESSAGE)
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between 89 and 179 million pixels: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            image_format = image.format
            if image_format not in ALLOWED_FORMATS:
                raise ImageRejected("Upload a PNG, JPEG or WebP image.")
            width, height = image.size
            if width > max_side or height > max_side:
                raise ImageRejected(
                    f"The image is {width}×{height} pixels; at most {max_side} pixels a side."
                )
            image.load()  # decode fully: a truncated or forged file fails here
            image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant
            if image.mode not in ("RGB", "RGBA"):
                has_alpha = "A" in image.getbands() or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha else "RGB")
            extension = ALLOWED_FORMATS[image_format]
            if extension == "jpg" and image.mode == "RGBA":
                image = image.convert("RGB")
            out = io.BytesIO()
            # A fresh encode of the pixels only: no metadata, no comments, no trailing payload.
            image.save(out, SAVE_FORMATS[extension])
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            f"The image declares far too many pixels; at most {max_side} pixels a side."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(UNREADABLE_MESSAGE) from exc
    return PreparedImage(out.getvalue(), extension, image.width, image.height)


def save_prepared(prepared: PreparedImage, directory: Path) -> StoredImage:
    """Write a prepared image under a generated, unguessable name."""
    directory.mkdir(parents=True, exist_ok=True)
    filename = f"{secrets.token_hex(16)}.{prepared.extension}"
    (directory / filename).write_bytes(prepared.data)
    return StoredImage(filename, prepared.width, prepared.height)


def store_image(
    data: bytes, directory: Path, max_side: int = MAX_SIDE, filename: str = ""
) -> StoredImage:
    """Validate, re-encode and save; returns the generated file name."""
    return save_prepared(prepare_image(data, max_side, filename), directory)


def is_generated_name(name: str) -> bool:
    """True for a name store_image made (32 hex digits and an allowed extension)."""
    stem, _, extension = name.partition(".")
    return (
        len(stem) == 32 and all(c in "0123456789abcdef" for c in stem) and extension in SAVE_FORMATS
    )


def remove_stored(name: str, directory: Path) -> None:
    """Delete an image store_image made; anything else is left alone."""
    if name and is_generated_name(name):
        (directory / name).unlink(missing_ok=True)
