"""Wholesale customer segmentation: the importable logic behind the pipeline notebooks and the API."""
