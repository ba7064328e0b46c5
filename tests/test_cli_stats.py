"""``scribe hotspots`` and ``scribe kde`` on a real (embedded) store built by ingest."""

from __future__ import annotations

import csv

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

import scribe_lib
from scribe_lib.cli import main

HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip
TYPES = ["Burglary", "Shoplifting", "Anti-social behaviour", "Robbery"]


def write_police_csv(path):
    """120 police.uk rows around Luton: 110 located (a fifth in a tight cluster), 10 without."""
    rng = np.random.default_rng(12)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(120):
            ctype = TYPES[i % 4]
            crime_id = "" if ctype == "Anti-social behaviour" else f"{i:064x}"
            month = "2024-01" if i % 3 else "2024-02"
            if i < 10:  # police.uk "No Location" rows: empty coordinates
                lon = lat = ""
                where = "No Location"
            else:
                hot = i % 5 == 0  # a cluster of a fifth of the incidents
                lon = -0.4200 + (rng.normal(0, 0.001) if hot else rng.uniform(-0.02, 0.02))
                lat = 51.8800 + (rng.normal(0, 0.0007) if hot else rng.uniform(-0.012, 0.012))
                lon, lat, where = f"{lon:.6f}", f"{lat:.6f}", "On or near High Street"
            w.writerow([
                crime_id, month, "Bedfordshire Police", "Bedfordshire Police", lon, lat, where,
                "E01015555", "Luton 001A", ctype, "Under investigation", "",
            ])  # fmt: skip
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An embedded store built by ingest of :func:`write_police_csv`."""
    d = tmp_path_factory.mktemp("cli_stats")
    path = write_police_csv(d / "2024-01-bedfordshire-street.csv")
    db = str(d / "scribe.duckdb")
    scribe_lib.ingest(path, "police-uk", partner="bedfordshire-police", store=db)
    return db, d


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_hotspots_csv_has_every_cell_and_counts_sum_to_located_incidents(store, capsys):
    db, d = store
    out = d / "hot.csv"
    code, stdout, err = run(capsys, "--store", db, "hotspots", "--cell", "250", "--distance",
                            "360", "--out", str(out))  # fmt: skip
    assert code == 0, err
    df = pd.read_csv(out)
    for col in ["cell_id", "x", "y", "incidents", "gi_z", "p_value", "p_fdr", "gi_bin"]:
        assert col in df.columns
    assert "p_perm" not in df.columns and "geometry" not in df.columns
    located = scribe_lib.load(db, located_only=True)
    assert df.incidents.sum() == len(located) == 110
    assert (df.incidents == 0).sum() > 0  # zero cells are written
    # x, y are cell centres on the 250 m national grid
    assert ((df.x - 125) % 250 == 0).all() and ((df.y - 125) % 250 == 0).all()
    assert df.gi_bin.between(-3, 3).all() and df.correction.eq("fdr").all()
    assert df.gi_bin.max() >= 2  # the cluster is found
    assert "110 of 110 located incidents" in stdout


def test_hotspots_selection_permutations_geojson_and_gpkg(store, capsys):
    db, d = store
    gj = d / "burglary.geojson"
    code, _, err = run(capsys, "--store", db, "hotspots", "--cell", "250", "--category",
                       "burglary", "--from", "2024-01", "--to", "2024-01", "--permutations",
                       "99", "--seed", "3", "--correction", "holm", "--out", str(gj))  # fmt: skip
    assert code == 0, err
    g = gpd.read_file(gj)
    assert g.crs.to_epsg() == 4326
    sel = scribe_lib.load(db, category="burglary", start="2024-01", end="2024-01",
                          located_only=True)  # fmt: skip
    assert g.incidents.sum() == len(sel) > 0
    assert {"p_perm", "p_fdr", "gi_bin"} <= set(g.columns)
    assert g.correction.eq("holm").all() and g.p_basis.eq("permutation").all()
    gp = d / "harm.gpkg"
    code, _, err = run(capsys, "--store", db, "hotspots", "--cell", "500", "--harm", "--out",
                       str(gp))  # fmt: skip
    assert code == 0, err
    h = gpd.read_file(gp)
    assert h.crs.to_epsg() == 27700 and h.incidents.sum() == 110
    w = scribe_lib.stats.load_harm_weights()
    located = scribe_lib.load(db, located_only=True)
    assert h.harm.sum() == pytest.approx(located.category.map(w).sum(), rel=1e-12)


def test_kde_command(store, capsys):
    db, d = store
    out = d / "kde.csv"
    code, stdout, err = run(capsys, "--store", db, "kde", "--cell", "100", "--bandwidth",
                            "300", "--out", str(out))  # fmt: skip
    assert code == 0, err
    df = pd.read_csv(out)
    assert list(df.columns) == ["cell_id", "x", "y", "incidents", "density", "bandwidth"]
    assert df.incidents.sum() == 110 and (df.bandwidth == 300).all()
    assert df.density.max() > 0 and "bandwidth 300 m" in stdout


def test_bad_arguments_are_explained(store, capsys):
    db, d = store
    code, _, err = run(capsys, "--store", db, "hotspots", "--out", str(d / "x.shp"))
    assert code == 2 and "must end in .csv, .geojson or .gpkg" in err
    code, _, err = run(capsys, "--store", db, "hotspots", "--locality", "Atlantis", "--out",
                       str(d / "x.csv"))  # fmt: skip
    assert code == 2 and "unknown locality 'Atlantis'" in err
    code, _, err = run(capsys, "--store", db, "hotspots", "--from", "2030-01", "--out",
                       str(d / "x.csv"))  # fmt: skip
    assert code == 1 and "no located incidents match the selection" in err


def test_harm_file_and_hexagons(store, capsys, tmp_path):
    db, _ = store
    weights = {k: 1.0 for k in scribe_lib.stats.load_harm_weights()} | {"robbery": 100.0}
    harm_file = tmp_path / "our-harm.yml"
    harm_file.write_text(yaml.safe_dump({"weights": weights}), encoding="utf-8")
    out = tmp_path / "hex.csv"
    code, _, err = run(capsys, "--store", db, "hotspots", "--shape", "hex", "--cell", "300",
                       "--harm-file", str(harm_file), "--out", str(out))  # fmt: skip
    assert code == 0, err
    df = pd.read_csv(out)
    located = scribe_lib.load(db, located_only=True)
    assert df.incidents.sum() == 110
    assert df.harm.sum() == pytest.approx(located.category.map(weights).sum(), rel=1e-12)
    k = tmp_path / "kde-harm.csv"
    code, _, err = run(capsys, "--store", db, "kde", "--cell", "200", "--bandwidth", "400",
                       "--harm-file", str(harm_file), "--out", str(k))  # fmt: skip
    assert code == 0, err
    # harm mass: density x cell area summed is at most the total harm (some spills off the grid)
    mass = (pd.read_csv(k).density * 0.2 * 0.2).sum()
    assert 0.5 * df.harm.sum() < mass <= df.harm.sum() * (1 + 1e-9)
    bad = tmp_path / "bad-harm.yml"
    bad.write_text(yaml.safe_dump({"weights": {"burglery": 1}}), encoding="utf-8")
    code, _, err = run(capsys, "--store", db, "hotspots", "--harm-file", str(bad), "--out",
                       str(tmp_path / "x.csv"))  # fmt: skip
    assert code == 2 and "key 'weights.burglery'" in err


def test_hotspots_on_both_backends(store_url, capsys, tmp_path):
    path = write_police_csv(tmp_path / "2024-01-bedfordshire-street.csv")
    scribe_lib.ingest(path, "police-uk", partner="bedfordshire-police", store=store_url)
    out = tmp_path / "hot.csv"
    code, _, err = run(capsys, "--store", store_url, "hotspots", "--cell", "250", "--category",
                       "burglary", "--out", str(out))  # fmt: skip
    assert code == 0, err
    df = pd.read_csv(out)
    located = scribe_lib.load(store_url, category="burglary", located_only=True)
    assert df.incidents.sum() == len(located) > 0
