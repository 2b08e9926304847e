"""Figures in what users read are set without spaces around them (共6处错误, 已发送：101条, 第3行,
比例0–1), as the house style has them: every string of oversight/, bot/, jobs/, lianxi/ and demo/
outside docstrings and comments (a CLI command's docstring is its help, so it is read too) is
scanned for a space between a Chinese character and a figure, a figure being a number written in
the string or a placeholder that is one (a numeric format such as :g or :.1f, len(), sum() or
arithmetic, or any placeholder set before a measure word such as 个, 条, 秒 or after 共 or 第).

These keep their spaces, as d1f5431 set the rule: dates and clock times (2026年1月8日 09:05,
每周五 15:00), ISO dates and other typed values with a hyphen, colon, dot or letter in them
(2026-04-15, 2026Q1, 2026-12-31=0.2, UTF-8, Excel 97-2003), cron fields (0 9 * * 1), a command
with its arguments (/problem 3 查看, /invite 林草局 联络员 7), Latin units (20 MB), a caption's
number before its title (表1  各批次完成情况), and the few typed examples named in TYPED below."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("oversight", "bot", "jobs", "lianxi", "demo")

HAN = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef"  # ideographs, CJK and full-width punctuation
FIGURE = "\x01"  # a placeholder that is a figure
MAYBE = "\x02"  # a placeholder that is a figure only if its neighbours say so
OTHER = "X"  # a placeholder that is not: a name, a date, a path (a Latin token, never flagged)
# The words a count or a measure stands before (MEASURES) and after (BEFORE: 共3项, 第2行).
MEASURES = (
    "个", "项", "条", "处", "宗", "名", "次", "人", "份", "件", "天", "周", "秒", "分钟", "小时",
    "字", "行", "列", "期", "号", "位", "家", "批", "张", "页", "倍", "工作日", "%",
)  # fmt: skip
BEFORE = ("共", "第", "合计", "约", "仅")
# Typed examples a user copies as they are (a command's argument): (module, the fragment).
TYPED = {("lianxi/cli_calendar.py", "年份，如 2026")}

NUMERIC_SPEC = re.compile(r"[<>=^]?[+\- ]?#?0?\d*[,_]?(\.\d+)?[bdeEfFgGnoxX%]?")
CRON = re.compile(r"(?<![\w*/,-])[\d*/,-]+(?: [\d*/,-]+){4}(?![\w*/,-])")
DATE = re.compile(r"(?:[\d\x01]+年)?[\d\x01]+月[\d\x01]+日")  # 2026年6月30日, 12月15日
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+(?: [^\s，。；：、“”（）]+)*")
CAPTION = re.compile(rf"(?<=[表图])([\d{FIGURE}{MAYBE}]+) +")
CODE = "\\-0-9A-Za-z._:/=*+#@"  # what a typed value is made of besides the figure: 2026-04-15, 9:30, UTF-8
FIGURE_TOKEN = re.compile(rf"(?<![{CODE}\x01])[\d\x01][\d,]*(\.\d+)?%?(?![{CODE}\x01])")
LEFT = re.compile(rf"[{HAN}] +$")
RIGHT = re.compile(rf"^ +[{HAN}]")


def _numeric_spec(spec: ast.expr | None) -> bool:
    if not isinstance(spec, ast.JoinedStr) or len(spec.values) != 1 or not isinstance(spec.values[0], ast.Constant):
        return False
    text = str(spec.values[0].value)
    return bool(text) and NUMERIC_SPEC.fullmatch(text) is not None


def _numeric(value: ast.FormattedValue) -> str:
    """The mark of an f-string placeholder: a figure by its form, or one that its neighbours decide."""
    expr = value.value
    if value.conversion != -1:
        return OTHER  # !r, !s: a value shown as code
    if _numeric_spec(value.format_spec):
        return FIGURE
    if value.format_spec is not None:
        return OTHER  # a date format such as :%Y-%m-%d
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in {"len", "sum", "round"}:
        return FIGURE
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):  # a / b: a path
        return FIGURE
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float)):
        return FIGURE
    return MAYBE


def _template(text: str) -> str:
    """A str.format template with its fields marked; a string that is no template is read as it is."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return text
    out = []
    for literal, field, spec, conversion in parts:
        out.append(literal)
        if field is not None:
            out.append(OTHER if conversion else FIGURE if spec and NUMERIC_SPEC.fullmatch(spec) else MAYBE)
    return "".join(out)


def _decide(text: str) -> str:
    """Placeholders before a measure word or after 共/第 are figures; the others are names."""
    measures = "|".join(re.escape(m) for m in MEASURES)
    text = re.sub(rf"{MAYBE}(?= *(?:{measures}))", FIGURE, text)
    before = "|".join(re.escape(b) for b in BEFORE)
    text = re.sub(rf"((?:{before}) *){MAYBE}", rf"\g<1>{FIGURE}", text)
    return text.replace(MAYBE, OTHER)


def _docstrings(tree: ast.Module) -> set[int]:
    """The docstrings of the module, its classes and functions, except a CLI command's (its help)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
            continue
        command = not isinstance(node, (ast.Module, ast.ClassDef)) and any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in {"command", "callback"}
            for d in node.decorator_list
        )
        if not command:
            found.add(id(body[0].value))
    return found


def strings_of(source: str) -> Iterator[tuple[int, str]]:
    """Each string a module could show a user (line, text with its placeholders marked)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                skip.add(id(part))
                if isinstance(part, ast.FormattedValue) and part.format_spec is not None:
                    skip.add(id(part.format_spec))
                    skip.update(id(p) for p in ast.walk(part.format_spec))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, _decide(_template(node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                str(part.value) if isinstance(part, ast.Constant) else _numeric(part)
                for part in node.values
                if isinstance(part, (ast.Constant, ast.FormattedValue))
            )
            yield node.lineno, _decide(text)


def spaced_figures(text: str) -> list[str]:
    """The places in one string where a space stands between a Chinese character and a figure."""
    if not re.search("[\u3400-\u9fff]", text):
        return []
    text = CRON.sub(OTHER, text)
    text = DATE.sub(OTHER, text)
    text = COMMAND.sub(OTHER, text)
    text = CAPTION.sub(lambda m: m.group(1), text)
    found = []
    for m in FIGURE_TOKEN.finditer(text):  # a figure: 101, 0.2, 20%, 1,000 or a placeholder that is one
        if left := LEFT.search(text, 0, m.start()):
            found.append(left.group()[0] + " " + m.group())
        if right := RIGHT.match(text[m.end() :]):
            found.append(m.group() + " " + right.group()[-1])
    return [f.replace(FIGURE, "{}") for f in found]


def scan(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Every string of the packages with a spaced figure, as module:line: text."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            module = str(path.relative_to(root))
            for line, text in strings_of(path.read_text(encoding="utf-8")):
                shown = text.replace(FIGURE, "{}")
                if any(module == m and fragment in shown for m, fragment in TYPED):
                    continue
                if spaced := spaced_figures(text):
                    found.append(f"{module}:{line}: {shown!r} {spaced}")
    return found


def test_no_figure_in_what_users_read_is_set_off_by_spaces():
    assert scan() == []


@pytest.mark.parametrize(
    ("line", "spaced"),
    [
        ('f"共 {len(errors)} 处错误："', ["共 {}", "{} 处"]),
        ('f"已发送：{stats.sent} 条"', ["{} 条"]),
        ('"已等待 {seconds} 秒仍未就绪"', ["待 {}", "{} 秒"]),
        ('f"总分 {total:.1f}"', ["分 {}"]),
        ('f"其中 {a + b}个"', ["中 {}"]),
        ('f"台账 {len(rights)}宗"', ["账 {}"]),
        ('"第 3 行"', ["第 3", "3 行"]),
        ('"比例 0–1，可写 20%"', ["例 0", "写 20%"]),
        ('f"列出 {n}个整合区"', ["出 {}"]),
        ('"共 {n}项"', ["共 {}"]),
    ],
)
def test_the_scan_finds_a_spaced_figure(line, spaced):
    ((_, text),) = strings_of(f"shown = {line}\n")
    assert spaced_figures(text) == spaced


@pytest.mark.parametrize(
    "line",
    [
        '"如 12月15日 9:30、2026年12月15日下午3点或 2026-12-15 15:00"',  # dates and clock times
        '"每周五 15:00、工作日每天 8:30"',
        '"期别：季度写作 2026Q1；临时会议写作会议日期 2026-04-15"',  # typed values
        '"如 2026-12-31=0.2"',
        '"须为 UTF-8 文本"',
        '"旧版 Excel 97-2003 文件"',
        '"例如 0 9 * * 1 表示每周一 9:00"',  # cron fields
        '"例如：/invite 林草局 联络员 7"',  # a command with its arguments
        'f"发送 /problem {pid} 查看全过程"',
        '"单个不超过20 MB"',  # a Latin unit
        '"表1  各批次完成情况"',  # a caption
        'f"与 {cons.name} 的{n}个不符"',  # a name, not a figure
        'f"已于 {when:%Y-%m-%d %H:%M} 保存"',  # a date
        'f"实际为 {value!r}"',  # a value shown as code
        'f"找不到文件 {path}。"',
    ],
)
def test_the_scan_lets_the_exceptions_through(line):
    ((_, text),) = strings_of(f"shown = {line}\n")
    assert spaced_figures(text) == []


def test_a_cli_commands_docstring_is_read_as_its_help(tmp_path):
    (tmp_path / "lianxi").mkdir()
    (tmp_path / "lianxi" / "cli_x.py").write_text(
        '"""Module: 共 3 项。"""\n\n\n@app.command("x")\ndef x():\n    """统计 3 条消息。"""\n\n\ndef y():\n    """共 4 项。"""\n',
        encoding="utf-8",
    )
    assert scan(tmp_path, ("lianxi",)) == ["lianxi/cli_x.py:6: '统计 3 条消息。' ['计 3', '3 条']"]
