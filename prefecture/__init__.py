"""The prefecture (州): a hazmon serving the upper side of the county→prefecture exchange (data standard §11)."""
