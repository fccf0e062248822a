"""The electronic transit declaration: lodged once, seen in advance by every office on the way.

Inspired by the eTIR advance cargo information and NCTS phase 5 transit declarations; it is not a
clone of either message set. Field validators check what one declaration can know by itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from corridor.customs.identifiers import check_container, check_currency, check_hs_code
from corridor.network.model import Country
from corridor.textcheck import reject_control_characters


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Party(_Part):
    name: str = Field(min_length=1, max_length=200)
    country: Country
    identifier: str = Field(
        default="", max_length=50, description="EORI, TIN or national trader number"
    )


class Holder(Party):
    aeo: bool = Field(default=False, description="Authorised Economic Operator status")


class GoodsItem(_Part):
    hs_code: str
    description: str = Field(min_length=1, max_length=300)
    packages: int = Field(gt=0, le=1_000_000)
    gross_kg: float = Field(gt=0, le=50_000_000)
    net_kg: float = Field(gt=0, le=50_000_000)
    value: float = Field(gt=0, le=1e12)
    currency: str
    origin_country: Country

    @field_validator("hs_code")
    @classmethod
    def _hs(cls, value: str) -> str:
        return check_hs_code(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _mass(self) -> GoodsItem:
        if self.net_kg > self.gross_kg:
            raise ValueError(
                f"net_kg: net mass {self.net_kg:g} kg is above gross mass {self.gross_kg:g} kg"
            )
        return self


class Container(_Part):
    number: str
    seals: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        return check_container(value)


class Guarantee(_Part):
    reference: str = Field(min_length=1, max_length=50)
    amount: float = Field(gt=0, le=1e12)
    currency: str

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)


class DeclarationBody(_Part):
    """What the holder declares. The office itinerary is derived from the booked route."""

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: Any) -> Any:
        return reject_control_characters(data)

    lrn: str = Field(min_length=1, max_length=50, description="The holder's local reference number")
    holder: Holder
    consignor: Party
    consignee: Party
    goods: list[GoodsItem] = Field(min_length=1, max_length=999)
    containers: list[Container] = Field(min_length=1, max_length=200)
    transport_means: str = Field(
        min_length=1, max_length=100, description="Train, wagon or vessel identification"
    )
    guarantee: Guarantee

    @model_validator(mode="after")
    def _consistent(self) -> DeclarationBody:
        currencies = {item.currency for item in self.goods}
        if currencies != {self.guarantee.currency}:
            raise ValueError(
                f"guarantee.currency: goods are valued in {', '.join(sorted(currencies))}; "
                "declare values and guarantee in one currency"
            )
        numbers = [c.number for c in self.containers]
        if len(numbers) != len(set(numbers)):
            raise ValueError("containers: a container number is declared twice")
        return self

    @property
    def value(self) -> float:
        return sum(item.value for item in self.goods)

    @property
    def gross_kg(self) -> float:
        return sum(item.gross_kg for item in self.goods)
