"""Word lists and place tables behind the demo data generator.

Weights are relative and rough (surname shares from national name surveys, city weights from
population); they only need to make the data look like a real customer base. Postcode prefixes,
ZIP prefixes and area codes are real for their cities.
"""

from typing import NamedTuple


class CnCity(NamedTuple):
    name: str
    province: str  # empty for the four municipalities, whose city is the provincial level
    postcode_prefix: str  # first three digits of the city's six-digit postcodes
    weight: float
    districts: tuple[str, ...]


class UsCity(NamedTuple):
    name: str
    state: str
    zip_prefixes: tuple[str, ...]  # first three digits of the city's ZIP codes
    area_codes: tuple[str, ...]
    weight: float


# The tables below keep several entries a line to stay short; the formatter would put one a line.
# fmt: off

# --- China -----------------------------------------------------------------------------------

CN_SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0),
    ("吴", "wu", 1.9), ("周", "zhou", 1.9), ("徐", "xu", 1.3), ("孙", "sun", 1.3),
    ("马", "ma", 1.2), ("朱", "zhu", 1.1), ("胡", "hu", 1.1), ("郭", "guo", 1.1),
    ("何", "he", 1.0), ("高", "gao", 1.0), ("林", "lin", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.6),
    ("唐", "tang", 0.6), ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.5),
    ("邓", "deng", 0.5), ("曹", "cao", 0.5), ("彭", "peng", 0.5), ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5), ("田", "tian", 0.4), ("董", "dong", 0.4), ("袁", "yuan", 0.4),
    ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("苏", "su", 0.3), ("魏", "wei", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3),
    ("任", "ren", 0.3), ("沈", "shen", 0.3), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.2),
    ("韦", "wei", 0.2), ("付", "fu", 0.2), ("方", "fang", 0.2), ("白", "bai", 0.2),
    ("邹", "zou", 0.2), ("孟", "meng", 0.2), ("熊", "xiong", 0.2), ("秦", "qin", 0.2),
    ("邱", "qiu", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2),
    ("闫", "yan", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2), ("侯", "hou", 0.2),
    ("龙", "long", 0.2), ("史", "shi", 0.2), ("陶", "tao", 0.2), ("黎", "li", 0.2),
    ("贺", "he", 0.2), ("顾", "gu", 0.2), ("毛", "mao", 0.2), ("郝", "hao", 0.2),
    ("龚", "gong", 0.2), ("邵", "shao", 0.2), ("万", "wan", 0.2), ("钱", "qian", 0.2),
    ("严", "yan", 0.2), ("武", "wu", 0.2), ("戴", "dai", 0.2), ("覃", "qin", 0.1),
    ("莫", "mo", 0.1), ("孔", "kong", 0.1), ("向", "xiang", 0.1), ("汤", "tang", 0.1),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.01), ("诸葛", "zhuge", 0.01),
)

# Characters common in given names, with their pinyin (used for email handles).
CN_GIVEN_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("英", "ying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("兰", "lan"),
    ("华", "hua"), ("红", "hong"), ("玉", "yu"), ("建", "jian"), ("国", "guo"), ("文", "wen"),
    ("辉", "hui"), ("鹏", "peng"), ("宇", "yu"), ("浩", "hao"), ("轩", "xuan"), ("梓", "zi"),
    ("涵", "han"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"), ("琪", "qi"), ("晨", "chen"),
    ("博", "bo"), ("睿", "rui"), ("子", "zi"), ("雨", "yu"), ("思", "si"), ("嘉", "jia"),
    ("俊", "jun"), ("峰", "feng"), ("斌", "bin"), ("波", "bo"), ("琳", "lin"), ("婷", "ting"),
    ("雪", "xue"), ("慧", "hui"), ("颖", "ying"), ("倩", "qian"), ("晶", "jing"), ("丹", "dan"),
    ("璐", "lu"), ("洁", "jie"), ("莉", "li"), ("萍", "ping"), ("燕", "yan"), ("玲", "ling"),
    ("凤", "feng"), ("梅", "mei"), ("琴", "qin"), ("云", "yun"), ("飞", "fei"), ("龙", "long"),
    ("林", "lin"), ("海", "hai"), ("亮", "liang"), ("成", "cheng"), ("东", "dong"), ("志", "zhi"),
    ("新", "xin"), ("宏", "hong"), ("春", "chun"), ("晓", "xiao"), ("小", "xiao"), ("婉", "wan"),
    ("瑶", "yao"), ("悦", "yue"), ("昊", "hao"), ("然", "ran"), ("天", "tian"), ("一", "yi"),
    ("诺", "nuo"), ("泽", "ze"), ("豪", "hao"), ("凯", "kai"), ("阳", "yang"), ("金", "jin"),
    ("德", "de"), ("福", "fu"), ("荣", "rong"), ("庆", "qing"), ("永", "yong"), ("力", "li"),
    ("光", "guang"), ("振", "zhen"), ("家", "jia"), ("楠", "nan"), ("雅", "ya"), ("心", "xin"),
    ("安", "an"), ("乐", "le"), ("健", "jian"), ("鑫", "xin"), ("瑞", "rui"), ("鸿", "hong"),
    ("可", "ke"), ("欢", "huan"), ("冰", "bing"), ("秋", "qiu"), ("立", "li"), ("彬", "bin"),
)

CN_HONORIFICS: tuple[str, ...] = ("先生", "女士", "小姐")

CN_CITIES: tuple[CnCity, ...] = (
    CnCity("北京市", "", "100", 21.9,
           ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区")),
    CnCity("上海市", "", "200", 24.9,
           ("黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "浦东新区", "闵行区")),
    CnCity("天津市", "", "300", 13.9, ("和平区", "河西区", "南开区", "河北区", "红桥区", "河东区")),
    CnCity("重庆市", "", "400", 16.0,
           ("渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区", "渝北区")),
    CnCity("广州市", "广东省", "510", 18.8, ("越秀区", "海珠区", "荔湾区", "天河区", "白云区", "番禺区")),
    CnCity("深圳市", "广东省", "518", 17.7, ("福田区", "罗湖区", "南山区", "宝安区", "龙岗区")),
    CnCity("佛山市", "广东省", "528", 9.6, ("禅城区", "南海区", "顺德区")),
    CnCity("东莞市", "广东省", "523", 10.5, ()),
    CnCity("杭州市", "浙江省", "310", 12.2, ("上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区")),
    CnCity("宁波市", "浙江省", "315", 9.6, ("海曙区", "江北区", "鄞州区", "镇海区")),
    CnCity("南京市", "江苏省", "210", 9.4, ("玄武区", "秦淮区", "建邺区", "鼓楼区", "栖霞区", "雨花台区")),
    CnCity("苏州市", "江苏省", "215", 12.9, ("姑苏区", "吴中区", "相城区", "虎丘区")),
    CnCity("无锡市", "江苏省", "214", 7.5, ("梁溪区", "滨湖区", "新吴区", "锡山区")),
    CnCity("成都市", "四川省", "610", 21.0, ("锦江区", "青羊区", "金牛区", "武侯区", "成华区")),
    CnCity("武汉市", "湖北省", "430", 13.7, ("江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "洪山区")),
    CnCity("西安市", "陕西省", "710", 13.0, ("新城区", "碑林区", "莲湖区", "雁塔区", "未央区")),
    CnCity("长沙市", "湖南省", "410", 10.4, ("芙蓉区", "天心区", "岳麓区", "开福区", "雨花区")),
    CnCity("郑州市", "河南省", "450", 12.8, ("中原区", "二七区", "金水区", "管城回族区")),
    CnCity("济南市", "山东省", "250", 9.4, ("历下区", "市中区", "槐荫区", "天桥区", "历城区")),
    CnCity("青岛市", "山东省", "266", 10.3, ("市南区", "市北区", "李沧区", "崂山区", "黄岛区")),
    CnCity("沈阳市", "辽宁省", "110", 9.1, ("和平区", "沈河区", "大东区", "皇姑区", "铁西区")),
    CnCity("大连市", "辽宁省", "116", 7.5, ("中山区", "西岗区", "沙河口区", "甘井子区")),
    CnCity("哈尔滨市", "黑龙江省", "150", 10.0, ("道里区", "南岗区", "道外区", "香坊区")),
    CnCity("长春市", "吉林省", "130", 9.1, ("南关区", "宽城区", "朝阳区", "二道区", "绿园区")),
    CnCity("福州市", "福建省", "350", 8.3, ("鼓楼区", "台江区", "仓山区", "晋安区")),
    CnCity("厦门市", "福建省", "361", 5.2, ("思明区", "湖里区", "集美区", "海沧区")),
    CnCity("合肥市", "安徽省", "230", 9.4, ("瑶海区", "庐阳区", "蜀山区", "包河区")),
    CnCity("南昌市", "江西省", "330", 6.3, ("东湖区", "西湖区", "青云谱区", "青山湖区")),
    CnCity("昆明市", "云南省", "650", 8.5, ("五华区", "盘龙区", "官渡区", "西山区")),
    CnCity("南宁市", "广西壮族自治区", "530", 8.7, ("兴宁区", "青秀区", "江南区", "西乡塘区")),
    CnCity("石家庄市", "河北省", "050", 11.2, ("长安区", "桥西区", "新华区", "裕华区")),
    CnCity("太原市", "山西省", "030", 5.3, ("小店区", "迎泽区", "杏花岭区", "万柏林区")),
    CnCity("贵阳市", "贵州省", "550", 6.0, ("南明区", "云岩区", "花溪区", "观山湖区")),
    CnCity("兰州市", "甘肃省", "730", 4.4, ("城关区", "七里河区", "西固区", "安宁区")),
)

# Road names are a stem, sometimes a direction, and a kind: 中山 + 北 + 路.
CN_ROAD_STEMS: tuple[str, ...] = (
    "中山", "人民", "解放", "建设", "和平", "长江", "黄河", "文化", "新华", "胜利", "青年", "东风",
    "光明", "朝阳", "学院", "友谊", "幸福", "滨江", "湖滨", "复兴", "延安", "江南", "花园", "工业",
    "科技", "文三", "天目山", "建国", "北京", "南京", "上海", "广州", "淮海", "五一", "八一", "世纪",
    "金融", "体育", "环城", "迎宾", "府前", "沿江", "平安", "创业", "长安", "新建", "振兴", "育才",
)
CN_ROAD_DIRECTIONS: tuple[str, ...] = ("东", "西", "南", "北", "中")
CN_ROAD_KINDS: tuple[tuple[str, float], ...] = (("路", 0.72), ("街", 0.1), ("大道", 0.1), ("大街", 0.08))

# Residential estates: 阳光 + 花园.
CN_ESTATE_STEMS: tuple[str, ...] = (
    "阳光", "金色", "锦绣", "翠湖", "新城", "世纪", "东方", "名都", "御景", "紫金", "银杏", "丽景",
    "天鹅湖", "明珠", "和平", "幸福", "康乐", "春江", "滨江", "金桂", "绿洲", "枫林", "香樟", "文华",
    "碧水", "桃源", "翠苑", "嘉和", "怡景", "海棠",
)
CN_ESTATE_KINDS: tuple[str, ...] = (
    "花园", "家园", "小区", "新村", "苑", "华庭", "公寓", "名苑", "雅苑", "嘉园", "府", "城",
)
# Office and commercial towers: 华星 + 时代广场, then a block letter: A座.
CN_TOWER_STEMS: tuple[str, ...] = (
    "华星", "国贸", "财富", "环球", "万达", "世贸", "金融", "科技", "银泰", "嘉里", "时代", "中信",
    "招商", "平安", "东方", "新世纪", "金茂", "恒隆",
)
CN_TOWER_KINDS: tuple[str, ...] = ("大厦", "中心", "广场", "时代广场", "国际中心", "大楼")

# Mobile prefixes in use (China Mobile, Unicom, Telecom).
CN_MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "170", "171", "173", "175",
    "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "198", "199",
)
CN_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("163.com", 0.35), ("126.com", 0.15), ("sina.com", 0.12), ("foxmail.com", 0.1),
    ("139.com", 0.1), ("sohu.com", 0.08), ("aliyun.com", 0.05), ("outlook.com", 0.05),
)

# --- United States ---------------------------------------------------------------------------

US_FIRST_NAMES: tuple[str, ...] = (
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
    "Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
    "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Jason",
    "Edward", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen",
    "Larry", "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory", "Alexander",
    "Patrick", "Frank", "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron", "Jose", "Henry",
    "Adam", "Douglas", "Nathan", "Peter", "Zachary", "Kyle", "Luis", "Carlos", "Wei", "Minh",
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily",
    "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Dorothy",
    "Rebecca", "Sharon", "Laura", "Cynthia", "Amy", "Kathleen", "Angela", "Shirley", "Brenda",
    "Emma", "Anna", "Pamela", "Nicole", "Samantha", "Katherine", "Christine", "Helen", "Debra",
    "Rachel", "Carolyn", "Janet", "Maria", "Catherine", "Heather", "Diane", "Olivia", "Julie",
    "Joyce", "Victoria", "Ruth", "Virginia", "Lauren", "Kelly", "Christina", "Joan", "Evelyn",
    "Andrea", "Hannah", "Megan", "Jacqueline", "Martha", "Madison", "Teresa", "Gloria", "Sara",
    "Ann", "Kathryn", "Abigail", "Sophia", "Frances", "Jean", "Alice", "Isabella", "Julia",
    "Grace", "Amber", "Denise", "Danielle", "Charlotte", "Natalie", "Theresa", "Diana", "Lucia",
    "Mei", "Priya", "Aisha",
)

# Surnames with their frequency per 100,000 (2010 US census, rounded).
US_LAST_NAMES: tuple[tuple[str, float], ...] = (
    ("Smith", 828), ("Johnson", 655), ("Williams", 550), ("Brown", 487), ("Jones", 483),
    ("Garcia", 394), ("Miller", 394), ("Davis", 385), ("Rodriguez", 371), ("Martinez", 355),
    ("Hernandez", 353), ("Lopez", 290), ("Gonzalez", 280), ("Wilson", 265), ("Anderson", 262),
    ("Thomas", 253), ("Taylor", 251), ("Moore", 245), ("Jackson", 241), ("Martin", 240),
    ("Lee", 230), ("Perez", 226), ("Thompson", 225), ("White", 220), ("Harris", 204),
    ("Sanchez", 203), ("Clark", 188), ("Ramirez", 188), ("Lewis", 179), ("Robinson", 178),
    ("Walker", 175), ("Young", 164), ("Allen", 163), ("King", 161), ("Wright", 161),
    ("Scott", 146), ("Torres", 144), ("Nguyen", 143), ("Hill", 143), ("Flores", 141),
    ("Green", 140), ("Adams", 139), ("Nelson", 137), ("Baker", 136), ("Hall", 135),
    ("Rivera", 130), ("Campbell", 129), ("Mitchell", 129), ("Carter", 128), ("Roberts", 127),
    ("Gomez", 118), ("Phillips", 117), ("Evans", 116), ("Turner", 115), ("Diaz", 115),
    ("Parker", 114), ("Cruz", 113), ("Edwards", 112), ("Collins", 111), ("Reyes", 110),
    ("Stewart", 109), ("Morris", 107), ("Morales", 106), ("Murphy", 106), ("Cook", 105),
    ("Rogers", 104), ("Gutierrez", 102), ("Ortiz", 100), ("Morgan", 100), ("Cooper", 99),
    ("Peterson", 99), ("Bailey", 98), ("Reed", 98), ("Kelly", 96), ("Howard", 96), ("Ramos", 95),
    ("Kim", 94), ("Cox", 94), ("Ward", 93), ("Richardson", 92), ("Watson", 91), ("Brooks", 91),
    ("Chavez", 90), ("Wood", 90), ("James", 90), ("Bennett", 89), ("Gray", 89), ("Mendoza", 88),
    ("Ruiz", 87), ("Hughes", 87), ("Price", 86), ("Alvarez", 86), ("Castillo", 85),
    ("Sanders", 85), ("Patel", 85), ("Myers", 84), ("Long", 83), ("Ross", 83), ("Foster", 82),
    ("McCarthy", 40), ("O'Brien", 30), ("O'Connor", 30), ("McDonald", 60), ("Chen", 60),
    ("Wang", 60), ("Li", 50), ("Zhang", 40), ("Liu", 35), ("Huang", 30), ("Wong", 40),
    ("Tran", 50), ("Vaughn-Ellis", 2), ("St. John", 5), ("De La Cruz", 10),
)
US_HONORIFICS: tuple[str, ...] = ("Mr.", "Mrs.", "Ms.", "Dr.")

US_CITIES: tuple[UsCity, ...] = (
    UsCity("New York", "NY", ("100", "101", "102"), ("212", "646", "917"), 8.3),
    UsCity("Brooklyn", "NY", ("112",), ("718", "347", "929"), 2.6),
    UsCity("Los Angeles", "CA", ("900",), ("213", "323", "310"), 3.9),
    UsCity("Chicago", "IL", ("606",), ("312", "773", "872"), 2.7),
    UsCity("Houston", "TX", ("770",), ("713", "281", "832"), 2.3),
    UsCity("Phoenix", "AZ", ("850",), ("602", "480", "623"), 1.6),
    UsCity("Philadelphia", "PA", ("191",), ("215", "267"), 1.6),
    UsCity("San Antonio", "TX", ("782",), ("210",), 1.4),
    UsCity("San Diego", "CA", ("921",), ("619", "858"), 1.4),
    UsCity("Dallas", "TX", ("752",), ("214", "469", "972"), 1.3),
    UsCity("San Jose", "CA", ("951",), ("408", "669"), 1.0),
    UsCity("Austin", "TX", ("787",), ("512", "737"), 0.96),
    UsCity("Jacksonville", "FL", ("322",), ("904",), 0.95),
    UsCity("Columbus", "OH", ("432",), ("614",), 0.9),
    UsCity("Charlotte", "NC", ("282",), ("704", "980"), 0.87),
    UsCity("Indianapolis", "IN", ("462",), ("317",), 0.88),
    UsCity("San Francisco", "CA", ("941",), ("415", "628"), 0.87),
    UsCity("Seattle", "WA", ("981",), ("206",), 0.74),
    UsCity("Denver", "CO", ("802",), ("303", "720"), 0.71),
    UsCity("Washington", "DC", ("200",), ("202",), 0.69),
    UsCity("Boston", "MA", ("021",), ("617", "857"), 0.69),
    UsCity("Nashville", "TN", ("372",), ("615", "629"), 0.69),
    UsCity("Detroit", "MI", ("482",), ("313",), 0.67),
    UsCity("Portland", "OR", ("972",), ("503", "971"), 0.65),
    UsCity("Las Vegas", "NV", ("891",), ("702", "725"), 0.64),
    UsCity("Memphis", "TN", ("381",), ("901",), 0.65),
    UsCity("Louisville", "KY", ("402",), ("502",), 0.62),
    UsCity("Baltimore", "MD", ("212",), ("410", "443"), 0.6),
    UsCity("Milwaukee", "WI", ("532",), ("414",), 0.59),
    UsCity("Albuquerque", "NM", ("871",), ("505",), 0.56),
    UsCity("Tucson", "AZ", ("857",), ("520",), 0.55),
    UsCity("Sacramento", "CA", ("958",), ("916", "279"), 0.51),
    UsCity("Kansas City", "MO", ("641",), ("816",), 0.5),
    UsCity("Atlanta", "GA", ("303",), ("404", "678", "470"), 0.5),
    UsCity("Omaha", "NE", ("681",), ("402", "531"), 0.48),
    UsCity("Raleigh", "NC", ("276",), ("919", "984"), 0.47),
    UsCity("Miami", "FL", ("331",), ("305", "786"), 0.45),
    UsCity("Minneapolis", "MN", ("554",), ("612",), 0.43),
    UsCity("Tampa", "FL", ("336",), ("813",), 0.4),
    UsCity("New Orleans", "LA", ("701",), ("504",), 0.38),
    UsCity("Cleveland", "OH", ("441",), ("216",), 0.37),
    UsCity("Honolulu", "HI", ("968",), ("808",), 0.35),
    UsCity("Pittsburgh", "PA", ("152",), ("412",), 0.3),
    UsCity("St. Louis", "MO", ("631",), ("314",), 0.3),
    UsCity("Anchorage", "AK", ("995",), ("907",), 0.29),
    UsCity("Orlando", "FL", ("328",), ("407", "321"), 0.31),
    UsCity("Salt Lake City", "UT", ("841",), ("801", "385"), 0.2),
)

US_STREET_NAMES: tuple[str, ...] = (
    "Main", "Oak", "Maple", "Pine", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Walnut", "Sunset", "Lincoln", "Jefferson", "Madison", "Franklin", "Highland", "Church",
    "Center", "Spring", "River", "Ridge", "Forest", "Willow", "Chestnut", "Jackson", "Adams",
    "Meadow", "Lakeview", "Cherry", "Hickory", "Birch", "Sycamore", "Dogwood", "Magnolia",
    "Broad", "Market", "Mill", "Union", "Prospect", "Locust", "Grove", "Valley", "Orchard",
    "Summit", "Woodland", "Fairview", "Hillcrest", "Greenwood", "Martin Luther King Jr",
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "12th", "14th",
    "21st", "33rd", "42nd", "59th",
)
# Street suffixes as (USPS abbreviation, full word); both appear in real customer files.
US_STREET_SUFFIXES: tuple[tuple[str, str, float], ...] = (
    ("St", "Street", 0.3), ("Ave", "Avenue", 0.2), ("Rd", "Road", 0.12), ("Dr", "Drive", 0.1),
    ("Ln", "Lane", 0.07), ("Blvd", "Boulevard", 0.05), ("Ct", "Court", 0.05),
    ("Pl", "Place", 0.04), ("Way", "Way", 0.04), ("Ter", "Terrace", 0.02), ("Pkwy", "Parkway", 0.01),
)
US_DIRECTIONS: tuple[tuple[str, str], ...] = (("N", "North"), ("S", "South"), ("E", "East"), ("W", "West"))
# Unit designators; "#" and "Apt" are used interchangeably by customers.
US_UNIT_KINDS: tuple[tuple[str, float], ...] = (
    ("Apt", 0.5), ("Apt.", 0.08), ("#", 0.2), ("Unit", 0.12), ("Suite", 0.07), ("Ste", 0.03),
)
US_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.45), ("yahoo.com", 0.16), ("outlook.com", 0.1), ("hotmail.com", 0.09),
    ("aol.com", 0.06), ("icloud.com", 0.08), ("comcast.net", 0.04), ("att.net", 0.02),
)
# fmt: on
