"""One module per CMS family. Each says how to read a list page, find the next pages and
read an article; the column spider picks the family from the registry or detects it."""

from .base import CmsFamily, ListItem
from .generic import Generic
from .hanweb import Hanweb
from .trs import Trs
from .vsb import Vsb

FAMILIES: dict[str, type[CmsFamily]] = {"trs": Trs, "hanweb": Hanweb, "vsb": Vsb, "generic": Generic}
DETECTION_ORDER = (Hanweb, Trs, Vsb, Generic)


def family_for(name: str | None, response) -> CmsFamily:
    if name:
        return FAMILIES[name]()
    for family in DETECTION_ORDER:
        if family.detect(response):
            return family()
    return Generic()


__all__ = ["CmsFamily", "ListItem", "FAMILIES", "family_for"]
