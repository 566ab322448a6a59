"""Worked examples that ship with crowdline: each is a folder of data, configs and steps.

`crowdline_examples.clickbait` is the human-in-the-loop flow from the Toloka + Pachyderm article:
a model labels headlines it is sure of, people label the rest, and the model retrains.
"""
