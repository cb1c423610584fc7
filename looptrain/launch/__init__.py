"""What the command line uses to run many experiments safely: `plan` checks every experiment before
the first trains and lays out the runs, `isolation` trains each in a process of its own, `console`
shows the progress, `quiet` keeps TensorFlow's start-up lines off the screen. The math is in `loop`,
one experiment end to end in `train`.
"""
