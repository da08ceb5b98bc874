"""The words seed content is made of: names, departments, vendor object types and the like. Only
constants; nothing here draws random numbers."""

from __future__ import annotations

import datetime as dt

from envclone.domain.roles import Role


def _words(text: str, sep: str = "|") -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST = _words(
    "Anna Ben Carla David Elena Farid Grace Hiro Ines Jonas Kara Liam Mei Nora Omar Priya Quinn Rosa Sven Tara "
    "Uma Victor Wen Ximena Yusuf Zoe Aiko Bruno Chloe Diego Emma Felix Giulia Hugo Ivan Julia Kenji Lena Marco Nina",
    " ",
)
LAST = _words(
    "Adams Baker Chen Dubois Evans Fischer Garcia Hansen Ito Jensen Kim Lopez Muller Nakamura Olsen Patel Rossi "
    "Schmidt Tanaka Novak Wang Silva Berg Costa Meyer Khan Park Moreau Larsen Weber Yamamoto Santos Kowalski Ali",
    " ",
)
DEPTS = _words("Finance|Sales|Marketing|Operations|Human Resources|IT|Supply Chain|Executive")
REGIONS = _words("EMEA|APAC|Americas|North America|LATAM|DACH")
TEAMS = _words("Planners|Analysts|Approvers|Reviewers|Admins")
APP_ROLES = _words("Budget Planner|Forecast Approver|Report Author|Data Loader|Auditor|Workforce Manager")
SIGN_IN = {
    "epm.admin": (Role.SERVICE_ADMINISTRATOR, Role.IDENTITY_DOMAIN_ADMINISTRATOR),
    "planning.lead": (Role.POWER_USER,),
    "migration.admin": (Role.MIGRATIONS_ADMINISTER, Role.VIEWER),
}
PROJECTS = _words(
    "Sales Analysis|Financial Reporting|Supply Chain Planning|Workforce Planning|Marketing Insights|"
    "Customer Analytics|Executive Scorecard|Retail Operations"
)
ATTRIBUTES = _words(
    "Year|Quarter|Month|Day|Region|Country|City|Store|Customer|Product|Category|Brand|Supplier|Employee|"
    "Department|Cost Center|Account|Entity|Scenario|Currency|Channel|Warehouse|Order|Segment"
)
QUALIFIERS = ("", " Code", " Group", " Type", " Status", " Level 2", " Manager", " Class")
FACTS = _words(
    "Revenue|Cost|Units|Discount|Freight|Tax|Headcount|Hours|Budget|Forecast|Margin|Inventory|Returns|Orders"
)
AGGREGATES = _words("Sum|Avg|Max|Min|Count")
PERIODS = ("", " YTD", " QTD", " LY", " vs Budget", " %", " Growth")
# Strategy (type, subtype) pairs; subtypes follow the vendor's type * 256 numbering.
SCHEMA_TYPES = ((12, 3072), (13, 3328), (15, 3840), (14, 3584))
SCHEMA_WEIGHTS = (45, 20, 30, 5)
PUBLIC_TYPES = ((4, 1024), (1, 256), (3, 768), (2, 512), (10, 2560), (55, 14081), (47, 12032), (18, 4608))
PUBLIC_WEIGHTS = (25, 15, 25, 8, 7, 10, 3, 7)
SCHEMA_FOLDERS = {12: "Attributes", 13: "Facts", 15: "Tables", 14: "Hierarchies"}
PUBLIC_FOLDERS = {4: "Metrics", 1: "Filters", 2: "Templates", 10: "Prompts", 47: "Consolidations", 18: "Shortcuts"}
FOLDER_OF = {k: f"/Schema Objects/{v}" for k, v in SCHEMA_FOLDERS.items()} | {
    k: f"/Public Objects/{v}" for k, v in PUBLIC_FOLDERS.items()
}
RIGHTS = {"full_control": 255, "modify": 223, "view": 199, "browse": 1}
LOCALES = ("2052", "1036", "1031")  # zh-CN, French, German; 1033 (English) holds the name itself
_TRANSLATED = """\
Revenue|收入|Chiffre d'affaires|Umsatz
Cost|成本|Coût|Kosten
Margin|利润率|Marge|Marge
Region|地区|Région|Region
Year|年|Année|Jahr
Month|月|Mois|Monat
Quarter|季度|Trimestre|Quartal
Customer|客户|Client|Kunde
Product|产品|Produit|Produkt
Budget|预算|Budget|Budget
Forecast|预测|Prévision|Prognose
Dashboard|仪表板|Tableau de bord|Dashboard
Units|单位|Unités|Einheiten
Employee|员工|Employé|Mitarbeiter
Sales|销售|Ventes|Vertrieb
Finance|财务|Finance|Finanzen
Country|国家|Pays|Land
Orders|订单|Commandes|Aufträge
by|按|par|nach
Sum|合计|Somme|Summe
Avg|平均|Moyenne|Durchschnitt"""
TRANSLATIONS = {word: rest for word, *rest in map(_words, _TRANSLATED.splitlines())}
SCHEDULES = _words(
    "Daily 06:00|Daily 22:00|Weekly Monday 07:00|Monthly Close Day 3|Hourly Business Hours|Every 15 Minutes|"
    "Quarter End|On Warehouse Load"
)
SECURITY_ROLES = _words(
    "Normal Users|Power Users|Developers|Architects|Web Reporter|Mobile User|Analyst|System Monitors"
)
DBMS = _words("Oracle Autonomous Data Warehouse|Snowflake|PostgreSQL|SQL Server|Teradata|Databricks")
JOB_TYPES = ("Backup", "Replica", "BackupCopy", "ImmediateBackupCopy")
JOB_WEIGHTS = (60, 15, 15, 10)
WORKLOADS = _words(
    "SQL Prod|Exchange|File Server|ERP|Web Farm|Domain Controllers|EPM Servers|SharePoint|Dev Lab|Citrix"
)
REPOSITORY_KINDS = {
    "WinLocal": "D:\\Backups",
    "LinuxHardened": "/mnt/veeam",
    "Smb": "\\\\nas01\\veeam",
    "Nfs": "nfs01:/export/veeam",
    "AmazonS3": "s3://veeam-backups",
    "AzureBlob": "azure://veeam",
}
CONSOLE_JOBS = _words("Rules|Import Data|Export Data|Refresh Database|Clear Cube|Import Metadata|Export Metadata")
THEMES = _words("Redwood|Sky Blue|Dark Silver|Natural|Blue|Green")
EPOCH = dt.datetime(2024, 1, 1)
