"""`strata info FILE --dot`: the Graphviz picture of a model's graph and plan. The edges are
checked against the graph's dataflow (from `info --json` and the stored tensors), the clusters
against the plan's fused steps; when Graphviz's `dot` is installed, the text must also render."""
import json
import re
import shutil
import subprocess

import torch
from strata_convert.reader import read_model

from helpers import convert
from models import ResidualMLP, SimpleNN, seeded
from test_cli_tool import needs_cli, strata

NODE = re.compile(r"^  (\w+) \[(?:shape=ellipse, fillcolor=\"#ffffff\", |style=\"rounded,dashed\", )?label=\"((?:[^\"\\]|\\.)*)\"\];$")
EDGE = re.compile(r"^  (\w+) -> (\w+)(?: \[label=\"((?:[^\"\\]|\\.)*)\"\])?;$")


def parse_dot(text):
    """(node id -> label, [(from, to, value name)], [[node ids of each cluster]], [cluster labels])."""
    nodes, edges, clusters, cluster_labels = {}, [], [], []
    for line in text.splitlines():
        if m := NODE.match(line):
            nodes[m[1]] = m[2]
        elif m := EDGE.match(line):
            edges.append((m[1], m[2], m[3]))
        elif line.startswith("  subgraph cluster_"):
            clusters.append([])
        elif line.startswith("    label=") and clusters:
            cluster_labels.append(line)
        elif line.startswith("    node") and clusters:
            clusters[-1] += re.findall(r"(node\d+);", line)
    return nodes, edges, clusters, cluster_labels


def expected_edges(info, weights):
    """The dataflow of info --json's nodes: (producer, consumer, value) with graph inputs as
    input<k> and graph outputs as output<k> (unlabelled), weights left out."""
    producer = {v["name"]: f"input{k}" for k, v in enumerate(info["inputs"])}
    edges = []
    for i, node in enumerate(info["nodes"]):
        edges += [(producer[name], f"node{i}", name) for name in node["inputs"] if name and name not in weights]
        producer.update({name: f"node{i}" for name in node["outputs"]})
    edges += [(producer[v["name"]], f"output{k}", None) for k, v in enumerate(info["outputs"])]
    return sorted(edges)


@needs_cli
def test_dot_matches_the_graph_and_the_fused_steps(tmp_path):
    for name, module, example in [("mlp", seeded(SimpleNN), torch.zeros(1, 784)),
                                  ("residual", seeded(ResidualMLP), torch.zeros(1, 784))]:
        path = convert(module, example, tmp_path / f"{name}.strata")
        done = strata("info", path, "--dot")
        assert done.returncode == 0 and done.stderr == b"", done.stderr
        text = done.stdout.decode()
        assert text.startswith("digraph strata {\n") and text.endswith("}\n")
        info = json.loads(strata("info", path, "--json").stdout)
        weights = {t.name for t in read_model(path).tensors}
        nodes, edges, clusters, labels = parse_dot(text)
        assert sorted(edges) == expected_edges(info, weights), name
        assert set(nodes) == ({f"node{i}" for i in range(len(info["nodes"]))}
                              | {f"input{k}" for k in range(len(info["inputs"]))}
                              | {f"output{k}" for k in range(len(info["outputs"]))})
        for i, node in enumerate(info["nodes"]):
            assert nodes[f"node{i}"].startswith(node["op"]), (name, nodes[f"node{i}"])
            for w in (w for w in node["inputs"] if w in weights):
                assert w in nodes[f"node{i}"], f"{name}: node {i} does not list its weight {w}"
        index = {node["name"]: f"node{i}" for i, node in enumerate(info["nodes"])}
        fused = [step for step in info["steps"] if len(step["nodes"]) > 1]
        assert fused, f"{name}: expected a fused step (Linear+Relu)"
        assert sorted(sorted(c) for c in clusters) == sorted(sorted(index[n] for n in s["nodes"]) for s in fused)
        assert all("(fused)" in label for label in labels) and len(labels) == len(fused)
        if shutil.which("dot"):
            svg = subprocess.run(["dot", "-Tsvg"], input=done.stdout, capture_output=True)
            assert svg.returncode == 0 and b"<svg" in svg.stdout, svg.stderr


@needs_cli
def test_dot_refuses_a_bad_file_and_is_in_the_help(tmp_path):
    bad = tmp_path / "bad.strata"
    bad.write_bytes(b"not a model")
    refused = strata("info", bad, "--dot")
    assert refused.returncode != 0 and refused.stdout == b"" and b"bad.strata" in refused.stderr
    assert "--dot" in strata("info", "--help").stdout.decode()
