"""Generates the sample logistics network (deterministic for a seed): `python -m logistics.sample.generate`.

Warehouses sit in major cities; each region has a hub; each city a delivery centre. Freight goes warehouse -> regional
hub -> (road linehaul, or air for small parcels) -> regional hub -> city delivery centre -> pincode, or straight from a
warehouse to the delivery centres of its own metro area for same-day delivery. Far-out pincodes take small and medium
parcels only; a few are not served at all.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
from itertools import combinations
from pathlib import Path

from logistics.sample.cities import AIR_REGIONS, CITIES, NO_BULKY_CITIES, REGIONS, ROAD_LANES, City

SAMPLE_FILE = Path(__file__).with_name("network.json.gz")
ALL_SIZES = ["small", "medium", "large", "bulky"]
NO_BULKY = ["small", "medium", "large"]
UNSERVED_SHARE_OF_REMOTE = 0.08
METRO_AREA_KM = 60


def distance_km(a: City, b: City) -> float:
    """Great-circle distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def road_hours(km: float) -> float:
    # Roads are ~25% longer than the straight line; a truck averages ~45 km/h door to door.
    return km * 1.25 / 45


class NetworkBuilder:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.warehouses: list[dict] = []
        self.pincodes: list[dict] = []
        self.routes: list[dict] = []

    def hours(self, base: float) -> float:
        """Real lanes vary: +-8%, to the half hour."""
        return max(0.5, round(base * self.random.uniform(0.92, 1.08) * 2) / 2)

    def route(self, source: str, to: str, base_hours: float, sizes: list[str]) -> None:
        self.routes.append({"from": source, "to": to, "hours": self.hours(base_hours), "size_classes": sizes})

    def city_pincodes(self, city: City) -> None:
        """The city's pincodes with their last-mile lanes from its delivery centre; remote ones come last."""
        # xxx001 (the head post office, e.g. 110001) always exists, so the sample has well-known pincodes to try.
        suffixes = [1, *sorted(self.random.sample(range(2, 1000), city.pincodes - 1))]
        urban = round(city.pincodes * (1 - city.remote_share))
        for position, suffix in enumerate(suffixes):
            pincode = f"{city.prefix}{suffix:03d}"
            self.pincodes.append({"pincode": pincode, "city": city.name, "state": city.state})
            if position < urban:
                self.route(f"DC-{city.code}", pincode, 2 + self.random.uniform(1, 18) / 20, ALL_SIZES)
            elif self.random.random() >= UNSERVED_SHARE_OF_REMOTE:
                self.route(f"DC-{city.code}", pincode, 6 + self.random.uniform(25, 120) / 15, ["small", "medium"])

    def city_warehouses(self, city: City) -> None:
        own = [row["pincode"] for row in self.pincodes if row["city"] == city.name]
        for number in range(1, city.warehouses + 1):
            warehouse_id = f"WH-{city.code}-{number:02d}"
            self.warehouses.append({"warehouse_id": warehouse_id, "name": f"{city.name} FC {number}",
                                    "pincode": self.random.choice(own[: len(own) // 2])})
            hub_city = _city(REGIONS[city.region])
            self.route(warehouse_id, _hub(city.region), 2 + road_hours(distance_km(city, hub_city)), ALL_SIZES)
            for nearby in CITIES:
                if nearby.region == city.region and distance_km(city, nearby) <= METRO_AREA_KM:
                    self.route(warehouse_id, f"DC-{nearby.code}", 2 + road_hours(distance_km(city, nearby)), ALL_SIZES)

    def linehaul(self) -> None:
        for city in CITIES:
            hub_city = _city(REGIONS[city.region])
            sizes = NO_BULKY if city.code in NO_BULKY_CITIES else ALL_SIZES
            self.route(_hub(city.region), f"DC-{city.code}", 3 + road_hours(distance_km(hub_city, city)), sizes)
        for (a, b), carries_bulky in ROAD_LANES.items():
            km = distance_km(_city(REGIONS[a]), _city(REGIONS[b]))
            for source, to in ((a, b), (b, a)):
                self.route(_hub(source), _hub(to), 4 + road_hours(km), ALL_SIZES if carries_bulky else NO_BULKY)
        for a, b in combinations(AIR_REGIONS, 2):
            km = distance_km(_city(REGIONS[a]), _city(REGIONS[b]))
            for source, to in ((a, b), (b, a)):
                self.route(_hub(source), _hub(to), 7 + km / 650, ["small"])

    def network(self) -> dict:
        hubs = [{"hub_id": _hub(region), "name": f"{region.title()} regional hub, {_city(code).name}"}
                for region, code in REGIONS.items()]
        hubs += [{"hub_id": f"DC-{city.code}", "name": f"{city.name} delivery centre"} for city in CITIES]
        return {"warehouses": self.warehouses, "hubs": hubs, "pincodes": self.pincodes, "routes": self.routes}


def _hub(region: str) -> str:
    return f"HUB-{region.upper()}"


def _city(code: str) -> City:
    return next(city for city in CITIES if city.code == code)


def build_network(seed: int = 7) -> dict:
    builder = NetworkBuilder(seed)
    for city in CITIES:
        builder.city_pincodes(city)
    for city in CITIES:
        builder.city_warehouses(city)
    builder.linehaul()
    return builder.network()


def write(network: dict, path: Path) -> None:
    body = json.dumps(network, separators=(",", ":")).encode()
    # mtime=0 keeps the compressed file byte-identical from run to run.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=SAMPLE_FILE)
    args = parser.parse_args()
    network = build_network(args.seed)
    write(network, args.out)
    counts = {name: len(rows) for name, rows in network.items()}
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes): {counts}")


if __name__ == "__main__":
    main()
