"""Load and validate a workflow configuration against the JSON schema, filling defaults.

The schema ships with the package in ``bayesprune/schemas/`` (``config.schema.yaml`` for the
whole file and ``dataset.schema.yaml`` for one dataset entry). Validation happens before any job runs; an
invalid config raises :class:`ConfigError` naming the offending key.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and what to do."""


def _with_defaults(validator_class: type) -> type:
    """A validator class that fills ``default`` values of properties while validating."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # noqa: ANN001, ANN202
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def load_schemas(schema_dir: Path = SCHEMA_DIR) -> tuple[dict, Registry]:
    """The top-level schema and a registry resolving its ``$ref`` to sibling schema files."""
    registry: Registry = Registry()
    root = None
    for path in sorted(schema_dir.glob("*.schema.yaml")):
        contents = yaml.safe_load(path.read_text())
        if path.name != "config.schema.yaml":
            # Without its own $schema, a referenced file is validated by our default-filling
            # validator class instead of a fresh standard one.
            contents.pop("$schema", None)
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        registry = registry.with_resource(path.name, resource)
        if resource.id():
            registry = registry.with_resource(resource.id(), resource)
        if path.name == "config.schema.yaml":
            root = contents
    if root is None:
        raise FileNotFoundError(f"config.schema.yaml not found in {schema_dir}")
    return root, registry


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    """A one-line explanation naming the key, preferring the most specific sub-error."""
    best = jsonschema.exceptions.best_match([error])
    key = _key_path(best)
    if best.validator == "additionalProperties":
        extra = sorted(set(best.instance) - set(best.schema.get("properties", {})))
        return (
            f"{key}: unknown key(s) {extra}; allowed: {sorted(best.schema.get('properties', {}))}"
        )
    return f"{key}: {best.message}"


def validate_config(config: dict[str, Any], schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Return a validated deep copy of ``config`` with every default filled in.

    Raises :class:`ConfigError` for schema violations and for cross-references the schema
    cannot express (a method listing an undefined dataset, an image dataset in method A).
    """
    schema, registry = load_schemas(schema_dir)
    cfg = _migrate(copy.deepcopy(dict(config)))
    resample = (cfg.get("method_a") or {}).get("resample") or {}
    if isinstance(resample, dict) and "chains" in resample:
        raise ConfigError(
            "method_a.resample.chains: resampling runs `chains_per_run` dispersed chains for "
            "every run of pruning.unit (one run per chain, or one per replicate); replace "
            "`chains` by `chains_per_run` (see config/README.md)"
        )
    validator_cls = _with_defaults(jsonschema.Draft202012Validator)
    validator = validator_cls(schema, registry=registry)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(e.absolute_path))
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors[:10])
        raise ConfigError(
            f"invalid configuration ({len(errors)} problem(s)); see config/README.md:\n{lines}"
        )
    _check_references(cfg)
    return cfg


# Fewer kept draws per chain than this and ArviZ's split R-hat / ESS are undefined (each
# chain is split in two halves of at least 2 draws), so the diagnostics would all be null.
MIN_KEPT_DRAWS = 4


def kept_draws(settings: dict[str, Any]) -> int:
    """Draws per chain a sampler block keeps: post-burn-in iterations, thinned."""
    samples = int(settings["samples"])
    post = samples - int(math.floor(float(settings["burn_in"]) * samples))
    return -(-post // int(settings["thin"]))


def _check_sampler_blocks(cfg: dict[str, Any]) -> None:
    if not cfg["method_a"]["datasets"]:
        return
    for block in ("sampler", "resample"):
        settings = cfg["method_a"][block]
        if settings["adapt"] and math.floor(settings["burn_in"] * settings["samples"]) < 1:
            raise ConfigError(
                f"method_a.{block}.adapt: the step is adapted during burn-in, and burn_in "
                f"{settings['burn_in']} of {settings['samples']} samples has none; raise "
                f"method_a.{block}.burn_in or set adapt: false"
            )
        kept = kept_draws(settings)
        if kept < MIN_KEPT_DRAWS:
            post = settings["samples"] - math.floor(settings["burn_in"] * settings["samples"])
            raise ConfigError(
                f"method_a.{block}: samples {settings['samples']} with burn_in "
                f"{settings['burn_in']} and thin {settings['thin']} keep {kept} draw(s) per "
                f"chain ({post} post-burn-in iterations / thin); R-hat and ESS need at least "
                f"{MIN_KEPT_DRAWS}. Raise method_a.{block}.samples to at least "
                f"{_samples_needed(settings)}"
                + (f" or lower method_a.{block}.thin" if settings["thin"] > 1 else "")
            )
        if settings.get("metric", "identity") == "diagonal":
            from bayesprune.mcmc.adaptation import MetricAdaptation

            n_burn = int(math.floor(float(settings["burn_in"]) * int(settings["samples"])))
            if not settings.get("adapt", False):
                raise ConfigError(
                    f"method_a.{block}: metric: diagonal is learnt during burn-in together "
                    f"with the step; set method_a.{block}.adapt: true (or metric: identity)"
                )
            if not MetricAdaptation(n_burn).window_ends():
                raise ConfigError(
                    f"method_a.{block}: a burn-in of {n_burn} iterations is too short to "
                    f"estimate a diagonal metric; raise samples or burn_in, or use metric: "
                    f"identity"
                )


def _samples_needed(settings: dict[str, Any]) -> int:
    need = (MIN_KEPT_DRAWS - 1) * int(settings["thin"]) + 1  # post-burn-in iterations
    samples = max(int(settings["samples"]), int(need / (1.0 - float(settings["burn_in"]))) - 1)
    while kept_draws({**settings, "samples": samples}) < MIN_KEPT_DRAWS:
        samples += 1
    return samples


def _check_entries(cfg: dict[str, Any]) -> None:
    """What the package checks in a dataset entry beyond the schema, before any job runs."""
    from bayesprune.data.entry import resolve_entry
    from bayesprune.data.errors import DataError
    from bayesprune.data.reader_sklearn import check_sklearn_task

    for name, entry in cfg["datasets"].items():
        try:
            resolve_entry(name, entry)
            check_sklearn_task(name, entry)
        except DataError as err:
            raise ConfigError(f"datasets.{name}: {err}") from None


def _migrate(cfg: dict[str, Any]) -> dict[str, Any]:
    """Read keys of older configs: ``method_b.rate: r`` is ``method_b.rates: [r]``."""
    b = cfg.get("method_b")
    if isinstance(b, dict) and "rate" in b:
        if "rates" in b:
            raise ConfigError(
                "method_b: both `rate` (old key) and `rates` are set; keep only `rates` "
                "(a list, largest first; `rate: r` is `rates: [r]`)"
            )
        b = dict(b)
        rate = b.pop("rate")
        b["rates"] = rate if isinstance(rate, list) else [rate]
        cfg["method_b"] = b
    return cfg


def _check_rates(key: str, rates: list[float]) -> None:
    if any(b >= a for a, b in zip(rates, rates[1:], strict=False)):
        raise ConfigError(f"{key}: {rates} must be strictly decreasing (largest rate first)")


def _check_references(cfg: dict[str, Any]) -> None:
    _check_entries(cfg)
    _check_sampler_blocks(cfg)
    datasets = cfg["datasets"]
    for method in ("method_a", "method_b"):
        for name in cfg[method]["datasets"]:
            if name not in datasets:
                raise ConfigError(
                    f"{method}.datasets: '{name}' is not defined under `datasets` "
                    f"(defined: {sorted(datasets)})"
                )
    methods = cfg["method_b"]["methods"]
    for matched in ("gradual_magnitude", "oneshot_magnitude"):
        if matched in methods and "bayes_magnitude" not in methods:
            raise ConfigError(
                f"method_b.methods: {matched} prunes to the sparsity bayes_magnitude reaches; "
                "add bayes_magnitude to the list"
            )
    _check_rates("method_b.rates", cfg["method_b"]["rates"])
    for i, rates in enumerate(cfg["method_b"]["tradeoff"]["rates"]):
        _check_rates(f"method_b.tradeoff.rates[{i}]", rates)
    _check_authors_choices(cfg)
    _check_ablation(cfg)
    for name in cfg["method_a"]["datasets"]:
        entry = datasets[name]
        if entry.get("reader", {}).get("kind") in ("idx", "cifar") or entry.get("reader", {}).get(
            "images"
        ):
            raise ConfigError(
                f"method_a.datasets: '{name}' is an image dataset; method A takes tabular data"
            )
        if entry.get("network", {}).get("kind", "mlp") != "mlp":
            raise ConfigError(f"datasets.{name}.network.kind: method A needs an mlp network")


def _check_authors_choices(cfg: dict[str, Any]) -> None:
    """The bug-compatible keys need each other or the authors' network (config/README.md)."""
    a = cfg["method_a"]
    for block in ("sampler", "resample"):
        s = a[block]
        if s["q_ratio"] == "authors" and s["drift"] != "sgd_epoch":
            raise ConfigError(
                f"method_a.{block}.q_ratio: authors is the ratio of the authors' SGD-epoch "
                f"proposal; set method_a.{block}.drift: sgd_epoch or q_ratio: exact"
            )
    if a["resample"]["mask"] == "by_value" and a["resample"]["drift"] != "sgd_epoch":
        raise ConfigError(
            "method_a.resample.mask: by_value is how the authors' SGD-epoch proposal keeps a "
            "mask; set method_a.resample.drift: sgd_epoch or mask: index"
        )
    needs = [
        key
        for key, on in (
            ("method_a.sampler.drift: sgd_epoch", a["sampler"]["drift"] == "sgd_epoch"),
            ("method_a.resample.drift: sgd_epoch", a["resample"]["drift"] == "sgd_epoch"),
            (
                "method_a.likelihood.classification: softmax_sigmoid",
                a["likelihood"]["classification"] == "softmax_sigmoid",
            ),
            ("method_a.prior.eta_jacobian: false", not a["prior"]["eta_jacobian"]),
            ("method_a.pruning.rnd: first_k", a["pruning"]["rnd"] == "first_k"),
        )
        if on
    ]
    names = set(a["datasets"]) | set(cfg["ablation"]["datasets"])
    for name in sorted(names & set(cfg["datasets"])) if needs else []:
        net = cfg["datasets"][name].get("network", {})
        if (
            len(net.get("hidden", [12])) != 1
            or net.get("hidden_activation", "sigmoid") != "sigmoid"
        ):
            raise ConfigError(
                f"datasets.{name}.network: {needs[0]} is the authors' network, one sigmoid "
                f"hidden layer; this entry has hidden {net.get('hidden')} with "
                f"{net.get('hidden_activation', 'sigmoid')} units"
            )


def _check_ablation(cfg: dict[str, Any]) -> None:
    abl = cfg["ablation"]
    if not abl["datasets"]:
        return
    if not abl["against"]:
        raise ConfigError(
            "ablation.against: the ablation compares this config with another; name its "
            "file, e.g. against: config/paper.yaml"
        )
    for name in abl["datasets"]:
        if name not in cfg["datasets"]:
            raise ConfigError(
                f"ablation.datasets: '{name}' is not defined under `datasets` "
                f"(defined: {sorted(cfg['datasets'])})"
            )


def load_config_file(path: str | Path, schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Read a YAML config file and validate it."""
    with open(path) as fh:
        raw = yaml.safe_load(fh) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys, got {type(raw).__name__}")
    return validate_config(raw, schema_dir)


def derive_seed(base: int, *keys: object) -> int:
    """A stable 31-bit seed from a base seed and any keys (dataset, replicate, stage ...)."""
    text = "/".join(str(k) for k in (base, *keys))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


def iter_raw_files(cfg: dict[str, Any], names: list[str]) -> Iterator[tuple[str, str, dict]]:
    """``(dataset, role, file spec)`` for every downloadable file of the named datasets."""
    for name in names:
        source = cfg["datasets"][name]["source"]
        if source["kind"] == "url":
            for role, spec in source.get("files", {}).items():
                yield name, role, spec


def rate_label(rate: float) -> str:
    """The canonical text of a pruning rate in paths and tables, e.g. 0.5 -> '0.5'."""
    return f"{float(rate):g}"


def typed_value(value: Any) -> Any:
    """A command-line value with its YAML type: ``"100"`` -> 100, ``"null"`` -> None.

    Snakemake reads ``--config key=value`` values as int, float or bool where it can, and
    otherwise as YAML *without* types, so ``mirror=null`` is the string ``"null"`` and
    ``'method_a={sampler: {samples: 100}}'`` holds the string ``"100"``. Every string leaf
    (also inside mappings and lists) is read again as YAML (``null``/``~`` -> None,
    ``true``/``false``, integers, floats, including ``1e-3``); anything else stays a string.
    """
    if isinstance(value, dict):
        return {k: typed_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_value(v) for v in value]
    if not isinstance(value, str):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, str):
        try:
            return float(parsed) if any(c in parsed.lower() for c in ".e") else int(parsed)
        except ValueError:
            return value
    if isinstance(parsed, dict | list):  # a nested flow value left as text
        return typed_value(parsed)
    return parsed if parsed is None or isinstance(parsed, bool | int | float) else value


def apply_overrides(config: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """``config`` with the command-line ``overrides`` (``--config``) merged in, typed.

    Mappings merge key by key (so ``method_a={sampler: {samples: 100}}`` changes one key and
    keeps the rest of ``method_a``); any other value (scalar, list, ``null``) replaces the
    old one. Values are typed by :func:`typed_value`. Returns a new dict; ``config`` is not
    changed.
    """

    def merge(base: Any, new: Any) -> Any:
        if isinstance(base, dict) and isinstance(new, dict):
            out = dict(base)
            for key, value in new.items():
                out[key] = merge(base.get(key), value)
            return out
        return copy.deepcopy(new)

    return merge(copy.deepcopy(dict(config)), typed_value(dict(overrides or {})))
