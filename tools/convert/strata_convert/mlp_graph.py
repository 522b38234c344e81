"""A graph for a plain feedforward stack (Linear layers and activations), shared by the
scikit-learn and state-dict sources."""
from . import format as fmt  # noqa: F401
from .builder import metadata, pack_linear_weights
from .errors import ConversionError, FormatError
from .ir import Graph, Node, Tensor, ValueInfo
from .validate import check_graph

# activation name -> (op, attrs)
ACTIVATIONS = {
    "relu": ("Relu", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "identity": None,
    "gelu": ("Gelu", {"approximate": "none"}), "gelu_tanh": ("Gelu", {"approximate": "tanh"}),
    "silu": ("Silu", {}), "leakyrelu": ("LeakyRelu", {"alpha": 0.01}),
    "softmax": ("Softmax", {"axis": 1}), "logsoftmax": ("LogSoftmax", {"axis": 1}),
}


def mlp(layers, in_features, *, source, name, class_labels=None, input_name="input") -> Graph:
    """layers: list of ("linear", W [out, in], b or None, layer name) and ("act", op, attrs)."""
    nodes, tensors = [], []
    x, width = input_name, in_features
    for k, layer in enumerate(layers):
        if layer[0] == "linear":
            _, w, b, lname = layer
            if w.ndim != 2 or w.shape[1] != width:
                raise ConversionError(f"layer '{lname}': weight of shape {list(w.shape)} does not take {width} features")
            tensors.append(Tensor(f"{lname}.weight", w))
            ins = [x, f"{lname}.weight", ""]
            if b is not None:
                if b.shape != (w.shape[0],):
                    raise ConversionError(f"layer '{lname}': bias of shape {list(b.shape)} is not [{w.shape[0]}]")
                tensors.append(Tensor(f"{lname}.bias", b))
                ins[2] = f"{lname}.bias"
            out = f"{lname}_out"
            nodes.append(Node("Linear", lname, ins, [out]))
            x, width = out, w.shape[0]
        else:
            _, op, attrs = layer
            out = f"{op.lower()}_{k}"
            nodes.append(Node(op, out, [x], [out], dict(attrs)))
            x = out
    meta = metadata(source, name, class_labels, width)
    graph = Graph([ValueInfo(input_name, "f32", [-1, in_features])], [ValueInfo(x, "f32", [-1, width])], nodes, tensors, meta)
    pack_linear_weights(graph)
    try:
        check_graph(graph)
    except FormatError as e:
        raise ConversionError(f"internal error: {e}") from e
    return graph
