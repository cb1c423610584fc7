"""Looking at finished runs: the pictures (`curves`, `weights`, `reliability`, `sweep_plots`, and what
they share in `pictures`), the tables (`tables`) and the mean ± standard deviation over a sweep
(`aggregate`). Everything here reads the run folders from disk and never imports TensorFlow, so
drawing a run costs no training start-up; the commands `looptrain.plot` and `looptrain.report` call it.
"""
