"""The registry (一企一清单, data standard §7): models, defaults and the directory loader."""

from hazmon.registry.loader import Registry, RegistryError, load_registry, load_enterprise_file
from hazmon.registry.models import (
    ColorLimits,
    EnterpriseFile,
    EnterpriseInfo,
    Point,
    PointType,
    Site,
    SiteKind,
    TailingsDesign,
)

__all__ = [
    "ColorLimits", "EnterpriseFile", "EnterpriseInfo", "Point", "PointType", "Registry",
    "RegistryError", "Site", "SiteKind", "TailingsDesign", "load_enterprise_file", "load_registry",
]
