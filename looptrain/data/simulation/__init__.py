"""The event simulation behind the default data: HIGGS-like events made from physics (`kinematics`),
reconstructed into HIGGS's 28 features (`reconstruction`), and written out as rows (`synthetic`).
How it was calibrated against the real rows is in docs/synthetic.md. No TensorFlow here.
"""
