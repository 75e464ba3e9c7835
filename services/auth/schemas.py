"""marshmallow schemas of what the auth service's RPC takes: a key's owner, imported keys."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from services.auth.principals import ADMIN_SUBJECT, KINDS
from shared.domain.fields import StrictSchema
from shared.domain.units import WITH_PROVINCE

SUBJECT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Owner(StrictSchema):
    """Whom a key is issued to: a unit (or the province), an incubator, admin or a service."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    subject = fields.String(load_default=ADMIN_SUBJECT)

    @validates_schema
    def subject_fits_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, subject = data.get("kind"), data.get("subject", ADMIN_SUBJECT)
        if kind == "unit" and subject not in WITH_PROVINCE:
            raise ValidationError(f"must be one of {', '.join(WITH_PROVINCE)}", "subject")
        if kind == "admin" and subject != ADMIN_SUBJECT:
            raise ValidationError(f"an admin key's subject is {ADMIN_SUBJECT!r}", "subject")
        if kind in ("incubator", "service") and not SUBJECT.match(subject or ""):
            raise ValidationError("must be 1-64 letters, digits, _ or -", "subject")


class LegacyKey(StrictSchema):
    """A key record from the incubators or notifications database (before the auth service)."""

    key_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{1,32}$"))
    owner = fields.String(required=True, validate=validate.Length(1, 64))
    hash = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    created_at = fields.Raw(load_default=None)
    revoked_at = fields.Raw(load_default=None)
