"""Flask glue shared by every blueprint: error pages and JSON errors, translated messages for
domain error codes, security headers, template globals and filters, base templates and the
vendored static files. Business rules never live here.
"""
