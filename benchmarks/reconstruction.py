"""How the real rows and the synthetic ones were reconstructed: the statistics table of docs/synthetic.md.

    python benchmarks/reconstruction.py ../shared/data/higgs-sample.csv.gz              # seed 0, 50,000 rows
    python benchmarks/reconstruction.py ../shared/data/higgs-sample.csv.gz --seed 1 --rows 11000

For the real rows and for synthetic ones, what the rows say of how they were made: how many b tags a
row lists; in the rows that list two, how often m_jj is the mass of two listed untagged jets; how often
neighbouring jets are listed against their pT order; how often each position holds a b tag; the median
size of the vector sum of the listed objects' transverse momenta; and how often the neutrino's pz is
the smaller |pz| of the two solutions, read back by trying both solutions with both b jets and keeping
the one that gives the row's m_jlv. Nothing here is a test.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
# The tests' own reading of a sample and undoing of the UCI scales.
from test_synthetic import COLUMN, in_gev, read_csv_gz  # noqa: E402

from looptrain.data.simulation import kinematics as kin  # noqa: E402
from looptrain.data.simulation import reconstruction, synthetic

JETS = [f"jet{jet}" for jet in range(1, 5)]


def statistics(rows: np.ndarray) -> dict:
    pt, eta, phi = (np.stack(parts, axis=1) for parts in zip(*(in_gev(rows, jet) for jet in JETS)))
    tagged = np.stack([rows[:, COLUMN[f"{jet}_btag"]] > 0 for jet in JETS], axis=1)
    tags = tagged.sum(axis=1)
    two = tags == 2
    vectors = kin.massless(pt, eta, phi)

    # m_jj from two listed untagged jets: in a row with two tags, the other two jets are the only pair.
    untagged = np.argsort(tagged[two], axis=1, kind="stable")[:, :2]
    pair = np.take_along_axis(vectors[two], untagged[..., None], axis=1).sum(axis=1)
    m_jj = rows[two, COLUMN["m_jj"]] * reconstruction.MASS_UNITS[0]
    listed_pair = np.abs(kin.mass(pair) / m_jj - 1) < 5e-3

    lepton, met = in_gev(rows, "lepton"), in_gev(rows, "missing_energy")
    met_x, met_y = met[0] * np.cos(met[2]), met[0] * np.sin(met[2])
    objects_x = lepton[0] * np.cos(lepton[2]) + met_x + (pt * np.cos(phi)).sum(axis=1)
    objects_y = lepton[0] * np.sin(lepton[2]) + met_y + (pt * np.sin(phi)).sum(axis=1)

    # The neutrino's pz: of the two solutions and the two b jets, the combination that gives m_jlv.
    lepton_vector = kin.massless(*lepton)[two]
    solutions = kin.neutrino_pz(lepton_vector, met_x[two], met_y[two], reconstruction.W_MASS)
    b_jets = np.take_along_axis(vectors[two], np.argsort(~tagged[two], axis=1, kind="stable")[:, :2, None], axis=1)
    m_jlv = rows[two, COLUMN["m_jlv"]] * reconstruction.MASS_UNITS[3]
    misses = []
    for pz in solutions:
        neutrino = kin.massless(met[0][two], np.arcsinh(pz / met[0][two]), met[2][two])
        masses = [kin.mass(lepton_vector + neutrino + b_jets[:, b]) for b in (0, 1)]
        misses.append(np.min(np.abs(np.array(masses) - m_jlv), axis=0))
    distinct = np.abs(solutions[0] - solutions[1]) > 1.0  # GeV; where no pz meets the W mass they coincide
    chosen = np.where(misses[0] < misses[1], *solutions)[distinct]
    smaller = np.abs(chosen) <= np.minimum(np.abs(solutions[0]), np.abs(solutions[1]))[distinct]

    return {
        "rows listing 0, 1, 2 b tags": ", ".join(f"{np.mean(tags == k):.3f}" for k in (0, 1, 2)),
        "m_jj from two listed jets (rows with 2 tags)": f"{listed_pair.mean():.3f}",
        "neighbouring jets out of pT order (1-2, 2-3, 3-4)": ", ".join(
            f"{np.mean(pt[:, k] < pt[:, k + 1]):.2f}" for k in range(3)),
        "b tags at positions 1 to 4": ", ".join(f"{share:.2f}" for share in tagged.mean(axis=0)),
        "\\|sum of the listed objects' pT\\|, median (GeV)": f"{np.median(np.hypot(objects_x, objects_y)):.1f}",
        "neutrino pz the smaller \\|pz\\|": f"{smaller.mean():.2f}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", type=Path, help="real HIGGS rows, a HIGGS-layout .csv.gz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=50_000, help="how many synthetic rows")
    arguments = parser.parse_args()
    real = read_csv_gz(arguments.sample)
    fake = synthetic.generate(arguments.rows, arguments.seed)
    print(f"| reconstruction statistic | real | synthetic (seed {arguments.seed}, {arguments.rows:,} rows) |")
    print("| --- | ---: | ---: |")
    for (name, real_value), fake_value in zip(statistics(real).items(), statistics(fake).values()):
        print(f"| {name} | {real_value} | {fake_value} |")  # a name's own | is escaped for Markdown


if __name__ == "__main__":
    main()
