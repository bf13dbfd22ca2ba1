"""The staff member's notifications: how the processes they started ended."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from webapp.scoping import org_id
from webapp.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
def index():
    """Newest first, unread ones marked."""
    items = notifications.for_user(current_user.id, org_id())
    return render_template("notifications/list.html", items=items)


@bp.post("/read")
def mark_read():
    """Mark every notification as read."""
    notifications.mark_all_read(current_user.id)
    return redirect(url_for("notifications.index"), code=303)
