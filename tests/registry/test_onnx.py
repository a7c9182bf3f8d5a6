"""ONNX conversion: each supported pipeline against scikit-learn's own predictions on the same rows and against a
raw ONNX Runtime session; unconvertible steps named; the HistGradientBoosting fix."""
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

import mlbench as mb
from mlbench.registry.onnx import ConversionError, OnnxModel, parity, to_onnx, unconvertible

pytest.importorskip("skl2onnx")
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def data():
    df = mb.flights().query("month == 2").dropna(subset=["arr_delay"]).head(4000)
    X = df[["month", "day", "sched_dep_time", "distance", "dep_time", "carrier", "origin"]].reset_index(drop=True)
    X.loc[::50, "dep_time"] = np.nan  # missing values reach the trees (HistGradientBoosting routes them)
    return X, (df["arr_delay"] > 15).astype(int).to_numpy(), df["arr_delay"].to_numpy()


def _pipe(final, scale=False, dense=False):
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = make_pipeline(SimpleImputer(), StandardScaler()) if scale else SimpleImputer()
    if final.__class__.__name__.startswith("HistGradient"):
        num = "passthrough"  # its own NaN handling
    enc = OneHotEncoder(handle_unknown="ignore", sparse_output=not dense)
    return make_pipeline(make_column_transformer((enc, ["carrier", "origin"]), remainder=num), final)


def _estimators():
    from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier,
                                  RandomForestClassifier)
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    return {"logistic": _pipe(LogisticRegression(max_iter=1000), scale=True),
            "tree": _pipe(DecisionTreeClassifier(max_depth=8, random_state=0)),
            "forest": _pipe(RandomForestClassifier(30, max_depth=10, random_state=0)),
            "gboost": _pipe(GradientBoostingClassifier(n_estimators=30, random_state=0), dense=True),
            "hgb": _pipe(HistGradientBoostingClassifier(max_iter=40, random_state=0), dense=True)}


@pytest.mark.parametrize("name", list(_estimators()))
def test_classifier_matches_scikit_learn_on_every_row(data, name):
    X, y, _ = data
    model = _estimators()[name].fit(X, y)
    onx = OnnxModel(to_onnx(model, X))
    assert list(onx.classes_) == list(model.classes_)
    assert (onx.predict(X) == model.predict(X)).all()  # scikit-learn on the same rows is the reference
    assert np.abs(onx.predict_proba(X) - model.predict_proba(X)).max() < 1e-5
    p = parity(model, onx, X)
    assert p.equal and p.flipped_rows == [] and p.rows == len(X)


def test_feed_matches_a_raw_onnx_runtime_session(data):
    "OnnxModel's per-column feed against ONNX Runtime driven by hand."
    import onnxruntime as ort

    X, y, _ = data
    model = _estimators()["forest"].fit(X, y)
    blob = to_onnx(model, X)
    sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    feed = {c: X[[c]].to_numpy(np.float32) for c in ("month", "day", "sched_dep_time", "distance", "dep_time")}
    feed.update(carrier=X[["carrier"]].to_numpy(object), origin=X[["origin"]].to_numpy(object))
    label, proba = sess.run(None, feed)
    onx = OnnxModel(blob)
    assert (onx.predict(X) == label).all() and (onx.predict_proba(X) == proba).all()


def test_regressor_and_a_numeric_matrix_model(data):
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier

    X, y, delay = data
    reg = _pipe(HistGradientBoostingRegressor(max_iter=40, random_state=0), dense=True).fit(X, delay)
    onx = OnnxModel(to_onnx(reg, X))
    assert onx.task == "regression" and np.abs(onx.predict(X) - reg.predict(X)).max() < 1e-3
    assert parity(reg, onx, X).equal
    num = X[["month", "day", "sched_dep_time", "distance"]]
    rf = RandomForestClassifier(20, random_state=0).fit(num, y)  # no ColumnTransformer: one float32 matrix input
    onx = OnnxModel(to_onnx(rf, num))
    assert onx.spec["layout"] == "matrix" and np.abs(onx.predict_proba(num) - rf.predict_proba(num)).max() < 1e-6
    # an even vote (10 trees against 10) is a tie that float32 sums break either way: labels as scikit-learn gives them
    ties = rf.predict_proba(num)[:, 0] == 0.5
    assert ties.sum() > 0 and (onx.predict(num) == rf.predict(num)).all()
    raw = onx.session.run(None, onx._feed(num))[0]  # ONNX Runtime's own label breaks some of those ties otherwise
    assert (raw != rf.predict(num))[~ties].sum() == 0


def test_histgradientboosting_needs_the_fix(data):
    "skl2onnx 1.20 on its own fails on HistGradientBoosting; to_onnx converts it (test above)."
    import skl2onnx

    X, y, _ = data
    model = _estimators()["hgb"].fit(X, y)
    from mlbench.registry.onnx import _layout

    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    kinds = _layout(model, X)["kinds"]
    types = {"float": FloatTensorType, "string": StringTensorType}
    with pytest.raises(Exception, match="Expected an int, got a boolean|TreeEnsemble"):
        skl2onnx.to_onnx(model, initial_types=[(c, types[k]([None, 1])) for c, k in kinds.items()])


class Doubler(TransformerMixin, BaseEstimator):  # a custom transformer skl2onnx knows nothing about
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, float) * 2


def test_unconvertible_steps_are_named(data):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

    X, y, _ = data
    X = X.fillna(0)
    lam = make_pipeline(make_column_transformer((FunctionTransformer(lambda v: np.log1p(v)), ["distance"]),
                                                remainder="drop"), LogisticRegression()).fit(X, y)
    with pytest.raises(ConversionError, match=r"step Pipeline > columntransformer > functiontransformer: .*<lambda>"):
        to_onnx(lam, X)
    custom = make_pipeline(make_column_transformer((Doubler(), ["distance"]), remainder="drop"),
                           LogisticRegression()).fit(X, y)
    with pytest.raises(ConversionError, match=r"step Pipeline > columntransformer > doubler: .*test_onnx\.Doubler"):
        to_onnx(custom, X)
    cat = make_pipeline(make_column_transformer((OrdinalEncoder(), ["carrier", "origin"]), remainder="passthrough"),
                        HistGradientBoostingClassifier(max_iter=5, categorical_features=[0, 1])).fit(X, y)
    with pytest.raises(ConversionError, match="histgradientboostingclassifier: .*categorical"):
        to_onnx(cat, X)
    both = unconvertible(custom) + unconvertible(lam)
    assert [p for p, _ in both] == ["Pipeline > columntransformer > doubler",
                                    "Pipeline > columntransformer > functiontransformer"]


def test_strings_without_a_column_transformer_are_refused(data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X, y, _ = data
    cols = ["distance", "day", "carrier"]
    model = make_pipeline(OrdinalEncoder(), LogisticRegression()).fit(X[cols], y)
    with pytest.raises(ConversionError, match=r"columns \['carrier'\] hold strings"):
        to_onnx(model, X[cols])


def test_parity_names_the_flipped_rows(data):
    "A candidate that answers differently on some rows: those rows, by index."
    from sklearn.linear_model import LogisticRegression

    X, y, _ = data
    num = X[["month", "day", "sched_dep_time", "distance"]].set_axis(range(100, 100 + len(X)))
    a = LogisticRegression(max_iter=500).fit(num, y)
    b = LogisticRegression(max_iter=500, class_weight="balanced").fit(num, y)
    p = parity(a, OnnxModel(to_onnx(b, num)), num)
    expect = num.index[a.predict(num) != b.predict(num)]
    assert p.flipped == len(expect) > 0 and p.flipped_rows == list(expect[:50])
    assert p.label_agreement == pytest.approx(1 - len(expect) / len(num)) and p.max_abs_diff > 0.01


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_tabularnet_exports_with_its_preprocessing(data, task):
    "TabularNet through torch.onnx.export: NaNs, a boolean column, unseen categories, against its own predictions."
    from mlbench.tune.torch import TabularNetClassifier, TabularNetRegressor

    X, y, delay = data
    X = X.assign(night=X["sched_dep_time"] < 600)  # a boolean: a categorical column for TabularNet
    if task == "classification":
        net = TabularNetClassifier(hidden=(32, 16), max_epochs=4, seed=0).fit(X, y)
    else:
        net = TabularNetRegressor(hidden=(32,), max_epochs=4, seed=0).fit(X, delay)
    onx = OnnxModel(to_onnx(net, X))
    new = X.head(300).copy()
    new.loc[new.index[:20], "carrier"] = "ZZ"  # never seen in training: code 0, as TabularNet does
    new.loc[new.index[20:40], "origin"] = None
    for rows in (X, new):
        if task == "classification":
            assert np.abs(onx.predict_proba(rows) - net.predict_proba(rows)).max() < 1e-4
            assert parity(net, onx, rows).label_agreement >= 0.999
        else:
            assert np.abs(onx.predict(rows) - net.predict(rows)).max() < 1e-3 * np.abs(net.predict(rows)).max()
    assert onx.spec["kinds"]["night"] == "string" and onx.spec["kinds"]["dep_time"] == "float"
