"""The sample logistics network (a few dozen warehouses, thousands of pincodes) and the script that generates it."""
