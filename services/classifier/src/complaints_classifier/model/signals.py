# ruff: noqa: E501  (phrase lists read best one alternation per line)
"""Harm and spread signals: explicit, explainable phrases from the labelling policy.

Matched on model-normalised text (simplified characters, lower case, digits as 0). Each
signal is both a feature of the model (it learns how much each weighs) and the reason of an
override (a complaint with a harm signal is never green). Written from LABELLING.md, not
from any evaluation set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SIGNALS: dict[str, tuple[str, ...]] = {
    # physical safety
    "safety": (
        r"着火|起火|失火|火苗|冒烟|冒火|火花|电火花|焦味|烧焦|焦糊|糊味|烧糊|烧坏|烧黑|发黑|"
        r"融化|熔化|化了|烫手|发烫|很烫|滚烫|过热|鼓包|鼓起|胀气|膨胀|变形|漏液|爆炸|爆了|"
        r"触电|漏电|电到|麻了一下|受伤|烫伤|烧伤|割伤|划伤|流血|出血|骨折|过敏|红肿|肿了|起疹|"
        r"中毒|拉肚子|腹泻|呕吐|吐了|上吐下泻|发烧|变质|发霉|馊了|异物|虫子|医院|急诊|送医|"
        r"晕倒|昏倒|晕了|头晕|窒息|呛|摔倒|摔伤|砸到|砸伤|夹到|夹伤|危险|安全隐患|燶|焦了|好热|特别热|非常热|"
        r"热得|烫得|噼啪|滋滋|火灾|消防|药|救护车|孕妇|婴儿|老人家|心脏|哮喘|血糖",
        r"\bfire\b|\bflames?\b|smok(e|ing)|sparks?|burn(ing|t|ed)? smell|smell(s|ed)? (like )?burn|"
        r"scorch|melt(ed|ing)?|swell(ing|ed)?|swollen|bulg(e|ing|ed)|puff(ed|y)|overheat|"
        r"too hot to|hot to (the )?touch|really hot|explod|electric(al)? shock|shocked me|"
        r"electrocut|injur|bleed|blood|burn(s|ed)? (my|his|her)|allerg|rash|poison|vomit|"
        r"threw up|diarrh|food poisoning|hospital|emergency room|chok(e|ing)|fainted|"
        r"hazard|dangerous|unsafe|crackl|sizzl|hot and|got (very |so |really )?hot|getting hot|"
        r"medication|medicine|insulin|pregnan|ambulance|dizzy|fell on|head injur|fire exit|"
        r"choking|fumes|gas smell|smell of gas",
    ),
    # money taken, charged twice, not credited, balance emptied
    "money": (
        r"扣了两次|扣两次|两次扣款|重复扣|多扣|乱扣|莫名扣|被扣|扣款|扣费|扣钱|扣了钱|钱扣了|"
        r"扣了0|盗刷|被刷|没到账|未到账|不到账|没有到账|还没到账|迟迟不到|没收到(钱|款|退款)|"
        r"余额.{0,6}(没了|不见|清零|变成0|归零|少了)|(清零|归零)|钱.{0,4}(没了|不见了|被转)|"
        r"被转走|转走了|付了钱|已付款|已经付|重复支付|支付了两次|冻结.{0,8}(钱|余额|资金)|"
        r"扣了0次|扣了三次|扣了几次|没退(回来|给我)?|还没退|未退|不退|退款.{0,6}(没|未)(到|收)|"
        r"余额(还是|没变|没有变|不对|少)|储值|充值.{0,8}(没|未|不)|转账.{0,8}(没|未)|"
        r"钱(呢|去哪|没了)|被(偷|盗)(兑|刷|用)|偷兑|资金|血汗钱",
        r"charged (me )?twice|double[- ]charg|charged two|billed twice|debited|deducted|"
        r"taken from my|money (is |was )?(gone|missing|taken)|not credited|never (arrived|credited|"
        r"received)|hasn'?t (arrived|been credited)|balance (is |was |went |shows )?(0|zero|empty|gone|"
        r"wiped)|wiped out|drained|unauthori[sz]ed (charge|payment|transaction|debit)|"
        r"i (was|got) charged|charged (but|and)|paid (but|and)|payment went through|"
        r"charged 0 times|charged (three|3|multiple|several) times|not refunded|no refund|"
        r"refund (has )?(not|never)|still (not|no)|stored value|top[- ]?up|wallet|"
        r"my money|where is (my|the) money|stolen|redeemed|points (gone|missing|wiped|zero)",
    ),
    # account or personal data compromised
    "account": (
        r"不是我(本人)?(操作|登录|买|下单|改)|非本人|我没(有)?(操作|登录|下单|买过|授权)|"
        r"异地登录|陌生(设备|登录)|被盗|盗号|被人登录|别人登录|被(人)?改了?密码|密码被改|"
        r"被冻结|冻结了|封号|别人的(订单|信息|地址|电话|名字|资料)|他人(的)?信息|陌生人的|"
        r"泄露|泄漏|隐私|另一位客|其他(客|顾客|用户|人)的|别人的|他人|陌生人|不认识的|"
        r"(名字|姓名|地址|电话|手机号|身份证|取件码|税号).{0,10}(发|给|显示|看到)|"
        r"(看到|显示|发给|推送).{0,12}(别人|他人|其他)|身份证号|护照|停用|被封|"
        r"告诉(了)?(别人|他)|前夫|跟踪|住哪",
        r"(wasn'?t|was not|not) me|didn'?t (make|place|authori[sz]e|buy|order)|never (made|"
        r"placed|ordered|authori[sz]ed)|someone (else )?(logged|got into|accessed|used|changed)|"
        r"hack|compromis|unknown (device|login)|login from|logged in from|password (was |has been )?"
        r"changed|frozen|locked (out|my)|someone else'?s|another (customer|person)'?s|"
        r"stranger'?s|leak|privacy|personal data|logged in as|other customers'?|"
        r"someone else|passport|id card|full names?|home address|disabled (my )?account|"
        r"suspended|deactivat|stalk",
    ),
    # a hard deadline with loss
    "deadline": (
        r"明天(就|要)|今天(必须|就要|要用)|婚礼|考试|出国|航班|手术|急用|来不及|截止|最后一天|"
        r"逾期|滞纳金|罚款|开展|展会|今晚|今天内|赶不上|等着用|就要",
        r"tomorrow|tonight|wedding|exam|flight|surgery|deadline|due (today|tomorrow)|late fee|"
        r"penalt|urgent(ly)?|trade show|exhibition|today|in time for|by (monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)",
    ),
    # spreading beyond one customer: media, regulator, legal, collective
    "media": (
        r"曝光|媒体|记者|电视台|报社|微博|抖音|小红书|快手|b站|知乎|朋友圈|发帖|发到网上|网上|"
        r"热搜|上头条|评评理|避雷|姐妹们|大家(注意|小心|看看|别买|比较|自己)|踩雷|dcard|ptt|脸书|"
        r"视频|拍了|截图|发出去|公开|网友|舆情|@|超话|群里|论坛|"
        r"\\big\\b",
        r"media|journalist|reporter|newspaper|\btv\b|twitter|weibo|douyin|xiaohongshu|"
        r"tiktok|facebook|instagram|reddit|youtube|go public|post (this|about|it)|viral|"
        r"review sites?|tell everyone|warn (others|everyone)|screenshots?|video|forum|"
        r"know (someone|people) at|publicly|share (this|it)|online",
    ),
    "regulator": (
        r"监管热线|消协|消费者协会|消保|市场监管|市监|工商|监管部门|监管局|银保监|金融监管|"
        r"人民银行|通管局|工信部|邮政管理|投诉到|举报|消基会|消委会|行政|税务|质监|"
        r"食药监|卫健委|交通局|主管部门|有关部门|相关部门|上级",
        r"regulator|consumer (association|council|protection|rights)|authorit|ombudsman|"
        r"report (you|this) to|file a complaint with|监管热线|government|my bank|"
        r"chargeback|dispute (the|this)|council|postal (bureau|regulator)|safety (board|agency)",
    ),
    "legal": (
        r"律师|起诉|法院|诉讼|打官司|报警|警察|派出所|法律(途径|手段|责任)|维权|仲裁|赔偿",
        r"lawyer|attorney|\bsue\b|suing|court|legal (action|steps|advice)|small claims|police|"
        r"solicitor|litigation|class action|compensation",
    ),
    "collective": (
        r"集体|大家一起|很多人|好多人|不止我(一个)?|不少人|群里|邻居(们)?|联名|一起去|都遇到|"
        r"都有这个|同样的问题|业主|四五个|好几个人|其他(家长|人|客户|邻居)|也有|也遇到|"
        r"整栋|全小区|大家已经",
        r"everyone|many (people|customers|of us)|others (too|have|are)|not the only|we are "
        r"(several|many)|neighbou?rs|group of|petition|all of us|same problem|other parents|"
        r"others report|three other|other (people|customers|residents)|also (had|have)",
    ),
}
# The labelling policy's own red cases, named outright: red whatever the model says.
_RED: tuple[str, ...] = (
    r"着火|起火|冒烟|冒火|鼓包|电池.{0,4}(胀|鼓)|焦味|烧焦|触电|漏电|食物中毒|被盗|盗号|盗刷|"
    r"不是我(本人)?(操作|登录|下的单|下单|买的)|非本人操作|扣了两次|重复扣款|被扣了两次",
    r"caught fire|on fire|smok(e|ing) (came|coming|from)|burning smell|smell(s|ed)? (like )?burn|"
    r"swollen battery|battery (is |was )?(swollen|swelling|bulging)|electric(al)? shock|"
    r"food poisoning|hacked|unauthori[sz]ed (login|charge|payment|transaction)|"
    r"charged (me )?twice|double[- ]charged",
)
_RED_PATTERN = re.compile("|".join(f"(?:{p})" for p in _RED))
HARM = ("safety", "money", "account")
SPREAD = ("media", "regulator", "legal", "collective")


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    phrase: str  # what matched, for the reason


_COMPILED = {
    name: re.compile("|".join(f"(?:{p})" for p in parts)) for name, parts in _SIGNALS.items()
}


def red_phrase(text: str) -> str | None:
    """A phrase of the policy's red list in model-normalised text, if any."""
    m = _RED_PATTERN.search(text)
    return None if m is None else m.group(0)


@lru_cache(maxsize=4096)  # features and the judge both ask for the same text's signals
def signals(text: str) -> tuple[Signal, ...]:
    """The signals in model-normalised text, each with its first matching phrase."""
    found = []
    for name, pattern in _COMPILED.items():
        m = pattern.search(text)
        if m is not None:
            found.append(Signal(name, m.group(0)))
    return tuple(found)
