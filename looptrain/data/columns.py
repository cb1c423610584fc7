"""The HIGGS file's layout: its 29 columns, the 28 features a model sees, and the scale of its angles.

The models, the augmentation layer, the reader and the simulation all need these, and none of them
should have to import another to get them. Nothing else is here.
"""

# The 29 columns of a HIGGS row, in file order: the label, 21 low-level features, 7 masses.
COLUMNS = (
    "label",
    "lepton_pt", "lepton_eta", "lepton_phi", "missing_energy", "missing_energy_phi",
    "jet1_pt", "jet1_eta", "jet1_phi", "jet1_btag",
    "jet2_pt", "jet2_eta", "jet2_phi", "jet2_btag",
    "jet3_pt", "jet3_eta", "jet3_phi", "jet3_btag",
    "jet4_pt", "jet4_eta", "jet4_phi", "jet4_btag",
    "m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb",
)

N_FEATURES = len(COLUMNS) - 1  # the label is column 0 of the file, not a feature

# The angles φ are scaled so that ±π is ±PHI_MAX. The real columns were scaled one by one, so that
# their bounds differ in the fourth decimal (jet 1's is 1.7417); this is the widest, the missing
# energy's.
PHI_MAX = 1.7439
