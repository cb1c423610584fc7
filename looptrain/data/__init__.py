"""The data: what the rows are and where they come from.

`columns` names the HIGGS file's columns; `higgs` reads a HIGGS-layout file (the real one, or the
project's own) and splits it as the tutorial does, its last rows kept apart as test rows; `reviews`
loads the IMDB reviews; `cache` keeps the simulated rows on disk; `simulation/` makes those rows
event by event. Nothing here builds a model or runs the loop.
"""
