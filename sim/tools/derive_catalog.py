"""Dev-only: derive the simulator's compact catalog (``sim/data/catalog/*.json``) from the recorded
product lists. Never imported at test or run time.

Usage: python -m sim.tools.derive_catalog /path/to/product-fixtures
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.types import TaskType
from sim.catalog import CONTROL_KEYS

CATEGORIES = tuple(task_type.value for task_type in TaskType)
OUT_DIR = Path(__file__).resolve().parent.parent / "data" / "catalog"


def _option(raw: dict[str, Any]) -> Any:
    # Labels always equal str(value) in the recordings, so only the value (and any disabling) is kept.
    if str(raw["value"]) != raw["label"]:
        raise ValueError(f"option label differs from value: {raw}")
    if "disabled" in raw:
        return {"value": raw["value"], "disabled": raw["disabled"]}
    return raw["value"]


def _control(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: raw[key] for key in CONTROL_KEYS}
    if raw.get("options"):
        out["options"] = [_option(o) for o in raw["options"]]
    if raw.get("config"):
        out["config"] = raw["config"]
    if "required" in raw:
        out["required"] = raw["required"]
    return out


def _form_item(raw: dict[str, Any]) -> dict[str, Any]:
    out = _control(raw)
    conditions = raw.get("disabled_conditions") or []
    if conditions:
        out["disabled_for"] = [[c["enum_value"], c["category"]] for c in conditions]
    if raw.get("is_ui_virtual"):
        (ui,) = raw["ui_params"]
        mapping = raw["value_mapping"]
        if mapping["target_param"] != raw["field"] or mapping["type"] != "simple":
            raise ValueError(f"unsupported mapping: {mapping}")
        out["virtual"] = {
            "ui": _control(ui),
            "sources": mapping["source_params"],
            "map": [[r["source_values"], r["target_value"]] for r in mapping["mapping_rules"]],
        }
    return out


def _leaf(raw: dict[str, Any]) -> dict[str, Any]:
    tags = {t["tag_type"]: t["tag_value"] for t in raw["tags"] if t["tag_type"] in ("EET", "point")}
    out: dict[str, Any] = {"id": raw["id"], "model_id": raw["model_id"], "name": raw["name"],
                           "parent": raw["parent_id"], **{k.lower(): v for k, v in tags.items()},
                           "model_types": raw["model_types"]}
    if raw.get("files"):
        f = raw["files"]
        out["files"] = {"component": f["component"], "accept": f["acceptType"],
                        **({"min": f["minLimit"], "max": f["maxLimit"]} if "minLimit" in f else {})}
    if raw.get("form_config"):
        out["form"] = [_form_item(item) for item in raw["form_config"]]
    rules = []
    for rule in raw["credit_rules"]:
        if rule["origin_point"] != rule["points"]:
            raise ValueError(f"origin_point differs: {rule}")
        rules.append([rule["attribute_id"], rule["points"], rule["attributes"]])
    out["rules"] = rules
    return out


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path("/work/shared/ima/product-fixtures")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for category in CATEGORIES:
        leaves = json.loads((src / f"products_{category}.json").read_text(encoding="utf-8"))
        doc = {"category": category, "category_name": leaves[0]["category_name"],
               "leaves": [_leaf(leaf) for leaf in leaves]}
        lines = ",\n".join("  " + json.dumps(leaf, ensure_ascii=False) for leaf in doc["leaves"])
        head = json.dumps({"category": category, "category_name": doc["category_name"]}, ensure_ascii=False)
        text = head[:-1] + ', "leaves": [\n' + lines + "\n]}\n"
        json.loads(text)
        (OUT_DIR / f"{category}.json").write_text(text, encoding="utf-8")
        print(f"{category}: {len(doc['leaves'])} leaves")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
