#!/usr/bin/env python3
# Extracts Vietnam's administrative units after the 1 July 2025 reorganisation, and the
# mapping of pre-2025 addresses to them, from the PyPI package `vietnamadminunits` (MIT,
# (c) 2025 Tran Ngoc Minh Hieu) into the repository's compact seed files:
#
#   core/domain/data/admin-units.txt   every current province and ward/commune, and every
#                                      pre-2025 province/district/ward with the current
#                                      ward(s) it became (read by motcua_domain::admin)
#   server/seed/ward-points.json       the public administration service point of each of
#                                      Hanoi's 126 wards and communes (position = the
#                                      ward's centre, marked approximate)
#
# Usage (it only reads the installed package; nothing else is downloaded):
#   python3 -m venv /tmp/vau && /tmp/vau/bin/pip install vietnamadminunits==1.0.4
#   /tmp/vau/bin/python tools/admin-units/extract.py
import json
import sqlite3
import sys
from pathlib import Path

import vietnamadminunits

PKG = Path(vietnamadminunits.__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
HANOI = "01"


def main() -> None:
    db = sqlite3.connect(PKG / "dataset.db")
    converter = json.loads((PKG / "converter_2025.json").read_text())
    version = getattr(vietnamadminunits, "__version__", "1.0.4")

    current = db.execute(
        "SELECT provinceCode, province, provinceKey, wardCode, ward, wardKey, wardLat, wardLon, wardAreaKm2 "
        "FROM admin_units ORDER BY provinceCode, wardCode"
    ).fetchall()
    code_of = {}  # (new province key, new ward key) -> new ward code
    province_code_of = {}  # new province key -> code
    for pcode, _pname, pkey, wcode, _wname, wkey, *_ in current:
        code_of[(pkey, wkey)] = wcode
        province_code_of[pkey] = pcode

    # old full key "province_district_ward" -> [new ward codes], the default one first
    target = {}
    for pkey, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wkey, olds in wards.items():
            for old in olds:
                target[old] = [code_of[(pkey, wkey)]]
    for pkey, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, news in olds.items():
            ordered = sorted(news, key=lambda n: not n["isDefaultNewWard"])
            target[old] = [code_of[(pkey, n["newWardKey"])] for n in ordered]
    new_province_of_old = {}
    for new_key, old_keys in converter["DICT_PROVINCE"].items():
        for old_key in old_keys:
            new_province_of_old[old_key] = province_code_of[new_key]

    legacy = db.execute(
        "SELECT provinceCode, province, provinceKey, district, districtKey, ward, wardKey "
        "FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
    ).fetchall()

    lines = [
        "# Administrative units of Vietnam since 1 July 2025, and where pre-2025 addresses went.",
        f"# Extracted by tools/admin-units/extract.py from the PyPI package vietnamadminunits {version}",
        "# (MIT, (c) 2025 Tran Ngoc Minh Hieu). Do not edit by hand: rerun the script.",
        "# P <province code> <name>             a current province-level unit",
        "# W <ward code> <name>                 a current ward/commune of the province above",
        "# O <old province code> <name> <new province code>",
        "# D <old district name>",
        "# L <old ward name> <new ward codes>   comma-separated, the usual one first",
    ]
    last = None
    for pcode, pname, *_rest in current:
        if pcode != last:
            lines.append(f"P\t{pcode}\t{pname}")
            last = pcode
        lines.append(f"W\t{_rest[1]}\t{_rest[2]}")
    last_p, last_d, missing = None, None, 0
    for pcode, pname, pkey, dname, dkey, wname, wkey in legacy:
        if pcode != last_p:
            lines.append(f"O\t{pcode}\t{pname}\t{new_province_of_old[pkey]}")
            last_p, last_d = pcode, None
        if dname != last_d:
            lines.append(f"D\t{dname}")
            last_d = dname
        codes = target.get(f"{pkey}_{dkey}_{wkey or ''}")
        if not codes:
            missing += 1
            continue
        lines.append(f"L\t{wname or ''}\t{','.join(codes)}")
    out = ROOT / "core/domain/data/admin-units.txt"
    out.write_text("\n".join(lines) + "\n")
    print(f"{out.relative_to(ROOT)}: {len(current)} wards, {len(legacy) - missing} old wards mapped, {missing} unmapped", file=sys.stderr)

    points = []
    for pcode, pname, _pkey, wcode, wname, _wkey, lat, lon, area in current:
        if pcode != HANOI:
            continue
        points.append({
            "code": f"HN.{wcode}",
            "name": f"Điểm phục vụ hành chính công {wname}",
            "kind": "ward_point",
            "address": f"Trụ sở Ủy ban nhân dân {wname}, Hà Nội",
            "ward": wname,
            "ward_code": wcode,
            "lat": lat,
            "lng": lon,
            "approximate_position": True,
        })
    out = ROOT / "server/seed/ward-points.json"
    out.write_text(json.dumps(points, ensure_ascii=False, indent=2) + "\n")
    print(f"{out.relative_to(ROOT)}: {len(points)} service points", file=sys.stderr)


if __name__ == "__main__":
    main()
