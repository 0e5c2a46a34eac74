"""Agency names as people type them: the short forms every reader uses for the official names.

A journalist types 科技局, 发改委 or 人社局; the agency signs its report 科学技术局, 发展和改革委员会,
人力资源和社会保障局, and the next county's 科技局 signs with the short form. ``name_variants`` turns
what was typed into every form worth looking for, both ways, from the one table below (official
abbreviations used in government documents and on the agencies' own portals).
"""

from __future__ import annotations

# (short form, official form). A short form may stand for more than one official name.
ABBREVIATIONS = (
    ("科技局", "科学技术局"),
    ("科技厅", "科学技术厅"),
    ("发改委", "发展和改革委员会"),
    ("发改委", "发展改革委员会"),
    ("发改局", "发展和改革局"),
    ("人社局", "人力资源和社会保障局"),
    ("人社厅", "人力资源和社会保障厅"),
    ("卫健委", "卫生健康委员会"),
    ("卫健局", "卫生健康局"),
    ("卫计委", "卫生和计划生育委员会"),
    ("住建局", "住房和城乡建设局"),
    ("住建委", "住房和城乡建设委员会"),
    ("住建厅", "住房和城乡建设厅"),
    ("市场监管局", "市场监督管理局"),
    ("市监局", "市场监督管理局"),
    ("资规局", "自然资源和规划局"),
    ("环保局", "环境保护局"),
    ("交通局", "交通运输局"),
    ("应急局", "应急管理局"),
    ("医保局", "医疗保障局"),
    ("退役军人局", "退役军人事务局"),
    ("工信局", "工业和信息化局"),
    ("工信厅", "工业和信息化厅"),
    ("经信局", "经济和信息化局"),
    ("经信委", "经济和信息化委员会"),
    ("文旅局", "文化和旅游局"),
    ("文旅厅", "文化和旅游厅"),
    ("文广旅局", "文化广电和旅游局"),
    ("广电局", "广播电视局"),
    ("城管局", "城市管理局"),
    ("城管局", "城市管理行政执法局"),
    ("综合执法局", "综合行政执法局"),
    ("行政审批局", "行政审批服务局"),
    ("国资委", "国有资产监督管理委员会"),
    ("民宗局", "民族宗教事务局"),
    ("侨办", "侨务办公室"),
    ("人防办", "人民防空办公室"),
    ("机关事务局", "机关事务管理局"),
    ("粮储局", "粮食和物资储备局"),
    ("政数局", "政务服务数据管理局"),
    ("大数据局", "大数据管理局"),
    ("安监局", "安全生产监督管理局"),
    ("食药监局", "食品药品监督管理局"),
)


def name_variants(typed: str) -> list[str]:
    """What was typed, then each form with a short name made official or an official name made short.

    科技局 → [科技局, 科学技术局]; 嘉兴市科学技术局 → [嘉兴市科学技术局, 嘉兴市科技局].
    """
    typed = " ".join((typed or "").split())
    found = [typed] if typed else []
    for short, official in ABBREVIATIONS * 2:  # twice: official → short → another official form
        for name in list(found):
            if official in name:
                variant = name.replace(official, short)
            elif short in name and not any(short in other and other in name for _, other in ABBREVIATIONS):
                variant = name.replace(short, official)
            else:
                continue
            if variant not in found:
                found.append(variant)
    return found
