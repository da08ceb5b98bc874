"""Service types an environment can have, as EPM names them."""

from enum import StrEnum


class ServiceType(StrEnum):
    PLANNING = "Planning"
    FREEFORM = "FreeForm"
    FINANCIAL_CONSOLIDATION = "Financial Consolidation and Close"
    TAX_REPORTING = "Tax Reporting"
    ACCOUNT_RECONCILIATION = "Account Reconciliation"
    NARRATIVE_REPORTING = "Narrative Reporting"
    DATA_MANAGEMENT = "Data Management"
