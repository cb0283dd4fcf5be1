"""Study area, OSM reading, networks, demand and candidate sites: the data a plan is made of."""
