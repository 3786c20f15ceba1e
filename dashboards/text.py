"""Operator-facing text of the dashboards: Simplified Chinese by default, English as an option."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]

# key → (zh, en)
_TEXT: dict[str, tuple[str, str]] = {
    "datasource": ("InfluxDB 监测数据", "InfluxDB monitoring data"),
    "folder": ("应急监测预警", "Emergency monitoring"),
    "enterprise": ("企业", "Enterprise"),
    "pond": ("尾矿库", "Tailings pond"),
    "site": ("监测单元", "Site"),
    "point": ("监测点位", "Point"),
    "rule": ("规则", "Rule"),
    "level": ("级别", "Level"),
    "state": ("状态", "State"),
    "message": ("报警内容", "Message"),
    "value": ("数值", "Value"),
    "limit": ("限值", "Limit"),
    "started_at": ("报警时长", "Age"),
    "escalation": ("升级层级", "Escalation tier"),
    "note": ("处置反馈", "Disposal note"),
    "by": ("处置人", "By"),
    "awaiting_feedback": ("待反馈", "Awaiting feedback"),
    "closed_at": ("关闭时间", "Closed at"),
    "color": ("风险等级", "Risk colour"),
    "active_alarms": ("未消除报警", "Active alarms"),
    "name": ("名称", "Name"),
    "town": ("乡镇", "Town"),
    "alarm_link": ("打开报警处置页面", "Open the alarm page"),
    "confirmed_alarms": ("已确认报警", "Confirmed alarms"),
    # links above every dashboard
    "other_dashboards": ("其他看板", "Other dashboards"),
    "desk": ("值班工作台", "Duty desk"),
    "desk_tooltip": ("签收、处置反馈、交接班", "Sign for and close alarms, hand over the shift"),
    "assessment": ("考核指标（值班日报）", "Assessment figures (daily report)"),
    "assessment_tooltip": ("联网率、在线率、签收及时率、处置率、误报率", "Sending, online, signed in time, closed, false alarms"),
    # dashboards
    "overview": ("县级总览", "County overview"),
    "alarm_desk": ("报警处置台", "Alarm desk"),
    "tailings": ("尾矿库", "Tailings ponds"),
    "major_hazard": ("重大危险源", "Major hazard sources"),
    "fire": ("消防物联网", "Fire IoT"),
    "platform": ("平台运行", "Platform health"),
    # county overview
    "risk_map": ("企业风险分布图", "Enterprises by risk colour"),
    "risk_table": ("企业风险一览", "Enterprise risk table"),
    "open_by_level": ("未消除报警（按级别）", "Open alarms by level"),
    "open_by_domain": ("未消除报警（按领域）", "Open alarms by domain"),
    "offline_devices": ("断线设备", "Offline devices"),
    "today_trend": ("今日报警趋势", "Today's alarm trend"),
    # alarm desk
    "open_alarms": ("待处置报警", "Open alarms"),
    "recently_closed": ("近期已关闭报警", "Recently closed alarms"),
    "ack_time": ("报警确认用时", "Time to acknowledge"),
    "ack_mean": ("平均确认用时", "Mean time to acknowledge"),
    "ack_max": ("最长确认用时", "Longest time to acknowledge"),
    "ack_count": ("已确认报警数", "Acknowledged alarms"),
    # tailings
    "water_level": ("库水位（防洪高水位 / 坝顶）", "Water level (flood level / crest)"),
    "dry_beach_length": ("干滩长度", "Dry beach length"),
    "phreatic_depth": ("浸润线埋深", "Phreatic depth"),
    "displacement": ("坝体位移", "Dam displacement"),
    "displacement_rate": ("坝体位移速率（每小时）", "Displacement rate (per hour)"),
    "rain_1h": ("1 小时降雨量", "Rainfall, 1 h"),
    "rain_24h": ("24 小时降雨量", "Rainfall, 24 h"),
    "pond_color": ("尾矿库风险颜色", "Pond colour"),
    # major hazard
    "tank_level": ("储罐液位", "Tank levels"),
    "temperature": ("温度", "Temperatures"),
    "pressure": ("压力", "Pressures"),
    "combustible_gas": ("可燃气体浓度", "Combustible gas"),
    "toxic_gas": ("有毒气体浓度", "Toxic gas"),
    # fire
    "hydrant_pressure": ("消火栓管网压力", "Hydrant pipe pressure"),
    "sprinkler_pressure": ("喷淋管网压力", "Sprinkler pipe pressure"),
    "water_tank_level": ("消防水箱/水池液位", "Fire water tank levels"),
    "residual_current": ("电气火灾剩余电流", "Residual current"),
    "cable_temperature": ("电气线路温度", "Cable temperature"),
    "controller_events": ("火灾报警控制器事件", "Fire alarm controller events"),
    # platform
    "readings_per_s": ("每秒接收读数", "Readings per second"),
    "refusals": ("拒收（按企业与原因）", "Refusals by enterprise and reason"),
    "duplicates_gaps": ("重复与丢失报文", "Duplicates and gaps"),
    "kafka_lag": ("Kafka 消费积压", "Kafka consumer lag"),
    "rule_latency": ("规则处理延迟（接入 → 报警变化）", "Rule latency (ingest → alarm transition)"),
    "ingest_latency": ("接入延迟（MQTT → Kafka）", "Ingest latency (MQTT → Kafka)"),
    "writer_throughput": ("写入吞吐量", "Writer throughput"),
    "influx_queue": ("InfluxDB 待写队列", "InfluxDB write queue"),
    # assessment (考核指标)
    "assessment_board": ("考核指标", "Assessment figures"),
    "assessment_county_rates": ("全县考核指标（每日）", "County figures (daily)"),
    "assessment_county_minutes": ("全县平均签收与处置用时（分钟，每日）", "County mean minutes to sign and close (daily)"),
    "assessment_enterprises": ("企业考核指标（所选时段最后一日）", "Enterprise figures (the range's last day)"),
    "by_town": ("（按乡镇）", " by town"),
    "by_enterprise": ("（按企业）", " by enterprise"),
    "alarms": ("报警数", "Alarms"),
    "network_rate": ("联网率", "Sending rate"),
    "online_rate": ("在线率", "Online rate"),
    "sign_in_time_rate": ("签收及时率（5分钟内）", "Signed within 5 min"),
    "disposal_rate": ("处置率", "Closed with a note"),
    "false_alarm_rate": ("误报率", "False alarms"),
    "mean_minutes_to_sign": ("平均签收用时", "Mean time to sign"),
    "mean_minutes_to_close": ("平均处置用时", "Mean time to close"),
    # risk colours and alarm states (value mappings)
    "blue": ("低风险（蓝）", "Low (blue)"),
    "yellow": ("一般风险（黄）", "Moderate (yellow)"),
    "orange": ("较大风险（橙）", "High (orange)"),
    "red": ("重大风险（红）", "Major (red)"),
    "active": ("未确认", "Active"),
    "acknowledged": ("已确认", "Acknowledged"),
    "cleared": ("已消除", "Cleared"),
    "closed": ("已关闭", "Closed"),
    "high": ("一级（高）", "High"),
    "high_high": ("二级（高高）", "High-high"),
    "low": ("一级（低）", "Low"),
    "low_low": ("二级（低低）", "Low-low"),
    "domain_tailings_pond": ("尾矿库", "Tailings ponds"),
    "domain_major_hazard": ("重大危险源", "Major hazard sources"),
    "domain_fire_unit": ("消防", "Fire units"),
    "transition": ("变化", "Change"),
    "tier0": ("企业", "Enterprise"),
    "tier1": ("县应急局值班", "County duty desk"),
    "tier2": ("州应急局", "Prefecture"),
}


class Texts:
    """Looks operator text up by key in one language; an unknown key is a programming error."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._index = 0 if language == "zh" else 1

    def __call__(self, key: str) -> str:
        return _TEXT[key][self._index]
