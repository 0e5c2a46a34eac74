"""One module per CMS family. Each says how to read a list page, ask for the next one, what the
column declares about its size, and how to read an article; the column spider picks the family
from the registry's ``cms`` hint or detects it from the column's first page, by the platform's
own markup (never by anything our sample portal adds)."""

from .base import CmsFamily, Declared, ListItem, Next, unfetchable
from .fujian import FujianTrs
from .generic import Generic
from .gkmlpt import Gkmlpt
from .hanweb import Hanweb
from .trs import Trs
from .ucap import Ucap
from .vsb import Vsb

FAMILIES: dict[str, type[CmsFamily]] = {
    "trs": Trs, "hanweb": Hanweb, "vsb": Vsb, "gkmlpt": Gkmlpt, "fujian": FujianTrs, "ucap": Ucap, "generic": Generic,
}
# Most specific first: a Fujian page also carries TRS markup, any page passes Generic.
DETECTION_ORDER = (Gkmlpt, FujianTrs, Hanweb, Trs, Vsb, Ucap, Generic)


def family_for(name: str | None, response) -> CmsFamily:
    if name:
        return FAMILIES[name]()
    for family in DETECTION_ORDER:
        if family.detect(response):
            return family()
    return Generic()


__all__ = ["CmsFamily", "Declared", "ListItem", "Next", "FAMILIES", "family_for", "unfetchable"]
