"""Deterministic synthetic personal data for data sets that have none (the UCI card clients).

Everything about a person is a function of their numeric ID, their age and sex, their marital
status and the extract date ``as_of`` only: the same ID gives the same name, 身份证号, phone
numbers, address and coordinates on every run and machine (given the same Faker version). Nothing
depends on which other rows are read or in what order.

- Randomness: ``random.Random(ID)`` (the standard library's Mersenne Twister, whose sequence for an
  integer seed is fixed across platforms) and a ``Faker("zh_CN")`` seeded per row with
  ``seed_instance(f"arrears-uci-{ID}")`` (a string seed, hashed with SHA-512, so it does not depend
  on ``PYTHONHASHSEED``).
- Home district: one of Shenzhen's 10 districts, chosen with probability proportional to its area
  (``shenzhen_district_centroids.csv``); the home coordinates are a point **inside that district's
  polygon** (``shenzhen_districts_wgs84.geojson``, WGS84), drawn uniformly over the polygon by
  rejection sampling from its bounding box, tested with vectorised ``shapely.contains_xy``.
- 身份证号: area code = the home district's adcode (大鹏新区 has none: 龙岗 440307), a birth date
  that makes the age on ``as_of`` equal ``age``, a sequence whose last digit is odd for men and
  even for women, and a valid check character (``arrears.domain.national_id.make_id``).

The output is synthetic: names, numbers and addresses are made up and must never be contacted.
"""
from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import shapely
from faker import Faker
from shapely.geometry import shape

from arrears.domain.national_id import make_id

__all__ = [
    "DATA_DIR",
    "District",
    "districts",
    "district_geometry",
    "birth_date_for_age",
    "age_on",
    "RELATIONS",
    "synthesize_people",
]

DATA_DIR = Path(__file__).resolve().parents[3] / "data"
DAPENG_ID_AREA = "440307"  # 大鹏新区 is administered under 龙岗 and has no adcode of its own

#: Relation of the emergency contact to the debtor (party "emergency").
RELATIONS = ("配偶", "父亲", "母亲", "兄弟", "姐妹", "朋友", "同事")

_MOBILE_PREFIXES = tuple(
    [f"13{d}" for d in range(10)]
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159"]
    + [f"18{d}" for d in range(10)]
    + ["166", "176", "177", "198", "199"]
)

#: Candidate points drawn per person in the first pass (the districts fill 29–70 % of their
#: bounding boxes, so a miss of all 32 happens for about one person in 10^5; those get more rounds).
_CANDIDATES = 32


@dataclass(frozen=True)
class District:
    name: str  # 福田区, 大鹏新区
    qh: str  # the GeoJSON's name without 区: 福田, 大鹏
    adcode: str | None  # GB/T 2260; None for 大鹏新区
    area_km2: float
    bounds: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max

    @property
    def id_area(self) -> str:
        """Area code for a 身份证号 of someone living here."""
        return self.adcode or DAPENG_ID_AREA


@lru_cache(maxsize=1)
def _geo() -> tuple[tuple[District, ...], dict[str, object]]:
    features = json.loads((DATA_DIR / "shenzhen_districts_wgs84.geojson").read_text(encoding="utf-8"))["features"]
    geoms = {f["properties"]["qh"]: shape(f["geometry"]) for f in features}
    for g in geoms.values():
        shapely.prepare(g)
    out = []
    with open(DATA_DIR / "shenzhen_district_centroids.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["district_zh"]
            qh = name.removesuffix("新区").removesuffix("区")
            out.append(District(name, qh, row["adcode"] or None, float(row["area_km2"]), geoms[qh].bounds))
    if {d.qh for d in out} != set(geoms):
        raise RuntimeError("district CSV and GeoJSON disagree")
    return tuple(out), geoms


def districts() -> tuple[District, ...]:
    """Shenzhen's 10 districts, in the order of ``shenzhen_district_centroids.csv``."""
    return _geo()[0]


def district_geometry(name: str):
    """The WGS84 (Multi)Polygon of a district, by full name (福田区) or GeoJSON ``qh`` (福田)."""
    geoms = _geo()[1]
    return geoms[name] if name in geoms else geoms[name.removesuffix("新区").removesuffix("区")]


def age_on(birth: date, as_of: date) -> int:
    """Completed years on ``as_of`` (a 29 Feb birthday counts from 1 Mar in common years)."""
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 Feb in a common year
        return d.replace(year=d.year - years, day=28)


def birth_date_for_age(age: int, as_of: date, rng: random.Random) -> date:
    """A birth date, uniform over all dates whose :func:`age_on` ``as_of`` is ``age``."""
    latest = _years_before(as_of, age)  # the last birth date old enough
    earliest = _years_before(as_of, age + 1) + timedelta(days=1)  # the day after the first too old
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _relation(rng: random.Random, age: int, married: bool) -> str:
    weights = [6 if married else 0, 1, 1, 1, 1, 1, 1]
    if age >= 65:  # parents are unlikely to be the reachable contact
        weights[1] = weights[2] = 0
    return rng.choices(RELATIONS, weights=weights)[0]


_faker: Faker | None = None


def _fake() -> Faker:
    global _faker
    if _faker is None:
        _faker = Faker("zh_CN")
    return _faker


def synthesize_people(ids: Sequence[int], ages: Sequence[int], sexes: Sequence[str],
                      married: Sequence[bool], as_of: date) -> pl.DataFrame:
    """Synthetic personal data, one row per ID (in the given order).

    ``sexes`` are ``"M"``/``"F"``. Columns: ``ID``, ``name``, ``national_id``, ``birth_date``,
    ``sex``, ``district`` (full name, e.g. 福田区), ``mobile``, ``address``, ``latitude``,
    ``longitude``, ``ec_name``, ``ec_relation``, ``ec_mobile`` (the emergency contact).
    """
    fake = _fake()
    dists = districts()
    weights = [d.area_km2 for d in dists]
    n = len(ids)
    cols: dict[str, list] = {k: [] for k in (
        "name", "national_id", "birth_date", "district", "mobile", "address", "ec_name", "ec_relation", "ec_mobile")}
    cand_x = np.empty((n, _CANDIDATES))
    cand_y = np.empty((n, _CANDIDATES))
    chosen: list[District] = []
    for k, (pid, age, sex, is_married) in enumerate(zip(ids, ages, sexes, married)):
        pid = int(pid)
        rng = random.Random(pid)
        fake.seed_instance(f"arrears-uci-{pid}")
        district = rng.choices(dists, weights=weights)[0]
        chosen.append(district)
        surname = fake.last_name()
        given = fake.first_name_male() if sex == "M" else fake.first_name_female()
        birth = birth_date_for_age(int(age), as_of, rng)
        national_id = make_id(district.id_area, birth, rng.randrange(1000), sex)
        mobile = _mobile(rng)
        address = (f"广东省深圳市{district.name}{fake.street_name()}{rng.randint(1, 999)}号"
                   f"{rng.randint(1, 30)}栋{rng.randint(1, 33)}{rng.randint(1, 8):02d}室")
        relation = _relation(rng, int(age), bool(is_married))
        if relation in ("父亲", "兄弟"):
            ec_name = surname + fake.first_name_male()
        elif relation == "姐妹":
            ec_name = surname + fake.first_name_female()
        elif relation == "母亲" or (relation == "配偶" and sex == "M"):
            ec_name = fake.last_name() + fake.first_name_female()
        elif relation == "配偶":
            ec_name = fake.last_name() + fake.first_name_male()
        else:
            ec_name = fake.name()
        ec_mobile = _mobile(rng)
        while ec_mobile == mobile:
            ec_mobile = _mobile(rng)
        lon0, lat0, lon1, lat1 = district.bounds
        cand_x[k] = [lon0 + (lon1 - lon0) * rng.random() for _ in range(_CANDIDATES)]
        cand_y[k] = [lat0 + (lat1 - lat0) * rng.random() for _ in range(_CANDIDATES)]
        for key, value in (("name", surname + given), ("national_id", national_id), ("birth_date", birth),
                           ("district", district.name), ("mobile", mobile), ("address", address),
                           ("ec_name", ec_name), ("ec_relation", relation), ("ec_mobile", ec_mobile)):
            cols[key].append(value)

    lon, lat = _first_inside(ids, chosen, cand_x, cand_y)
    return pl.DataFrame({
        "ID": pl.Series([int(i) for i in ids], dtype=pl.Int64),
        "name": cols["name"],
        "national_id": cols["national_id"],
        "birth_date": pl.Series(cols["birth_date"], dtype=pl.Date),
        "sex": pl.Series(list(sexes), dtype=pl.String),
        "district": cols["district"],
        "mobile": cols["mobile"],
        "address": cols["address"],
        "latitude": pl.Series(lat, dtype=pl.Float64),
        "longitude": pl.Series(lon, dtype=pl.Float64),
        "ec_name": cols["ec_name"],
        "ec_relation": cols["ec_relation"],
        "ec_mobile": cols["ec_mobile"],
    }, schema_overrides={k: pl.String for k in ("name", "national_id", "district", "mobile", "address",
                                                 "ec_name", "ec_relation", "ec_mobile")})


def _first_inside(ids: Sequence[int], chosen: Sequence[District], cand_x: np.ndarray,
                  cand_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person, the first of their candidate points that lies inside their district polygon."""
    n = len(chosen)
    inside = np.zeros(cand_x.shape, dtype=bool)
    names = np.array([d.qh for d in chosen])
    for qh in np.unique(names):
        rows = names == qh
        inside[rows] = shapely.contains_xy(district_geometry(qh), cand_x[rows], cand_y[rows])
    first = inside.argmax(axis=1)
    lon = cand_x[np.arange(n), first]
    lat = cand_y[np.arange(n), first]
    for k in np.flatnonzero(~inside.any(axis=1)):  # very rare: keep drawing from a per-ID stream
        rng = random.Random(f"arrears-uci-geo-{int(ids[k])}")
        geom = district_geometry(chosen[k].qh)
        lon0, lat0, lon1, lat1 = chosen[k].bounds
        while True:
            x, y = lon0 + (lon1 - lon0) * rng.random(), lat0 + (lat1 - lat0) * rng.random()
            if shapely.contains_xy(geom, x, y):
                lon[k], lat[k] = x, y
                break
    return lon, lat
