"""Documents of our own in the shapes of the real templates, shared by the extraction and QA tests."""

from __future__ import annotations

# Shanghai shape: amounts in 元, three-level functional codes in separate cells, the 三公 table beside
# 机关运行经费 with a two-level header.
SHANGHAI = "\n".join((
    "上海市某区2026年区级部门预算",
    "预算主管部门：上海市某区测试中心",
    "2026年部门支出预算总表",
    "编制部门：上海市某区测试中心  单位：元",
    "项目\t\t\t\t支出预算\t\t",
    "功能分类科目编码\t\t\t功能分类科目名称\t合计\t基本支出\t项目支出",
    "类\t款\t项\t\t\t\t",
    "205\t\t\t教育支出\t1,234,567.89\t1,000,000.00\t234,567.89",
    "205\t02\t\t普通教育\t1,234,567.89\t1,000,000.00\t234,567.89",
    "205\t02\t01\t学前教育\t1,234,567.89\t1,000,000.00\t234,567.89",
    "合计\t\t\t\t1,234,567.89\t1,000,000.00\t234,567.89",
    "2026年部门“三公”经费和机关运行经费预算表",
    "编制部门：上海市某区测试中心  单位：万元",
    "“三公”经费预算数\t\t\t\t\t\t机关运行经费预算数",
    "合计\t因公出国(境)费\t公务接待费\t公务用车购置及运行费\t\t\t",
    "\t\t\t小计\t购置费\t运行费\t",
    "12.30\t2.00\t0.30\t10.00\t6.00\t4.00\t45.60",
))
