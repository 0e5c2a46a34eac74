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
    return detected(response)


def detected(response) -> CmsFamily:
    for family in DETECTION_ORDER:
        if family.detect(response):
            return family()
    return Generic()


def page_items(name: str | None, response) -> list[ListItem]:
    """A page's list items in whatever form it holds them, for judging a page found by discovery: the
    hinted family's reading (a portal's ``cms:`` is its root's, not its departments'), and the family
    the page's own markup shows (a jcms department column's records inside ``<script type="text/xml">
    <datastore>``; a TRS table column). The same URL once."""
    families = [family_for(name, response)] if name else []
    found = detected(response)
    if not families or type(found) is not type(families[0]):
        families.append(found)
    items: dict[str, ListItem] = {}
    for family in families:
        for item in family.list_items(response):
            items.setdefault(item.url, item)
    return list(items.values())


__all__ = ["page_items", "CmsFamily", "Declared", "ListItem", "Next", "FAMILIES", "family_for", "unfetchable"]
