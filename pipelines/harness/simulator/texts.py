"""Chinese text templates for simulated grid reports and hotline messages.

Grid staff (网格员) write short factual descriptions; citizens calling the
hotline write longer complaints in the first person.  Templates name the
town and village of the event and draw small details (house numbers,
amounts, bus routes) from the caller's random generator.  No template ever
contains a phone number, ID number or plate: personal identifiers travel
only in the envelope's ``persons`` and ``vehicles`` fields.
"""

from __future__ import annotations

import random
from types import MappingProxyType

__all__ = [
    "GRID_TEMPLATES",
    "HOTLINE_TEMPLATES",
    "grid_description",
    "hotline_message",
    "text_details",
    "fake_name",
]

_PLACES = (
    "村口",
    "主路旁",
    "文化广场",
    "小卖部附近",
    "南侧路口",
    "河道边",
    "停车场",
    "公交站旁",
    "菜地边",
    "老旧平房区",
    "桥头",
    "学校附近",
)

#: Description templates per grid category.  Placeholders: ``{town}``,
#: ``{village}``, ``{place}``, ``{n}`` (a small count), ``{time}`` (a clock time).
GRID_TEMPLATES = MappingProxyType(
    {
        "public_order.suspicious_person": (
            "巡查发现{village}{place}有一名陌生男子多次徘徊，神色慌张，见人即走，已跟进核实。",
            "{village}居民反映近两天有外地人员挨家挨户打听情况，形迹可疑，请派出所协助核查。",
            "{time}左右在{village}{place}发现{n}名可疑人员查看车辆门把手，发现后迅速离开。",
            "{town}{village}{place}有人员以推销为名进入院落，身份不明，已劝离并登记。",
        ),
        "public_order.suspicious_vehicle": (
            "{village}{place}停放一辆无人看管的面包车，已停放{n}天，车窗遮挡，较为可疑。",
            "巡查时发现一辆轿车在{village}内反复低速绕行，车内{n}人，疑似踩点。",
            "夜间{village}{place}有车辆装卸不明物品，车辆已驶离，已记录车牌。",
        ),
        "public_order.petty_theft": (
            "{village}村民反映家中院内电动车电瓶被盗，损失约{amount}元，已报警。",
            "{village}{place}近期连续发生自行车被盗{n}起，群众反映强烈。",
            "{town}{village}菜地里的灌溉水泵夜间被偷，村民要求加强夜间巡逻。",
            "{village}小卖部反映有人趁店主不注意拿走香烟等货物，已调取监控。",
        ),
        "public_order.fight": (
            "{time}左右{village}{place}两名村民因宅基地边界问题发生口角并动手，已劝开。",
            "{village}{place}有{n}人因停车纠纷发生推搡，情绪激动，已联系派出所到场。",
            "{town}{village}邻里因排水问题争吵升级为打架，一人轻微受伤，已送医。",
            "{village}饭馆内有顾客酒后滋事，与店主发生肢体冲突，已调解。",
        ),
        "environment.cult_leaflet": (
            "{village}{place}发现散落的邪教宣传品{n}份，已全部收缴并上报。",
            "巡查时在{village}居民信箱内发现夹带的非法宣传单，已清理。",
            "{town}{village}{place}电线杆上张贴有邪教类小广告，已撕除并拍照留存。",
        ),
        "environment.illegal_dumping": (
            "{village}{place}有人倾倒建筑垃圾约{n}车，占用道路，影响通行。",
            "{town}{village}河道边发现大量生活垃圾随意堆放，气味难闻，需清理。",
            "夜间有车辆在{village}{place}偷倒渣土，已拍照取证。",
            "{village}{place}堆放废旧家具和装修垃圾，长期无人清理。",
        ),
        "environment.burning": (
            "{village}{place}有村民焚烧秸秆，烟雾较大，已现场制止并扑灭。",
            "{time}左右{village}{place}有人露天焚烧垃圾，周边居民反映呛人。",
            "{town}{village}果园内焚烧修剪下的树枝，存在火灾隐患，已劝阻。",
        ),
        "environment.late_garbage_collection": (
            "{village}{place}垃圾桶已满溢{n}天未清运，周边异味明显。",
            "{town}{village}垃圾收集点清运不及时，垃圾堆到路面，影响环境。",
            "{village}分类垃圾桶损坏且未按时清运，居民意见较大。",
        ),
        "construction.illegal_construction": (
            "{village}{place}有住户未经审批加盖彩钢房约{n}0平方米，已要求停工。",
            "巡查发现{town}{village}有人在耕地上搭建简易房，疑似违建。",
            "{village}{place}有住户扩建院墙占用公共道路，已上报城管。",
            "{village}一处民宅正在加盖二层，未见规划许可，施工仍在进行。",
        ),
    }
)

_OPENERS = (
    "您好，我是{town}{village}的居民，",
    "我住在{town}{village}，",
    "市民来电反映：",
    "我想反映个问题，",
    "",
)
_CLOSERS = (
    "请有关部门尽快处理。",
    "希望尽快解决，谢谢。",
    "已经反映过多次，一直没有结果，请督促落实。",
    "请相关部门核实处理并给予答复。",
    "",
)

#: Message bodies per hotline category.  Placeholders: ``{town}``,
#: ``{village}``, ``{n}``, ``{months}``, ``{amount}``, ``{route}``,
#: ``{building}``, ``{time}``.  An opener and a closer are added around them.
HOTLINE_TEMPLATES = MappingProxyType(
    {
        "hotline.urban_rural_construction": (
            "{village}小区垃圾长时间无人清运，楼下都堆满了，物业说不归他们管。",
            "{village}{building}号楼供暖一直不热，屋里才十几度，老人孩子都冻感冒了。",
            "{village}门口的路修了一半就停工了，坑坑洼洼，下雨天全是积水。",
            "{village}{building}号楼电梯三天两头坏，住高层的老人根本下不了楼。",
            "{village}自来水这几天发黄还有异味，不敢喝，也没人来检修。",
            "{village}路灯坏了{n}个多月，晚上黑漆漆的，出门很不安全。",
            "{village}楼顶漏水，找物业好几次都说没钱修，屋里墙皮都掉了。",
        ),
        "hotline.labour_social_security": (
            "我在{town}一个工地干活，老板拖欠工资{months}个月了，一共{amount}元，一直不给。",
            "公司没给我交社保，现在要办退休了才发现少交了好几年。",
            "我父亲的养老金这个月没有按时到账，想问问是什么原因。",
            "单位让我们签自愿放弃社保的协议，不签就不让上班，这合法吗？",
            "我被公司无故辞退，没有任何补偿，想咨询怎么维权。",
            "{village}好几个村民在附近厂子打工，年底了工钱还没结清，约{amount}元。",
        ),
        "hotline.education_culture_sports": (
            "孩子在{town}上小学，学校要求统一买校服和教辅，费用不透明。",
            "想咨询一下外地户籍的孩子在{town}上学需要准备哪些材料。",
            "{village}附近有课外培训班晚上{time}还在上课，孩子太累了，这样合规吗？",
            "{village}健身器材坏了很久没人修，老人锻炼时差点受伤。",
            "{town}文化站图书室一直锁着门，想借书都借不了。",
            "幼儿园突然要涨保育费，涨了{amount}元，家长们都不理解。",
        ),
        "hotline.health_family_planning": (
            "{village}卫生室经常没人，看个小病还得跑到城里医院。",
            "想问一下新农合报销的比例，上次住院报销的钱和说的不一样。",
            "{town}附近的诊所给孩子打针收费很高，怀疑是无证行医。",
            "孩子该打疫苗了，社区医院说没有货，让等通知，已经等了{n}周了。",
            "想咨询生育登记需要带哪些材料，在哪里办理。",
            "{village}有家药店卖处方药不要处方，担心出问题。",
        ),
        "hotline.transport": (
            "{route}公交线路调整以后不经过{village}了，村里老人进城很不方便。",
            "{route}班次太少，早上{time}那趟经常等一个小时都不来。",
            "{town}往城里的路口早晚高峰特别堵，红绿灯时间设置不合理。",
            "{village}附近有黑车长期拉客，还经常超载，太危险了。",
            "出租车司机在{town}拒载，说太近了不愿意去。",
            "{village}门口的公交站牌被撞坏了，一直没有修。",
        ),
        "hotline.commerce_tourism": (
            "在{town}一家农家乐吃饭，结账时被多收了{amount}元，老板态度还很差。",
            "{village}附近超市卖过期食品，找他们退货不给退。",
            "在{town}办的健身卡，店突然关门了，卡里还有{amount}元没用。",
            "{town}景区门口停车乱收费，没有任何票据。",
            "菜市场有商贩缺斤短两，买了两斤肉回家一称少了{n}两。",
            "{village}有商户占道经营，把人行道都占满了。",
        ),
        "hotline.environmental_protection": (
            "{village}附近的工厂晚上偷偷排放废气，味道特别刺鼻，窗户都不敢开。",
            "{village}楼下烧烤店油烟太大，每天晚上到{time}还不停。",
            "{village}附近工地夜间施工，噪音扰民，根本睡不着觉。",
            "{town}村边的小河被排了污水，河水发黑发臭，鱼都死了。",
            "{village}有人焚烧垃圾和秸秆，烟很大，空气特别差。",
            "{village}养殖场粪污直接排到沟里，夏天臭味很重。",
        ),
    }
)

_SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "马",
    "胡",
    "朱",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "韩",
    "冯",
    "于",
    "董",
    "曹",
    "袁",
    "邓",
    "许",
    "田",
    "彭",
    "史",
)
_GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建国",
    "建华",
    "淑兰",
    "玉兰",
    "凤",
    "海",
    "鹏",
    "文",
    "志强",
    "春梅",
    "国庆",
    "红",
    "波",
    "宇",
    "浩",
    "晨",
    "子涵",
    "雨",
    "欣",
    "立新",
    "德胜",
    "福",
)
_ROUTES = (
    "密1路",
    "密3路",
    "密5路",
    "密9路",
    "密12路",
    "密25路",
    "密35路",
    "密38路",
    "密51路",
    "980路",
    "987路",
)


def text_details(rng: random.Random, town: str, village: str) -> dict[str, str]:
    """The details a text names: town, village, the place, counts, amounts, a route, a time.

    Two reports of one incident share them (the same place, the same time).
    """
    return _fills(rng, town, village)


def _fills(rng: random.Random, town: str, village: str) -> dict[str, str]:
    return {
        "town": town,
        "village": village,
        "place": rng.choice(_PLACES),
        "n": str(rng.randint(2, 6)),
        "months": str(rng.randint(2, 8)),
        "amount": str(rng.randint(3, 60) * 500),
        "route": rng.choice(_ROUTES),
        "building": str(rng.randint(1, 24)),
        "time": f"{rng.randint(5, 22)}点",
    }


def _templates(table, category: str, what: str) -> tuple[str, ...]:
    try:
        return table[category]
    except KeyError:
        raise ValueError(
            f"category={category!r} has no {what} templates; allowed: " + ", ".join(sorted(table))
        ) from None


def grid_description(
    rng: random.Random, category: str, town: str, village: str, details: dict | None = None
) -> str:
    """Return a grid worker's description of an incident (naming ``details`` when given).

    Raises
    ------
    ValueError
        If ``category`` is not a grid category.

    Examples
    --------
    >>> text = grid_description(random.Random(1), "environment.burning", "高岭镇", "王家庄村")
    >>> "王家庄村" in text or "高岭镇" in text
    True
    """
    templates = _templates(GRID_TEMPLATES, category, "grid")
    return rng.choice(templates).format_map(details or _fills(rng, town, village))


def hotline_message(
    rng: random.Random, category: str, town: str, village: str, details: dict | None = None
) -> str:
    """Return a citizen's hotline message: opener, complaint body and closer (naming ``details`` when given).

    Raises
    ------
    ValueError
        If ``category`` is not a hotline category.

    Examples
    --------
    >>> text = hotline_message(random.Random(2), "hotline.transport", "高岭镇", "王家庄村")
    >>> text.endswith(("。", "？"))
    True
    """
    templates = _templates(HOTLINE_TEMPLATES, category, "hotline")
    fills = details or _fills(rng, town, village)
    body = rng.choice(templates)
    return (rng.choice(_OPENERS) + body + rng.choice(_CLOSERS)).format_map(fills)


def fake_name(rng: random.Random) -> str:
    """Return a plausible Chinese personal name (surname + given name).

    Examples
    --------
    >>> name = fake_name(random.Random(3))
    >>> 2 <= len(name) <= 3
    True
    """
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)
