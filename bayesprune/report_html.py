"""Small standalone HTML pages for the Snakemake report: a table, and the provenance page."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd


def table_html(frame: pd.DataFrame, title: str, note: str = "") -> str:
    """A small standalone HTML page holding ``frame`` (for the Snakemake report)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row)
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    style = (
        "body{font-family:sans-serif;font-size:13px;margin:1em}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h3>{html.escape(title)}</h3>"
        f"<p>{html.escape(note)}</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )


def provenance_page(prov: Mapping[str, Any], versions: Mapping[str, str]) -> str:
    """The provenance page: config digest, base seed and package ``versions``; derived seeds;
    verified source checksums; the validated config (``prov``: the workflow's provenance
    record with ``config_digest``, ``seed``, ``seeds``, ``sources``, ``config``)."""
    sections = [
        table_html(
            pd.DataFrame(
                [
                    (
                        "config digest (sha256 of the validated config, 16 hex)",
                        prov["config_digest"],
                    ),
                    ("base seed", prov["seed"]),
                ]
                + [(f"version: {k}", v) for k, v in versions.items()],
                columns=["item", "value"],
            ),
            "Provenance",
            "Every job's seed is derived from the base seed and its job keys "
            "(bayesprune.config.derive_seed: sha256 of 'seed/stage/dataset/rep/...').",
        ),
        table_html(pd.DataFrame(prov["seeds"]), "Derived seeds per dataset and replicate"),
        table_html(
            pd.DataFrame(sorted(prov["sources"].items()), columns=["file", "sha256"]),
            "Downloaded source files (verified checksums)",
        ),
    ]
    body = "".join(s.split("<body>")[1].split("</body>")[0] for s in sections)
    config = json.dumps(prov["config"], indent=1, sort_keys=True, default=str)
    page = sections[0].split("<body>")[0] + "<body>" + body
    return page + f"<h3>Validated config</h3><pre>{html.escape(config)}</pre></body></html>\n"
