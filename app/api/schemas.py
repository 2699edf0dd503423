"""Marshmallow schemas of API v1 (what the OpenAPI document shows)."""

from marshmallow import Schema, fields


class ApiErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "A stable error code"})
    message = fields.String(required=True, metadata={"description": "A translated sentence"})
    status = fields.Integer(required=True)
    field = fields.String(metadata={"description": "The input field at fault, when there is one"})
    errors = fields.Dict(keys=fields.String(), metadata={"description": "Field name → messages"})


class RoleSchema(Schema):
    role = fields.String(required=True)
    scope_id = fields.Integer(allow_none=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)


class CountrySchema(Schema):
    code = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2 (XK for Kosovo)"})
    name = fields.String(required=True, metadata={"description": "Name in the request's language (Accept-Language)"})
    numeric = fields.String(
        required=True, allow_none=True, metadata={"description": "ISO 3166-1 numeric, as world maps use; null for XK"}
    )


class CountryQuerySchema(Schema):
    group = fields.String(metadata={"description": "Only the countries of this country group (its name, any case)"})
