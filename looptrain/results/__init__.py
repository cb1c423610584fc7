"""Looking at finished runs: the pictures (`curves`, `sweep_plots`), the tables (`tables`) and the mean
± standard deviation over a sweep (`aggregate`). Everything here reads the run folders from disk and
never imports TensorFlow, so drawing a run costs no training start-up.
"""
