"""Features of the flights pipeline, shared by its steps and by whoever calls the served model."""
# A local module beside the notebooks: the pipeline's step cache hashes its source, so
# changing a feature here re-runs every step that imports it.
import pandas as pd

FEATURES = ["day", "weekday", "sched_dep_time", "sched_arr_time", "distance", "hour", "minute",
            "carrier", "origin", "dest"]
CATEGORICAL = ["carrier", "origin", "dest"]
TARGET = "delayed"  # arrived more than 15 minutes late


def prepare(flights: pd.DataFrame) -> pd.DataFrame:
    "Flights that arrived (cancelled ones have no arrival delay): the feature columns and the target."
    df = flights[flights["arr_delay"].notna()]
    out = df[[c for c in FEATURES if c != "weekday"]].copy()
    out["weekday"] = df["time_hour"].dt.tz_convert("America/New_York").dt.day_of_week.astype("int64")
    out[TARGET] = (df["arr_delay"] > 15).astype("int64")
    return out[FEATURES + [TARGET]].reset_index(drop=True)


def xy(df: pd.DataFrame):
    "(X, y) for the model: categorical columns as pandas categories (the gradient boosting reads them so)."
    return df[FEATURES].astype({c: "category" for c in CATEGORICAL}), df[TARGET]
