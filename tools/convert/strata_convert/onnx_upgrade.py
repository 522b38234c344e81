"""Upgrades an ONNX model below the converter's minimum opset with `onnx.version_converter`.

`to_supported_opset(model, minimum)` returns (model, note): the model unchanged and note None when
its ai.onnx opset is already `minimum` or later, else the upgraded copy (to TARGET_OPSET) and a
note for the file's description. The upgrade is accepted only when onnx's checker passes on the
result (the version converter leaves some ops it has no adapter for, e.g. Scatter, unchanged in
an opset where they no longer exist); anything else is a ConversionError that says what failed
and what the user can do.
"""
from .errors import ConversionError

__all__ = ["TARGET_OPSET", "to_supported_opset"]

#: The opset models below the minimum are upgraded to (every op the converter reads exists there).
TARGET_OPSET = 17


def _opset(model):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return None


def to_supported_opset(model, minimum):
    """(model, None) when `model` uses ai.onnx opset `minimum` or later; else (upgraded model,
    note). Raises ConversionError when the model has no ai.onnx opset or cannot be upgraded."""
    version = _opset(model)
    if version is None:
        raise ConversionError("the model imports no ai.onnx opset; Strata converts ai.onnx models")
    if version >= minimum:
        return model, None
    import onnx
    from onnx import version_converter
    target = max(TARGET_OPSET, minimum)
    try:
        upgraded = version_converter.convert_version(model, target)
        onnx.checker.check_model(upgraded)
    except Exception as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        if len(reason) > 300:
            reason = reason[:300] + "…"
        raise ConversionError(f"the model uses ai.onnx opset {version} and onnx.version_converter could not upgrade it "
                              f"to opset {target} ({type(e).__name__}: {reason}); re-export it with "
                              f"opset_version={target} or later") from e
    return upgraded, f"upgraded from ai.onnx opset {version} to {target} with onnx.version_converter"
