"""kernelfactor.networks: ONNX conv layers found, analysed, factorised, exported and run.

Every model is built in the test with ``onnx.helper``; the analysis is checked
against direct numpy computation, and the exported graphs against each other
with onnxruntime.  PP-OCRv4's detector (from the rapidocr-onnxruntime wheel)
is used by one test when installed, and by benchmarks/bench_networks.py.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from kernelfactor import networks as nw  # noqa: E402


def conv_model(
    layers, c_in=4, hw=(12, 10), *, constant=False, bn=False, seed=0, rank1=False, opset=13
):
    """A chain of Conv nodes from dicts (c_out, k, group, stride, dilation, pads or auto_pad)."""
    rng = np.random.default_rng(seed)
    nodes, inits, prev, c = [], [], "x", c_in
    for i, spec in enumerate(layers):
        kh, kw = spec.get("k", (3, 3))
        g = spec.get("group", 1)
        c_out = spec.get("c_out", c)
        if rank1:
            w = np.einsum("oci,ocj->ocij", rng.normal(size=(c_out, c // g, kh)),
                          rng.normal(size=(c_out, c // g, kw)))
        else:
            w = rng.normal(size=(c_out, c // g, kh, kw))
        w = w.astype(np.float32)
        wname, out = f"w{i}", f"h{i}"
        if constant:
            nodes.append(helper.make_node("Constant", [], [wname], name=f"const{i}",
                                          value=numpy_helper.from_array(w, wname)))
        else:
            inits.append(numpy_helper.from_array(w, wname))
        inputs = [prev, wname]
        if spec.get("bias", True):
            inits.append(numpy_helper.from_array(rng.normal(size=c_out).astype(np.float32),
                                                 f"b{i}"))
            inputs.append(f"b{i}")
        attrs = {"kernel_shape": [kh, kw], "group": g,
                 "strides": list(spec.get("stride", (1, 1))),
                 "dilations": list(spec.get("dilation", (1, 1)))}
        if "auto_pad" in spec:
            attrs["auto_pad"] = spec["auto_pad"]
        else:
            attrs["pads"] = list(spec.get("pads", (kh // 2, kw // 2, kh // 2, kw // 2)))
        nodes.append(helper.make_node("Conv", inputs, [out], name=spec.get("name", f"conv{i}"),
                                      **attrs))
        prev, c = out, c_out
        if bn:
            for nm, val in (("s", 1 + rng.random(c)), ("bb", rng.normal(size=c)),
                            ("m", rng.normal(size=c)), ("v", 1 + rng.random(c))):
                inits.append(numpy_helper.from_array(val.astype(np.float32), f"{nm}{i}"))
            nodes.append(helper.make_node(
                "BatchNormalization", [prev, f"s{i}", f"bb{i}", f"m{i}", f"v{i}"], [f"bn{i}"],
                name=f"bn{i}"))
            prev = f"bn{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"], name="out"))
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", c_in, hw[0], hw[1]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "C", "H", "W"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def run_model(model, x):
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, {"x": x})[0]


def rand_input(c=4, hw=(12, 10), n=2, seed=1):
    return np.random.default_rng(seed).normal(size=(n, c, *hw)).astype(np.float32)


# ---------------------------------------------------------------------------
# finding conv layers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("constant", [False, True])
def test_find_convs_reads_weights_from_initializers_and_constants(constant):
    model = conv_model([{"c_out": 6}, {"group": 6}, {"k": (1, 1), "c_out": 3}], constant=constant)
    convs = nw.find_convs(model)
    assert [c.kind for c in convs] == ["standard", "depthwise", "pointwise"]
    assert {c.weights_source for c in convs} == {"constant" if constant else "initializer"}
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    if not constant:
        np.testing.assert_array_equal(convs[0].weights, init["w0"])
    assert convs[1].weights_shape == (6, 1, 3, 3) and convs[1].groups == 6
    assert convs[1].in_channels == 6 and convs[1].kernels == 6
    assert convs[0].input_shape == (1, 4, 12, 10)  # batch 1 for the dynamic N


def test_find_convs_attributes_grouped_strided_dilated_and_same_padding():
    model = conv_model([
        {"c_out": 8, "group": 2, "stride": (2, 1)},
        {"group": 8, "dilation": (2, 2), "pads": (2, 2, 2, 2)},
        {"group": 8, "k": (3, 5), "stride": (2, 2), "auto_pad": "SAME_UPPER"},
    ], hw=(13, 11))
    a, b, c = nw.find_convs(model)
    assert a.kind == "grouped" and a.stride == (2, 1) and a.pads == (1, 1, 1, 1)
    assert b.kind == "depthwise" and b.dilation == (2, 2)
    # SAME_UPPER on 7x11 with stride 2: outputs 4x6, totals 2 and 4, odd pixel at the end
    assert c.input_shape == (1, 8, 7, 11) and c.pads == (1, 2, 1, 2)
    assert c.output_shape == (1, 8, 4, 6)


def test_input_shape_is_checked_and_used():
    model = conv_model([{"group": 4}])
    (layer,) = nw.find_convs(model, input_shape=(2, 4, 12, 10))
    assert layer.input_shape == (2, 4, 12, 10)
    with pytest.raises(ValueError, match=r"`input_shape`.*dimension 1 .*fixed at 4"):
        nw.find_convs(model, input_shape=(1, 3, 12, 10))
    with pytest.raises(ValueError, match=r"`input_shape` must be 4 positive integers"):
        nw.find_convs(model, input_shape=(12, 10))


# ---------------------------------------------------------------------------
# analysis against numpy
# ---------------------------------------------------------------------------


def test_layer_report_matches_direct_numpy():
    model = conv_model([{"c_out": 6, "stride": (2, 2)}, {"group": 6, "k": (5, 5)}], hw=(16, 14))
    report = nw.analyze_network(model)
    for rep in report.layers:
        w = rep.layer.weights.astype(np.float64)
        c_out, c_per, kh, kw = w.shape
        kernels = w.reshape(-1, kh, kw)
        ranks = np.linalg.matrix_rank(kernels)
        assert rep.rank_histogram == {int(r): int(np.sum(ranks == r)) for r in np.unique(ranks)}
        s = np.linalg.svd(kernels, compute_uv=False)
        for k, err in enumerate(rep.spatial_errors, start=1):
            expect = math.sqrt(np.sum(s[:, k:] ** 2)) / np.linalg.norm(w)
            assert err.fro_rel == pytest.approx(expect, rel=1e-10)
            per = np.sqrt(np.sum(s[:, k:] ** 2, -1)) / np.sqrt(np.sum(s**2, -1))
            assert rep.median_kernel_errors[k - 1] == pytest.approx(np.median(per))
        _, _, ho, wo = rep.layer.output_shape
        assert rep.multiplications == ho * wo * c_out * c_per * kh * kw
    std, dw = report.layers
    # spatial rank r, per group: column stage on all padded columns, row stage on outputs
    _, _, ho, wo = dw.layer.output_shape
    wp = dw.layer.input_shape[3] + 4
    assert dw.spatial_multiplications[0] == 6 * (ho * wp * 5 + ho * wo * 5)
    assert dw.depthwise_errors == ()
    assert std.depthwise_errors and std.depthwise_multiplications[0] < std.multiplications


def test_rank_one_kernels_are_rank_one_with_a_float32_tolerance_and_noise_is_hidden():
    model = conv_model([{"group": 4}], rank1=True)
    default = nw.analyze_network(model).layers[0]
    assert default.rank_histogram.get(1, 0) < 4  # float32 rounding: numerically full rank
    loose = nw.analyze_network(model, rtol=1e-6).layers[0]
    assert loose.rank_histogram == {1: 4}
    exact = conv_model([{"group": 4, "k": (1, 3)}])  # 1-D kernels: rank 1, no spatial errors
    (rep,) = nw.analyze_network(exact).layers
    assert rep.rank_histogram == {1: 4} and rep.spatial_errors == ()
    # a float64 rank-1 kernel's rank-1 error is rounding noise: None in JSON, text says so
    w = np.einsum("oi,oj->oij", [[1.0, 2.0, 1.0]] * 2, [[1.0, 0.0, -1.0]] * 2)[:, None]
    m64 = conv_model([{"group": 2}], c_in=2)
    m64.graph.initializer[0].CopyFrom(numpy_helper.from_array(w, "w0"))
    m64.graph.input[0].type.tensor_type.elem_type = TensorProto.DOUBLE
    m64.graph.initializer[1].CopyFrom(numpy_helper.from_array(np.zeros(2), "b0"))
    (rep,) = nw.analyze_network(m64).layers
    d = rep.to_dict()
    assert d["spatial"][0]["error"] is None and d["spatial"][0]["within_rounding"]
    assert "0 (below tol)" in rep.row()["rank1_error"]


def test_report_text_tables_and_json():
    report = nw.analyze_network(nw.example_model())
    text = str(report)
    assert "conv layers: 3 (1 depthwise, 1 pointwise, 1 standard)" in text
    assert "depthwise 3x3 kernels: 8 (rank 1: 1, rank 3: 7); median rank-1" in text
    w = report.layers[1].layer.weights.astype(np.float64)[:, 0]
    s = np.linalg.svd(w, compute_uv=False)
    expect = np.median(np.sqrt(np.sum(s[:, 1:] ** 2, -1) / np.sum(s**2, -1)))
    assert report.median_kernel_error("depthwise", (3, 3)) == pytest.approx(expect)
    with pytest.raises(ValueError, match="no grouped layer with 3x3"):
        report.median_kernel_error("grouped", (3, 3))
    assert report.table("markdown").startswith("| Layer | Kind |")
    assert "\\toprule" in report.table("latex")
    assert report.table("csv").splitlines()[0].startswith("layer,kind,weights")
    d = json.loads(json.dumps(report.to_dict()))
    assert d["counts"] == {"depthwise": 1, "pointwise": 1, "standard": 1}
    assert d["layers"][1]["rank_histogram"] == {"1": 1, "3": 7}
    assert "weights" not in d["layers"][0]  # arrays stay out of the JSON
    assert repr(report).startswith("NetworkReport(<ModelProto>: 3 convs")
    with pytest.raises(ValueError, match="`fmt`"):
        report.table("html")


# ---------------------------------------------------------------------------
# choosing ranks
# ---------------------------------------------------------------------------


def test_choose_ranks_fixed_rank_and_per_layer_bound():
    report = nw.analyze_network(conv_model([{"c_out": 8}, {"group": 8, "k": (5, 5)},
                                            {"group": 8}], hw=(20, 20)))
    plan = nw.choose_ranks(report, rank=2)
    assert [(c.method, c.rank) for c in plan.choices] == [
        ("keep", None), ("spatial", 2), ("spatial", 2)]
    assert plan.choices[1].error == pytest.approx(report.layers[1].spatial_errors[1].fro_rel)
    assert plan.choices[2].multiplications_after > plan.choices[2].multiplications_before
    for bound in (0.0, 0.3, 0.6, 0.9, 1.0):
        plan = nw.choose_ranks(report, max_error=bound)
        for rep, c in zip(report.layers, plan.choices, strict=True):
            assert c.error <= bound
            # nothing cheaper within the bound (brute force over the layer's candidates)
            cands = [rep.multiplications]
            if rep.kind == "depthwise":
                cands += [m for e, m in zip(rep.spatial_errors, rep.spatial_multiplications,
                                            strict=True) if e.fro_rel <= bound]
            if rep.kind == "standard":
                cands += [m for e, m in zip(rep.depthwise_errors,
                                            rep.depthwise_multiplications, strict=True)
                          if e.fro_rel <= bound]
            assert c.multiplications_after == min(cands)
    assert nw.choose_ranks(report, max_error=0.0).factorised == ()


def test_choose_ranks_network_scope_respects_the_budget():
    report = nw.analyze_network(conv_model([{"c_out": 8}, {"group": 8, "k": (5, 5)},
                                            {"group": 8, "k": (5, 5)}], hw=(20, 20)))
    last = math.inf
    for bound in (0.2, 0.5, 0.8, 1.2, 2.0):
        plan = nw.choose_ranks(report, max_error=bound, scope="network")
        assert plan.network_error <= bound * (1 + 1e-9)
        assert plan.multiplications_after <= last  # a larger budget never costs more
        last = plan.multiplications_after
    assert last < plan.multiplications_before
    assert json.loads(json.dumps(plan.to_dict()))["scope"] == "network"


def test_choose_ranks_refusals():
    report = nw.analyze_network(nw.example_model())
    with pytest.raises(ValueError, match="exactly one of `rank`"):
        nw.choose_ranks(report)
    with pytest.raises(ValueError, match="exactly one of `rank`"):
        nw.choose_ranks(report, rank=1, max_error=0.1)
    with pytest.raises(ValueError, match="`scope`"):
        nw.choose_ranks(report, max_error=0.1, scope="net")
    with pytest.raises(ValueError, match="`max_error`"):
        nw.choose_ranks(report, max_error=-1)
    with pytest.raises(TypeError, match="`report` must be a NetworkReport"):
        nw.choose_ranks("model.onnx", rank=1)


# ---------------------------------------------------------------------------
# export: (a) approximated weights, (b) factorised graph; (b) == (a) under onnxruntime
# ---------------------------------------------------------------------------

CASES = {
    "depthwise": [{"group": 4}],
    "depthwise 5x5 strided": [{"group": 4, "k": (5, 5), "stride": (2, 2)}],
    "depthwise 3x5 dilated, no bias": [{"group": 4, "k": (3, 5), "dilation": (2, 1),
                                         "pads": (2, 2, 2, 2), "bias": False}],
    "depthwise multiplier 2, asymmetric pads": [{"group": 4, "c_out": 8, "pads": (0, 1, 2, 1)}],
    "depthwise SAME_LOWER strided": [{"group": 4, "stride": (2, 2), "auto_pad": "SAME_LOWER"}],
    "standard then depthwise": [{"c_out": 6, "stride": (1, 2)}, {"group": 6}],
    "grouped and pointwise kept": [{"c_out": 8, "group": 2}, {"k": (1, 1), "c_out": 3}],
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("rank", [1, 2])
def test_factorised_graph_equals_approximated_graph(case, rank):
    model = conv_model(CASES[case], constant=case.startswith("standard"), bn=True)
    report = nw.analyze_network(model)
    plan = nw.choose_ranks(report, max_error=0.9 if rank == 1 else 0.6)
    if case.startswith("depthwise"):
        plan = nw.choose_ranks(report, rank=rank)
    approx = nw.export_approximated(model, plan)
    fact = nw.export_factorised(model, plan)
    for m in (approx, fact):
        onnx.checker.check_model(m)
    x = rand_input()
    y0, ya, yb = run_model(model, x), run_model(approx, x), run_model(fact, x)
    assert ya.shape == yb.shape == y0.shape
    np.testing.assert_allclose(yb, ya, rtol=1e-4, atol=1e-4 * np.abs(ya).max())
    if not plan.factorised:
        np.testing.assert_array_equal(ya, y0)
    ops = [n.op_type for n in fact.graph.node]
    assert ops.count("Conv") == len(report.layers) + len(plan.factorised)


def test_approximated_graph_matches_numpy_with_the_approximated_weights():
    from kernelfactor import conv2d, spatial_factor

    model = conv_model([{"group": 4, "pads": (0, 0, 0, 0), "bias": False}], constant=True)
    plan = nw.choose_ranks(nw.analyze_network(model), rank=1)
    approx = nw.export_approximated(model, plan)
    x = rand_input()
    w = nw.find_convs(model)[0].weights.astype(np.float64)
    expect = conv2d(x.astype(np.float64), spatial_factor(w, 1).reconstruct(), groups=4,
                    channel_axis=-3)
    np.testing.assert_allclose(run_model(approx, x), expect, rtol=1e-4, atol=1e-4)
    assert not any(n.op_type == "Constant" for n in approx.graph.node)  # pruned


def test_exact_rank_one_kernels_export_to_the_original_function():
    model = conv_model([{"group": 4}, {"group": 4, "k": (5, 5)}], rank1=True)
    plan = nw.choose_ranks(nw.analyze_network(model), rank=1)
    assert all(c.error < 1e-6 for c in plan.choices)
    x = rand_input()
    y0 = run_model(model, x)
    for exported in (nw.export_approximated(model, plan), nw.export_factorised(model, plan)):
        np.testing.assert_allclose(run_model(exported, x), y0, rtol=1e-4, atol=1e-4)


def test_export_writes_files_and_refuses_a_foreign_plan(tmp_path):
    model = nw.example_model()
    plan = nw.choose_ranks(nw.analyze_network(model), rank=1)
    path = tmp_path / "f.onnx"
    nw.export_factorised(model, plan, path)
    onnx.checker.check_model(onnx.load(str(path)))
    other = conv_model([{"group": 4, "name": "elsewhere"}])
    with pytest.raises(ValueError, match="names the layer 'dw'"):
        nw.export_approximated(other, plan)
    with pytest.raises(TypeError, match="`plan` must be a FactorPlan"):
        nw.export_factorised(model, {"dw": 1})


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------


def test_evaluate_reports_differences_iou_metric_and_times():
    model = nw.example_model()
    plan = nw.choose_ranks(nw.analyze_network(model), rank=1)
    x = np.random.default_rng(0).normal(size=(1, 3, 16, 16)).astype(np.float32)
    ev = nw.evaluate(
        {"original": model, "approx": nw.export_approximated(model, plan)}, [x, x[:, :, :8]],
        threshold=0.0, metric=lambda y, r: float(np.mean(np.abs(y - r))), repeats=2)
    ref, approx = ev.runs
    assert ref.name == "original" and ref.relative_l2 == 0 and ref.iou == 1.0
    assert ref.time_ratio == 1.0 and approx.seconds > 0
    y0, ya = run_model(model, x), run_model(nw.export_approximated(model, plan), x)
    assert approx.max_abs >= float(np.max(np.abs(ya - y0))) - 1e-6
    assert 0 < approx.iou < 1 and approx.metric > 0
    d = json.loads(json.dumps(ev.to_dict()))
    assert d["runs"][1]["name"] == "approx" and d["inputs"] == 2
    assert "Time ratio" in ev.text() and "approx" in repr(ev)
    with pytest.raises(ValueError, match="`reference` 'nope'"):
        nw.evaluate({"a": model}, x, reference="nope")
    with pytest.raises(TypeError, match="`inputs` must be an array"):
        nw.evaluate({"a": model}, [])
    with pytest.raises(TypeError, match="`models` must be a non-empty mapping"):
        nw.evaluate([model], x)


def test_image_input_resizes_and_normalises(tmp_path):
    from PIL import Image

    path = tmp_path / "im.png"
    Image.fromarray(np.full((40, 100, 3), 128, np.uint8)).save(path)
    x = nw.image_input(path)
    assert x.shape == (1, 3, 32, 96) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == pytest.approx((128 / 255 - 0.485) / 0.229, rel=1e-5)
    with pytest.raises(ValueError, match="`image` must be a path"):
        nw.image_input(np.zeros((4, 4, 2)))


# ---------------------------------------------------------------------------
# refusals
# ---------------------------------------------------------------------------


def test_refusals_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="no file"):
        nw.analyze_network(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01not a protobuf at all" * 3)
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        nw.analyze_network(bad)
    with pytest.raises(TypeError, match="`model` must be a path"):
        nw.analyze_network(42)
    no_conv = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 2, 2])]))
    with pytest.raises(ValueError, match="no Conv node"):
        nw.analyze_network(no_conv)
    runtime = conv_model([{"group": 4}])
    runtime.graph.node.insert(0, helper.make_node("Identity", ["w0"], ["w0_copy"]))
    runtime.graph.node[1].input[1] = "w0_copy"
    with pytest.raises(ValueError, match="computed at run time"):
        nw.analyze_network(runtime)
    conv1d = helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 6])],
        [numpy_helper.from_array(np.ones((1, 1, 3), np.float32), "w")]))
    with pytest.raises(ValueError, match="only 2-D convolutions"):
        nw.analyze_network(conv1d)


# ---------------------------------------------------------------------------
# command line (the lead wires add_arguments / run into kernelfactor.cli)
# ---------------------------------------------------------------------------


def _cli(argv):
    parser = argparse.ArgumentParser()
    nw.add_arguments(parser)
    return nw.run(parser.parse_args(argv))


def test_cli_prints_the_report_plan_exports_and_json(tmp_path, capsys):
    path = tmp_path / "m.onnx"
    onnx.save(nw.example_model(), str(path))
    assert _cli([str(path)]) == 0
    out = capsys.readouterr().out
    assert "conv layers: 3" in out and "Rank-1 rel. error" in out
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    assert _cli([str(path), "--rank", "1", "--input-shape", "1,3,32,32",
                 "--export-approx", str(a), "--export-factorised", str(b)]) == 0
    out = capsys.readouterr().out
    assert "1 of 3 layers factorised" in out and f"wrote factorised model: {b}" in out
    assert a.exists() and b.exists()
    assert _cli([str(path), "--max-error", "0.6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"report", "plan"} and d["plan"]["max_error"] == 0.6
    assert _cli([str(path), "--format", "markdown"]) == 0
    assert "| Layer |" in capsys.readouterr().out
    with pytest.raises(ValueError, match="needs a plan"):
        _cli([str(path), "--export", str(a)])
    with pytest.raises(ValueError, match="--input-shape"):
        _cli([str(path), "--input-shape", "a,b"])


def test_cli_evaluates_images(tmp_path, capsys):
    from PIL import Image

    path, image = tmp_path / "m.onnx", tmp_path / "im.png"
    onnx.save(nw.example_model(), str(path))
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), np.uint8)).save(image)
    assert _cli([str(path), "--rank", "1", "--evaluate", str(image), "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "reference: original" in out and "factorised" in out


# ---------------------------------------------------------------------------
# the real network (when the rapidocr-onnxruntime wheel is installed)
# ---------------------------------------------------------------------------


def test_ppocr_detector():
    try:
        path = nw.ppocr_detector_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    report = nw.analyze_network(path, input_shape=(1, 3, 96, 160))
    assert report.counts() == {"depthwise": 14, "pointwise": 42, "standard": 6}
    assert report.kernel_histogram("depthwise") == {(3, 3): {3: 336}, (5, 5): {1: 3, 5: 2109}}
    plan = nw.choose_ranks(report, rank=1)
    assert len(plan.factorised) == 14
    approx, fact = nw.export_approximated(path, plan), nw.export_factorised(path, plan)
    x = np.random.default_rng(0).normal(size=(1, 3, 96, 160)).astype(np.float32)
    ev = nw.evaluate({"approx": approx, "factorised": fact}, x, repeats=1)
    assert ev["factorised"].relative_l2 < 1e-4
