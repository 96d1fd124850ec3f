"""Domain logic with no Flask in it: plain functions over the models and plain data."""
