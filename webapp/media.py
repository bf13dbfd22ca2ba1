"""Serving uploaded images (re-encoded, generated names) from the instance folder."""

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

from webapp.services.images import is_generated_name

bp = Blueprint("media", __name__, url_prefix="/media")


def uploads_dir() -> Path:
    return Path(
        current_app.config.get("UPLOADS_DIR") or Path(current_app.instance_path) / "uploads"
    )


@bp.get("/<filename>")
def file(filename: str):
    """An uploaded image; only names store_image generated, and send_from_directory refuses
    paths outside the folder."""
    if not is_generated_name(filename):
        abort(404)
    response = send_from_directory(uploads_dir(), filename, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
