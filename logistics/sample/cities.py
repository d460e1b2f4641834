"""The cities of the sample network: real names, states, postal-circle pincode prefixes and coordinates, grouped into
regions each served by one regional hub."""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    code: str
    name: str
    state: str
    prefix: int  # first three digits of the city's pincodes (its postal sorting district)
    lat: float
    lon: float
    region: str
    warehouses: int
    pincodes: int
    remote_share: float  # share of its pincodes that are far out (hills, villages): small and medium parcels only


# Regional hubs sit in the first city listed for their region.
REGIONS = {
    "north": "DEL", "west": "BWD", "central": "NAG", "south": "BLR",
    "southeast": "MAA", "deccan": "HYD", "east": "CCU", "northeast": "GAU",
}

CITIES = [
    City("DEL", "Delhi", "Delhi", 110, 28.61, 77.21, "north", 3, 300, 0.05),
    City("GGN", "Gurugram", "Haryana", 122, 28.46, 77.03, "north", 1, 90, 0.15),
    City("NOI", "Noida", "Uttar Pradesh", 201, 28.54, 77.39, "north", 1, 90, 0.15),
    City("JAI", "Jaipur", "Rajasthan", 302, 26.91, 75.79, "north", 2, 120, 0.25),
    City("LKO", "Lucknow", "Uttar Pradesh", 226, 26.85, 80.95, "north", 1, 120, 0.25),
    City("IXC", "Chandigarh", "Chandigarh", 160, 30.73, 76.78, "north", 1, 60, 0.10),
    City("LUH", "Ludhiana", "Punjab", 141, 30.90, 75.86, "north", 1, 80, 0.25),
    City("KNU", "Kanpur", "Uttar Pradesh", 208, 26.45, 80.33, "north", 0, 80, 0.25),
    City("AGR", "Agra", "Uttar Pradesh", 282, 27.18, 78.01, "north", 0, 60, 0.30),
    City("VNS", "Varanasi", "Uttar Pradesh", 221, 25.32, 82.97, "north", 0, 70, 0.35),
    City("ATQ", "Amritsar", "Punjab", 143, 31.63, 74.87, "north", 0, 60, 0.30),
    City("DED", "Dehradun", "Uttarakhand", 248, 30.32, 78.03, "north", 0, 60, 0.45),
    City("JDH", "Jodhpur", "Rajasthan", 342, 26.24, 73.02, "north", 0, 60, 0.40),
    City("SXR", "Srinagar", "Jammu and Kashmir", 190, 34.08, 74.80, "north", 0, 50, 0.60),
    City("SLV", "Shimla", "Himachal Pradesh", 171, 31.10, 77.17, "north", 0, 40, 0.65),
    City("BWD", "Bhiwandi", "Maharashtra", 421, 19.30, 73.06, "west", 2, 60, 0.30),
    City("BOM", "Mumbai", "Maharashtra", 400, 19.08, 72.88, "west", 2, 300, 0.02),
    City("PNQ", "Pune", "Maharashtra", 411, 18.52, 73.86, "west", 2, 150, 0.15),
    City("AMD", "Ahmedabad", "Gujarat", 380, 23.02, 72.57, "west", 2, 150, 0.15),
    City("STV", "Surat", "Gujarat", 395, 21.17, 72.83, "west", 1, 90, 0.20),
    City("BDQ", "Vadodara", "Gujarat", 390, 22.31, 73.18, "west", 0, 70, 0.25),
    City("RAJ", "Rajkot", "Gujarat", 360, 22.30, 70.80, "west", 0, 60, 0.35),
    City("ISK", "Nashik", "Maharashtra", 422, 20.00, 73.79, "west", 0, 60, 0.35),
    City("GOI", "Panaji", "Goa", 403, 15.49, 73.83, "west", 0, 50, 0.30),
    City("NAG", "Nagpur", "Maharashtra", 440, 21.15, 79.09, "central", 1, 90, 0.25),
    City("IDR", "Indore", "Madhya Pradesh", 452, 22.72, 75.86, "central", 1, 90, 0.25),
    City("BHO", "Bhopal", "Madhya Pradesh", 462, 23.26, 77.41, "central", 1, 80, 0.30),
    City("RPR", "Raipur", "Chhattisgarh", 492, 21.25, 81.63, "central", 1, 70, 0.40),
    City("JLR", "Jabalpur", "Madhya Pradesh", 482, 23.18, 79.99, "central", 0, 60, 0.40),
    City("IXU", "Aurangabad", "Maharashtra", 431, 19.88, 75.34, "central", 0, 60, 0.35),
    City("BLR", "Bengaluru", "Karnataka", 560, 12.97, 77.59, "south", 3, 300, 0.03),
    City("MYQ", "Mysuru", "Karnataka", 570, 12.30, 76.64, "south", 0, 60, 0.30),
    City("IXE", "Mangaluru", "Karnataka", 575, 12.91, 74.86, "south", 0, 60, 0.30),
    City("HBX", "Hubballi", "Karnataka", 580, 15.36, 75.12, "south", 0, 60, 0.35),
    City("COK", "Kochi", "Kerala", 682, 9.93, 76.27, "south", 1, 90, 0.20),
    City("TRV", "Thiruvananthapuram", "Kerala", 695, 8.52, 76.94, "south", 0, 70, 0.25),
    City("CCJ", "Kozhikode", "Kerala", 673, 11.26, 75.78, "south", 0, 60, 0.30),
    City("MAA", "Chennai", "Tamil Nadu", 600, 13.08, 80.27, "southeast", 3, 250, 0.05),
    City("CJB", "Coimbatore", "Tamil Nadu", 641, 11.02, 76.96, "southeast", 1, 90, 0.25),
    City("IXM", "Madurai", "Tamil Nadu", 625, 9.93, 78.12, "southeast", 0, 70, 0.30),
    City("TRZ", "Tiruchirappalli", "Tamil Nadu", 620, 10.79, 78.70, "southeast", 0, 60, 0.30),
    City("PNY", "Puducherry", "Puducherry", 605, 11.94, 79.81, "southeast", 0, 40, 0.20),
    City("HYD", "Hyderabad", "Telangana", 500, 17.39, 78.49, "deccan", 2, 250, 0.05),
    City("VTZ", "Visakhapatnam", "Andhra Pradesh", 530, 17.69, 83.22, "deccan", 1, 90, 0.25),
    City("VGA", "Vijayawada", "Andhra Pradesh", 520, 16.51, 80.65, "deccan", 0, 70, 0.30),
    City("WGC", "Warangal", "Telangana", 506, 17.97, 79.59, "deccan", 0, 50, 0.40),
    City("TIR", "Tirupati", "Andhra Pradesh", 517, 13.63, 79.42, "deccan", 0, 50, 0.35),
    City("CCU", "Kolkata", "West Bengal", 700, 22.57, 88.36, "east", 2, 250, 0.05),
    City("BBI", "Bhubaneswar", "Odisha", 751, 20.30, 85.82, "east", 1, 80, 0.35),
    City("PAT", "Patna", "Bihar", 800, 25.59, 85.14, "east", 1, 90, 0.40),
    City("IXR", "Ranchi", "Jharkhand", 834, 23.34, 85.31, "east", 1, 70, 0.40),
    City("IXB", "Siliguri", "West Bengal", 734, 26.73, 88.40, "east", 0, 60, 0.45),
    City("IXW", "Jamshedpur", "Jharkhand", 831, 22.80, 86.20, "east", 0, 50, 0.35),
    City("CTC", "Cuttack", "Odisha", 753, 20.46, 85.88, "east", 0, 50, 0.40),
    City("GAU", "Guwahati", "Assam", 781, 26.14, 91.74, "northeast", 1, 90, 0.35),
    City("SHL", "Shillong", "Meghalaya", 793, 25.58, 91.89, "northeast", 0, 50, 0.60),
    City("IMF", "Imphal", "Manipur", 795, 24.82, 93.94, "northeast", 0, 50, 0.65),
    City("IXA", "Agartala", "Tripura", 799, 23.83, 91.28, "northeast", 0, 50, 0.55),
    City("DIB", "Dibrugarh", "Assam", 786, 27.47, 94.91, "northeast", 0, 50, 0.55),
    City("AJL", "Aizawl", "Mizoram", 796, 23.73, 92.72, "northeast", 0, 40, 0.70),
]

# Hilly or hard-to-reach delivery centres whose linehaul cannot take bulky freight.
NO_BULKY_CITIES = {"SXR", "SLV", "DED", "SHL", "IMF", "AJL", "DIB", "IXA"}

# Road linehaul between neighbouring regions, both directions; lanes marked False carry no bulky freight.
ROAD_LANES = {
    ("north", "west"): True, ("north", "central"): True, ("north", "east"): True, ("west", "central"): True,
    ("west", "south"): True, ("west", "deccan"): True, ("central", "deccan"): True, ("central", "east"): True,
    ("south", "southeast"): True, ("south", "deccan"): True, ("southeast", "deccan"): True, ("deccan", "east"): False,
    ("east", "northeast"): False,
}

# Air express between the metros' hubs: small parcels only, much faster than the road.
AIR_REGIONS = ["north", "west", "south", "southeast", "deccan", "east", "northeast"]
