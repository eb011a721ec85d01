"""A provenance page for the report: config digest, seeds, source checksums, package versions."""

import html
import json

import pandas as pd

from bayesprune import plots
from bayesprune.io import logged, package_versions, write_text

with logged(snakemake.log[0]) as log:
    prov = snakemake.params[0]
    versions = package_versions()
    sections = [
        plots.table_html(
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
        plots.table_html(pd.DataFrame(prov["seeds"]), "Derived seeds per dataset and replicate"),
        plots.table_html(
            pd.DataFrame(sorted(prov["sources"].items()), columns=["file", "sha256"]),
            "Downloaded source files (verified checksums)",
        ),
    ]
    body = "".join(s.split("<body>")[1].split("</body>")[0] for s in sections)
    config = json.dumps(prov["config"], indent=1, sort_keys=True, default=str)
    page = sections[0].split("<body>")[0] + "<body>" + body
    page += f"<h3>Validated config</h3><pre>{html.escape(config)}</pre></body></html>\n"
    write_text(snakemake.output[0], page)
    log.info("config digest %s", prov["config_digest"])
