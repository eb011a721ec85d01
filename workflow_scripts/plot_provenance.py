"""A provenance page for the report: config digest, seeds, source checksums, package versions."""

from bayesprune.io import logged, package_versions, write_text
from bayesprune.report_html import provenance_page

with logged(snakemake.log[0]) as log:
    prov = snakemake.params[0]
    write_text(snakemake.output[0], provenance_page(prov, package_versions()))
    log.info("config digest %s", prov["config_digest"])
