"""Admin: the audit log, filtered, newest first, and as CSV."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import parse_query, require_admin, respond
from app.api.openapi import documented
from app.extensions import get_db
from app.models import as_utc
from app.schemas.usage import AuditEventOut, AuditList, AuditQuery
from app.services import audit
from app.services.csv_export import csv_lines

bp = Blueprint("admin_audit", __name__, url_prefix="/api/admin/audit")


def utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def audit_filter(query: AuditQuery) -> audit.AuditFilter:
    return audit.AuditFilter(
        action=query.action,
        actor_id=query.actor_id,
        target_type=query.target_type,
        since=utc_or_none(query.since),
        until=utc_or_none(query.until),
    )


@bp.get("")
@jwt_required()
@documented(summary="Audit events, newest first, with filters (admins only)",
            query=AuditQuery, response=AuditList)  # fmt: skip
def list_audit() -> tuple[Response, int]:
    require_admin()
    query = parse_query(AuditQuery)
    rows = audit.list_events(get_db(), audit_filter(query), query.limit, query.offset)
    items = [AuditEventOut.model_validate(row) for row in rows]
    return respond(AuditList(items=items, actions=list(audit.ACTIONS)))


@bp.get("/export")
@jwt_required()
@documented(summary="Audit events as CSV, oldest first (admins only)", query=AuditQuery)
def export_audit() -> Response:
    require_admin()
    query = parse_query(AuditQuery)
    rows = list(audit.export_rows(get_db(), audit_filter(query)))
    response = Response(csv_lines(rows, audit.CSV_COLUMNS), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
