"""URL converters shared by every blueprint."""

from werkzeug.routing import IntegerConverter

#: the largest value of a PostgreSQL `integer` primary key
MAX_DATABASE_INTEGER = 2**31 - 1


class DatabaseIntegerConverter(IntegerConverter):
    """`<int:id>` that only matches ids a database integer column can hold.

    A larger number would reach PostgreSQL as an out-of-range parameter and fail with a 500;
    outside the range the URL simply does not match, so the answer is a 404.
    """

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DATABASE_INTEGER)
        super().__init__(map, *args, **kwargs)
