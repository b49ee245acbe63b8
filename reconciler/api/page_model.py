"""The status page's model card: which model decides, why, and the last candidate's verdict.

Pure, like ``page``: a ``ModelPanel`` in, markup out; every string from data is escaped.
"""

from __future__ import annotations

from html import escape

from reconciler.api.page_view import ModelPanel

__all__ = ["model_card"]


def model_card(panel: ModelPanel | None) -> str:
    if panel is None:
        return ""
    badge = "warn" if panel.deciding == "baseline" else "ok"
    inner = (
        f'<p>Deciding: <span class="badge {badge}">{escape(panel.deciding)}</span> '
        f"{escape(panel.reason)}</p>"
    )
    if panel.candidate_id is not None and panel.candidate_id != panel.deciding:
        window = f" on {escape(panel.window)}" if panel.window else ""
        inner += (
            f'<p class="muted">Last candidate <code>{escape(panel.candidate_id)}</code>{window}: '
            f"{escape(panel.candidate_reason or 'never compared')}</p>"
        )
    return f'<section class="card model" id="model"><h2>Model</h2>{inner}</section>'
