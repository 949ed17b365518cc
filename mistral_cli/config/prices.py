"""The price table in force: the dated table shipped with mcli (mistral_cli/prices.toml) with the
user's rows from config.toml on top, and the one way a count of tokens or pages becomes money.

    [prices]                       # in config.toml, outside any profile
    currency = "EUR"               # the currency of the rows below (default: the shipped table's)
    batch_discount = 0.5
    [prices.models."ft:open-mistral-7b:abc"]
    input = 1.0                    # per million prompt tokens
    output = 3.0                   # per million completion tokens
    [prices.aliases]
    "my-latest" = "mistral-small-2603"

Loaded only by the commands that price (`mcli usage`, budgets): start-up never reads it. A
model, alias or figure nobody gave is unknown, and a cost that needs it is None, never 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NamedTuple

from mistral_cli.errors import ConfigError

PER_MILLION = 1_000_000
PER_THOUSAND = 1_000
FIELDS = ("input", "output", "pages", "training")  # per million tokens, per thousand pages
SHIPPED = "shipped"
CONFIG = "config"


class Price(NamedTuple):
    """One model's prices (None: not known), their currency and where the row came from."""

    model: str
    input: float | None = None
    output: float | None = None
    pages: float | None = None
    training: float | None = None
    currency: str = "USD"
    source: str = SHIPPED


class Counts(NamedTuple):
    """What one answer (or a sum of answers) used: tokens, OCR pages, training tokens."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    pages: int = 0
    training_tokens: int = 0


@dataclass
class PriceTable:
    """Prices by model, aliases, the batch discount, and the table's date and source."""

    date: str = ""
    source: str = ""
    currency: str = "USD"
    batch_discount: float | None = None
    models: dict[str, Price] = field(default_factory=dict)
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # alias -> (model, source)

    def price_of(self, model: str | None) -> Price | None:
        """MODEL's prices (an alias priced as the model it stands for), or None if unknown."""
        if not model:
            return None
        if model in self.models:
            return self.models[model]
        target = self.aliases.get(model)
        return self.models.get(target[0]) if target else None

    def cost(self, model: str | None, counts: Counts, batch: bool = False) -> tuple[float, str] | None:
        """(cost, currency) of COUNTS on MODEL (at the batch rate when BATCH); None when a price
        they need, or the batch discount, is unknown."""
        price = self.price_of(model)
        if price is None:
            return None
        total = 0.0
        for used, rate, unit in ((counts.prompt_tokens, price.input, PER_MILLION),
                                 (counts.completion_tokens, price.output, PER_MILLION),
                                 (counts.pages, price.pages, PER_THOUSAND),
                                 (counts.training_tokens, price.training, PER_MILLION)):
            if used:
                if rate is None:
                    return None
                total += used * rate / unit
        if batch and total:
            if self.batch_discount is None:
                return None
            total *= 1 - self.batch_discount
        return total, price.currency

    def token_cost(self, model: str | None, prompt_tokens: int, completion_tokens: int = 0,
                   batch: bool = False) -> tuple[float, str] | None:
        """(cost, currency) of N prompt and completion tokens on MODEL (for estimates), or None."""
        return self.cost(model, Counts(prompt_tokens, completion_tokens), batch)

    def rows(self) -> list[dict[str, Any]]:
        """The table in force, one row per model and alias, for `mcli usage --prices`."""
        rows = [{"model": price.model, "alias_of": None,
                 **{name: getattr(price, name) for name in FIELDS},
                 "currency": price.currency, "source": price.source}
                for price in sorted(self.models.values(), key=lambda p: p.model)]
        for alias, (target, source) in sorted(self.aliases.items()):
            price = self.models.get(target)
            rows.append({"model": alias, "alias_of": target,
                         **{name: getattr(price, name) if price else None for name in FIELDS},
                         "currency": price.currency if price else None, "source": source})
        return rows


def load(config_data: dict[str, Any] | None = None, config_path: Any = "config.toml") -> PriceTable:
    """The shipped table with the `[prices]` table of CONFIG_DATA (a parsed config file) on top."""
    import tomllib

    text = resources.files("mistral_cli").joinpath("prices.toml").read_text(encoding="utf-8")
    table = PriceTable()
    _merge(table, tomllib.loads(text), SHIPPED, "the shipped price table")
    user = (config_data or {}).get("prices")
    if user is not None:
        if not isinstance(user, dict):
            raise ConfigError(f"config file {config_path}: 'prices' must be a table ([prices])")
        _merge(table, user, CONFIG, f"config file {config_path}: prices")
    return table


def _merge(table: PriceTable, data: dict[str, Any], source: str, where: str) -> None:
    """Add DATA's rows (from SOURCE) to TABLE, each figure checked."""
    currency = data.get("currency", table.currency)
    if not isinstance(currency, str) or not currency.strip():
        raise ConfigError(f"{where}: currency must be a name such as USD or EUR")
    if source == SHIPPED:
        table.date, table.source, table.currency = str(data.get("date", "")), str(data.get("source", "")), currency
    if "batch_discount" in data:
        table.batch_discount = _figure(data["batch_discount"], f"{where}: batch_discount", upper=1.0)
    for model, row in _table(data, "models", where).items():
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: models.{model} must be a table (input, output, pages, training)")
        unknown = sorted(set(row) - set(FIELDS) - {"currency"})
        if unknown:
            raise ConfigError(f"{where}: models.{model}: unknown field {unknown[0]!r}",
                              hint=f"the fields are {', '.join(FIELDS)} and currency")
        base = table.models.get(model) if source == CONFIG else None
        figures = {name: _figure(row[name], f"{where}: models.{model}.{name}") if name in row
                   else (getattr(base, name) if base else None) for name in FIELDS}
        table.models[model] = Price(model, **figures, currency=str(row.get("currency", currency)), source=source)
    for alias, target in _table(data, "aliases", where).items():
        if not isinstance(target, str):
            raise ConfigError(f"{where}: aliases.{alias} must name a model")
        table.aliases[alias] = (target, source)


def _table(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {name} must be a table")
    return value


def _figure(value: Any, where: str, upper: float = math.inf) -> float:
    """VALUE as a price: a finite number, 0 or more (at most UPPER)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= upper \
            or not math.isfinite(value):
        bound = f" and at most {upper:g}" if math.isfinite(upper) else ""
        raise ConfigError(f"{where}: must be a number, 0 or more{bound} (got {value!r})")
    return float(value)
