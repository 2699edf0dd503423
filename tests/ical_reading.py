"""Reading iCal feeds back with vobject, the second, independent parser of the tests."""

from __future__ import annotations

import vobject
import vobject.icalendar


def read_feed(text: str):
    """The feed parsed by vobject with its own VTIMEZONE.

    vobject keeps the first VTIMEZONE it has seen for each TZID for the whole process and
    reuses it for every later feed. A feed built earlier in the run may have carried the
    transitions of other years only, and its stale time zone would then shift this feed's
    times. Forgetting the registry (UTC apart) before each parse keeps tests independent of
    their order."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in [key for key in registry if key != "UTC"]:
        del registry[tzid]
    return vobject.readOne(text)
