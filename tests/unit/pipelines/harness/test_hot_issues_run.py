import pandas as pd

from models.hot_issues import HotIssueParams
from pipelines.harness.hot_issues_run import hot_issue_report

# The reference file's columns, by role.
COLUMNS = {
    "id": "留言编号",
    "user": "留言用户",
    "title": "留言主题",
    "body": "留言详情",
    "time": "留言时间",
    "likes": "点赞数",
    "dislikes": "反对数",
}


def test_unreadable_times_and_empty_messages_are_broken_rows_and_votes_default_to_0():
    frame = pd.DataFrame(
        {
            "留言编号": ["1", "2", "3", "4"],
            "留言用户": ["a", "b", "c", "d"],
            "留言主题": ["路灯不亮", "积水", "", "噪音"],
            "留言详情": ["东山路", "西湖村", "\n\t\t", "北站"],
            "留言时间": ["2019/4/25 9:32:09", "someday", "2019/4/26 9:00", "2019/4/27 9:00"],
            "点赞数": ["3", "1", "0", None],
            "反对数": ["0", "0", "0", "x"],
        }
    )
    report = hot_issue_report(frame, COLUMNS, HotIssueParams(top=5))
    assert report["rows_read"] == 4 and report["broken_rows"] == 2
    assert report["broken_by_reason"] == {"unreadable time": 1, "empty text": 1}
    assert report["messages"] == 2
    assert [(i["items"][0]["title"], i["net_votes"]) for i in report["issues"]] == [
        ("路灯不亮", 3),
        ("噪音", 0),
    ]
